// Package metrics defines herald's Prometheus collectors. They live in a
// struct registered on a registry passed in, not in globals, so tests and
// embedders can run several servers in one process.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics holds every herald collector.
type Metrics struct {
	Authentications  *prometheus.CounterVec
	MessagesReceived *prometheus.CounterVec
	Delivered        prometheus.Counter
	DeliveryLatency  prometheus.Histogram
	Revoked          prometheus.Counter
	Rejected         *prometheus.CounterVec
	Disconnects      *prometheus.CounterVec
}

// New creates the collectors and registers them, with the Go runtime and
// process collectors, on reg. connections reports the live Socket.IO
// connection count.
func New(reg prometheus.Registerer, connections func() float64) *Metrics {
	m := &Metrics{
		Authentications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_authentications_total",
			Help: "Socket.IO CONNECT attempts by outcome (ok, unauthorized, unavailable).",
		}, []string{"outcome"}),
		MessagesReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_messages_received_total",
			Help: "Notifications received, by source (redis, api, emitter).",
		}, []string{"source"}),
		Delivered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "herald_messages_delivered_total",
			Help: "Notification packets handed to local sockets.",
		}),
		DeliveryLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "herald_delivery_latency_seconds",
			Help:    "Time from receiving a notification to handing it to every local recipient.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 2, 16),
		}),
		Rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_messages_rejected_total",
			Help: "Publishes refused as malformed, oversized or unauthorised, by source (redis, emitter, api).",
		}, []string{"source"}),
		Disconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_disconnects_total",
			Help: "Authenticated sockets that left, by reason (transport close, ping timeout, slow client, server namespace disconnect, ...).",
		}, []string{"reason"}),
		Revoked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "herald_sessions_revoked_total",
			Help: "Sockets disconnected because their session was deleted or a disconnect was requested.",
		}),
	}
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "herald_connections",
			Help: "Open Socket.IO connections on this node.",
		}, connections),
		m.Authentications, m.MessagesReceived, m.Delivered, m.DeliveryLatency, m.Revoked,
		m.Rejected, m.Disconnects,
	)
	return m
}
