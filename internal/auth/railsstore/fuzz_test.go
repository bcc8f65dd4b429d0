package railsstore

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzDecodeValue feeds arbitrary store values to DecodeValue: no panic;
// every error is of one of the documented kinds; every success is a JSON
// object. Seeded with every recorded value and each hand-built layout.
func FuzzDecodeValue(f *testing.F) {
	for _, v := range allVectors(f) {
		f.Add(v.value(f))
	}
	sess, _ := devise(f)
	for _, b := range [][]byte{
		nil, []byte("{}"), []byte(`{"user_id":1}`), []byte("\x04\x08{\x00"),
		append([]byte{0x00}, marshal(mArray(body(sess), mFloat(1795631545.5)))...),
		append([]byte{0x01}, deflate(marshal(mArray(body(sess))))...),
		cache71(0x01, -1, "", sess),
		cache71(0x81, 1795631545.5, "v1", deflate(sess)),
		cache71(0x02, -1, "", []byte("s")),
		marshal(mEntry(mSym("@value"), mBinary(deflate(sess)), mSym("@compressed"), []byte{'T'})),
	} {
		f.Add(b)
	}
	kinds := []error{ErrUnknownFormat, ErrMalformed, ErrNotSession, ErrLimit, ErrUnsupported}
	f.Fuzz(func(t *testing.T, b []byte) {
		out, info, err := DecodeValueInfo(b)
		if err != nil {
			for _, k := range kinds {
				if errors.Is(err, k) {
					return
				}
			}
			t.Fatalf("error of no kind: %v", err)
		}
		var m map[string]json.RawMessage
		if json.Unmarshal(out, &m) != nil {
			t.Fatalf("accepted as %s, but the session is not a JSON object: %q", info.Format, out)
		}
	})
}
