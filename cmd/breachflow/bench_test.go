package main

import (
	"bytes"
	"context"
	"regexp"
	"testing"
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
		`import \(API\)\s+300 rows`, `peak RSS\s+\d+ MiB`, `sink received\s+600 messages; 300 notices sent once each`} {
		if !regexp.MustCompile(want).MatchString(out.String()) {
			t.Errorf("output lacks %s:\n%s", want, out.String())
		}
	}
}
