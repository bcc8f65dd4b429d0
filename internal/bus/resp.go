package bus

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// maxReply bounds one reply (a published payload, in practice): Redis
// allows 512 MB, a notification has no business being more than this.
const maxReply = 64 << 20

// reply is one RESP2 value. str aliases the reader's buffer: it is valid
// only during the callback that receives it.
type reply struct {
	kind  byte // '+', '-', ':', '$', '*'
	str   []byte
	num   int64
	null  bool
	elems []reply
}

var errIncomplete = errors.New("incomplete")

// respReader parses a stream of RESP2 replies, as many per read as arrive.
type respReader struct {
	buf []byte // bytes of a reply not complete yet
}

// feed parses data after what earlier calls left and calls fn for each
// complete top-level reply. An error means the stream is unusable.
func (r *respReader) feed(data []byte, fn func(*reply) error) error {
	b := data
	if len(r.buf) > 0 {
		r.buf = append(r.buf, data...)
		b = r.buf
	}
	for len(b) > 0 {
		var v reply
		n, err := parseReply(b, &v, 0)
		if errors.Is(err, errIncomplete) {
			break
		}
		if err != nil {
			return err
		}
		if err := fn(&v); err != nil {
			return err
		}
		b = b[n:]
	}
	switch {
	case len(b) > maxReply:
		return fmt.Errorf("redis reply over %d bytes", maxReply)
	case len(b) == 0:
		r.buf = nil // a drained reader holds no memory
	case len(r.buf) > 0:
		// b is the tail of r.buf: move it to the front, keeping the
		// capacity, so a large reply arriving in many reads is copied
		// about once, not once per read.
		r.buf = r.buf[:copy(r.buf, b)]
	default:
		r.buf = append([]byte(nil), b...) // data is the caller's
	}
	return nil
}

// parseReply parses one reply at the start of b into v and returns its
// length, or errIncomplete.
func parseReply(b []byte, v *reply, depth int) (int, error) {
	line, n, err := readLine(b)
	if err != nil {
		return 0, err
	}
	if len(line) == 0 {
		return 0, errors.New("redis: empty reply line")
	}
	v.kind = line[0]
	switch v.kind {
	case '+', '-':
		v.str = line[1:]
		return n, nil
	case ':':
		v.num, err = strconv.ParseInt(string(line[1:]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("redis: bad integer %q", line)
		}
		return n, nil
	case '$':
		size, err := parseLen(line)
		if err != nil || size < 0 {
			v.null = true
			return n, err
		}
		end := n + size + 2
		if len(b) < end {
			return 0, errIncomplete
		}
		if b[end-2] != '\r' || b[end-1] != '\n' {
			return 0, errors.New("redis: bulk string not terminated")
		}
		v.str = b[n : n+size]
		return end, nil
	case '*':
		return parseArray(b, line, n, v, depth)
	}
	return 0, fmt.Errorf("redis: unknown reply type %q", v.kind)
}

func parseArray(b, line []byte, n int, v *reply, depth int) (int, error) {
	count, err := parseLen(line)
	if err != nil || count < 0 {
		v.null = true
		return n, err
	}
	if depth >= 4 {
		return 0, errors.New("redis: replies nested too deep")
	}
	if count > len(b)-n { // each element takes at least one byte
		if len(b) > maxReply {
			return 0, errors.New("redis: array too long")
		}
		return 0, errIncomplete
	}
	v.elems = make([]reply, count)
	for i := range v.elems {
		m, err := parseReply(b[n:], &v.elems[i], depth+1)
		if err != nil {
			return 0, err
		}
		n += m
	}
	return n, nil
}

// parseLen reads the length of a '$' or '*' line; -1 is null.
func parseLen(line []byte) (int, error) {
	size, err := strconv.Atoi(string(line[1:]))
	if err != nil || size < -1 || size > maxReply {
		return 0, fmt.Errorf("redis: bad length %q", line)
	}
	return size, nil
}

// readLine returns the line at the start of b without its CRLF, and the
// length with it.
func readLine(b []byte) ([]byte, int, error) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		if len(b) > 64<<10 {
			return nil, 0, errors.New("redis: reply line too long")
		}
		return nil, 0, errIncomplete
	}
	if i == 0 || b[i-1] != '\r' {
		return nil, 0, errors.New("redis: line not terminated by CRLF")
	}
	return b[:i-1], i + 1, nil
}

// appendCommand encodes a command as a RESP array of bulk strings.
func appendCommand(b []byte, args ...string) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, '\r', '\n')
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, '\r', '\n')
		b = append(b, a...)
		b = append(b, '\r', '\n')
	}
	return b
}
