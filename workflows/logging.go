package workflows

import (
	"context"
	"strings"

	"github.com/breachflow/breachflow/internal/tracelog"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/workflow"
)

// Log lines of workflows and activities carry the incident they work for
// (incident_id, from the workflow id) and the trace id of the request
// that started the workflow (trace_id, carried in Temporal's headers by
// TracePropagator). Ids only: never a customer's data.

// IncidentOfWorkflowID is the incident id in a workflow id of this
// package (incident/<id>, notices/<id>/<step>), or "".
func IncidentOfWorkflowID(wid string) string {
	for _, prefix := range []string{"incident/", "notices/"} {
		if rest, ok := strings.CutPrefix(wid, prefix); ok {
			id, _, _ := strings.Cut(rest, "/")
			return id
		}
	}
	return ""
}

// traceHeader is the Temporal header that carries the trace id.
const traceHeader = "breachflow-trace"

type traceKey struct{}

// TracePropagator carries the trace id of the request that starts a
// workflow (or sends it an Update) into the workflow and on to the
// activities it schedules.
type TracePropagator struct{}

var _ workflow.ContextPropagator = TracePropagator{}

// Inject writes the trace id of ctx's tracelog fields.
func (TracePropagator) Inject(ctx context.Context, w workflow.HeaderWriter) error {
	return setTrace(tracelog.From(ctx).TraceID, w)
}

// Extract puts the header's trace id in ctx's tracelog fields.
func (TracePropagator) Extract(ctx context.Context, r workflow.HeaderReader) (context.Context, error) {
	if id := readTrace(r); id != "" {
		f := tracelog.From(ctx)
		f.TraceID = id
		return tracelog.With(ctx, f), nil
	}
	return ctx, nil
}

// InjectFromWorkflow writes the workflow's trace id.
func (TracePropagator) InjectFromWorkflow(ctx workflow.Context, w workflow.HeaderWriter) error {
	id, _ := ctx.Value(traceKey{}).(string)
	return setTrace(id, w)
}

// ExtractToWorkflow keeps the header's trace id in the workflow context.
func (TracePropagator) ExtractToWorkflow(ctx workflow.Context, r workflow.HeaderReader) (workflow.Context, error) {
	if id := readTrace(r); id != "" {
		return workflow.WithValue(ctx, traceKey{}, id), nil
	}
	return ctx, nil
}

func setTrace(id string, w workflow.HeaderWriter) error {
	if id == "" {
		return nil
	}
	p, err := converter.GetDefaultDataConverter().ToPayload(id)
	if err != nil {
		return err
	}
	w.Set(traceHeader, p)
	return nil
}

func readTrace(r workflow.HeaderReader) string {
	var id string
	if p, ok := r.Get(traceHeader); ok {
		_ = converter.GetDefaultDataConverter().FromPayload(p, &id)
	}
	return id
}

// logInterceptor adds incident_id and trace_id to the loggers workflows
// and activities get from Temporal.
type logInterceptor struct {
	interceptor.WorkerInterceptorBase
}

func (*logInterceptor) InterceptActivity(_ context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	i := &activityLogIn{}
	i.Next = next
	return i
}

func (*logInterceptor) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	i := &workflowLogIn{}
	i.Next = next
	return i
}

type activityLogIn struct {
	interceptor.ActivityInboundInterceptorBase
}

func (i *activityLogIn) Init(out interceptor.ActivityOutboundInterceptor) error {
	o := &activityLogOut{}
	o.Next = out
	return i.Next.Init(o)
}

type activityLogOut struct {
	interceptor.ActivityOutboundInterceptorBase
}

func (o *activityLogOut) GetLogger(ctx context.Context) log.Logger {
	return withIDs(o.Next.GetLogger(ctx), IncidentOfWorkflowID(o.Next.GetInfo(ctx).WorkflowExecution.ID), tracelog.From(ctx).TraceID)
}

type workflowLogIn struct {
	interceptor.WorkflowInboundInterceptorBase
}

func (i *workflowLogIn) Init(out interceptor.WorkflowOutboundInterceptor) error {
	o := &workflowLogOut{}
	o.Next = out
	return i.Next.Init(o)
}

type workflowLogOut struct {
	interceptor.WorkflowOutboundInterceptorBase
}

func (o *workflowLogOut) GetLogger(ctx workflow.Context) log.Logger {
	trace, _ := ctx.Value(traceKey{}).(string)
	return withIDs(o.Next.GetLogger(ctx), IncidentOfWorkflowID(o.Next.GetInfo(ctx).WorkflowExecution.ID), trace)
}

func withIDs(l log.Logger, incident, trace string) log.Logger {
	var kv []any
	if incident != "" {
		kv = append(kv, "incident_id", incident)
	}
	if trace != "" {
		kv = append(kv, "trace_id", trace)
	}
	if kv == nil {
		return l
	}
	return log.With(l, kv...)
}
