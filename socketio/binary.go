package socketio

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
)

// encodeArgs encodes values as a JSON array, replacing []byte values (at
// any depth of []any and map[string]any) with attachment placeholders, as
// socket.io-parser's deconstructPacket does. json.RawMessage values are
// copied verbatim. prefix values (such as the event name) come first.
func encodeArgs(prefix []any, args []any) (data []byte, attachments [][]byte, err error) {
	buf := bytes.NewBuffer(make([]byte, 0, 64))
	buf.WriteByte('[')
	first := true
	for _, list := range [2][]any{prefix, args} {
		for _, a := range list {
			if !first {
				buf.WriteByte(',')
			}
			first = false
			if err := encodeValue(buf, a, &attachments); err != nil {
				return nil, nil, err
			}
		}
	}
	buf.WriteByte(']')
	return buf.Bytes(), attachments, nil
}

func encodeValue(buf *bytes.Buffer, v any, att *[][]byte) error {
	switch t := v.(type) {
	case []byte:
		buf.WriteString(`{"_placeholder":true,"num":`)
		buf.WriteString(strconv.Itoa(len(*att)))
		buf.WriteByte('}')
		*att = append(*att, t)
		return nil
	case json.RawMessage:
		if !json.Valid(t) {
			return fmt.Errorf("socketio: invalid json.RawMessage argument")
		}
		buf.Write(t)
		return nil
	case []any:
		buf.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := encodeValue(buf, e, att); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
		return nil
	case map[string]any:
		return encodeMap(buf, t, att)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("socketio: encode argument: %w", err)
	}
	buf.Write(b)
	return nil
}

func encodeMap(buf *bytes.Buffer, m map[string]any, att *[][]byte) error {
	buf.WriteByte('{')
	// Sorted keys, as json.Marshal writes maps: the same value always
	// encodes to the same bytes and attachment order.
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		e := m[k]
		if i > 0 {
			buf.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		buf.Write(kb)
		buf.WriteByte(':')
		if err := encodeValue(buf, e, att); err != nil {
			return err
		}
	}
	buf.WriteByte('}')
	return nil
}

// placeholderKey marks JSON that may hold attachment placeholders.
var placeholderKey = []byte(`"_placeholder"`)

// reconstruct decodes raw into a Go value, replacing placeholders with
// their attachments. Numbers stay json.Number so they re-encode exactly.
func reconstruct(raw json.RawMessage, attachments [][]byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return substitute(v, attachments)
}

func substitute(v any, attachments [][]byte) (any, error) {
	switch t := v.(type) {
	case []any:
		for i, e := range t {
			r, err := substitute(e, attachments)
			if err != nil {
				return nil, err
			}
			t[i] = r
		}
	case map[string]any:
		if ph, ok := t["_placeholder"].(bool); ok && ph && len(t) == 2 {
			n, ok := t["num"].(json.Number)
			i, err := n.Int64()
			if !ok || err != nil || i < 0 || i >= int64(len(attachments)) {
				return nil, fmt.Errorf("socketio: placeholder %v out of range", t["num"])
			}
			return attachments[i], nil
		}
		for k, e := range t {
			r, err := substitute(e, attachments)
			if err != nil {
				return nil, err
			}
			t[k] = r
		}
	}
	return v, nil
}
