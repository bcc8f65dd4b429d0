// Package deliver turns what arrives from Redis into Socket.IO traffic on
// this node: notifications for users and rooms, Socket.IO emitter
// broadcasts and requests, and sign-out disconnections.
//
// Every node receives every message and acts only on its own sockets, so a
// message published once reaches each target socket exactly once.
package deliver

import (
	"encoding/json"
	"log/slog"
	"time"

	"github.com/heraldrt/herald/internal/emitter"
	"github.com/heraldrt/herald/internal/metrics"
	"github.com/heraldrt/herald/internal/notify"
	"github.com/heraldrt/herald/socketio"
)

// Deliverer acts on one namespace of the local Socket.IO server.
type Deliverer struct {
	NS *socketio.Namespace
	// RevokeSession disconnects the sockets of the session the app names
	// in a disconnect command, and returns how many there were.
	RevokeSession func(token string) int
	Metrics       *metrics.Metrics
	Log           *slog.Logger
	// EmitterPrefix is the Socket.IO adapter's channel prefix ("socket.io").
	EmitterPrefix string
}

// Notify handles a payload of the notification channel: a JSON message or
// an array of them.
func (d *Deliverer) Notify(source string, payload []byte) {
	start := time.Now()
	msgs, err := notify.Parse(payload)
	if err != nil {
		d.Metrics.Rejected.WithLabelValues(source).Inc()
		d.Log.Warn("dropping an invalid notification", "source", source, "err", err, "bytes", len(payload))
		return
	}
	d.Metrics.MessagesReceived.WithLabelValues(source).Add(float64(len(msgs)))
	for i := range msgs {
		d.one(&msgs[i])
	}
	d.Metrics.DeliveryLatency.Observe(time.Since(start).Seconds())
}

func (d *Deliverer) one(m *notify.Message) {
	if m.Disconnect != nil {
		d.disconnect(m.Disconnect)
		return
	}
	var args []any
	if m.Data != nil {
		args = []any{json.RawMessage(m.Data)}
	}
	op := d.NS.To(m.Targets()...)
	if m.Broadcast {
		op = d.NS.To() // every socket of the namespace
	}
	n, err := op.EmitCount(m.Event, args...)
	if err != nil {
		d.Log.Warn("could not encode a notification", "event", m.Event, "err", err)
		return
	}
	d.Metrics.Delivered.Add(float64(n))
}

func (d *Deliverer) disconnect(t *notify.Disconnect) {
	n := 0
	for _, u := range t.Users {
		sockets := d.NS.To(notify.UserRoom(u)).Sockets()
		for _, s := range sockets {
			s.Disconnect(true)
		}
		n += len(sockets)
	}
	for _, ref := range t.Sessions {
		n += d.RevokeSession(ref)
	}
	d.Metrics.Revoked.Add(float64(n))
}

// Emitter handles a broadcast published on the Socket.IO adapter channels
// (by @socket.io/redis-emitter, the Ruby socket.io-emitter gem, or a Node
// server with the Redis adapter).
func (d *Deliverer) Emitter(channel string, payload []byte) {
	start := time.Now()
	b, err := emitter.DecodeBroadcast(payload)
	if err != nil {
		d.Metrics.Rejected.WithLabelValues("emitter").Inc()
		d.Log.Warn("dropping an invalid Socket.IO emitter message", "channel", channel, "err", err)
		return
	}
	d.Metrics.MessagesReceived.WithLabelValues("emitter").Inc()
	if b.Namespace != d.NS.Name() || socketio.IsReserved(b.Event) {
		return
	}
	// The Ruby gem publishes one copy per room on each room's channel,
	// each listing every room: narrow each copy so a socket in several of
	// the rooms still gets the event once.
	if room, ok := emitter.RoomFromChannel(d.EmitterPrefix, b.Namespace, channel); ok {
		b = b.ForChannelRoom(room)
	}
	op := d.NS.To(b.Rooms...).Except(b.Except...)
	n, err := op.EmitCount(b.Event, b.Args...)
	if err != nil {
		d.Log.Warn("could not encode a Socket.IO emitter message", "event", b.Event, "err", err)
		return
	}
	d.Metrics.Delivered.Add(float64(n))
	d.Metrics.DeliveryLatency.Observe(time.Since(start).Seconds())
}

// Request handles socketsJoin, socketsLeave and disconnectSockets from the
// adapter's request channel.
func (d *Deliverer) Request(payload []byte) {
	r, err := emitter.DecodeRequest(payload)
	if err != nil {
		d.Log.Debug("ignoring a Socket.IO adapter request", "err", err)
		return
	}
	op := d.NS.To(r.Rooms...).Except(r.Except...)
	switch r.Type {
	case emitter.RemoteJoin:
		op.SocketsJoin(r.JoinRooms...)
	case emitter.RemoteLeave:
		for _, room := range r.JoinRooms {
			op.SocketsLeave(room)
		}
	case emitter.RemoteDisconnect:
		sockets := op.Sockets()
		for _, s := range sockets {
			s.Disconnect(r.Close)
		}
		d.Metrics.Revoked.Add(float64(len(sockets)))
	}
}
