package workflows

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/activities/notify"
	"github.com/breachflow/breachflow/activities/slack"
	"github.com/breachflow/breachflow/internal/actorsig"
	"github.com/breachflow/breachflow/internal/codec"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Dial connects a Temporal client whose data converter encrypts every
// payload with keys and refuses unencrypted ones, over plaintext gRPC.
// The API, the worker and the CLI all use it (or DialWith), so what one
// seals the others can open.
func Dial(ctx context.Context, hostPort, namespace string, keys *codec.Keyring, logger *slog.Logger) (client.Client, error) {
	return DialWith(ctx, DialOptions{HostPort: hostPort, Namespace: namespace, Keys: keys, Logger: logger})
}

// DialOptions are the connection's settings beyond the defaults of Dial.
type DialOptions struct {
	HostPort  string
	Namespace string
	Keys      *codec.Keyring
	Logger    *slog.Logger
	// TLS secures the connection (server verification, and mTLS when it
	// holds a client certificate); nil is plaintext.
	TLS *tls.Config
	// APIKey is sent as "authorization: Bearer …" on every call (Temporal
	// Cloud); it needs TLS.
	APIKey string
	// AcceptPlaintext lets the codec pass unencrypted payloads through;
	// only `breachflow dev` sets it.
	AcceptPlaintext bool
	// Metrics receives the SDK's metrics (telemetry.TemporalMetrics);
	// nil records none.
	Metrics client.MetricsHandler
}

// DialWith connects a Temporal client as o says.
func DialWith(ctx context.Context, o DialOptions) (client.Client, error) {
	if o.APIKey != "" && o.TLS == nil {
		return nil, fmt.Errorf("dial temporal %s: an API key needs TLS", o.HostPort)
	}
	dc := codec.DataConverter(o.Keys)
	if o.AcceptPlaintext {
		dc = codec.DevDataConverter(o.Keys)
	}
	opts := client.Options{
		HostPort:          o.HostPort,
		Namespace:         o.Namespace,
		DataConverter:     dc,
		Logger:            sdklog.NewStructuredLogger(o.Logger),
		ConnectionOptions: client.ConnectionOptions{TLS: o.TLS},
		MetricsHandler:    o.Metrics,
		// The trace id of the request that starts a workflow reaches its
		// activities' log lines.
		ContextPropagators: []workflow.ContextPropagator{TracePropagator{}},
	}
	if o.APIKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(o.APIKey)
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("dial temporal %s: %w", o.HostPort, err)
	}
	return c, nil
}

// CheckSearchAttributes fails naming the search attributes breachflow
// needs that the namespace lacks; it registers nothing (a worker only
// checks: the server, or the operator, registers them).
func CheckSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	missing, err := missingSearchAttributes(ctx, c, namespace)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		return fmt.Errorf("namespace %s lacks breachflow's search attributes %s; start breachflow server once (it registers them) or add them with temporal operator search-attribute create",
			namespace, strings.Join(slices.Sorted(maps.Keys(missing)), ", "))
	}
	return nil
}

func missingSearchAttributes(ctx context.Context, c client.Client, namespace string) (map[string]enumspb.IndexedValueType, error) {
	have, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return nil, fmt.Errorf("list search attributes: %w", err)
	}
	missing := SearchAttributes()
	for name := range have.GetCustomAttributes() {
		delete(missing, name)
	}
	return missing, nil
}

// EnsureSearchAttributes registers the custom search attributes on a
// cluster that lacks them (the embedded dev server registers them at
// namespace creation; a real cluster needs this once).
func EnsureSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	missing, err := missingSearchAttributes(ctx, c, namespace)
	if err != nil || len(missing) == 0 {
		return err
	}
	_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: namespace, SearchAttributes: missing})
	if err != nil {
		return fmt.Errorf("add search attributes: %w", err)
	}
	return nil
}

// Typed nil pointers of the activity structs: workflow code names each
// activity by method (a.RecordAuditBatch), so its arguments are checked and
// its type name is the method's name, the name histories record. The
// workers below register the same structs.
var (
	a      *activities.Activities
	hooks  *activities.Containment
	mail   *notify.Notifier
	chat   *slack.Activities // the incident room; registered only when Slack is configured
	sender *notify.Sender    // on NoticesTaskQueue
)

// NewWorker returns a worker for the Incident workflow and its activities.
// Every Update it validates must carry an actor signed with actorKey
// (BREACHFLOW_ACTOR_KEY): the check is an interceptor, so the key stays
// out of workflow state and history. room is nil when Slack is not
// configured: the workflow calls the room activities only for incidents
// launched with a room, which the API does not launch without Slack.
// On Stop the worker lets running activities finish for up to stopTimeout
// (BREACHFLOW_WORKER_STOP_TIMEOUT) before it cancels them.
func NewWorker(c client.Client, actorKey []byte, acts *activities.Activities, containment *activities.Containment, mailer *notify.Notifier, room *slack.Activities, stopTimeout time.Duration) worker.Worker {
	w := worker.New(c, TaskQueue, worker.Options{Interceptors: []interceptor.WorkerInterceptor{actorsig.Interceptor(actorKey), &logInterceptor{}},
		WorkerStopTimeout: stopTimeout,
		// Pollers scale with the backlog and keep a poll open on every
		// partition of the task queue: with the fixed two of the default,
		// a backlog spread over four partitions was left unpolled for
		// minutes under a burst of launches (docs/deploy.md).
		WorkflowTaskPollerBehavior: worker.NewPollerBehaviorAutoscaling(worker.PollerBehaviorAutoscalingOptions{}),
		ActivityTaskPollerBehavior: worker.NewPollerBehaviorAutoscaling(worker.PollerBehaviorAutoscalingOptions{})})
	w.RegisterWorkflowWithOptions(Incident, workflow.RegisterOptions{Name: "Incident"})
	w.RegisterWorkflowWithOptions(NotifyCustomers, workflow.RegisterOptions{Name: "NotifyCustomers"})
	w.RegisterActivity(acts)
	w.RegisterActivity(containment)
	w.RegisterActivity(mailer)
	if room != nil {
		w.RegisterActivity(room)
	}
	return w
}

// WorkflowTypes are the workflow types a worker of TaskQueue runs, the
// ones a history must be of to replay against this build.
var WorkflowTypes = []string{"Incident", "NotifyCustomers"}

// NewReplayer returns a replayer of this build's workflow code, set up as
// the worker runs it (the same codec and context propagator), for the
// replay tests and `breachflow replay`.
func NewReplayer(keys *codec.Keyring) (worker.WorkflowReplayer, error) {
	r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: codec.DataConverter(keys),
		ContextPropagators: []workflow.ContextPropagator{TracePropagator{}}})
	if err != nil {
		return nil, fmt.Errorf("workflow replayer: %w", err)
	}
	r.RegisterWorkflowWithOptions(Incident, workflow.RegisterOptions{Name: "Incident"})
	r.RegisterWorkflowWithOptions(NotifyCustomers, workflow.RegisterOptions{Name: "NotifyCustomers"})
	return r, nil
}

// NewNoticesWorker returns the worker of the notices task queue: the store
// side of the fan-out from acts and the batch sender. Its own queue keeps
// a million-recipient send from delaying any incident's clocks;
// maxBatches bounds the batches one process runs at once (0 = the SDK
// default). On Stop running batches get up to stopTimeout to finish.
func NewNoticesWorker(c client.Client, acts *activities.Activities, notices *notify.Sender, maxBatches int, stopTimeout time.Duration) worker.Worker {
	w := worker.New(c, NoticesTaskQueue, worker.Options{MaxConcurrentActivityExecutionSize: maxBatches, WorkerStopTimeout: stopTimeout,
		Interceptors: []interceptor.WorkerInterceptor{&logInterceptor{}},
		// A batch's heartbeats go out at most a second apart (the SDK
		// would otherwise hold them back to 80% of the heartbeat timeout),
		// so a live batch is never taken for lost.
		MaxHeartbeatThrottleInterval: time.Second, DefaultHeartbeatThrottleInterval: time.Second})
	// Only the fan-out's two store activities, not all of acts.
	w.RegisterActivity(acts.PrepareNotices)
	w.RegisterActivity(acts.CountNotices)
	w.RegisterActivity(notices)
	return w
}
