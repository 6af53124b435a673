package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// clockTicks is Linux's USER_HZ, the unit of /proc/<pid>/stat's CPU times;
// it is 100 on every architecture Go supports there.
const clockTicks = 100

// cpuUse is the CPU time one benchmark phase cost.
type cpuUse struct {
	process  time.Duration // this process: embedded Temporal, API, worker, SQLite
	sink     time.Duration // the SMTP sink's process: not breachflow, shown apart
	database time.Duration // the PostgreSQL backends serving this run
	dbSeen   bool          // database was measured (a PostgreSQL server on this machine)
}

// processCPU is this process's user and system time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchDatabaseURL names the run's connections with a fresh
// application_name when url is a PostgreSQL URL, so backendCPU can tell
// this run's server processes from anyone else's; other URLs come back
// unchanged with app "".
func benchDatabaseURL(raw string) (withApp, app string, err error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		// Not a PostgreSQL URL: opening the store reports what is wrong.
		return raw, "", nil
	}
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", err
	}
	app = "breachflow-bench-" + hex.EncodeToString(b[:])
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	return u.String(), app, nil
}

// localPostgres reports whether the URL's server runs on this machine, the
// only case where its backends' CPU times can be read from /proc.
func localPostgres(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "" || host == "localhost" || strings.HasPrefix(host, "/") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// backendCPU follows the CPU time of the PostgreSQL backends whose
// application_name is app: it samples pg_stat_activity and /proc every
// 100 ms and keeps each backend's last reading, so a backend that closes
// mid-phase still counts up to its last sample.
type backendCPU struct {
	db   *sql.DB
	app  string
	stop context.CancelFunc
	done chan struct{}

	mu   sync.Mutex
	seen map[int]time.Duration
}

func watchBackends(db *sql.DB, app string) *backendCPU {
	ctx, cancel := context.WithCancel(context.Background())
	w := &backendCPU{db: db, app: app, stop: cancel, done: make(chan struct{}), seen: map[int]time.Duration{}}
	go func() {
		defer close(w.done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			w.sample(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return w
}

// Close stops sampling.
func (w *backendCPU) Close() {
	w.stop()
	<-w.done
}

// total is the CPU time of every backend seen so far, after a last sample.
func (w *backendCPU) total(ctx context.Context) time.Duration {
	w.sample(ctx)
	w.mu.Lock()
	defer w.mu.Unlock()
	var sum time.Duration
	for _, d := range w.seen {
		sum += d
	}
	return sum
}

func (w *backendCPU) sample(ctx context.Context) {
	rows, err := w.db.QueryContext(ctx, `SELECT pid FROM pg_stat_activity WHERE application_name = $1`, w.app)
	if err != nil {
		return
	}
	var pids []int
	for rows.Next() {
		var pid int
		if rows.Scan(&pid) == nil {
			pids = append(pids, pid)
		}
	}
	_ = rows.Close() // a failed sample is skipped; the next one counts
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, pid := range pids {
		if d, ok := procCPU(pid); ok && d >= w.seen[pid] {
			w.seen[pid] = d
		}
	}
}

// procCPU reads a postgres process's user and system time.
func procCPU(pid int) (time.Duration, bool) {
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil || strings.TrimSpace(string(comm)) != "postgres" {
		return 0, false
	}
	return pidCPU(pid)
}

// pidCPU reads a process's user and system time from /proc/<pid>/stat
// (fields 14 and 15, counted after the parenthesised command name, which
// may hold spaces).
func pidCPU(pid int) (time.Duration, bool) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	_, after, ok := strings.Cut(string(stat), ") ")
	if !ok {
		return 0, false
	}
	f := strings.Fields(after) // f[0] is field 3, the state
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, true
}

// cpuMeter measures phases: mark starts one, since ends it.
type cpuMeter struct {
	backends *backendCPU // nil when the database is not measured
	process  time.Duration
	database time.Duration
	sinkCPU  func() time.Duration // the SMTP sink's process; nil when there is none
	sink     time.Duration
}

func (m *cpuMeter) mark(ctx context.Context) {
	m.process = processCPU()
	if m.sinkCPU != nil {
		m.sink = m.sinkCPU()
	}
	if m.backends != nil {
		m.database = m.backends.total(ctx)
	}
}

func (m *cpuMeter) since(ctx context.Context) cpuUse {
	u := cpuUse{process: processCPU() - m.process}
	if m.sinkCPU != nil {
		u.sink = m.sinkCPU() - m.sink
	}
	if m.backends != nil {
		u.database, u.dbSeen = m.backends.total(ctx)-m.database, true
	}
	return u
}

// perThousand formats a phase's CPU time per 1,000 items.
func (u cpuUse) perThousand(n int, what string) string {
	per := func(d time.Duration) float64 { return d.Seconds() * 1000 / float64(n) }
	if !u.dbSeen {
		return fmt.Sprintf("%6.3f CPU-s per 1,000 %s (process, store included)", per(u.process), what)
	}
	return fmt.Sprintf("%6.3f CPU-s per 1,000 %s (process %.3f + database %.3f)",
		per(u.process+u.database), what, per(u.process), per(u.database))
}
