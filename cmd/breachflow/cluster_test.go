package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/mailcatcher"
	"github.com/jackc/pgx/v5"
)

// testCluster is the topology deploy/cluster.sh starts (Temporal's own
// server on PostgreSQL, migrate, server, an incidents worker and two
// notices workers), started by that script with this test's ports,
// databases and mail sink: the script is the one description of it.
type testCluster struct {
	t     *testing.T
	env   []string
	run   string
	bin   string
	base  string
	token string
	sink  *mailcatcher.Catcher
	c     apiClient
}

// freePorts finds n consecutive free loopback ports below 32768
// (Temporal keeps membership ports in a smallint column), for Temporal's
// frontend and the services and membership ring just above it.
func freePorts(t *testing.T, n int) int {
	t.Helper()
	for try := 0; try < 100; try++ {
		base := 20000 + rand.IntN(12000)
		ok := true
		for p := base; p < base+n && ok; p++ {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				ok = false
				continue
			}
			l.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatalf("no %d consecutive free ports", n)
	return 0
}

// startTestCluster runs `deploy/cluster.sh start --fresh` on fresh
// databases named for this run, which it drops when the test ends.
func startTestCluster(t *testing.T, keep int) *testCluster {
	t.Helper()
	pgURL := os.Getenv("BREACHFLOW_TEST_POSTGRES_URL")
	if pgURL == "" {
		t.Skip("BREACHFLOW_TEST_POSTGRES_URL is not set (.ci/run sets it)")
	}
	u, err := url.Parse(pgURL)
	if err != nil {
		t.Fatalf("BREACHFLOW_TEST_POSTGRES_URL: %v", err)
	}
	pw, _ := u.User.Password()
	sink, err := mailcatcher.Start("127.0.0.1:0", keep)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sink.Close(context.Background()) })
	run := t.TempDir()
	// The binaries are kept between runs (go build rebuilds what changed).
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	binDir := filepath.Join(cache, "breachflow-cluster-test")
	temporalPort, httpPort := freePorts(t, 9), freePorts(t, 1)
	tc := &testCluster{t: t, run: run, bin: binDir, sink: sink, base: fmt.Sprintf("http://127.0.0.1:%d", httpPort)}
	tc.env = append(os.Environ(),
		"CLUSTER_RUN_DIR="+run,
		"CLUSTER_BIN_DIR="+binDir,
		"CLUSTER_PG_HOST="+u.Hostname(), "CLUSTER_PG_PORT="+u.Port(), "CLUSTER_PG_USER="+u.User.Username(), "CLUSTER_PG_PASSWORD="+pw,
		fmt.Sprintf("CLUSTER_DB_PREFIX=bfcluster_%d", os.Getpid()),
		fmt.Sprintf("CLUSTER_TEMPORAL_PORT=%d", temporalPort),
		fmt.Sprintf("CLUSTER_HTTP_ADDR=127.0.0.1:%d", httpPort),
		"BREACHFLOW_SMTP_ADDR="+sink.Addr(),
		"BREACHFLOW_NOTIFY=legal=legal@example.com,responder=soc@example.com,admin=security@example.com",
	)
	t.Cleanup(func() {
		if out, err := tc.script("stop"); err != nil {
			t.Errorf("cluster.sh stop: %v\n%s", err, out)
		}
		if !t.Failed() {
			_, _ = tc.script("drop")
		} else {
			t.Logf("kept the databases and the logs in %s for a look", run)
		}
	})
	start := time.Now()
	if out, err := tc.script("start", "--fresh"); err != nil {
		t.Fatalf("cluster.sh start: %v\n%s", err, out)
	}
	t.Logf("cluster.sh start --fresh took %s (builds included)", time.Since(start).Round(time.Millisecond))
	tc.token = tc.envOf("BREACHFLOW_ADMIN_TOKEN")
	tc.c = apiClient{t: t, base: tc.base}
	return tc
}

// script runs deploy/cluster.sh with the cluster's settings.
func (tc *testCluster) script(args ...string) (string, error) {
	cmd := exec.Command("bash", append([]string{filepath.Join("..", "..", "deploy", "cluster.sh")}, args...)...)
	cmd.Env = tc.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// envOf reads one variable the cluster's processes run with.
func (tc *testCluster) envOf(name string) string {
	tc.t.Helper()
	f, err := os.Open(filepath.Join(tc.run, "cluster.env"))
	if err != nil {
		tc.t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+"="); ok {
			return v
		}
	}
	tc.t.Fatalf("cluster.env has no %s", name)
	return ""
}

// breachflow runs the cluster's breachflow binary with its variables.
func (tc *testCluster) breachflow(args ...string) (string, error) {
	return tc.exec(filepath.Join(tc.bin, "breachflow"), args...)
}

// processEnv is the environment a client command of the cluster runs in.
func (tc *testCluster) processEnv() []string {
	env := slices.Clone(tc.env)
	for _, k := range []string{"BREACHFLOW_TEMPORAL_ADDRESS", "BREACHFLOW_TEMPORAL_NAMESPACE", "BREACHFLOW_DATABASE_URL", "BREACHFLOW_ENCRYPTION_KEYS", "BREACHFLOW_AUDIT_KEYS", "BREACHFLOW_ACTOR_KEY", "BREACHFLOW_HMAC_KEY"} {
		env = append(env, k+"="+tc.envOf(k))
	}
	return env
}

// kill SIGKILLs one of the cluster's processes and waits until it is gone.
func (tc *testCluster) kill(name string) {
	tc.t.Helper()
	raw, err := os.ReadFile(filepath.Join(tc.run, name+".pid"))
	if err != nil {
		tc.t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		tc.t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		tc.t.Fatalf("kill %s: %v", name, err)
	}
	for syscall.Kill(pid, 0) == nil {
		time.Sleep(10 * time.Millisecond)
	}
}

func (tc *testCluster) startOne(name string) {
	tc.t.Helper()
	if out, err := tc.script("start-one", name); err != nil {
		tc.t.Fatalf("cluster.sh start-one %s: %v\n%s", name, err, out)
	}
}

// token mints a token for another person through the API.
func (tc *testCluster) mint(name, role string) string {
	tc.t.Helper()
	code, body := tc.c.do("POST", "/v1/tokens", tc.token, map[string]any{"name": name, "role": role}, nil)
	if code != 201 && code != 200 {
		tc.t.Fatalf("create token %s: %d %v", name, code, body)
	}
	tok, _ := body["secret"].(string)
	if tok == "" {
		tc.t.Fatalf("create token %s: no token in %v", name, body)
	}
	return tok
}

// drive works an incident of customer-data-breach through the API the
// way its people would: every ready step completed (approvals by two
// legal people), regulator duties filed, until done says stop. Customer
// duties are left to the notices.
func (tc *testCluster) drive(id, second string, limit time.Duration, done func(st map[string]any) bool) map[string]any {
	tc.t.Helper()
	c, base := tc.c, "/v1/incidents/"+id
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		code, st := c.do("GET", base, tc.token, nil, nil)
		if code != 200 {
			tc.t.Fatalf("GET %s: %d %v", base, code, st)
		}
		if done(st) {
			return st
		}
		acted := false
		for _, s := range st["steps"].([]any) {
			step := s.(map[string]any)
			if step["state"] != "ready" || step["kind"] == "customer_notices" {
				continue
			}
			path := fmt.Sprintf("%s/steps/%s/complete", base, step["id"])
			body := map[string]any{"note": "done"}
			by := tc.token
			if step["kind"] == "approval" {
				path = fmt.Sprintf("%s/steps/%s/decide", base, step["id"])
				body = map[string]any{"decision": "approve"}
				if approvals, _ := step["approvals"].([]any); len(approvals) > 0 {
					by = second
				}
			}
			if code, resp := c.do("POST", path, by, body, nil); code != 200 && code != 409 {
				tc.t.Fatalf("%s: %d %v", path, code, resp)
			}
			acted = true
		}
		obs, _ := st["obligations"].([]any)
		for _, o := range obs {
			ob := o.(map[string]any)
			if ob["recipient"] != "regulator" || ob["status"] == "filed" || ob["status"] == "waived" || ob["exempt"] == true {
				continue
			}
			c.do("POST", fmt.Sprintf("%s/obligations/%s/file", base, ob["id"]), tc.token, map[string]any{"reference": "R-1", "delay_reason": "cluster test"}, nil)
			acted = true
		}
		if !acted {
			time.Sleep(300 * time.Millisecond)
		}
	}
	tc.t.Fatalf("%s did not get there within %s", id, limit)
	return nil
}

// TestCluster runs breachflow the way docs/deploy.md tells an operator
// to, on Temporal's own server and PostgreSQL, all started by
// deploy/cluster.sh, and puts it through an incident and failure drills.
// BREACHFLOW_CLUSTER_SUBJECTS sets how many customers the end-to-end run
// notifies (default 10,000 in CI; the figure is 50,000).
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts Temporal's server, breachflow's server and three workers")
	}
	if os.Getenv("BREACHFLOW_TEST_CLUSTER") != "1" {
		t.Skip("BREACHFLOW_TEST_CLUSTER=1 runs it (docs/deploy.md: A local cluster)")
	}
	n := 10000
	if v := os.Getenv("BREACHFLOW_CLUSTER_SUBJECTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1000 {
			t.Fatalf("BREACHFLOW_CLUSTER_SUBJECTS=%q, want a number ≥ 1000", v)
		}
	}
	began := time.Now()
	tc := startTestCluster(t, 3*n+1000)
	second := tc.mint("second-legal", "legal")
	// The roll drill's new build links while the other drills run.
	rollBuild := func() (string, error) { return "", errors.New("not selected by -run") }
	if subtestSelected(rollDrill) {
		rollBuild = buildRollDrill(t, tc.bin)
	}

	// End to end, with drill (a) inside it: a notices worker is SIGKILLed
	// a quarter of the way through the sending; the other carries on.
	t.Run("end to end with a notices worker killed mid-send", func(t *testing.T) {
		tc.t = t
		tc.c.t = t
		testClusterEndToEnd(t, tc, second, n)
	})
	t.Run("API server killed between a launch and its answer", func(t *testing.T) {
		tc.t = t
		tc.c.t = t
		testClusterServerKilledMidLaunch(t, tc)
	})
	t.Run("Temporal stopped for 30 s", func(t *testing.T) {
		tc.t = t
		tc.c.t = t
		testClusterTemporalOutage(t, tc)
	})
	t.Run("PostgreSQL restarted under load", func(t *testing.T) {
		tc.t = t
		tc.c.t = t
		testClusterPostgresRestart(t, tc, second, max(n/5, 5000))
	})
	t.Run(rollDrill, func(t *testing.T) {
		tc.t = t
		tc.c.t = t
		testClusterRoll(t, tc, second, rollBuild)
	})
	t.Logf("TestCluster took %s", time.Since(began).Round(time.Second))
}

func testClusterEndToEnd(t *testing.T, tc *testCluster, second string, n int) {
	c := tc.c
	id, took := launchUSCustomers(t, c, tc.token, "Cluster end to end", "low", n)
	t.Logf("imported %d customers in %s", n, took.Round(time.Millisecond))
	tc.remedyPool(id, n)
	if code, body := c.do("PATCH", "/v1/incidents/"+id, tc.token, map[string]any{"risk": "high"}, nil); code != 200 {
		t.Fatalf("patch risk: %d %v", code, body)
	}
	if code, body := c.do("PUT", "/v1/incidents/"+id+"/notices/texts/en", tc.token,
		map[string]any{"what_happened": "A customer file was public for a day.", "what_we_are_doing": "We closed it and reset passwords."}, nil); code != 200 {
		t.Fatalf("notice text: %d %v", code, body)
	}
	mine := func(m mailcatcher.Message) bool { return strings.HasPrefix(m.MessageID, "<"+id+".customer.") }
	tc.drive(id, second, 3*time.Minute, func(st map[string]any) bool {
		return stepOf(t, st, "customer-notices")["state"] == "ready" || count(tc.sink, mine) > 0
	})
	sendStart := time.Now()
	deadline := sendStart.Add(5 * time.Minute)
	for count(tc.sink, mine) < n/4 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d notices sent in 5 minutes", count(tc.sink, mine), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	tc.kill("notices-1")
	killedAt := time.Now()
	atKill := count(tc.sink, mine)
	st := tc.drive(id, second, 10*time.Minute, func(st map[string]any) bool {
		s := stepOf(t, st, "customer-notices")["state"]
		return s == "done" || s == "failed"
	})
	sendTook := time.Since(sendStart)
	if s := stepOf(t, st, "customer-notices")["state"]; s != "done" {
		t.Fatalf("customer-notices ended %v", s)
	}
	tc.startOne("notices-1") // back for the drills that follow

	// Every customer once: at the SMTP peer and in the store.
	var times []time.Time
	seen := map[string]int{}
	for _, m := range tc.sink.All() {
		if mine(m) {
			seen[m.MessageID]++
			if m.ReceivedAt.After(killedAt) {
				times = append(times, m.ReceivedAt)
			}
		}
	}
	attempts, sent := sentAttempts(t, tc.c, tc.token, id)
	// The documented bound: a crash repeats at most the batches that
	// were in flight on the killed worker.
	batches, _ := strconv.Atoi(tc.envOrDefault("BREACHFLOW_NOTICE_BATCHES", "4"))
	repeats := checkSentOnce(t, seen, attempts, sent, n, batches*500)
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	longest, from, gapAt, gapAfter := time.Duration(0), killedAt, time.Duration(0), 0
	for i, at := range times {
		if d := at.Sub(from); d > longest {
			longest, gapAt, gapAfter = d, from.Sub(killedAt), i
		}
		from = at
	}
	t.Logf("%d notices sent in %s (%.0f/s) by two notices workers; one SIGKILLed after %d; longest pause in deliveries after the kill %s (from %s after the kill, when %d more had arrived); %d repeats (same Message-IDs)",
		n, sendTook.Round(time.Millisecond), float64(n)/sendTook.Seconds(), atKill, longest.Round(time.Millisecond),
		gapAt.Round(time.Millisecond), gapAfter, repeats)

	// Close, and the audit chain verifies.
	tc.drive(id, second, 3*time.Minute, func(st map[string]any) bool {
		if st["status"] == "closed" {
			return true
		}
		for _, s := range st["steps"].([]any) {
			if s.(map[string]any)["state"] == "ready" {
				return false
			}
		}
		c.do("POST", "/v1/incidents/"+id+"/close", tc.token, map[string]any{"note": "cluster test"}, nil)
		return false
	})
	if out, err := tc.breachflow("audit", "verify", id); err != nil {
		t.Fatalf("breachflow audit verify %s: %v\n%s", id, err, out)
	}
}

func (tc *testCluster) envOrDefault(name, def string) string {
	for _, kv := range tc.env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return def
}

// waitReady polls the API's /readyz until it answers 200 and answers
// when it did.
func (tc *testCluster) waitReady(limit time.Duration) time.Time {
	tc.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		resp, err := http.Get(tc.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Now()
			}
		}
		if time.Now().After(deadline) {
			tc.t.Fatalf("the API's /readyz did not answer 200 within %s (last: %v)", limit, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// countTitled counts the incidents the list holds with this title.
func (tc *testCluster) countTitled(title string) int {
	tc.t.Helper()
	code, body := tc.c.do("GET", "/v1/incidents?limit=500", tc.token, nil, nil)
	if code != 200 {
		tc.t.Fatalf("list incidents: %d %v", code, body)
	}
	k := 0
	for _, x := range body["incidents"].([]any) {
		if x.(map[string]any)["title"] == title {
			k++
		}
	}
	return k
}

// raw sends one request and answers its status, its Retry-After and how
// long the answer took.
func (tc *testCluster) raw(method, path, body string) (int, string, time.Duration) {
	tc.t.Helper()
	req, _ := http.NewRequest(method, tc.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tc.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		tc.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After"), time.Since(start)
}

// Drill (c): the API server is SIGKILLed right after a launch request
// reaches it, before it answers. After a restart, the client's retry
// with the same Idempotency-Key answers the one incident there is.
func testClusterServerKilledMidLaunch(t *testing.T, tc *testCluster) {
	const title, key = "Killed mid-launch", "cluster-drill-server-killed"
	body, _ := json.Marshal(map[string]any{"playbook": "customer-data-breach", "title": title, "severity": "high",
		"jurisdictions": []string{"US-CA"}})
	conn, err := net.Dial("tcp", strings.TrimPrefix(tc.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/incidents HTTP/1.1\r\nHost: breachflow\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nIdempotency-Key: %s\r\nContent-Length: %d\r\n\r\n%s",
		tc.token, key, len(body), body)
	// Kill it the moment the store holds the launch's record: the
	// workflow is being started and the answer not yet written.
	db, err := pgx.Connect(context.Background(), tc.envOf("BREACHFLOW_DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.Background())
	for deadline := time.Now().Add(10 * time.Second); ; {
		var id string
		err := db.QueryRow(context.Background(), "SELECT id FROM incidents WHERE idempotency_key = $1", key).Scan(&id)
		if err == nil {
			break
		}
		if !errors.Is(err, pgx.ErrNoRows) || time.Now().After(deadline) {
			t.Fatalf("waiting for the launch's record: %v", err)
		}
	}
	tc.kill("server")
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	first, err := http.ReadResponse(bufio.NewReader(conn), nil)
	answered := err == nil
	if answered {
		t.Logf("the server answered %d before the kill took it", first.StatusCode)
		first.Body.Close()
	}
	tc.startOne("server")
	launch := func() (int, string) {
		code, inc := tc.c.do("POST", "/v1/incidents", tc.token, json.RawMessage(body), map[string]string{"Idempotency-Key": key})
		if code != 200 && code != 201 {
			t.Fatalf("retried launch: %d %v", code, inc)
		}
		return code, inc["id"].(string)
	}
	code1, id1 := launch()
	code2, id2 := launch()
	if id1 != id2 || code2 != 200 {
		t.Errorf("retries answered %d %s then %d %s; want the same incident, the second as 200", code1, id1, code2, id2)
	}
	if n := tc.countTitled(title); n != 1 {
		t.Errorf("%d incidents titled %q, want 1", n, title)
	}
	switch {
	case answered:
		t.Logf("retry answered %d with %s", code1, id1)
	case code1 == 200:
		t.Logf("the killed server had started %s before it died; the retry found it (200)", id1)
	default:
		t.Logf("the killed server died before starting the incident; the retry launched %s (201)", id1)
	}
}

// Drill (b): Temporal is killed for 30 s while an incident's GDPR clock
// has a reminder falling due inside the outage. The API answers 503 with
// Retry-After at once; after the restart the reminder fires once, late;
// the clock's deadline is unchanged and the incident goes on.
func testClusterTemporalOutage(t *testing.T, tc *testCluster) {
	const outage = 30 * time.Second
	// The first reminder of a 72 h clock is at 24 h: 25 s from now.
	aware := time.Now().Add(-24*time.Hour + 25*time.Second).UTC().Truncate(time.Second)
	remindAt := aware.Add(24 * time.Hour)
	code, inc := tc.c.do("POST", "/v1/incidents", tc.token, map[string]any{"playbook": "customer-data-breach", "title": "Temporal outage",
		"severity": "high", "aware_at": aware.Format(time.RFC3339), "jurisdictions": []string{"DE"}}, nil)
	if code != 201 {
		t.Fatalf("launch: %d %v", code, inc)
	}
	id := inc["id"].(string)
	dueOf := func(st map[string]any) string {
		for _, o := range st["obligations"].([]any) {
			if o := o.(map[string]any); o["id"] == "gdpr-art33" {
				return fmt.Sprint(o["due_at"])
			}
		}
		return ""
	}
	var due string
	eventually(t, 20*time.Second, "the GDPR Art. 33 clock", func() bool {
		_, st := tc.c.do("GET", "/v1/incidents/"+id, tc.token, nil, nil)
		due = dueOf(st)
		return due != "" && due != "<nil>"
	})
	reminder := func(m mailcatcher.Message) bool {
		return strings.Contains(m.Subject, "["+id+"] Reminder: GDPR Art. 33")
	}
	tc.kill("temporal")
	down := time.Now()
	if !down.Before(remindAt) {
		t.Fatalf("Temporal went down %s after the reminder was due; the drill needs it due during the outage", down.Sub(remindAt))
	}

	for _, r := range []struct{ method, path, body string }{
		{"GET", "/v1/incidents/" + id, ""},
		{"POST", "/v1/incidents/" + id + "/steps/triage/complete", `{"note":"during the outage"}`},
		{"POST", "/v1/incidents", `{"playbook":"customer-data-breach","title":"Launched during the outage"}`},
	} {
		code, retry, took := tc.raw(r.method, r.path, r.body)
		if code != 503 || retry == "" || took > 2*time.Second {
			t.Errorf("%s %s with Temporal down: %d Retry-After %q in %s; want 503 with Retry-After within 2 s", r.method, r.path, code, retry, took)
		} else {
			t.Logf("%s %s with Temporal down: 503, Retry-After %s, in %s", r.method, r.path, retry, took.Round(time.Millisecond))
		}
	}
	time.Sleep(time.Until(down.Add(outage)))
	tc.startOne("temporal")
	up := time.Now()
	wctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	msg, err := tc.sink.Wait(wctx, reminder)
	if err != nil {
		t.Fatalf("no GDPR Art. 33 reminder for %s within 2 minutes of Temporal's restart: %v", id, err)
	}
	t.Logf("Temporal down %s; the reminder due %s into the outage arrived %s late, %s after the restart",
		up.Sub(down).Round(time.Millisecond), remindAt.Sub(down).Round(time.Millisecond),
		msg.ReceivedAt.Sub(remindAt).Round(time.Millisecond), msg.ReceivedAt.Sub(up).Round(time.Millisecond))
	if msg.ReceivedAt.Before(up) {
		t.Errorf("the reminder arrived at %s, before Temporal came back at %s", msg.ReceivedAt, up)
	}
	// The incident goes on, its clock where it was, and the reminder is
	// not repeated. Temporal's frontend answers before all of it serves
	// again, and the API's connection comes back on its own backoff: a
	// client acts once /readyz says so (until then it gets 503 with
	// Retry-After).
	apiReady := tc.waitReady(2 * time.Minute)
	t.Logf("the API's /readyz answered 200 %s after Temporal's restart", apiReady.Sub(up).Round(time.Millisecond))
	if code, body := tc.c.do("POST", "/v1/incidents/"+id+"/steps/triage/complete", tc.token, map[string]any{"note": "after the outage"}, nil); code != 200 {
		t.Fatalf("complete triage after the outage: %d %v", code, body)
	}
	_, st := tc.c.do("GET", "/v1/incidents/"+id, tc.token, nil, nil)
	if got := dueOf(st); got != due {
		t.Errorf("GDPR Art. 33 due %s after the outage, %s before", got, due)
	}
	time.Sleep(3 * time.Second)
	if n := count(tc.sink, reminder); n != 1 {
		t.Errorf("%d GDPR Art. 33 reminders for %s, want 1", n, id)
	}
	if n := tc.countTitled("Launched during the outage"); n != 0 {
		t.Errorf("the launch refused during the outage left %d incidents", n)
	}
}

// localPostgresCluster names the Debian PostgreSQL cluster (version and
// name, for pg_ctlcluster) listening on port, or "" when there is none
// this process may restart.
func localPostgresCluster(port string) (string, string) {
	if os.Geteuid() != 0 {
		return "", ""
	}
	out, err := exec.Command("pg_lsclusters", "--no-header").Output()
	if err != nil {
		return "", ""
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 4 && f[2] == port && f[3] == "online" {
			return f[0], f[1]
		}
	}
	return "", ""
}

// Drill (d): the PostgreSQL server under both Temporal and breachflow's
// store is stopped for a few seconds while notices are being sent, then
// started again. While it is down the API answers 503 with Retry-After;
// afterwards the activities' retries finish the run: every customer is
// notified, none lost, repeats only of batches in flight (same
// Message-IDs). Other users of the server see a short outage too, so
// BREACHFLOW_CLUSTER_PG_RESTART=0 skips it.
func testClusterPostgresRestart(t *testing.T, tc *testCluster, second string, n int) {
	if os.Getenv("BREACHFLOW_CLUSTER_PG_RESTART") == "0" {
		t.Skip("BREACHFLOW_CLUSTER_PG_RESTART=0")
	}
	u, _ := url.Parse(os.Getenv("BREACHFLOW_TEST_POSTGRES_URL"))
	version, name := localPostgresCluster(u.Port())
	if version == "" || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost") {
		t.Skip("needs root and a local Debian PostgreSQL cluster (pg_ctlcluster) on the test URL's port")
	}
	pgctl := func(action string) {
		t.Helper()
		if out, err := exec.Command("pg_ctlcluster", "--skip-systemctl-redirect", version, name, action, "-m", "fast").CombinedOutput(); err != nil {
			t.Fatalf("pg_ctlcluster %s: %v\n%s", action, err, out)
		}
	}
	id, _ := launchUSCustomers(t, tc.c, tc.token, "PostgreSQL restart", "low", n)
	tc.remedyPool(id, n)
	tc.c.do("PATCH", "/v1/incidents/"+id, tc.token, map[string]any{"risk": "high"}, nil)
	if code, body := tc.c.do("PUT", "/v1/incidents/"+id+"/notices/texts/en", tc.token,
		map[string]any{"what_happened": "A file was public.", "what_we_are_doing": "We closed it."}, nil); code != 200 {
		t.Fatalf("notice text: %d %v", code, body)
	}
	mine := func(m mailcatcher.Message) bool { return strings.HasPrefix(m.MessageID, "<"+id+".customer.") }
	tc.drive(id, second, 3*time.Minute, func(st map[string]any) bool { return count(tc.sink, mine) > 0 })
	// Stop it a quarter of the way through, watched closely: the drive's
	// polls are too far apart for a send this fast.
	for deadline := time.Now().Add(5 * time.Minute); count(tc.sink, mine) < n/4; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d notices sent after 5 minutes", count(tc.sink, mine), n)
		}
	}

	pgctl("stop")
	down := time.Now()
	for _, r := range []struct{ method, path, body string }{
		{"GET", "/v1/incidents/" + id, ""},
		{"POST", "/v1/incidents", `{"playbook":"customer-data-breach","title":"Launched while PostgreSQL is down"}`},
	} {
		code, retry, took := tc.raw(r.method, r.path, r.body)
		if code != 503 || retry == "" {
			t.Errorf("%s %s with PostgreSQL down: %d Retry-After %q in %s; want 503 with Retry-After", r.method, r.path, code, retry, took)
		} else {
			t.Logf("%s %s with PostgreSQL down: 503, Retry-After %s, in %s", r.method, r.path, retry, took.Round(time.Millisecond))
		}
	}
	atStop := count(tc.sink, mine)
	if atStop >= n {
		t.Fatalf("all %d notices were sent before PostgreSQL stopped: the drill needs more customers", n)
	}
	time.Sleep(time.Until(down.Add(3 * time.Second)))
	pgctl("start")
	up := time.Now()

	st := tc.drive(id, second, 10*time.Minute, func(st map[string]any) bool {
		s := stepOf(t, st, "customer-notices")["state"]
		return s == "done" || s == "failed"
	})
	if s := stepOf(t, st, "customer-notices")["state"]; s != "done" {
		t.Fatalf("customer-notices ended %v", s)
	}
	seen := map[string]int{}
	var firstAfter time.Time
	for _, m := range tc.sink.All() {
		if mine(m) {
			seen[m.MessageID]++
			if m.ReceivedAt.After(up) && (firstAfter.IsZero() || m.ReceivedAt.Before(firstAfter)) {
				firstAfter = m.ReceivedAt
			}
		}
	}
	attempts, sent := sentAttempts(t, tc.c, tc.token, id)
	// Both notices workers' batches in flight may be repeated.
	batches, _ := strconv.Atoi(tc.envOrDefault("BREACHFLOW_NOTICE_BATCHES", "4"))
	repeats := checkSentOnce(t, seen, attempts, sent, n, 2*batches*500)
	resumed := "never"
	if !firstAfter.IsZero() {
		resumed = firstAfter.Sub(up).Round(time.Millisecond).String() + " after it was back"
	}
	t.Logf("%d notices; PostgreSQL stopped after %d were sent, down %s; sending resumed %s; all sent once, %d repeats (same Message-IDs)",
		n, atStop, up.Sub(down).Round(time.Millisecond), resumed, repeats)
	if n := tc.countTitled("Launched while PostgreSQL is down"); n != 0 {
		t.Errorf("the launch refused while PostgreSQL was down left %d incidents", n)
	}
}

// remedyPool imports n credit-monitoring codes for the incident: the
// shipped playbook offers its US customers a remedy, and the send waits
// until the pool covers them.
func (tc *testCluster) remedyPool(id string, n int) {
	tc.t.Helper()
	var pool strings.Builder
	pool.WriteString("code,product,enrollment_url,enroll_by\n")
	enrollBy := time.Now().AddDate(0, 6, 0).Format(time.DateOnly)
	for i := range n {
		fmt.Fprintf(&pool, "CL-%s-%06d,credit-monitoring,https://enroll.example-bureau.com/,%s\n", id, i, enrollBy)
	}
	if code, body := tc.c.do("POST", "/v1/incidents/"+id+"/remedy-codes", tc.token, pool.String(), map[string]string{"Content-Type": "text/csv"}); code != 200 {
		tc.t.Fatalf("remedy codes: %d %v", code, body)
	}
}
