package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/api"
	"github.com/breachflow/breachflow/store"
)

// runAuditVerify runs `breachflow audit verify args…` in this process.
func runAuditVerify(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := rootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(append([]string{"audit", "verify"}, args...))
	err := root.Execute()
	return out.String(), err
}

// TestAuditVerify launches an incident on the dev stack and verifies its
// audit chain the ways an auditor would: from the store with the dev key
// and the workflow's checkpoint, and from an export. Then it cuts the
// chain's tail and swaps the key, and both are named.
func TestAuditVerify(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server")
	}
	dir := t.TempDir()
	stack := startTestDev(t, dir)
	c := apiClient{t: t, base: "http://" + stack.httpAddr}
	code, inc := c.do("POST", "/v1/incidents", stack.token, map[string]any{
		"playbook": "customer-data-breach", "title": "Audit verify", "severity": "high",
		"aware_at": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), "jurisdictions": []string{"DE"},
	}, nil)
	if code != 201 {
		t.Fatalf("launch: %d %v", code, inc)
	}
	id := inc["id"].(string)
	if code, body := c.do("POST", "/v1/incidents/"+id+"/steps/triage/complete", stack.token, map[string]any{"note": "seen"}, nil); code != 200 {
		t.Fatalf("complete triage: %d %v", code, body)
	}
	var trail []byte
	eventually(t, 30*time.Second, "the workflow's checkpoint to reach the last event", func() bool {
		trail = getRaw(t, "http://"+stack.httpAddr+"/v1/incidents/"+id+"/audit", stack.token)
		var v struct {
			Events     []any             `json:"events"`
			Chain      store.ChainReport `json:"chain"`
			Checkpoint *store.ChainHead  `json:"checkpoint"`
		}
		if err := json.Unmarshal(trail, &v); err != nil {
			t.Fatal(err)
		}
		return len(v.Events) >= 2 && v.Checkpoint != nil && v.Checkpoint.Seq == int64(len(v.Events)) &&
			v.Chain.OK && v.Chain.Authenticated == len(v.Events) && v.Chain.Checkpoint == v.Checkpoint.Seq
	})
	keySpec, err := os.ReadFile(filepath.Join(dir, "audit-keys"))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("BREACHFLOW_DATA_DIR", dir)
	t.Setenv("BREACHFLOW_TEMPORAL_ADDRESS", stack.temporal.FrontendHostPort())

	out, err := runAuditVerify(t, id, "--require-checkpoint")
	if err != nil || !strings.Contains(out, "chain verified") || !strings.Contains(out, "checkpoint     event") {
		t.Fatalf("verify a sound chain: %v\n%s", err, out)
	}
	export := filepath.Join(t.TempDir(), "audit.json")
	if err := os.WriteFile(export, trail, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("BREACHFLOW_AUDIT_KEYS", strings.TrimSpace(string(keySpec)))
	if out, err := runAuditVerify(t, "--file", export); err != nil || !strings.Contains(out, "authenticated") {
		t.Fatalf("verify the export: %v\n%s", err, out)
	}

	// The same export with every MAC stripped and the plain chain
	// recomputed, as someone without the key could: it verifies only as
	// legacy, which --no-legacy refuses, and its checkpoint no longer fits.
	var stripped api.AuditTrail
	if err := json.Unmarshal(trail, &stripped); err != nil {
		t.Fatal(err)
	}
	prev := ""
	for i := range stripped.Events {
		ev := &stripped.Events[i]
		ev.MAC, ev.MACKey, ev.PrevHash = "", "", prev
		ev.Hash = store.HashEvent(stripped.StoreEvents()[i])
		prev = ev.Hash
	}
	checkpoint := stripped.Checkpoint
	stripped.Checkpoint = nil
	strippedFile := filepath.Join(t.TempDir(), "stripped.json")
	writeJSON(t, strippedFile, stripped)
	if out, err := runAuditVerify(t, "--file", strippedFile); err != nil || !strings.Contains(out, "legacy") {
		t.Fatalf("a stripped export without its checkpoint: %v\n%s", err, out)
	}
	if _, err := runAuditVerify(t, "--file", strippedFile, "--no-legacy"); err == nil || !strings.Contains(err.Error(), "legacy") {
		t.Fatalf("--no-legacy on a stripped export: err %v, want a refusal", err)
	}
	stripped.Checkpoint = checkpoint
	writeJSON(t, strippedFile, stripped)
	if _, err := runAuditVerify(t, "--file", strippedFile); err == nil || !strings.Contains(err.Error(), "checkpoint") {
		t.Fatalf("a stripped export with its checkpoint: err %v, want a mismatch", err)
	}

	// Another key under the same id: every MAC fails, the first is named.
	other, err := store.NewAuditKey("dev1")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("BREACHFLOW_AUDIT_KEYS", other)
	if out, err := runAuditVerify(t, "--file", export); err == nil || !strings.Contains(err.Error(), "chain broken at event 1") {
		t.Fatalf("verify with the wrong key: err %v\n%s", err, out)
	}
	t.Setenv("BREACHFLOW_AUDIT_KEYS", strings.TrimSpace(string(keySpec)))

	// Someone with the database cuts the last event; the chain left is
	// sound, the workflow's checkpoint is not in it.
	db := stack.store.(interface{ DB() *sql.DB }).DB()
	var last int64
	if err := db.QueryRow(`SELECT MAX(seq) FROM audit_events WHERE incident_id = ?`, id).Scan(&last); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DROP TRIGGER audit_events_no_delete`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DELETE FROM audit_events WHERE incident_id = ? AND seq = ?`, id, last); err != nil {
		t.Fatal(err)
	}
	out, err = runAuditVerify(t, id)
	if err == nil || !strings.Contains(err.Error(), "removed from the end") || !strings.Contains(out, "BROKEN at event") {
		t.Fatalf("verify a cut chain: err %v\n%s", err, out)
	}
	var cut struct {
		Chain store.ChainReport `json:"chain"`
	}
	if err := json.Unmarshal(getRaw(t, "http://"+stack.httpAddr+"/v1/incidents/"+id+"/audit", stack.token), &cut); err != nil {
		t.Fatal(err)
	}
	if cut.Chain.OK || cut.Chain.BrokenAt != last {
		t.Errorf("GET …/audit of a cut chain = %+v, want broken at %d", cut.Chain, last)
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func getRaw(t *testing.T, url, token string) []byte {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s %v", url, res.StatusCode, b, err)
	}
	return b
}
