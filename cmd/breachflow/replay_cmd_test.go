package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestReplayCommand replays saved histories with `breachflow replay`: one
// recorded on a real server replays; the same history with one activity
// changed (what a workflow change without GetVersion looks like to a new
// build) fails, and the command names it.
func TestReplayCommand(t *testing.T) {
	t.Setenv("BREACHFLOW_ENCRYPTION_KEYS", replayKey)
	good := filepath.Join("..", "..", "workflows", "testdata", "history-customer-data-breach.json")
	out, _, err := runCLI("replay", good)
	if err != nil || !strings.Contains(out, "ok   "+good) || !strings.Contains(out, "all 1 histories replay") {
		t.Fatalf("replay %s: %v\n%s", good, err, out)
	}

	raw, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	// protojson varies its spacing from one build to the next.
	from := regexp.MustCompile(`"name":\s*"SetIncidentStatus"`)
	at := from.FindIndex(raw)
	if at == nil {
		t.Fatalf("%s has no %s to change", good, from)
	}
	edited := string(raw[:at[0]]) + `"name": "SetIncidentStatusV2"` + string(raw[at[1]:])
	changed := filepath.Join(t.TempDir(), "changed.json")
	if err := os.WriteFile(changed, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err = runCLI("replay", good, changed)
	if err == nil {
		t.Fatalf("replay of a history the code no longer makes passed:\n%s", out)
	}
	if !strings.Contains(err.Error(), "1 of 2 histories do not replay against this build: "+changed) ||
		!strings.Contains(out, "FAIL "+changed) || !strings.Contains(out, "nondetermin") {
		t.Errorf("replay error %q, output:\n%s\nwant the changed history named as failing with a nondeterminism error", err, out)
	}

	// The codec is the workers': another key cannot read the payloads.
	t.Setenv("BREACHFLOW_ENCRYPTION_KEYS", "other:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	if out, _, err := runCLI("replay", good); err == nil {
		t.Errorf("replay with the wrong key passed:\n%s", out)
	}
	if _, _, err := runCLI("replay"); err == nil || !strings.Contains(err.Error(), "nothing to replay") {
		t.Errorf("replay with nothing named: %v", err)
	}
}
