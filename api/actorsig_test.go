package api

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/actorsig"
	"github.com/breachflow/breachflow/internal/breach"
	"github.com/breachflow/breachflow/workflows"
	"github.com/gin-gonic/gin"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// updateTemporal records the Updates the API sends.
type updateTemporal struct {
	client.Client
	sent []client.UpdateWorkflowOptions
}

func (f *updateTemporal) UpdateWorkflow(_ context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	f.sent = append(f.sent, o)
	return statusHandle{&breach.Status{ID: "BR-ABC123"}}, nil
}

// CheckHealth answers as a reachable frontend does.
func (f *updateTemporal) CheckHealth(context.Context, *client.CheckHealthRequest) (*client.CheckHealthResponse, error) {
	return &client.CheckHealthResponse{}, nil
}

func TestSendUpdateSignsTheActor(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	fake := &updateTemporal{}
	s := New(Deps{Temporal: fake, ActorKey: key})
	in := breach.Decide{Actor: breach.Actor{Name: "ann", Role: breach.RoleLegal}, Step: "approve", Decision: "approve"}
	if _, err := s.sendUpdate(context.Background(), "BR-ABC123", workflows.UpdateDecide, "k1", in); err != nil {
		t.Fatal(err)
	}
	o := fake.sent[0]
	sent, ok := o.Args[0].(breach.Decide)
	if !ok || sent.Step != in.Step || sent.Decision != in.Decision {
		t.Fatalf("sent %#v, want the input with its actor signed", o.Args[0])
	}
	b := actorsig.Bind{WorkflowID: workflows.IncidentWorkflowID("BR-ABC123"), Update: workflows.UpdateDecide, UpdateID: o.UpdateID}
	if err := actorsig.Verify(key, sent.Actor, b, time.Now()); err != nil {
		t.Fatalf("the worker would refuse the API's own Update: %v", err)
	}
}

func TestUnsignedActorRefusalIs403(t *testing.T) {
	err := temporal.NewApplicationError(actorsig.ErrNotSigned.Error()+": the actor has no signature", breach.ErrForbidden)
	r, ok := refusal("BR-ABC123", err)
	if !ok || r.Status != http.StatusForbidden || !strings.Contains(r.Detail, "not signed by breachflow's API") {
		t.Fatalf("refusal = %+v, %v; want 403 saying the actor is not signed", r, ok)
	}
}

// stuckTemporal takes Updates that no worker answers: the wait for the
// answer runs out, as it does when the workers are stopped or fail the
// incident's workflow task.
type stuckTemporal struct{ updateTemporal }

func (f *stuckTemporal) UpdateWorkflow(ctx context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	f.sent = append(f.sent, o)
	return nil, client.NewWorkflowUpdateServiceTimeoutOrCanceledError(fmt.Errorf("waiting for update: %w", context.DeadlineExceeded))
}

// TestUnansweredUpdateIs503: an Update no worker answers in time gets 503
// with Retry-After and a detail that says to repeat with the same key (not
// a 500); a caller who went away is still an internal failure.
func TestUnansweredUpdateIs503(t *testing.T) {
	s := New(Deps{Temporal: &stuckTemporal{}})
	_, err := s.sendUpdate(context.Background(), "BR-ABC123", workflows.UpdateDecide, "k1", breach.Decide{Step: "approve", Decision: "approve"})
	if err == nil {
		t.Fatal("an unanswered Update returned no error")
	}
	rec := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(rec)
	c.Request = httptest.NewRequest(http.MethodPost, "/v1/incidents/BR-ABC123/steps/approve/decide", nil)
	s.updateError(c, "BR-ABC123", err)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" ||
		!strings.Contains(rec.Body.String(), "same Idempotency-Key") {
		t.Fatalf("answered %d (Retry-After %q): %s; want 503 with Retry-After, saying to repeat with the same key",
			rec.Code, rec.Header().Get("Retry-After"), rec.Body.String())
	}
	gone := client.NewWorkflowUpdateServiceTimeoutOrCanceledError(context.Canceled)
	if _, ok := refusal("BR-ABC123", gone); ok {
		t.Error("a cancelled wait (the caller left) was classified as a refusal")
	}
}
