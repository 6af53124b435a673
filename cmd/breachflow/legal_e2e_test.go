package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/internal/evidence"
	"github.com/spf13/cobra"
)

// legalPlaybook is one task: the incident closes once its duties are
// filed or waived.
const legalPlaybook = `id: legal-check
version: 1
title: Legal check
description: One task; the regulatory duties decide when it may close.
steps:
  - id: review
    title: Review the facts
    kind: task
    owner: responder
`

// packFiles reads every entry of an evidence pack.
func packFiles(t *testing.T, path string) map[string][]byte {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		out[f.Name] = b
	}
	return out
}

// TestDevLegalEndToEnd works legal's tools on the dev stack through the
// CLI and the API: a what-if leaves the incident alone; an open
// incident's evidence pack is interim in every file; a legal hold blocks
// closing with purge and purging, both audited; the closed incident's
// pack verifies offline, holds no customer's name or email, and `verify`
// names the one file whose byte was altered.
func TestDevLegalEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server")
	}
	pbDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(pbDir, "legal-check.yaml"), []byte(legalPlaybook), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := devConfig(t, t.TempDir())
	cfg.PlaybookDir = pbDir
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var banner bytes.Buffer
	stack, err := startDev(ctx, cfg, devOptions{Out: &banner, TemporalLogLevel: "fatal"})
	if err != nil {
		t.Fatalf("start dev: %v", err)
	}
	t.Cleanup(func() { _ = stack.Stop() })
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "evidence-key")); err != nil {
		t.Fatalf("dev kept no evidence key: %v", err)
	}
	if fp := evidence.Fingerprint(cfg.EvidenceSigningKey().Public().(ed25519.PublicKey)); !strings.Contains(banner.String(), "evidence key "+fp) {
		t.Errorf("the banner does not show the evidence key's fingerprint %s:\n%s", fp, banner.String())
	}
	c := apiClient{t: t, base: "http://" + stack.httpAddr}
	admin := stack.token
	legal, _, err := stack.store.CreateToken(ctx, "lou-legal", breach.RoleLegal)
	if err != nil {
		t.Fatal(err)
	}
	asLegal := map[string]string{"BREACHFLOW_API_URL": c.base, "BREACHFLOW_TOKEN": legal}
	cli := func(mk func(func(string) string, func() time.Time) *cobra.Command, args ...string) string {
		t.Helper()
		out, err := runCmd(t, mk, asLegal, args...)
		if err != nil {
			t.Fatalf("breachflow %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}

	aware := time.Now().Add(-2 * time.Hour).UTC().Truncate(time.Second)
	code, inc := c.do("POST", "/v1/incidents", admin, map[string]any{"playbook": "legal-check", "title": "Clinic export",
		"severity": "high", "aware_at": aware.Format(time.RFC3339), "jurisdictions": []string{"US-CA", "US-TX"},
		"affected": map[string]int{"US-CA": 600, "US-TX": 40}, "data_categories": []string{"health"}}, nil)
	if code != 201 {
		t.Fatalf("launch: %d %v", code, inc)
	}
	id := inc["id"].(string)
	base := "/v1/incidents/" + id
	var csv strings.Builder
	csv.WriteString("external_id,name,email,locale,country,subdivision\n")
	csv.WriteString("P1,Petra Patientin,petra@example.com,en,US,US-CA\nP2,Tom Texan,tom@example.com,en,US,US-TX\n")
	if code, body := c.do("POST", base+"/subjects", admin, csv.String(), map[string]string{"Content-Type": "text/csv"}); code != 200 {
		t.Fatalf("import: %d %v", code, body)
	}
	// The import's counts (one each) replaced the estimate: what if 300
	// Texans? Texas's AG notice starts at 250.
	out := cli(newAssessCommand, "--incident", id, "--fact", "affected=US-CA:1,US-TX:300")
	if !regexp.MustCompile(`(?m)^added +us-tx-ag +US-TX`).MatchString(out) || strings.Contains(out, "us-ca-ag") {
		t.Fatalf("what-if with 300 Texans:\n%s", out)
	}
	if _, st := c.do("GET", base, legal, nil, nil); obligation(st, "us-tx-ag") != nil {
		t.Fatal("the what-if changed the incident")
	}

	// An open incident's pack is interim in every file.
	dir := t.TempDir()
	interim := filepath.Join(dir, "interim.zip")
	out = cli(newEvidenceCommand, "export", id, "-o", interim)
	if !strings.Contains(out, "INTERIM") {
		t.Errorf("export of an open incident does not say interim:\n%s", out)
	}
	for name, b := range packFiles(t, interim) {
		if name == evidence.SignatureFile {
			continue
		}
		if !bytes.Contains(b, []byte("INTERIM")) {
			t.Errorf("%s of the open incident's pack is not marked interim", name)
		}
	}

	// Legal hold: closing with purge is refused before anything changes.
	if out := cli(newIncidentCommand, "hold", id, "--reason", "litigation hold, case 26-1187"); !strings.Contains(out, "under legal hold") {
		t.Fatalf("hold: %s", out)
	}
	if code, p := c.do("POST", base+"/close", admin, map[string]any{"note": "done", "purge_subjects": true}, nil); code != 409 ||
		!strings.Contains(fmt.Sprint(p["detail"]), "legal hold") {
		t.Fatalf("close with purge under hold: %d %v", code, p)
	}
	if _, st := c.do("GET", base, legal, nil, nil); st["status"] != "active" {
		t.Fatalf("a refused close-and-purge changed the incident: %v", st["status"])
	}

	// Work the incident to closed: legal files and waives from the CLI.
	if code, body := c.do("POST", base+"/steps/review/complete", admin, map[string]any{"note": "facts checked"}, nil); code != 200 {
		t.Fatalf("complete review: %d %v", code, body)
	}
	cli(newIncidentCommand, "patch", id, "--risk", "high", "--fact", "determined_at="+aware.Format(time.RFC3339))
	_, st := c.do("GET", base, legal, nil, nil)
	for _, o := range st["obligations"].([]any) {
		ob := o.(map[string]any)
		obID := ob["id"].(string)
		if ob["exempt"] == true || ob["status"] == "filed" || ob["status"] == "waived" {
			continue
		}
		if ob["recipient"] == "regulator" {
			cli(newObligationCommand, "file", id, obID, "--reference", "REF-"+obID)
		} else {
			cli(newObligationCommand, "waive", id, obID, "--reason", "notified by letter outside breachflow")
		}
	}
	if report := cli(newObligationCommand, "report", id, "us-ca-residents"); !strings.Contains(report, id) {
		t.Errorf("the report draft does not name the incident:\n%s", report)
	}
	asAdmin := map[string]string{"BREACHFLOW_API_URL": c.base, "BREACHFLOW_TOKEN": admin}
	if out, err := runCmd(t, newIncidentCommand, asAdmin, "close", id, "--note", "all duties met"); err != nil || !strings.Contains(out, "Closed "+id) {
		t.Fatalf("close: %v %s", err, out)
	}
	if code, p := c.do("DELETE", base+"/subjects?reason=retention", admin, nil, nil); code != 409 || !strings.Contains(fmt.Sprint(p["detail"]), "legal hold") {
		t.Fatalf("purge under hold: %d %v", code, p)
	}

	// The closed incident's pack verifies, holds no customer data, and
	// one altered byte is named.
	// The workflow writes its audit events in activities: wait for the
	// close to be recorded before taking the final record.
	eventually(t, 30*time.Second, "the close in the audit trail", func() bool {
		_, audit := c.do("GET", base+"/audit", legal, nil, nil)
		return strings.Contains(fmt.Sprint(audit["events"]), "incident.closed")
	})
	final := filepath.Join(dir, "final.zip")
	began := time.Now()
	out = cli(newEvidenceCommand, "export", id, "-o", final)
	if fi, err := os.Stat(final); err == nil {
		t.Logf("evidence export of a closed incident: %d bytes in %s (download and check)", fi.Size(), time.Since(began).Round(time.Millisecond))
	}
	key := strings.TrimSpace(out[strings.Index(out, "Public key: ")+len("Public key: "):])
	key = strings.Fields(key)[0]
	if out := cli(newEvidenceCommand, "verify", final, "--public-key", key); !strings.Contains(out, "OK") || strings.Contains(out, "INTERIM") {
		t.Fatalf("verify the final pack:\n%s", out)
	}
	files := packFiles(t, final)
	for name, b := range files {
		for _, pii := range []string{"Petra", "petra@example.com", "Tom Texan", "tom@example.com"} {
			if bytes.Contains(b, []byte(pii)) {
				t.Errorf("%s holds customer data %q", name, pii)
			}
		}
	}
	for _, want := range []string{"summary.json", "playbook.json", "timeline.json", "audit.json", "obligations.json",
		"reports/us-ca-residents.md", "delivery.json", "holds.json", evidence.ManifestFile} {
		if files[want] == nil {
			t.Errorf("the pack has no %s", want)
		}
	}
	var pb struct {
		Data struct {
			Digest, Source string
			Playbook       struct{ ID string }
		}
	}
	if err := json.Unmarshal(files["playbook.json"], &pb); err != nil || pb.Data.Playbook.ID != "legal-check" ||
		!strings.HasPrefix(pb.Data.Source, "pinned at launch") || !bytes.Contains(files["summary.json"], []byte(pb.Data.Digest)) {
		t.Errorf("playbook.json = %+v (%v); want the pinned playbook with the digest the summary names", pb.Data, err)
	}
	var audit struct {
		Data struct {
			Chain  struct{ OK bool }
			Events []struct{ Action string }
		}
	}
	_ = json.Unmarshal(files["audit.json"], &audit)
	var actions []string
	for _, e := range audit.Data.Events {
		actions = append(actions, e.Action)
	}
	if !audit.Data.Chain.OK || !slices.Contains(actions, "hold.placed") || !slices.Contains(actions, "incident.closed") {
		t.Errorf("audit.json: chain ok %v, actions %v", audit.Data.Chain.OK, actions)
	}
	raw, _ := os.ReadFile(final)
	zr, _ := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	for _, f := range zr.File {
		if f.Name == "obligations.json" {
			off, _ := f.DataOffset()
			raw[off+int64(f.CompressedSize64)/2] ^= 0x20
		}
	}
	tampered := filepath.Join(dir, "tampered.zip")
	if err := os.WriteFile(tampered, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := runCmd(t, newEvidenceCommand, nil, "verify", tampered, "--public-key", key); err == nil ||
		!strings.Contains(err.Error(), "altered: obligations.json") {
		t.Fatalf("verify of the tampered pack: %v, want it to name obligations.json", err)
	}

	// Lifted, the purge goes through; both are audited.
	if code, body := c.do("DELETE", base+"/hold?reason="+strings.ReplaceAll("case settled", " ", "+"), legal, nil, nil); code != 200 || body["held"] != false {
		t.Fatalf("lift: %d %v", code, body)
	}
	if code, body := c.do("DELETE", base+"/subjects?reason=retention", admin, nil, nil); code != 200 || body["purged"] != 2.0 {
		t.Fatalf("purge after the lift: %d %v", code, body)
	}
	counts, _, err := stack.store.SubjectCounts(ctx, id)
	if err != nil || len(counts) != 0 {
		t.Fatalf("customers after the purge: %v %v", counts, err)
	}
	events, err := stack.store.ListAudit(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var tail []string
	for _, e := range events {
		if strings.HasPrefix(e.Action, "hold.") || e.Action == "subjects.purged" {
			tail = append(tail, e.Action+" by "+e.Actor)
		}
	}
	if strings.Join(tail, ", ") != "hold.placed by lou-legal, hold.lifted by lou-legal, subjects.purged by admin" {
		t.Errorf("hold and purge audit: %v", tail)
	}
	if rep, err := stack.store.VerifyAudit(ctx, id); err != nil || !rep.OK {
		t.Errorf("chain after the purge: %+v %v", rep, err)
	}

	// Without a hold, an admin closes and purges in one request.
	code, second := c.do("POST", "/v1/incidents", admin, map[string]any{"playbook": "legal-check", "title": "Second export",
		"aware_at": aware.Format(time.RFC3339), "jurisdictions": []string{"JP"}}, nil)
	if code != 201 {
		t.Fatalf("second launch: %d %v", code, second)
	}
	id2 := second["id"].(string)
	if code, body := c.do("POST", "/v1/incidents/"+id2+"/subjects", admin, "external_id,email,country\nJ1,jun@example.com,JP\n",
		map[string]string{"Content-Type": "text/csv"}); code != 200 {
		t.Fatalf("second import: %d %v", code, body)
	}
	if code, body := c.do("POST", "/v1/incidents/"+id2+"/steps/review/complete", admin, map[string]any{}, nil); code != 200 {
		t.Fatalf("second review: %d %v", code, body)
	}
	if code, _ := c.do("POST", "/v1/incidents/"+id2+"/close", legal, map[string]any{"purge_subjects": true}, nil); code != 403 {
		t.Errorf("close and purge by legal: %d, want 403", code)
	}
	if code, body := c.do("POST", "/v1/incidents/"+id2+"/close", admin, map[string]any{"note": "nothing to report", "purge_subjects": true}, nil); code != 200 || body["status"] != "closed" {
		t.Fatalf("close and purge: %d %v", code, body)
	}
	if counts, _, err := stack.store.SubjectCounts(ctx, id2); err != nil || len(counts) != 0 {
		t.Errorf("customers after close and purge: %v %v", counts, err)
	}
}
