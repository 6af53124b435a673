package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/store"
)

// TestBenchNotifyRuns runs `bench notify` small: both runs reach the sink,
// the pipeline's notices are each sent once, and every figure is printed.
// (The figures themselves are for notes, not assertions.)
func TestBenchNotifyRuns(t *testing.T) {
	var out bytes.Buffer
	if err := benchNotify(context.Background(), &out, benchOptions{subjects: 300, pool: 2, batches: 2, sends: 4}); err != nil {
		t.Fatalf("bench notify: %v\n%s", err, out.String())
	}
	for _, want := range []string{`bare loop\s+300 notices`, `pipeline send\s+300 notices .* ratio to bare \d+%`,
		`import \(API\)\s+300 rows`, `CPU import\s+\d+\.\d+ CPU-s per 1,000 rows \(process, store included\)`,
		`CPU send\s+\d+\.\d+ CPU-s per 1,000 notices`, `CPU both\s+\d+\.\d+ CPU-s per 1,000 customers`, `peak RSS\s+\d+ MiB`, `sink received\s+600 messages; 300 notices sent once each`} {
		if !regexp.MustCompile(want).MatchString(out.String()) {
			t.Errorf("output lacks %s:\n%s", want, out.String())
		}
	}
}

// TestBenchNotifyPostgres runs `bench notify --database-url` against the
// local PostgreSQL in a schema of its own: the notices are each sent once
// and the PostgreSQL backends serving the run are found and their CPU time
// counted.
func TestBenchNotifyPostgres(t *testing.T) {
	base := os.Getenv("BREACHFLOW_TEST_POSTGRES_URL")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	admin, err := sql.Open("pgx", base)
	if err == nil {
		err = admin.PingContext(ctx)
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL unreachable (CI must run this test): %v", err)
		}
		t.Skipf("PostgreSQL unreachable, set BREACHFLOW_TEST_POSTGRES_URL: %v", err)
	}
	t.Cleanup(func() { _ = admin.Close() }) // after the schema is dropped below
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	schema := "bf_bench_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()

	var out bytes.Buffer
	if err := benchNotify(context.Background(), &out, benchOptions{subjects: 300, pool: 2, batches: 2, sends: 4, databaseURL: u.String()}); err != nil {
		t.Fatalf("bench notify: %v\n%s", err, out.String())
	}
	if !regexp.MustCompile(`sink received\s+600 messages; 300 notices sent once each`).MatchString(out.String()) {
		t.Errorf("output lacks the sink's count:\n%s", out.String())
	}
	m := regexp.MustCompile(`CPU both\s+\d+\.\d+ CPU-s per 1,000 customers \(process \d+\.\d+ \+ database (\d+\.\d+)\)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("output lacks the database's CPU time:\n%s", out.String())
	}
	if db, _ := strconv.ParseFloat(m[1], 64); db <= 0 {
		t.Errorf("the run's PostgreSQL backends cost no CPU time, so none were found:\n%s", out.String())
	}
	var stored int
	if err := admin.QueryRowContext(context.Background(), `SELECT count(*) FROM `+schema+`.subjects`).Scan(&stored); err != nil || stored != 300 {
		t.Errorf("the schema holds %d subjects (%v), want 300: the run did not use the database", stored, err)
	}
}

// TestBenchLaunchAndList runs `bench list` small on its own embedded stack,
// and `bench launch --api` against another stack: every launch is answered
// 201 (the incidents exist afterwards) and each route's percentiles are
// printed. (The figures themselves are for notes, not assertions.)
func TestBenchLaunchAndList(t *testing.T) {
	ctx := context.Background()
	var out bytes.Buffer
	if err := benchAPI(ctx, &out, apiBenchOptions{launches: 2, rate: 5, seeded: 40, requests: 3}); err != nil {
		t.Fatalf("bench list: %v\n%s", err, out.String())
	}
	for _, want := range []string{`POST /v1/incidents\s+p50 .* \(2 answered 201\)`, `seeded 40 open incidents`,
		`GET /v1/deadlines \(responder\)\s+p50 `, `dashboard GET /board \(responder\)\s+p50 `} {
		if !regexp.MustCompile(want).MatchString(out.String()) {
			t.Errorf("bench list output lacks %s:\n%s", want, out.String())
		}
	}

	stack := startTestDev(t, t.TempDir())
	t.Cleanup(func() { _ = stack.Stop() })
	t.Setenv("BREACHFLOW_ADMIN_TOKEN", stack.token)
	out.Reset()
	if err := benchLaunchAt(ctx, &out, apiBenchOptions{launches: 3, rate: 5, api: "http://" + stack.httpAddr + "/"}); err != nil {
		t.Fatalf("bench launch --api: %v\n%s", err, out.String())
	}
	if want := `launch, the API at http://` + regexp.QuoteMeta(stack.httpAddr) + `, 3 incidents at 5/s .*\n\s+POST /v1/incidents\s+p50 .* \(3 answered 201\)`; !regexp.MustCompile(want).MatchString(out.String()) {
		t.Errorf("bench launch --api output lacks %s:\n%s", want, out.String())
	}
	listed, err := stack.store.ListIncidents(ctx, store.IncidentFilter{Limit: 10})
	if err != nil || len(listed) != 3 {
		t.Fatalf("after bench launch --api the store lists %d incidents (%v), want 3", len(listed), err)
	}

	t.Setenv("BREACHFLOW_ADMIN_TOKEN", "not-a-token")
	out.Reset()
	if err := benchLaunchAt(ctx, &out, apiBenchOptions{launches: 1, rate: 5, api: "http://" + stack.httpAddr}); err == nil || !strings.Contains(out.String(), "401") {
		t.Fatalf("bench launch --api with a wrong token: err %v, output:\n%s", err, out.String())
	}
}
