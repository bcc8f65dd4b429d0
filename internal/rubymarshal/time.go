package rubymarshal

import (
	"encoding/binary"
	"fmt"
	"math/big"
	"time"
)

// decodeTime reads Time#_dump bytes and the instance variables written on
// them, as time.c's time_mload does. It returns a message when the dump is
// not one Ruby could load.
func decodeTime(dump []byte, ivars []Field) (Time, string) {
	t := Time{Ivars: ivars}
	if len(dump) < 8 {
		return t, fmt.Sprintf("dump is %d bytes, want at least 8", len(dump))
	}
	p := binary.LittleEndian.Uint32(dump[0:4])
	s := binary.LittleEndian.Uint32(dump[4:8])
	if p&(1<<31) == 0 {
		// Ruby 1.8: seconds and microseconds since the epoch, local time.
		t.Time = time.Unix(int64(p), int64(s)*1000).UTC()
		t.Zone = zoneOf(ivars)
		return t, ""
	}

	year := int64(p>>14&0xffff) + 1900
	if y, ok := ivar(ivars, "year"); ok && y != nil {
		n, isInt := y.(int64)
		if !isInt {
			return t, "year ivar is not an Integer"
		}
		year = n
	}
	if len(dump) > 8 {
		// Years outside 1900..67435: a long byte count, then that many
		// little-endian bytes of distance from 1900 or 67435.
		ext := &decoder{buf: dump[8:], lim: Limits{MaxObjects: 1}}
		size, err := ext.long("year extension")
		if err != nil || size < 0 || size > int64(len(ext.buf)-ext.pos) {
			return t, "bad year extension"
		}
		if size > 4 {
			return t, "year out of range"
		}
		var dist int64
		for i := int64(0); i < size; i++ {
			dist |= int64(ext.buf[ext.pos+int(i)]) << (8 * i)
		}
		if year == 1900 {
			year -= dist
		} else {
			year += dist
		}
	}
	if year < -1e9 || year > 1e9 {
		return t, fmt.Sprintf("year %d out of range", year)
	}
	mon := int(p>>10&0xf) + 1
	mday := int(p >> 5 & 0x1f)
	hour := int(p & 0x1f)
	minute := int(s >> 26 & 0x3f)
	sec := int(s >> 20 & 0x3f)
	usec := int64(s & 0xfffff)
	if mon > 12 || mday < 1 || hour > 23 || minute > 59 || sec > 60 {
		return t, fmt.Sprintf("bad date or time fields (month %d, day %d, %02d:%02d:%02d)", mon, mday, hour, minute, sec)
	}

	nsec := usec * 1000
	if num, ok := ivar(ivars, "nano_num"); ok && num != nil {
		den, _ := ivar(ivars, "nano_den")
		nano, msg := floorDiv(num, den)
		if msg != "" {
			return t, msg
		}
		nsec += nano
	} else if sm, ok := ivar(ivars, "submicro"); ok {
		// Ruby 1.9.1: nanoseconds under the microsecond in packed BCD.
		if str, isStr := sm.(String); isStr {
			nsec += submicroNanos(str.Bytes)
		}
	}

	t.Time = time.Date(int(year), time.Month(mon), mday, hour, minute, sec, 0, time.UTC).Add(time.Duration(nsec))
	t.UTC = p>>30&1 == 1
	if !t.UTC {
		if off, ok := ivar(ivars, "offset"); ok {
			// Ruby ignores an offset that is not a valid one.
			if n, isInt := off.(int64); isInt && n > -86400 && n < 86400 {
				t.Offset = int(n)
			}
		}
	}
	t.Zone = zoneOf(ivars)
	if t.UTC {
		// Time#zone answers "UTC" for a UTC Time whatever the ivar says
		// (Ruby may dump "" there).
		t.Zone = String{Bytes: []byte("UTC"), Encoding: "US-ASCII"}
	}
	return t, ""
}

// ivar returns the last instance variable of that name.
func ivar(ivars []Field, name string) (Value, bool) {
	for i := len(ivars) - 1; i >= 0; i-- {
		if ivars[i].Name == name {
			return ivars[i].Value, true
		}
	}
	return nil, false
}

func zoneOf(ivars []Field) Value {
	z, _ := ivar(ivars, "zone")
	if s, ok := unwrap(z).(String); ok {
		return s
	}
	return nil
}

// floorDiv returns floor(num/den) for the Integer ivars nano_num and
// nano_den (Ruby keeps a Rational; the nanosecond digits truncate it).
func floorDiv(num, den Value) (int64, string) {
	n, ok1 := bigOf(num)
	d, ok2 := bigOf(den)
	if !ok1 || !ok2 {
		return 0, "nano_num and nano_den are not Integers"
	}
	if d.Sign() == 0 {
		return 0, "nano_den is zero"
	}
	if d.Sign() < 0 {
		n.Neg(n)
		d.Neg(d)
	}
	q := new(big.Int).Div(n, d) // Euclidean; floor for d > 0
	if !q.IsInt64() || q.Int64() < -1e12 || q.Int64() > 1e12 {
		return 0, "nano_num/nano_den out of range"
	}
	return q.Int64(), ""
}

func bigOf(v Value) (*big.Int, bool) {
	switch n := v.(type) {
	case int64:
		return big.NewInt(n), true
	case *big.Int:
		return new(big.Int).Set(n), true
	}
	return nil, false
}

func submicroNanos(b []byte) int64 {
	var n int64
	if len(b) > 0 {
		if b[0]>>4 >= 10 {
			return 0
		}
		n += int64(b[0]>>4) * 100
		if b[0]&0xf >= 10 {
			return 0
		}
		n += int64(b[0]&0xf) * 10
	}
	if len(b) > 1 {
		if b[1]>>4 >= 10 {
			return 0
		}
		n += int64(b[1] >> 4)
	}
	return n
}
