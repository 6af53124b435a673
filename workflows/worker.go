package workflows

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/internal/codec"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Dial connects a Temporal client whose data converter encrypts every
// payload with keys. The API, the worker and the CLI all use it, so what
// one seals the others can open.
func Dial(ctx context.Context, hostPort, namespace string, keys *codec.Keyring, logger *slog.Logger) (client.Client, error) {
	c, err := client.DialContext(ctx, client.Options{
		HostPort:      hostPort,
		Namespace:     namespace,
		DataConverter: codec.DataConverter(keys),
		Logger:        sdklog.NewStructuredLogger(logger),
	})
	if err != nil {
		return nil, fmt.Errorf("dial temporal %s: %w", hostPort, err)
	}
	return c, nil
}

// EnsureSearchAttributes registers the custom search attributes on a
// cluster that lacks them (the embedded dev server registers them at
// namespace creation; a real cluster needs this once).
func EnsureSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	op := c.OperatorService()
	have, err := op.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list search attributes: %w", err)
	}
	missing := SearchAttributes()
	for name := range have.GetCustomAttributes() {
		delete(missing, name)
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = op.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: namespace, SearchAttributes: missing})
	if err != nil {
		return fmt.Errorf("add search attributes: %w", err)
	}
	return nil
}

// NewWorker returns a worker for the Incident workflow and its activities.
// The mail activity (activities/notify) registers itself through
// register, because it depends on templates, which depend on this package.
func NewWorker(c client.Client, acts *activities.Activities, containment *activities.Containment, register ...func(worker.Registry)) worker.Worker {
	w := worker.New(c, TaskQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(Incident, workflow.RegisterOptions{Name: "Incident"})
	w.RegisterWorkflowWithOptions(NotifyCustomers, workflow.RegisterOptions{Name: "NotifyCustomers"})
	w.RegisterActivity(acts)
	w.RegisterActivity(containment)
	for _, r := range register {
		r(w)
	}
	return w
}

// NewNoticesWorker returns the worker of the notices task queue: the
// store side of the fan-out from acts, the batch sender through register
// (activities/notify). Its own queue keeps a million-recipient send from
// delaying any incident's clocks; maxBatches bounds the batches one
// process runs at once (0 = the SDK default).
func NewNoticesWorker(c client.Client, acts *activities.Activities, maxBatches int, register func(worker.Registry)) worker.Worker {
	w := worker.New(c, NoticesTaskQueue, worker.Options{MaxConcurrentActivityExecutionSize: maxBatches})
	w.RegisterActivityWithOptions(acts.PrepareNotices, activity.RegisterOptions{Name: PrepareNoticesName})
	w.RegisterActivityWithOptions(acts.CountNotices, activity.RegisterOptions{Name: CountNoticesName})
	register(w)
	return w
}
