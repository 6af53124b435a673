package actorsig

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// acting is a workflow with one Update that takes an actor and one that
// takes nothing; it records whom it accepted.
func acting(ctx workflow.Context) ([]string, error) {
	var accepted []string
	if err := workflow.SetUpdateHandler(ctx, "decide", func(_ workflow.Context, in breach.Decide) (string, error) {
		accepted = append(accepted, in.Actor.Name)
		return in.Actor.Name, nil
	}); err != nil {
		return nil, err
	}
	if err := workflow.SetUpdateHandler(ctx, "launch", func(workflow.Context) (string, error) { return "ok", nil }); err != nil {
		return nil, err
	}
	if err := workflow.SetUpdateHandler(ctx, "anonymous", func(_ workflow.Context, step string) (string, error) { return step, nil }); err != nil {
		return nil, err
	}
	return accepted, workflow.Sleep(ctx, time.Hour)
}

func TestInterceptor(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{Interceptor(key)}})
	env.RegisterWorkflowWithOptions(acting, workflow.RegisterOptions{Name: "acting"})
	wid := bind.WorkflowID
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: wid})

	sign := func(a breach.Actor, update, id string) breach.Decide {
		t.Helper()
		in, err := SignInput(key, breach.Decide{Actor: a}, Bind{WorkflowID: wid, Update: update, UpdateID: id}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return in.(breach.Decide)
	}
	forged := breach.Decide{Actor: breach.Actor{Name: "x", Role: breach.RoleAdmin, Sig: sign(ann, "decide", "u3").Actor.Sig}}
	for _, tc := range []struct {
		id, update string
		arg        any
		want       string // "" = accepted
	}{
		{id: "u1", update: "decide", arg: sign(ann, "decide", "u1")},
		{id: "u2", update: "decide", arg: breach.Decide{Actor: breach.Actor{Name: "x", Role: breach.RoleAdmin}}, want: "no signature"},
		{id: "u3", update: "decide", arg: forged, want: "does not match"},
		{id: "u4", update: "decide", arg: sign(ann, "decide", "u1"), want: "does not match"},
		{id: "u5", update: "decide", arg: sign(ann, "close", "u5"), want: "does not match"},
		{id: "u6", update: "launch"},
		{id: "u7", update: "anonymous", arg: "step", want: "carries no actor"},
	} {
		env.RegisterDelayedCallback(func() {
			var args []any
			if tc.arg != nil {
				args = []any{tc.arg}
			}
			env.UpdateWorkflow(tc.update, tc.id, &testsuite.TestUpdateCallback{
				OnReject: func(err error) {
					var app *temporal.ApplicationError
					switch {
					case tc.want == "":
						t.Errorf("%s: refused: %v", tc.id, err)
					case !errors.As(err, &app) || app.Type() != breach.ErrForbidden || !strings.Contains(err.Error(), ErrNotSigned.Error()) || !strings.Contains(err.Error(), tc.want):
						t.Errorf("%s: refusal %v, want Forbidden saying %q", tc.id, err, tc.want)
					}
				},
				OnAccept: func() {
					if tc.want != "" {
						t.Errorf("%s: accepted, want refused (%s)", tc.id, tc.want)
					}
				},
				OnComplete: func(any, error) {},
			}, args...)
		}, time.Minute)
	}
	env.ExecuteWorkflow("acting")
	var accepted []string
	if err := env.GetWorkflowResult(&accepted); err != nil {
		t.Fatal(err)
	}
	if strings.Join(accepted, ",") != "ann" {
		t.Fatalf("the workflow accepted %q, want only ann's signed Update", accepted)
	}
}
