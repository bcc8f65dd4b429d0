package railscookie

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// mp encodes plain values with vmihailenco/msgpack, an encoder written
// independently of the decoder under test.
func mp(t testing.TB, vs ...any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	for _, v := range vs {
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// ext frames an extension value, as msgpack-ruby's packer does.
func ext(typ int8, payload ...[]byte) []byte {
	p := bytes.Join(payload, nil)
	var h []byte
	switch len(p) {
	case 1, 2, 4, 8, 16:
		code := map[int]byte{1: 0xd4, 2: 0xd5, 4: 0xd6, 8: 0xd7, 16: 0xd8}[len(p)]
		h = []byte{code, byte(typ)}
	default:
		switch {
		case len(p) < 256:
			h = []byte{0xc7, byte(len(p)), byte(typ)}
		case len(p) < 65536:
			h = []byte{0xc8, byte(len(p) >> 8), byte(len(p)), byte(typ)}
		default:
			h = binary.BigEndian.AppendUint32([]byte{0xc9}, uint32(len(p)))
			h = append(h, byte(typ))
		}
	}
	return append(h, p...)
}

func fixmap(n int) []byte { return []byte{0x80 | byte(n)} }
func fixarr(n int) []byte { return []byte{0x90 | byte(n)} }

func sym(s string) []byte { return ext(0, []byte(s)) }

// bigint is extension type 1 as msgpack-ruby's Bigint writes it.
func bigint(neg bool, chunksLSFirst ...uint32) []byte {
	p := []byte{0}
	if neg {
		p[0] = 1
	}
	for _, c := range chunksLSFirst {
		p = binary.BigEndian.AppendUint32(p, c)
	}
	return ext(1, p)
}

func TestMessagePack(t *testing.T) {
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	for _, c := range []struct {
		name string
		in   []byte
		want string
	}{
		{"devise session", cat(fixmap(3),
			mp(t, "session_id"), mp(t, "0f1e2d3c4b5a69788796a5b4c3d2e1f0"),
			mp(t, "warden.user.user.key"), fixarr(2), fixarr(1), mp(t, 42), mp(t, "$2a$12$KkZb1lQ9u8v7w6x5y4z3A."),
			mp(t, "warden.user.user.session"), fixmap(1), mp(t, "last_request_at"), mp(t, int64(1700000000))),
			`{"session_id":"0f1e2d3c4b5a69788796a5b4c3d2e1f0","warden.user.user.key":[[42],"$2a$12$KkZb1lQ9u8v7w6x5y4z3A."],"warden.user.user.session":{"last_request_at":1700000000}}`},
		{"scalars", mp(t, []any{nil, true, false, 0, 127, -1, -32, -33, int64(-1 << 63), int64(math.MaxInt64), uint64(math.MaxUint64), 1.5, 1e20}),
			`[null,true,false,0,127,-1,-32,-33,-9223372036854775808,9223372036854775807,{"__integer":"18446744073709551615"},1.5,1.0e+20]`},
		{"negative zero", mp(t, math.Copysign(0, -1)), `-0.0`},
		{"float32", mp(t, float32(0.1)), `0.10000000149011612`},
		{"nan and inf", mp(t, []any{math.NaN(), math.Inf(1), math.Inf(-1)}), `[{"__float":"nan"},{"__float":"inf"},{"__float":"-inf"}]`},
		{"strings", mp(t, []any{"", "héllo ✓ 🎉", "a\"b\\c\n\x01\u2028"}), `["","héllo ✓ 🎉","a\"b\\c\n\u0001\u2028"]`},
		{"invalid UTF-8 str", mp(t, "\xff\xfe"), `{"__bytes":"fffe","encoding":"UTF-8"}`},
		{"bin", mp(t, []byte("ab")), `"ab"`},
		{"binary bin", mp(t, []byte{0x80, 0}), `{"__bytes":"8000","encoding":"ASCII-8BIT"}`},
		{"integer and symbol keys", cat(fixmap(3), mp(t, 1), mp(t, "a"), mp(t, -2), mp(t, "b"), sym("locale"), sym("en")),
			`{"1":"a","-2":"b","locale":"en"}`},
		{"uint64 key", cat(fixmap(1), mp(t, uint64(math.MaxUint64)), mp(t, 1)), `{"18446744073709551615":1}`},
		{"bigint 2**64", bigint(false, 0, 0, 1), `{"__integer":"18446744073709551616"}`},
		{"bigint -(2**70)", bigint(true, 0, 0, 64), `{"__integer":"-1180591620717411303424"}`},
		{"bigint in int64 range", bigint(true, 0, 0x80000000), `-9223372036854775808`},
		{"bigint key", cat(fixmap(1), bigint(false, 0, 0, 1), mp(t, 1)), `{"18446744073709551616":1}`},
		{"BigDecimal", ext(2, []byte("18:0.123456e3")), `{"__class":"BigDecimal","_dump":"18:0.123456e3"}`},
		{"Rational", ext(3, mp(t, 1, 3)), `{"__class":"Rational","marshal_dump":[1,3]}`},
		{"Rational zero", ext(3, mp(t, 0)), `{"__class":"Rational","marshal_dump":[0,1]}`},
		{"Complex", ext(4, mp(t, 1, 2.5)), `{"__class":"Complex","marshal_dump":[1,2.5]}`},
		// Ruby 3.1: DateTime.new(2024,2,29,23,30,15.5r,"+02:00").marshal_dump
		{"DateTime", ext(5, mp(t, 2460370, 23, 30, 15, 1, 2, 1, 12)),
			`{"__class":"DateTime","marshal_dump":[0,2460370,77415,500000000,7200,2299161.0]}`},
		// DateTime.jd(2460370, 1, 2, 3 + 1/3r, 1/24r).marshal_dump
		{"DateTime, rational fraction", ext(5, mp(t, 2460370, 1, 2, 3, 1, 3, 1, 24)),
			`{"__class":"DateTime","marshal_dump":[0,2460370,123,{"__class":"Rational","marshal_dump":[1000000000,3]},3600,2299161.0]}`},
		{"DateTime, UTC on the previous day", ext(5, mp(t, 2460370, 0, 30, 0, 0, 1, 24)),
			`{"__class":"DateTime","marshal_dump":[0,2460369,84600,0,3600,2299161.0]}`},
		// Date.new(2024, 2, 29), and Date.jd(-1) (nth -1)
		{"Date", ext(6, mp(t, 2460370)), `{"__class":"Date","marshal_dump":[0,2460370,0,0,0,2299161.0]}`},
		{"Date before the period", ext(6, mp(t, -1)), `{"__class":"Date","marshal_dump":[-1,213447716,0,0,0,2299161.0]}`},
		{"Time UTC", ext(7, mp(t, 1700000000, 123456789, 0)),
			`{"__class":"Time","utc":"2023-11-14T22:13:20.123456789Z","utc_offset":0,"zone":null}`},
		{"Time +09:00", ext(7, mp(t, 1700000000, 0, 32400)),
			`{"__class":"Time","utc":"2023-11-14T22:13:20.000000000Z","utc_offset":32400,"zone":null}`},
		{"Time before 1970", ext(7, mp(t, -14182940, 0, 0)),
			`{"__class":"Time","utc":"1969-07-20T20:17:40.000000000Z","utc_offset":0,"zone":null}`},
		// as marshal.jsonl's time_with_zone_utc
		{"TimeWithZone UTC", ext(8, mp(t, 1700000000, 0, 0, "UTC")),
			`{"__class":"ActiveSupport::TimeWithZone","marshal_dump":[{"__class":"Time","utc":"2023-11-14T22:13:20.000000000Z","utc_offset":0,"zone":"UTC"},"UTC",{"__class":"Time","utc":"2023-11-14T22:13:20.000000000Z","utc_offset":0,"zone":"UTC"}]}`},
		{"TimeWithZone, Rails zone name", ext(8, mp(t, 1700000000, 0, 0, "Eastern Time (US & Canada)")),
			`{"__class":"ActiveSupport::TimeWithZone","marshal_dump":[{"__class":"Time","utc":"2023-11-14T22:13:20.000000000Z","utc_offset":0,"zone":"UTC"},"Eastern Time (US & Canada)",null]}`},
		{"TimeZone", ext(9, []byte("Europe/Berlin")), `{"__class":"ActiveSupport::TimeZone","msgpack":["Europe/Berlin"]}`},
		{"Duration", ext(10, mp(t, 3600, []any{nil, nil, nil, nil, 1, nil, nil})),
			`{"__class":"ActiveSupport::Duration","msgpack":[3600,[null,null,null,null,1,null,null]]}`},
		{"Range", ext(11, mp(t, 1, 10, true)), `{"__class":"Range","excl":true,"begin":1,"end":10}`},
		{"Range, open end", ext(11, mp(t, 1, nil, false)), `{"__class":"Range","excl":false,"begin":1,"end":null}`},
		{"Set", ext(12, cat(fixarr(3), mp(t, 1, "a"), sym("b"))), `{"__class":"Set","@hash":{"1":true,"a":true,"b":true}}`},
		{"URI", ext(13, []byte("https://example.com/")), `{"__class":"URI","msgpack":["https://example.com/"]}`},
		{"IPAddr", ext(14, mp(t, "10.0.0.0/8")), `{"__class":"IPAddr","msgpack":["10.0.0.0/8"]}`},
		{"IPAddr, Rails 7.1.0 (raw bytes)", ext(14, []byte("::1")), `{"__class":"IPAddr","msgpack":["::1"]}`},
		{"Pathname", ext(15, []byte("/tmp")), `{"__class":"Pathname","msgpack":["/tmp"]}`},
		{"Regexp", ext(16, []byte("(?i-mx:ab)")), `{"__class":"Regexp","source":"(?i-mx:ab)","options":0}`},
		{"HashWithIndifferentAccess", ext(17, cat(fixmap(1), mp(t, "a"), mp(t, 1))), `{"a":1}`},
		{"SafeBuffer", ext(18, mp(t, "<b>hi</b>")), `"<b>hi</b>"`},
		{"nested extensions", cat(fixarr(2), ext(17, cat(fixmap(1), sym("t"), ext(7, mp(t, 0, 0, 0)))), ext(11, ext(6, mp(t, 2460370)), ext(6, mp(t, 2460371)), mp(t, false))),
			`[{"t":{"__class":"Time","utc":"1970-01-01T00:00:00.000000000Z","utc_offset":0,"zone":null}},{"__class":"Range","excl":false,"begin":{"__class":"Date","marshal_dump":[0,2460370,0,0,0,2299161.0]},"end":{"__class":"Date","marshal_dump":[0,2460371,0,0,0,2299161.0]}}]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := messagePackToJSON(c.in)
			if err != nil {
				t.Fatal(err)
			}
			assertJSON(t, got, c.want)
			// Every strict prefix is rejected as malformed, without a panic.
			for n := 0; n < len(c.in); n++ {
				if _, err := messagePackToJSON(c.in[:n]); !errors.Is(err, ErrMalformed) {
					t.Fatalf("prefix of %d bytes: %v", n, err)
				}
			}
		})
	}
}

func TestMessagePackTimeWithZoneNamed(t *testing.T) {
	if zoneLocation("America/New_York") == nil {
		t.Skip("no time zone database on this machine")
	}
	// marshal.jsonl's time_with_zone_named
	got, err := messagePackToJSON(ext(8, mp(t, 1700000000, 0, 0, "America/New_York")))
	if err != nil {
		t.Fatal(err)
	}
	assertJSON(t, got, `{"__class":"ActiveSupport::TimeWithZone","marshal_dump":[{"__class":"Time","utc":"2023-11-14T22:13:20.000000000Z","utc_offset":0,"zone":"UTC"},"America/New_York",{"__class":"Time","utc":"2023-11-14T17:13:20.000000000Z","utc_offset":0,"zone":"UTC"}]}`)
}

func TestMessagePackRejects(t *testing.T) {
	deep := append(bytes.Repeat([]byte{0x91}, 200), 0xc0)
	deepExt := []byte{0xc0}
	for i := 0; i < 120; i++ {
		deepExt = ext(17, deepExt)
	}
	for _, c := range []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"trailing bytes", []byte{0xc0, 0xc0}, ErrMalformed},
		{"never-used byte", []byte{0xc1}, ErrMalformed},
		{"array32 count beyond the input", []byte{0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0}, ErrMalformed},
		{"map32 count beyond the input", []byte{0xdf, 0x7f, 0xff, 0xff, 0xff, 0xc0, 0xc0}, ErrMalformed},
		{"str32 length beyond the input", []byte{0xdb, 0xff, 0xff, 0xff, 0xff, 'a'}, ErrMalformed},
		{"ext32 length beyond the input", []byte{0xc9, 0xff, 0xff, 0xff, 0xff, 7, 0}, ErrMalformed},
		{"nested too deep", deep, ErrMalformed},
		{"extensions nested too deep", deepExt, ErrMalformed},
		{"extension with extra bytes", ext(7, mp(t, 0, 0, 0, 0)), ErrMalformed},
		{"short extension", ext(7, mp(t, 0, 0)), ErrMalformed},
		{"Time with a string", ext(7, mp(t, "x", 0, 0)), ErrMalformed},
		{"Time nsec out of range", ext(7, mp(t, 0, int64(1e9), 0)), ErrMalformed},
		{"Rational zero denominator", ext(3, mp(t, 1, 0)), ErrMalformed},
		{"bigint of 3 bytes", ext(1, []byte{0, 1, 2}), ErrMalformed},
		{"empty bigint", ext(1, nil), ErrMalformed},
		{"DateTime hour 24", ext(5, mp(t, 2460370, 24, 0, 0, 0, 0)), ErrMalformed},
		{"DateTime fractional offset", ext(5, mp(t, 2460370, 0, 0, 0, 0, 1, 7)), ErrMalformed},
		{"unknown extension", ext(127, []byte{1}), ErrUnsupported},
		{"negative extension type", ext(-1, []byte{1}), ErrUnsupported},
		{"array hash key", []byte{0x81, 0x90, 0xc0}, ErrUnsupported},
		{"nil hash key", []byte{0x81, 0xc0, 0xc0}, ErrUnsupported},
		{"invalid UTF-8 hash key", []byte{0x81, 0xa1, 0xff, 0xc0}, ErrUnsupported},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := messagePackToJSON(c.in); !errors.Is(err, c.want) {
				t.Fatalf("%v, want %v", err, c.want)
			}
		})
	}
}

// TestMessagePackCookie goes through the whole pipeline: GCM, envelope,
// the 0xCC 0x80 signature.
func TestMessagePackCookie(t *testing.T) {
	w := newWriter(docSecret, "sha256")
	d := docDecoder(t, "_app_session", nil)
	body := bytes.Join([][]byte{{0xcc, 0x80}, fixmap(2), mp(t, "warden.user.user.key"), fixarr(2), fixarr(1), mp(t, 7), mp(t, "$2a$12$abc"),
		mp(t, "at"), ext(7, mp(t, 1700000000, 0, 0))}, nil)
	got, info, err := d.DecodeInfo(w.gcm(envelope(body, "null", `"cookie._app_session"`)))
	if err != nil {
		t.Fatal(err)
	}
	if info.Serializer != "message_pack" {
		t.Errorf("serializer %q", info.Serializer)
	}
	assertJSON(t, got, `{"warden.user.user.key":[[7],"$2a$12$abc"],"at":{"__class":"Time","utc":"2023-11-14T22:13:20.000000000Z","utc_offset":0,"zone":null}}`)
	if _, err := d.Decode(w.gcm([]byte("\xcc\x80" + strings.Repeat("\x91", 300) + "\xc0"))); !errors.Is(err, ErrMalformed) {
		t.Errorf("deep: %v", err)
	}
}
