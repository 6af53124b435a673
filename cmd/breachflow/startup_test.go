package main

import (
	"context"
	"database/sql"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/devserver"
	"github.com/breachflow/breachflow/store/dburl"
	"github.com/breachflow/breachflow/workflows"
	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
)

// freeAddr is a loopback address nothing listens on (the port was free a
// moment ago).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// migratedStore is a SQLite store migrated to this binary's latest version.
func migratedStore(t *testing.T, path string) string {
	t.Helper()
	url := "sqlite://" + path
	st, err := dburl.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return url
}

// TestStartupRefusals runs `breachflow server` and `breachflow worker`
// in-process against a real embedded Temporal server and real SQLite
// stores, each time with one thing wrong, the way an operator gets it
// wrong. Each refuses with one line naming the variable and the problem,
// returns (a started server or worker runs until stopped), and leaves
// nothing behind: no HTTP listener, no poller on a task queue.
func TestStartupRefusals(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dir := t.TempDir()
	const bare = "bare" // a namespace without breachflow's search attributes
	tsrv, err := devserver.Start(ctx, devserver.Options{DatabaseFile: filepath.Join(dir, "temporal.db"), Namespace: bare, LogLevel: "fatal"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tsrv.Stop() })

	good := migratedStore(t, filepath.Join(dir, "app.db"))
	behindPath := filepath.Join(dir, "behind.db")
	behind := migratedStore(t, behindPath)
	db, err := sql.Open("sqlite", behindPath)
	if err != nil {
		t.Fatal(err)
	}
	// The last migration's row gone: the store is one migration behind.
	if _, err := db.Exec(`DELETE FROM goose_db_version WHERE version_id = (SELECT MAX(version_id) FROM goose_db_version)`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	httpAddr := freeAddr(t)
	// silent accepts connections and never says a word: a firewall or a
	// wrong port that a dial would otherwise wait on.
	silentLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silentLn.Close()
	go func() {
		for {
			conn, err := silentLn.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
		}
	}()
	silent := silentLn.Addr().String()
	key := "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	base := map[string]string{
		"BREACHFLOW_HTTP_ADDR":            httpAddr,
		"BREACHFLOW_TEMPORAL_ADDRESS":     tsrv.FrontendHostPort(),
		"BREACHFLOW_TEMPORAL_NAMESPACE":   bare,
		"BREACHFLOW_DATABASE_URL":         good,
		"BREACHFLOW_ENCRYPTION_KEYS":      "k1:" + key,
		"BREACHFLOW_HMAC_KEY":             key,
		"BREACHFLOW_ACTOR_KEY":            key,
		"BREACHFLOW_AUDIT_KEYS":           "a1:" + key,
		"BREACHFLOW_SMTP_ADDR":            "127.0.0.1:2525",
		"BREACHFLOW_SMTP_INSECURE":        "true",
		"BREACHFLOW_NOTIFY":               "legal=counsel@example.com",
		"BREACHFLOW_WORKER_QUEUES":        "all",
		"BREACHFLOW_SLACK_TOKEN":          "",
		"BREACHFLOW_ADMIN_TOKEN":          "",
		"BREACHFLOW_PLAYBOOK_DIR":         "",
		"BREACHFLOW_SLACK_SIGNING_SECRET": "",
	}
	run := func(t *testing.T, command string, change map[string]string) (time.Duration, error) {
		t.Helper()
		for k, v := range base {
			if w, ok := change[k]; ok {
				v = w
			}
			t.Setenv(k, v)
		}
		root := rootCommand()
		root.SetArgs([]string{command})
		rctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		start := time.Now()
		err := root.ExecuteContext(rctx)
		took := time.Since(start)
		if rctx.Err() != nil {
			t.Fatalf("%s ran until the test stopped it (%v): it started instead of refusing", command, err)
		}
		return took, err
	}
	c, err := client.Dial(client.Options{HostPort: tsrv.FrontendHostPort(), Namespace: bare})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	noPollers := func(t *testing.T) {
		t.Helper()
		for _, q := range []string{workflows.TaskQueue, workflows.NoticesTaskQueue} {
			for _, kind := range []enumspb.TaskQueueType{enumspb.TASK_QUEUE_TYPE_WORKFLOW, enumspb.TASK_QUEUE_TYPE_ACTIVITY} {
				d, err := c.WorkflowService().DescribeTaskQueue(ctx, &workflowservice.DescribeTaskQueueRequest{Namespace: bare,
					TaskQueue: &taskqueuepb.TaskQueue{Name: q, Kind: enumspb.TASK_QUEUE_KIND_NORMAL}, TaskQueueType: kind})
				if err != nil {
					t.Fatal(err)
				}
				if len(d.GetPollers()) > 0 {
					t.Errorf("task queue %s (%v) has pollers %v after a refused start", q, kind, d.GetPollers())
				}
			}
		}
	}
	notListening := func(t *testing.T) {
		t.Helper()
		if conn, err := net.DialTimeout("tcp", httpAddr, time.Second); err == nil {
			conn.Close()
			t.Errorf("something listens on BREACHFLOW_HTTP_ADDR %s after a refused start", httpAddr)
		}
	}

	for _, tc := range []struct {
		name, command string
		change        map[string]string
		want          []string // the line starts with the first and holds the others
	}{
		{"server without the subject key", "server", map[string]string{"BREACHFLOW_HMAC_KEY": ""},
			[]string{"BREACHFLOW_HMAC_KEY: required by server"}},
		{"incidents worker without clock mail recipients", "worker", map[string]string{"BREACHFLOW_NOTIFY": "", "BREACHFLOW_WORKER_QUEUES": "incidents"},
			[]string{"BREACHFLOW_NOTIFY: required by incidents"}},
		{"worker without a mail relay", "worker", map[string]string{"BREACHFLOW_SMTP_ADDR": "", "BREACHFLOW_WORKER_QUEUES": "notices"},
			[]string{"BREACHFLOW_SMTP_ADDR: required by notices"}},
		{"worker without the audit keys", "worker", map[string]string{"BREACHFLOW_AUDIT_KEYS": ""},
			[]string{"BREACHFLOW_AUDIT_KEYS: required by incidents and notices"}},
		{"worker on an unknown queue", "worker", map[string]string{"BREACHFLOW_WORKER_QUEUES": "mail"},
			[]string{"BREACHFLOW_WORKER_QUEUES:", `"mail"`, "all, incidents, notices"}},
		{"server on a store never migrated", "server", map[string]string{"BREACHFLOW_DATABASE_URL": "sqlite://" + filepath.Join(dir, "empty.db")},
			[]string{"BREACHFLOW_DATABASE_URL: the store is not migrated", "run breachflow migrate"}},
		{"server on a store behind the binary", "server", map[string]string{"BREACHFLOW_DATABASE_URL": behind},
			[]string{"BREACHFLOW_DATABASE_URL: the store is at migration", "run breachflow migrate"}},
		{"worker on a store behind the binary", "worker", map[string]string{"BREACHFLOW_DATABASE_URL": behind},
			[]string{"BREACHFLOW_DATABASE_URL: the store is at migration", "run breachflow migrate"}},
		{"server with nothing at the Temporal address", "server", map[string]string{"BREACHFLOW_TEMPORAL_ADDRESS": freeAddr(t)},
			[]string{"BREACHFLOW_TEMPORAL_ADDRESS: no Temporal frontend answers at 127.0.0.1:"}},
		{"worker with nothing at the Temporal address", "worker", map[string]string{"BREACHFLOW_TEMPORAL_ADDRESS": freeAddr(t)},
			[]string{"BREACHFLOW_TEMPORAL_ADDRESS: no Temporal frontend answers at 127.0.0.1:"}},
		{"worker with a Temporal address that accepts and never answers", "worker", map[string]string{"BREACHFLOW_TEMPORAL_ADDRESS": silent},
			[]string{"BREACHFLOW_TEMPORAL_ADDRESS: no Temporal frontend answered at " + silent + " within"}},
		{"worker on a namespace that does not exist", "worker", map[string]string{"BREACHFLOW_TEMPORAL_NAMESPACE": "nosuch"},
			[]string{"BREACHFLOW_TEMPORAL_NAMESPACE:", "nosuch"}},
		{"server on a namespace that does not exist", "server", map[string]string{"BREACHFLOW_TEMPORAL_NAMESPACE": "nosuch"},
			[]string{"BREACHFLOW_TEMPORAL_NAMESPACE: nosuch:"}},
		{"worker on a namespace without the search attributes", "worker", nil,
			[]string{"BREACHFLOW_TEMPORAL_NAMESPACE: namespace bare lacks breachflow's search attributes",
				"BreachNextDeadline", "BreachPlaybook", "BreachSeverity", "BreachStatus"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			took, err := run(t, tc.command, tc.change)
			t.Logf("%s refused after %s: %v", tc.command, took.Round(time.Millisecond), err)
			if err == nil {
				t.Fatalf("%s returned without an error", tc.command)
			}
			line := err.Error()
			if strings.Contains(line, "\n") || !strings.HasPrefix(line, tc.want[0]) {
				t.Fatalf("error = %q, want one line starting %q", line, tc.want[0])
			}
			for _, w := range tc.want[1:] {
				if !strings.Contains(line, w) {
					t.Errorf("error = %q, want it to name %q", line, w)
				}
			}
			notListening(t)
			noPollers(t)
		})
	}
}
