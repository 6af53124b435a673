package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a log sink the test reads while the stack writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestLogsAreJSONWithTraceAndIncident captures the log of a stack run
// with BREACHFLOW_LOG_FORMAT=json through a launch (with a W3C
// traceparent) and a customer import. Every line is one JSON object; each
// request's line carries a trace id and a request id, the launch's the
// caller's trace id, the import's the incident id from its path; the
// IndexObligations activity's line carries the incident id and the launch's
// trace id (through Temporal's headers). No customer's name or email
// appears anywhere in the log.
func TestLogsAreJSONWithTraceAndIncident(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server")
	}
	cfg := devConfig(t, t.TempDir())
	cfg.LogFormat = "json"
	var logs lockedBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	stack, err := startDev(ctx, cfg, devOptions{Out: &bytes.Buffer{}, LogOut: &logs, TemporalLogLevel: "fatal"})
	if err != nil {
		t.Fatal(err)
	}
	defer stack.Stop()
	c := apiClient{t: t, base: "http://" + stack.httpAddr}

	const trace = "4bf92f3577b34da6a3ce929d0e0e4736"
	code, inc := c.do("POST", "/v1/incidents", stack.token, map[string]any{"playbook": "customer-data-breach", "title": "Log test",
		"severity": "high", "aware_at": time.Now().UTC().Add(-time.Hour).Format(time.RFC3339),
		"data_categories": []string{"contact"}, "jurisdictions": []string{"US-CA"}},
		map[string]string{"traceparent": "00-" + trace + "-00f067aa0ba902b7-01"})
	if code != 201 {
		t.Fatalf("launch: %d %v", code, inc)
	}
	id := inc["id"].(string)
	customers := [][2]string{{"Zebulon Quaternion", "zebulon.q@example.com"}, {"Xanthe Marlowe-Pike", "xanthe.mp@example.org"}}
	var csv strings.Builder
	csv.WriteString("external_id,name,email,locale,country,subdivision\n")
	for i, cu := range customers {
		fmt.Fprintf(&csv, "C%d,%s,%s,en,US,US-CA\n", i, cu[0], cu[1])
	}
	if code, body := c.do("POST", "/v1/incidents/"+id+"/subjects", stack.token, csv.String(), map[string]string{"Content-Type": "text/csv"}); code != 200 {
		t.Fatalf("import: %d %v", code, body)
	}

	type line = map[string]any
	var lines []line
	hex := regexp.MustCompile(`^[0-9a-f]{32}$`)
	find := func(match func(line) bool) line {
		for _, l := range lines {
			if match(l) {
				return l
			}
		}
		return nil
	}
	var act line
	for deadline := time.Now().Add(30 * time.Second); ; {
		lines = lines[:0]
		for _, raw := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
			var l line
			if err := json.Unmarshal([]byte(raw), &l); err != nil {
				t.Fatalf("a log line is not JSON (%v): %s", err, raw)
			}
			lines = append(lines, l)
		}
		if act = find(func(l line) bool { return l["msg"] == "obligations indexed" && l["incident_id"] == id }); act != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no obligations-indexed line with incident_id %s in 30s:\n%s", id, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if act["trace_id"] != trace {
		t.Errorf("the IndexObligations activity line has trace_id %v, want the launch's %s: %v", act["trace_id"], trace, act)
	}
	launch := find(func(l line) bool { return l["msg"] == "http" && l["method"] == "POST" && l["route"] == "/v1/incidents" })
	if launch == nil || launch["trace_id"] != trace || launch["request_id"] == nil {
		t.Errorf("launch request line %v: want trace_id %s (the caller's traceparent) and a request_id", launch, trace)
	}
	imp := find(func(l line) bool { return l["msg"] == "http" && l["route"] == "/v1/incidents/:id/subjects" })
	if imp == nil || imp["incident_id"] != id || !hex.MatchString(fmt.Sprint(imp["trace_id"])) || imp["request_id"] == nil {
		t.Errorf("import request line %v: want incident_id %s, a generated 32-hex trace_id and a request_id", imp, id)
	} else if imp["trace_id"] == trace || imp["request_id"] == launch["request_id"] {
		t.Errorf("the import reuses the launch's ids: %v", imp)
	}
	all := strings.ToLower(logs.String())
	for _, cu := range customers {
		for _, s := range append(strings.Fields(cu[0]), cu[1], strings.Split(cu[1], "@")[0]) {
			if strings.Contains(all, strings.ToLower(s)) {
				t.Errorf("the log holds the customer's %q", s)
			}
		}
	}
	t.Logf("%d JSON lines; import line: %v; activity line: %v", len(lines), imp, act)
}
