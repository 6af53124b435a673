package api

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// opsCollector reads breachflow's operational gauges from the store at
// scrape time, so every API server reports the same numbers whichever
// process sent the notices or ran the clocks.
type opsCollector struct {
	s                          *Server
	notices, obligations, past *prometheus.Desc
}

func newOpsCollector(s *Server) *opsCollector {
	return &opsCollector{
		s: s,
		notices: prometheus.NewDesc("breachflow_notices",
			"Customer and reminder notices in the store by status (pending, sending, sent, failed, suppressed).", []string{"status"}, nil),
		obligations: prometheus.NewDesc("breachflow_open_obligations",
			"Notification obligations not yet filed or waived, by status (pending, overdue).", []string{"status"}, nil),
		past: prometheus.NewDesc("breachflow_obligations_past_due",
			"Open notification obligations whose due time has passed.", nil, nil),
	}
}

func (o *opsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- o.notices
	ch <- o.obligations
	ch <- o.past
}

// Collect reports nothing when the store does not answer within 5 s
// (/readyz says why); the rest of /metrics is still served.
func (o *opsCollector) Collect(ch chan<- prometheus.Metric) {
	if o.s.store == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := o.s.store.OpsCounts(ctx, o.s.now())
	if err != nil {
		o.s.log.Warn("metrics: store counts", "error", err)
		return
	}
	for st, n := range c.Notices {
		ch <- prometheus.MustNewConstMetric(o.notices, prometheus.GaugeValue, float64(n), st)
	}
	for _, st := range []string{"pending", "overdue"} { // both, even at zero
		ch <- prometheus.MustNewConstMetric(o.obligations, prometheus.GaugeValue, float64(c.Obligations[st]), st)
	}
	ch <- prometheus.MustNewConstMetric(o.past, prometheus.GaugeValue, float64(c.PastDue))
}
