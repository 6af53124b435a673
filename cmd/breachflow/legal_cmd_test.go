package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/evidence"
	"github.com/spf13/cobra"
)

// runCmd runs a client command built by mk with env, as the CLI would.
func runCmd(t *testing.T, mk func(func(string) string, func() time.Time) *cobra.Command, env map[string]string, args ...string) (string, error) {
	t.Helper()
	cmd := mk(func(k string) string { return env[k] }, func() time.Time { return clientNow })
	var out, stderr bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&stderr)
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := cmd.ExecuteContext(ctx)
	return out.String(), err
}

func TestIncidentPatchCommand(t *testing.T) {
	f := newFakeAPI(t, map[string]cannedResponse{"PATCH /v1/incidents/BR-7K3F9Q": {status: 200, body: incidentJSON}})
	out, err := runIncident(t, envFor(f), "patch", "BR-7K3F9Q", "--risk", "high", "--fact", "determined_at=2026-11-24T09:00:00Z",
		"--fact", "affected=US-CA:600,US-TX:40", "--fact", "jurisdictions=US-CA, US-TX", "--fact", "significant=true", "--fact", "occurred_at=null")
	if err != nil {
		t.Fatal(err)
	}
	call := f.only(t)
	want := map[string]any{"risk": "high", "determined_at": "2026-11-24T09:00:00Z", "affected": map[string]any{"US-CA": 600.0, "US-TX": 40.0},
		"jurisdictions": []any{"US-CA", "US-TX"}, "significant": true, "occurred_at": nil}
	if !reflect.DeepEqual(call.body, want) {
		t.Errorf("PATCH body %v, want %v", call.body, want)
	}
	if !strings.Contains(out, "Changed affected, determined_at, jurisdictions, occurred_at, risk, significant of BR-7K3F9Q.") {
		t.Errorf("output:\n%s", out)
	}
	for _, bad := range [][]string{{"--fact", "vibes=1"}, {"--fact", "significant=maybe"}, {"--fact", "affected=US-CA"}, {}} {
		g := newFakeAPI(t, nil)
		if _, err := runIncident(t, envFor(g), append([]string{"patch", "BR-7K3F9Q"}, bad...)...); err == nil {
			t.Errorf("patch %v: no error", bad)
		}
		if len(g.calls) != 0 {
			t.Errorf("patch %v reached the API", bad)
		}
	}
}

func TestObligationCommands(t *testing.T) {
	const base = "/v1/incidents/BR-7K3F9Q/obligations/gdpr-art33"
	f := newFakeAPI(t, map[string]cannedResponse{
		"POST " + base + "/file":  {status: 200, body: incidentJSON},
		"POST " + base + "/waive": {status: 200, body: incidentJSON},
		"GET " + base + "/report": {status: 200, contentType: "text/markdown", body: "# Notification to the BfDI\n\n**MISSING**: contact\n"},
	})
	env := envFor(f)
	out, err := runCmd(t, newObligationCommand, env, "file", "BR-7K3F9Q", "gdpr-art33", "--reference", "BfDI-2026-114", "--delay-reason", "weekend")
	if err != nil || !strings.Contains(out, "Recorded the filing of gdpr-art33 of BR-7K3F9Q.") {
		t.Fatalf("file: %v\n%s", err, out)
	}
	if b := f.calls[0].body; b["reference"] != "BfDI-2026-114" || b["delay_reason"] != "weekend" || b["supplement"] != false {
		t.Errorf("file body %v", b)
	}
	if _, err := runCmd(t, newObligationCommand, env, "waive", "BR-7K3F9Q", "gdpr-art33", "--reason", "no risk to people"); err != nil {
		t.Fatal(err)
	}
	if b := f.calls[1].body; b["reason"] != "no risk to people" {
		t.Errorf("waive body %v", b)
	}
	out, err = runCmd(t, newObligationCommand, env, "report", "BR-7K3F9Q", "gdpr-art33")
	if err != nil || out != "# Notification to the BfDI\n\n**MISSING**: contact\n" || f.calls[2].query != "format=md" {
		t.Fatalf("report: %v %q (query %q)", err, out, f.calls[2].query)
	}
	if _, err := runCmd(t, newObligationCommand, env, "waive", "BR-7K3F9Q", "gdpr-art33", "--reason", " "); err == nil || len(f.calls) != 3 {
		t.Error("a blank waiver reason was sent")
	}
}

const assessmentJSON = `{"assessed_at":"2026-11-23T10:00:00Z","facts":{"aware_at":"2026-11-24T09:00:00Z"},
 "obligations":[
  {"id":"us-ca-residents","jurisdiction":"US-CA","recipient":"subjects","recipient_name":"California residents","due_at":"2026-12-25T07:59:59Z","deadline":"30 calendar days"},
  {"id":"us-tx-individuals","jurisdiction":"US-TX","recipient":"subjects","recipient_name":"Texas residents","deadline":"60 calendar days","missing_facts":["determined_at"],"needs_legal_confirmation":true}],
 "missing_facts":[{"fact":"determined_at","doc":"when the breach was determined","obligations":["us-tx-individuals"]}],
 "sources":[{"url":"https://leginfo.legislature.ca.gov/1798.82","obligations":["us-ca-residents"]}],"launch":{}}`

func TestAssessCommand(t *testing.T) {
	f := newFakeAPI(t, map[string]cannedResponse{"POST /v1/assessments": {status: 200, body: assessmentJSON}})
	file := filepath.Join(t.TempDir(), "facts.json")
	if err := os.WriteFile(file, []byte(`{"data_categories":["health"],"risk":"none"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := runCmd(t, newAssessCommand, envFor(f), "-f", file, "--jurisdiction", "US-CA", "--jurisdiction", "US-TX",
		"--affected", "US-CA=600,US-TX=40", "--aware-at", "2026-11-24T09:00:00Z", "--risk", "high")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"data_categories": []any{"health"}, "risk": "high", "jurisdictions": []any{"US-CA", "US-TX"},
		"affected": map[string]any{"US-CA": 600.0, "US-TX": 40.0}, "aware_at": "2026-11-24T09:00:00Z"}
	if b := f.only(t).body; !reflect.DeepEqual(b, want) {
		t.Errorf("assessment body %v, want %v (flags win over the file)", b, want)
	}
	for _, line := range []string{"us-ca-residents", "2026-12-25 07:59 UTC", "us-tx-individuals *", "waiting for determined_at",
		"determined_at  us-tx-individuals", "https://leginfo.legislature.ca.gov/1798.82", "awaits legal confirmation"} {
		if !strings.Contains(out, line) {
			t.Errorf("output lacks %q:\n%s", line, out)
		}
	}

	w := newFakeAPI(t, map[string]cannedResponse{"POST /v1/incidents/BR-7K3F9Q/assessments": {status: 200, body: `{
	 "changed_facts":["affected"],"added":[{"id":"us-tx-ag","jurisdiction":"US-TX","deadline":"30 calendar days","missing_facts":["determined_at"]}],
	 "removed":[],"changed":[{"id":"hipaa-media-us-ca","jurisdiction":"US-CA","due_at":"2027-01-23T09:00:00Z","new_due_at":"2027-01-20T09:00:00Z"}],
	 "unchanged":["us-ca-residents"]}`}})
	out, err = runCmd(t, newAssessCommand, envFor(w), "--incident", "BR-7K3F9Q", "--fact", "affected=US-CA:600,US-TX:501")
	if err != nil {
		t.Fatal(err)
	}
	if b := w.only(t).body; !reflect.DeepEqual(b, map[string]any{"affected": map[string]any{"US-CA": 600.0, "US-TX": 501.0}}) {
		t.Errorf("what-if body %v", b)
	}
	for _, line := range []string{"affected changed. Nothing was changed.", "added    us-tx-ag", "changed  hipaa-media-us-ca",
		"2027-01-23 09:00 UTC → 2027-01-20 09:00 UTC", "Unchanged  us-ca-residents"} {
		if !strings.Contains(out, line) {
			t.Errorf("what-if output lacks %q:\n%s", line, out)
		}
	}
}

// signedPack writes a pack of two documents signed with a test key.
func signedPack(t *testing.T, interim bool) ([]byte, ed25519.PrivateKey) {
	t.Helper()
	key, err := evidence.KeyFromSeed(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	h := evidence.NewHeader("BR-7K3F9Q", clientNow, interim)
	sum, _ := h.JSON(map[string]string{"title": "CRM export"})
	var buf bytes.Buffer
	if err := evidence.Write(&buf, h, []evidence.File{{Path: "summary.json", Data: sum}, {Path: "summary.md", Data: h.Markdown("# x\n")}}, key); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), key
}

func TestEvidenceCommands(t *testing.T) {
	pack, key := signedPack(t, true)
	pub := base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/evidence-key":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"algorithm":"Ed25519","public_key":"`+pub+`","fingerprint":"`+evidence.Fingerprint(key.Public().(ed25519.PublicKey))+`"}`)
		case "/v1/incidents/BR-7K3F9Q/evidence":
			w.Header().Set("Content-Type", "application/zip")
			w.Write(pack)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	env := map[string]string{"BREACHFLOW_API_URL": srv.URL, "BREACHFLOW_TOKEN": "tok"}
	dir := t.TempDir()
	file := filepath.Join(dir, "pack.zip")
	out, err := runCmd(t, newEvidenceCommand, env, "export", "BR-7K3F9Q", "-o", file)
	if err != nil || !strings.Contains(out, "INTERIM") || !strings.Contains(out, pub) {
		t.Fatalf("export: %v\n%s", err, out)
	}
	if got, _ := os.ReadFile(file); !bytes.Equal(got, pack) {
		t.Fatal("the written pack differs from the one served")
	}
	out, err = runCmd(t, newEvidenceCommand, nil, "verify", file, "--public-key", pub)
	if err != nil || !strings.Contains(out, "OK") || !strings.Contains(out, "INTERIM") {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	// One file changed: verify fails naming it.
	zr, _ := zip.NewReader(bytes.NewReader(pack), int64(len(pack)))
	var changed bytes.Buffer
	zw := zip.NewWriter(&changed)
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		if f.Name == "summary.md" {
			b = append(b, '!')
		}
		w, _ := zw.Create(f.Name)
		w.Write(b)
	}
	zw.Close()
	bad := filepath.Join(dir, "bad.zip")
	os.WriteFile(bad, changed.Bytes(), 0o600)
	out, err = runCmd(t, newEvidenceCommand, nil, "verify", bad, "--public-key", pub)
	if err == nil || !strings.Contains(err.Error(), "altered: summary.md") || !strings.Contains(out, "FAIL") {
		t.Fatalf("verify of an altered pack: %v\n%s", err, out)
	}
	other := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	if _, err := runCmd(t, newEvidenceCommand, nil, "verify", file, "--public-key", other); err == nil || !strings.Contains(err.Error(), "bad signature") {
		t.Fatalf("verify with another key: %v", err)
	}
}
