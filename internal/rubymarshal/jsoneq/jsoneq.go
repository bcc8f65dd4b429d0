// Package jsoneq compares session JSON by the value mapping of Rails
// sessions (shared/testdata/rails/README.md §1), for the tests of every
// package that produces it: member order is ignored, numbers are compared
// as Ruby Integers or Floats, never through float64 alone.
package jsoneq

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strings"
)

// Equal compares two JSON texts as README §1 values: object member
// order is ignored; a number with ".", "e" or "E" is a Float (compared as
// an IEEE double, sign of zero included), any other number an Integer
// (compared exactly).
func Equal(a, b []byte) (bool, error) {
	va, err := decodeJSON(a)
	if err != nil {
		return false, fmt.Errorf("first: %w", err)
	}
	vb, err := decodeJSON(b)
	if err != nil {
		return false, fmt.Errorf("second: %w", err)
	}
	return valueEqual(va, vb), nil
}

func decodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, fmt.Errorf("trailing data")
	}
	return v, nil
}

func valueEqual(a, b any) bool {
	switch x := a.(type) {
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		fx, fy := strings.ContainsAny(string(x), ".eE"), strings.ContainsAny(string(y), ".eE")
		if fx != fy {
			return false
		}
		if fx {
			p, err1 := x.Float64()
			q, err2 := y.Float64()
			return err1 == nil && err2 == nil && math.Float64bits(p) == math.Float64bits(q)
		}
		p, ok1 := new(big.Int).SetString(string(x), 10)
		q, ok2 := new(big.Int).SetString(string(y), 10)
		return ok1 && ok2 && p.Cmp(q) == 0
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !valueEqual(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !valueEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}
