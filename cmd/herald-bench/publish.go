package main

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// benchTitle is the notification's visible content, to give the payload a
// realistic shape and size.
const benchTitle = "New comment on your post"

// format says how notifications are published.
type format int

const (
	formatJSON    format = iota // herald's JSON on the notify channel
	formatEmitter               // the Socket.IO Redis emitter format (@socket.io/redis-emitter)
)

func (f format) String() string {
	if f == formatEmitter {
		return "emitter"
	}
	return "json"
}

// appendData appends the notification's data object as JSON.
func appendData(dst []byte, m mark) []byte {
	dst = append(dst, `{"title":"`+benchTitle+`","`+keyPhase+`":`...)
	dst = strconv.AppendInt(dst, m.Phase, 10)
	dst = append(dst, `,"`+keySeq+`":`...)
	dst = strconv.AppendInt(dst, m.Seq, 10)
	dst = append(dst, `,"`+keySent+`":`...)
	dst = strconv.AppendInt(dst, m.Sent, 10)
	dst = append(dst, `,"`+keyUser+`":`...)
	dst = strconv.AppendInt(dst, m.User, 10)
	return append(dst, '}')
}

// appendNotify appends a herald:notify message: to user m.User, or to
// every socket when broadcast is set.
func appendNotify(dst []byte, event string, m mark, broadcast bool) []byte {
	if broadcast {
		dst = append(dst, `{"broadcast":true`...)
	} else {
		dst = append(dst, `{"user":`...)
		dst = strconv.AppendInt(dst, m.User, 10)
	}
	dst = append(dst, `,"event":`...)
	dst = strconv.AppendQuote(dst, event)
	dst = append(dst, `,"data":`...)
	dst = appendData(dst, m)
	return append(dst, '}')
}

// emitterChannel is the channel @socket.io/redis-emitter publishes on for
// namespace "/": "socket.io#/#" for a broadcast, "socket.io#/#<room>#"
// when exactly one room is targeted.
func emitterChannel(prefix, room string) string {
	if room == "" {
		return prefix + "#/#"
	}
	return prefix + "#/#" + room + "#"
}

// appendEmitter appends the msgpack message @socket.io/redis-emitter 5.x
// publishes for emitter.to(room).emit(event, data) (or emitter.emit(...)
// when room is empty), namespace "/":
//
//	["emitter", {type: 2, data: [event, data], nsp: "/"}, {rooms: [room], flags: {}, except: []}]
func appendEmitter(dst []byte, event, room string, m mark) []byte {
	dst = append(dst, 0x93) // fixarray 3
	dst = mpStr(dst, "emitter")
	dst = append(dst, 0x83) // packet: fixmap 3
	dst = mpStr(dst, "type")
	dst = mpInt(dst, 2) // EVENT
	dst = mpStr(dst, "data")
	dst = append(dst, 0x92) // [event, data]
	dst = mpStr(dst, event)
	dst = append(dst, 0x85) // data: fixmap 5
	dst = mpStr(dst, "title")
	dst = mpStr(dst, benchTitle)
	dst = mpStr(dst, keyPhase)
	dst = mpInt(dst, m.Phase)
	dst = mpStr(dst, keySeq)
	dst = mpInt(dst, m.Seq)
	dst = mpStr(dst, keySent)
	dst = mpInt(dst, m.Sent)
	dst = mpStr(dst, keyUser)
	dst = mpInt(dst, m.User)
	dst = mpStr(dst, "nsp")
	dst = mpStr(dst, "/")
	dst = append(dst, 0x83) // opts: fixmap 3
	dst = mpStr(dst, "rooms")
	if room == "" {
		dst = append(dst, 0x90)
	} else {
		dst = append(dst, 0x91)
		dst = mpStr(dst, room)
	}
	dst = mpStr(dst, "flags")
	dst = append(dst, 0x80)
	dst = mpStr(dst, "except")
	return append(dst, 0x90)
}

// mpStr appends a msgpack str.
func mpStr(dst []byte, s string) []byte {
	switch n := len(s); {
	case n < 32:
		dst = append(dst, 0xa0|byte(n))
	case n <= math.MaxUint8:
		dst = append(dst, 0xd9, byte(n))
	case n <= math.MaxUint16:
		dst = append(dst, 0xda, byte(n>>8), byte(n))
	default:
		dst = append(dst, 0xdb, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(dst, s...)
}

// mpInt appends a msgpack integer in its shortest form, as notepack.io
// does.
func mpInt(dst []byte, v int64) []byte {
	switch {
	case v >= 0 && v < 128:
		return append(dst, byte(v))
	case v < 0 && v >= -32:
		return append(dst, byte(v))
	case v >= 0 && v <= math.MaxUint8:
		return append(dst, 0xcc, byte(v))
	case v >= 0 && v <= math.MaxUint16:
		return append(dst, 0xcd, byte(v>>8), byte(v))
	case v >= 0 && v <= math.MaxUint32:
		return append(dst, 0xce, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	case v >= 0:
		return append(dst, 0xcf, byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	case v >= math.MinInt8:
		return append(dst, 0xd0, byte(v))
	case v >= math.MinInt16:
		return append(dst, 0xd1, byte(v>>8), byte(v))
	case v >= math.MinInt32:
		return append(dst, 0xd2, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	default:
		return append(dst, 0xd3, byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
}

// publisher publishes notifications on Redis.
type publisher struct {
	rdb           *redis.Client
	channel       string // herald:notify
	emitterPrefix string // socket.io
	event         string
}

// message returns the channel and payload of one notification.
func (p *publisher) message(f format, m mark, broadcast bool) (string, []byte) {
	if f == formatEmitter {
		room := ""
		if !broadcast {
			room = "user:" + strconv.FormatInt(m.User, 10)
		}
		return emitterChannel(p.emitterPrefix, room), appendEmitter(make([]byte, 0, 192), p.event, room, m)
	}
	return p.channel, appendNotify(make([]byte, 0, 192), p.event, m, broadcast)
}

// publish sends one notification, stamped with the current time.
func (p *publisher) publish(ctx context.Context, f format, m mark, broadcast bool) error {
	m.Sent = time.Now().UnixMicro()
	ch, payload := p.message(f, m, broadcast)
	return p.rdb.Publish(ctx, ch, payload).Err()
}

// publishBatch sends several notifications in one pipeline.
func (p *publisher) publishBatch(ctx context.Context, f format, ms []mark, broadcast bool) error {
	pipe := p.rdb.Pipeline()
	now := time.Now().UnixMicro()
	for _, m := range ms {
		m.Sent = now
		ch, payload := p.message(f, m, broadcast)
		pipe.Publish(ctx, ch, payload)
	}
	_, err := pipe.Exec(ctx)
	return err
}

// barrier makes the processes of a multi-process run start a phase
// together: each increments key and waits until count have.
func barrier(ctx context.Context, rdb *redis.Client, key string, count int) error {
	if err := rdb.Incr(ctx, key).Err(); err != nil {
		return fmt.Errorf("barrier %s: %w", key, err)
	}
	rdb.Expire(ctx, key, time.Hour)
	for {
		v, err := rdb.Get(ctx, key).Int()
		if err != nil {
			return fmt.Errorf("barrier %s: %w", key, err)
		}
		if v >= count {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("barrier %s: %d of %d processes: %w", key, v, count, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
