package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/actorsig"
	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/internal/config"
	"github.com/breachflow/breachflow/workflows"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// TestForgedActorRefused sends Updates straight to the embedded Temporal
// server, past the API, as someone who can reach Temporal's frontend
// could: an admin actor that is unsigned, or signed with another key, or
// carrying a signature made for another Update. The worker refuses each
// before acceptance, so none leaves a trace in the incident's history;
// the same action through the API works.
func TestForgedActorRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server")
	}
	stack := startTestDev(t, t.TempDir())
	t.Cleanup(func() { _ = stack.Stop() })
	c := apiClient{t: t, base: "http://" + stack.httpAddr}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	code, created := c.do("POST", "/v1/incidents", stack.token,
		map[string]any{"playbook": "customer-data-breach", "title": "Forged actor test"}, nil)
	if code != 201 {
		t.Fatalf("launch: %d %v", code, created)
	}
	id := created["id"].(string)
	wid := workflows.IncidentWorkflowID(id)

	admin := breach.Actor{Name: "x", Role: breach.RoleAdmin}
	otherKey := []byte("not-the-actor-key-of-this-stack!")
	sign := func(key []byte, updateID string) breach.Actor {
		sig, err := actorsig.Sign(key, admin, actorsig.Bind{WorkflowID: wid, Update: workflows.UpdateAddRemediation, UpdateID: updateID}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		a := admin
		a.Sig = sig
		return a
	}
	for _, tc := range []struct {
		updateID string
		actor    breach.Actor
		want     string
	}{
		{"forged-unsigned", admin, "has no signature"},
		{"forged-other-key", sign(otherKey, "forged-other-key"), "does not match"},
		{"forged-other-update", sign(stack.cfg.ActorSigningKey(), "some-other-update"), "does not match"},
	} {
		h, err := stack.client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: wid, UpdateName: workflows.UpdateAddRemediation, UpdateID: tc.updateID,
			Args:         []any{breach.AddRemediation{Actor: tc.actor, Title: "planted by " + tc.updateID}},
			WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		if err == nil {
			err = h.Get(ctx, nil)
		}
		var app *temporal.ApplicationError
		if !errors.As(err, &app) || app.Type() != breach.ErrForbidden ||
			!strings.Contains(err.Error(), actorsig.ErrNotSigned.Error()) || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("%s: err = %v, want Forbidden %q (%s)", tc.updateID, err, actorsig.ErrNotSigned, tc.want)
		}
	}

	// The same action through the API, signed by it, is accepted.
	code, st := c.do("POST", "/v1/incidents/"+id+"/remediations", stack.token, map[string]any{"title": "rotate the bucket's keys"}, nil)
	if code != 201 {
		t.Fatalf("remediation through the API: %d %v", code, st)
	}

	// Nothing of the refused Updates reached history; the API's did.
	iter := stack.client.GetWorkflowHistory(ctx, wid, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	accepted := 0
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(ev.String(), "forged-") {
			t.Errorf("history holds a refused Update: %v", ev)
		}
		if a := ev.GetWorkflowExecutionUpdateAcceptedEventAttributes(); a != nil &&
			a.GetAcceptedRequest().GetInput().GetName() == workflows.UpdateAddRemediation {
			accepted++
		}
	}
	if accepted != 1 {
		t.Errorf("history has %d accepted add_remediation Updates, want 1 (the API's)", accepted)
	}
	_, status := c.do("GET", "/v1/incidents/"+id, stack.token, nil, nil)
	if rs, _ := status["remediations"].([]any); len(rs) != 1 {
		t.Errorf("remediations = %v, want only the API's", status["remediations"])
	}
}

// TestClusterNeedsActorKey: server and worker outside dev refuse to start
// without the actor key or the audit keys, with one line naming each.
func TestClusterNeedsActorKey(t *testing.T) {
	cfg := &config.Config{TemporalAddress: "temporal:7233", DatabaseURL: "sqlite:///tmp/x.db",
		EncryptionKeys: "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", HMACKey: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		SMTPAddr: "smtp.example.com:587", SMTPTLS: "starttls"}
	_, err := clusterParts(cfg, config.NeedNotices)
	if err == nil || !strings.HasPrefix(err.Error(), "BREACHFLOW_ACTOR_KEY: required") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v, want one line naming BREACHFLOW_ACTOR_KEY", err)
	}
	cfg.ActorKey = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	_, err = clusterParts(cfg, config.NeedNotices)
	if err == nil || !strings.HasPrefix(err.Error(), "BREACHFLOW_AUDIT_KEYS: required") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err = %v, want one line naming BREACHFLOW_AUDIT_KEYS", err)
	}
	cfg.AuditKeys = "a1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	if _, err := clusterParts(cfg, config.NeedNotices); err != nil {
		t.Fatalf("with the keys: %v", err)
	}
}

// TestClusterRefusesClearTextSMTP: outside dev a relay without TLS is
// refused at start unless the insecure option says so.
func TestClusterRefusesClearTextSMTP(t *testing.T) {
	cfg := &config.Config{TemporalAddress: "temporal:7233", DatabaseURL: "sqlite:///tmp/x.db",
		EncryptionKeys: "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", ActorKey: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		AuditKeys: "a1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", HMACKey: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		SMTPAddr: "smtp.example.com:25", SMTPTLS: "none"}
	if _, err := clusterParts(cfg, config.NeedNotices); err == nil || !strings.HasPrefix(err.Error(), "BREACHFLOW_SMTP_TLS: none would send mail in clear text") {
		t.Fatalf("err = %v, want a refusal naming BREACHFLOW_SMTP_TLS", err)
	}
	for _, fix := range []func(){func() { cfg.SMTPInsecure = true }, func() { cfg.SMTPInsecure, cfg.SMTPTLS = false, "starttls" }} {
		fix()
		if _, err := clusterParts(cfg, config.NeedNotices); err != nil {
			t.Errorf("%+v: %v", cfg, err)
		}
	}
}
