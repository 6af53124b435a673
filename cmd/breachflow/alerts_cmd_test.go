package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(args ...string) (string, string, error) {
	var out, errOut bytes.Buffer
	cmd := rootCommand()
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), errOut.String(), err
}

func TestAlertsValidateCommand(t *testing.T) {
	out, _, err := runCLI("alerts", "validate", "--dir", "")
	if err != nil || !strings.Contains(out, "data-exfiltration") || !strings.Contains(out, "examples.yaml:") {
		t.Fatalf("shipped rules: %q %v", out, err)
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	body := "version: 1\nrules:\n  - id: x\n    action: launch\n    launch:\n      playbook: customer-breach\n  - id: y\n    action: triage\n    colour: red\n"
	if err := os.WriteFile(bad, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, err := runCLI("alerts", "validate", "--dir", "", bad)
	if err == nil || !strings.Contains(errOut, bad+":6: rules[0].launch.playbook: unknown playbook") {
		t.Fatalf("bad file: err=%v stderr=%q", err, errOut)
	}
	// The same file in the rules directory fails the whole table, as the
	// server's start would.
	_, errOut, err = runCLI("alerts", "validate", "--dir", dir)
	if err == nil || !strings.Contains(errOut, "bad.yaml:9: field colour is not a known field") {
		t.Fatalf("bad rules dir: err=%v stderr=%q", err, errOut)
	}
}

func TestDetectCommandLocal(t *testing.T) {
	out, _, err := runCLI("detect", "--config", "", "--format", "salesforce", "../../internal/detect/testdata/sample-salesforce.csv")
	if err != nil || !strings.Contains(out, "Findings                        3") || !strings.Contains(out, "export-volume-spike") {
		t.Fatalf("detect: %q %v", out, err)
	}
	out, _, err = runCLI("detect", "--config", "", "--format", "salesforce", "../../internal/detect/testdata/bad-salesforce.csv")
	if err != nil || !strings.Contains(out, "line 3") || !strings.Contains(out, "not UTF-8") {
		t.Fatalf("detect bad log: %q %v", out, err)
	}
}
