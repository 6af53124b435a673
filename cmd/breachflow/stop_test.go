package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/activities/notify"
	"github.com/breachflow/breachflow/workflows"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"
)

// A worker stopped while an activity runs lets it finish when the stop
// timeout allows, and cancels it at once when the timeout is zero: the
// timeout given to NewNoticesWorker is the one its Stop honours.
func TestWorkerStopDrainsRunningActivity(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server")
	}
	cfg := devConfig(t, t.TempDir())
	cfg.WorkerQueues = "incidents" // the notices queue is the probe worker's alone
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	stack, err := startDev(ctx, cfg, devOptions{Out: &bytes.Buffer{}, TemporalLogLevel: "fatal"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stack.Stop() })

	const work = 2 * time.Second
	for _, tc := range []struct {
		name       string
		stop       time.Duration
		wantFinish bool
	}{
		{"30s lets it finish", 30 * time.Second, true},
		{"0 cancels it", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			started := make(chan struct{})
			finished := make(chan error, 1) // the activity's context error when its work was done
			w := workflows.NewNoticesWorker(stack.client, &activities.Activities{}, &notify.Sender{}, 1, tc.stop)
			w.RegisterActivityWithOptions(func(ctx context.Context) error {
				close(started)
				time.Sleep(work) // work that does not watch ctx, like an SMTP send in progress
				finished <- ctx.Err()
				return nil
			}, activity.RegisterOptions{Name: "StopProbe"})
			w.RegisterWorkflowWithOptions(func(ctx workflow.Context) error {
				ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
				return workflow.ExecuteActivity(ctx, "StopProbe").Get(ctx, nil)
			}, workflow.RegisterOptions{Name: "StopProbe"})
			if err := w.Start(); err != nil {
				t.Fatal(err)
			}
			if _, err := stack.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: workflows.NoticesTaskQueue}, "StopProbe"); err != nil {
				t.Fatal(err)
			}
			select {
			case <-started:
			case <-time.After(30 * time.Second):
				t.Fatal("the probe activity did not start")
			}
			begin := time.Now()
			w.Stop()
			took := time.Since(begin)
			var ctxErr error
			select {
			case ctxErr = <-finished:
			case <-time.After(2 * work):
				t.Fatal("the probe activity never finished its work")
			}
			if tc.wantFinish {
				if ctxErr != nil {
					t.Errorf("activity was cancelled (%v) within a %s stop timeout", ctxErr, tc.stop)
				}
				if took < work/2 || took > tc.stop {
					t.Errorf("Stop returned after %s; want it to wait for the activity (about %s) and not past %s", took, work, tc.stop)
				}
			} else if ctxErr == nil {
				t.Errorf("activity ran on uncancelled with a zero stop timeout; Stop took %s", took)
			}
			t.Logf("stop timeout %s: Stop took %s, activity context error at the end of its work: %v", tc.stop, took.Round(time.Millisecond), ctxErr)
		})
	}
}
