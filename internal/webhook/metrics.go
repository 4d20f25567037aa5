package webhook

import "github.com/prometheus/client_golang/prometheus"

// metrics are labelled by webhook name only: a journey or customer as a
// label would be personal data in Prometheus and a series per journey.
type metrics struct {
	delivered, failed, deadLettered *prometheus.CounterVec
	leaseHeld                       *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "handoff_webhook_delivered_total", Help: "Events a webhook answered with 2xx.",
		}, []string{"webhook"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "handoff_webhook_failed_attempts_total", Help: "Delivery attempts that got no 2xx (each retry counts).",
		}, []string{"webhook"}),
		deadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "handoff_webhook_dead_lettered_total", Help: "Events given up on after the webhook's maxAttempts.",
		}, []string{"webhook"}),
		leaseHeld: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "handoff_webhook_lease_held", Help: "1 while this instance holds the webhook's lease and delivers to it.",
		}, []string{"webhook"}),
	}
	if reg != nil {
		reg.MustRegister(m.delivered, m.failed, m.deadLettered, m.leaseHeld)
	}
	return m
}

// hookMetrics are one webhook's series.
type hookMetrics struct {
	delivered, failed, deadLettered prometheus.Counter
	leaseHeld                       prometheus.Gauge
}

func (m *metrics) of(webhook string) *hookMetrics {
	return &hookMetrics{
		delivered:    m.delivered.WithLabelValues(webhook),
		failed:       m.failed.WithLabelValues(webhook),
		deadLettered: m.deadLettered.WithLabelValues(webhook),
		leaseHeld:    m.leaseHeld.WithLabelValues(webhook),
	}
}
