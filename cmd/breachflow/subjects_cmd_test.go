package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestSubjectsImportCommand uploads a file with `breachflow subjects
// import` to the running API and prints the report: the bad row by line
// number, the counts, and nothing stored twice on a re-upload.
func TestSubjectsImportCommand(t *testing.T) {
	stack := startTestDev(t, t.TempDir())
	defer stack.Stop()
	c := apiClient{t: t, base: "http://" + stack.httpAddr}
	code, inc := c.do("POST", "/v1/incidents", stack.token, map[string]any{"playbook": "customer-data-breach", "title": "CLI import",
		"severity": "high", "aware_at": time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)}, nil)
	if code != 201 {
		t.Fatalf("launch: %d %v", code, inc)
	}
	file := filepath.Join(t.TempDir(), "contacts.csv")
	csv := "Email,First Name,Last Name,Country/Region,Preferred language\n" + // a HubSpot export
		"ann@example.com,Ann,Lee,US,en\nnot-an-email,Bob,Bad,US,en\nli@example.cn,Lei,Li,CN,zh-CN\n"
	if err := os.WriteFile(file, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func() string {
		t.Helper()
		cmd := subjectsCommand()
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetArgs([]string{"import", inc["id"].(string), file, "--api", c.base, "--token", stack.token})
		if err := cmd.ExecuteContext(context.Background()); err != nil {
			t.Fatalf("subjects import: %v\n%s", err, out.String())
		}
		return out.String()
	}
	out := run()
	for _, want := range []string{`Format\s+hubspot`, `Accepted\s+2`, `Rejected\s+1`, `New customers\s+2`, `US\s+1`, `CN\s+1`, `(?m)^3\s+.*email`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("report lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "not-an-email") {
		t.Errorf("the report echoes a rejected row's content:\n%s", out)
	}
	if again := run(); !regexp.MustCompile(`New customers\s+0`).MatchString(again) {
		t.Errorf("a re-upload created customers again:\n%s", again)
	}
}
