package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPlaybookValidateCommand(t *testing.T) {
	dir := t.TempDir()
	good, _ := os.ReadFile("../../playbooks/customer-data-breach.yaml")
	goodPath := filepath.Join(dir, "good.yaml")
	badPath := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(goodPath, good, 0o600); err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(good), "kind: scope", "kind: scoop", 1)
	if err := os.WriteFile(badPath, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, string, error) {
		var out, errOut bytes.Buffer
		cmd := rootCommand()
		cmd.SetOut(&out)
		cmd.SetErr(&errOut)
		cmd.SetArgs(append([]string{"playbook", "validate"}, args...))
		err := cmd.Execute()
		return out.String(), errOut.String(), err
	}
	out, _, err := run(goodPath)
	if err != nil || !strings.Contains(out, "ok: customer-data-breach v1") {
		t.Fatalf("valid file: %q %v", out, err)
	}
	_, errOut, err := run(badPath)
	if err == nil || !strings.Contains(errOut, badPath+":") || !strings.Contains(errOut, ".kind") {
		t.Fatalf("invalid file: err=%v stderr=%q, want file:line: steps[…].kind", err, errOut)
	}
}
