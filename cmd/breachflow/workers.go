package main

import (
	"fmt"

	"github.com/breachflow/breachflow/activities"
	"github.com/breachflow/breachflow/activities/notify"
	"github.com/breachflow/breachflow/activities/slack"
	"github.com/breachflow/breachflow/internal/codec"
	"github.com/breachflow/breachflow/internal/config"
	"github.com/breachflow/breachflow/store"
	"github.com/breachflow/breachflow/workflows"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"golang.org/x/time/rate"
)

// newWorkers builds the workers of the task queues this process serves
// (BREACHFLOW_WORKER_QUEUES): the incidents queue (workflows, audit,
// clocks, webhooks, staff mail, and the Slack room when room is not nil)
// and the notices queue (the customer-notice fan-out's activities).
func newWorkers(cfg *config.Config, c client.Client, st store.Store, keys *codec.Keyring, mailer *activities.Mailer,
	room *slack.Activities) []worker.Worker {
	acts := &activities.Activities{Store: st}
	var out []worker.Worker
	if cfg.WorkerQueues == "all" || cfg.WorkerQueues == "incidents" {
		notifier := &notify.Notifier{Mailer: mailer, PublicURL: cfg.PublicURL}
		out = append(out, workflows.NewWorker(c, cfg.ActorSigningKey(), acts, cfg.Containment(), notifier, room, cfg.StopTimeout()))
	}
	if cfg.WorkerQueues == "all" || cfg.WorkerQueues == "notices" {
		sender := &notify.Sender{Store: st, Keys: keys, Mailer: mailer, Org: cfg.Org(), Concurrency: cfg.NoticeConcurrency,
			PageKey: cfg.SubjectKey(), PublicURL: cfg.PublicURL}
		if cfg.NoticeRate > 0 {
			sender.Limiter = rate.NewLimiter(rate.Limit(cfg.NoticeRate), max(1, cfg.NoticeRate/10))
		}
		out = append(out, workflows.NewNoticesWorker(c, acts, sender, cfg.NoticeBatches, cfg.StopTimeout()))
	}
	return out
}

// startWorkers starts every worker, stopping the started ones on failure.
func startWorkers(ws []worker.Worker) error {
	for i, w := range ws {
		if err := w.Start(); err != nil {
			stopWorkers(ws[:i])
			return fmt.Errorf("worker: %w", err)
		}
	}
	return nil
}

func stopWorkers(ws []worker.Worker) {
	for i := len(ws) - 1; i >= 0; i-- {
		ws[i].Stop()
	}
}
