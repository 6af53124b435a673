package main

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// loadPlan is how a benchmark spreads its calls: at a steady Rate a second
// (open loop: a call starts on schedule whether or not earlier ones have
// answered), or, with Rate 0, back to back from Senders callers at once
// (closed loop; one when Senders is 0).
type loadPlan struct {
	Rate    int
	Senders int
}

// loadResult is what runLoad measured.
type loadResult struct {
	Took     []time.Duration // the latency of each call that succeeded
	Failed   int
	FirstErr error
	Elapsed  time.Duration // from the first call's start to the last answer
}

// runLoad makes the calls call(ctx, 0) … call(ctx, n-1) as plan says and
// times each one. A failed call is counted, never retried; once ctx is
// done, the calls not yet started count as failed with its error.
func runLoad(ctx context.Context, n int, plan loadPlan, call func(ctx context.Context, i int) error) loadResult {
	var (
		mu  sync.Mutex
		res loadResult
		wg  sync.WaitGroup
	)
	fail := func(err error, calls int) {
		res.Failed += calls
		if res.FirstErr == nil {
			res.FirstErr = err
		}
	}
	one := func(i int) {
		start := time.Now()
		err := call(ctx, i)
		took := time.Since(start)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			fail(err, 1)
			return
		}
		res.Took = append(res.Took, took)
	}
	start := time.Now()
	if plan.Rate > 0 {
		tick := time.NewTicker(time.Second / time.Duration(plan.Rate))
		defer tick.Stop()
	paced:
		for i := range n {
			select {
			case <-ctx.Done():
				mu.Lock()
				fail(ctx.Err(), n-i)
				mu.Unlock()
				break paced
			case <-tick.C:
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				one(i)
			}()
		}
	} else {
		var next atomic.Int64
		for range max(1, plan.Senders) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1)) - 1
					if i >= n {
						return
					}
					if err := ctx.Err(); err != nil {
						mu.Lock()
						fail(err, 1)
						mu.Unlock()
						continue
					}
					one(i)
				}
			}()
		}
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	return res
}

// percentiles formats p50, p99 and the maximum of ds.
func percentiles(ds []time.Duration) string {
	if len(ds) == 0 {
		return "no samples"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(p float64) time.Duration { return s[min(len(s)-1, int(p*float64(len(s))))] }
	r := func(d time.Duration) time.Duration { return d.Round(100 * time.Microsecond) }
	return fmt.Sprintf("p50 %8s  p99 %8s  max %8s", r(at(0.50)), r(at(0.99)), r(s[len(s)-1]))
}

// startCPUProfile writes a CPU profile of this process to path until the
// returned func is called; with path "" it does nothing.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
