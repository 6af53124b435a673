package actorsig

import (
	"time"

	"github.com/breachflow/breachflow/internal/breach"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Interceptor returns the worker interceptor that refuses, in the
// validation of every Update, an input whose actor is not signed with key.
// The refusal happens before the Update is accepted, so nothing reaches
// history; the key stays in the worker's configuration, never in workflow
// state. An Update whose handler takes no input (launch) claims no actor
// and passes. Validators do not run on replay, so reading the wall clock
// here (not workflow.Now) cannot make a history diverge.
func Interceptor(key []byte) interceptor.WorkerInterceptor {
	return &workerInterceptor{key: key, now: time.Now}
}

type workerInterceptor struct {
	interceptor.WorkerInterceptorBase
	key []byte
	now func() time.Time
}

func (w *workerInterceptor) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &inbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, w: w}
}

type inbound struct {
	interceptor.WorkflowInboundInterceptorBase
	w *workerInterceptor
}

// ValidateUpdate checks the actor's signature, then runs the workflow's
// own validator.
func (i *inbound) ValidateUpdate(ctx workflow.Context, in *interceptor.UpdateInput) error {
	if len(in.Args) > 0 {
		a, ok := ActorOf(in.Args[0])
		if !ok {
			return temporal.NewApplicationError(ErrNotSigned.Error()+": the Update carries no actor", breach.ErrForbidden)
		}
		b := Bind{WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID, Update: in.Name}
		if info := workflow.GetCurrentUpdateInfo(ctx); info != nil {
			b.UpdateID = info.ID
		}
		if err := Verify(i.w.key, a, b, i.w.now()); err != nil {
			return temporal.NewApplicationError(err.Error(), breach.ErrForbidden)
		}
	}
	return i.Next.ValidateUpdate(ctx, in)
}
