package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/heraldrt/herald/internal/app"
	"github.com/heraldrt/herald/internal/auth/railsstore"
	"github.com/heraldrt/herald/internal/config"
	"github.com/heraldrt/herald/internal/railscookie"
	"github.com/heraldrt/herald/internal/rubymarshal"
)

// maxInput bounds what the session command reads from a file or stdin.
const maxInput = 4 << 20

// sessionCmd runs "herald session decode": an operator's view of what
// herald reads from a Rails session.
func sessionCmd(args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "decode" {
		fmt.Fprintln(stderr, "usage: herald session decode [options] COOKIE-VALUE | --marshal FILE | --store FILE (herald session decode -h)")
		return 2
	}
	d, err := config.LoadDecode(args[1:], getenv, stderr)
	if errors.Is(err, config.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "herald session decode: %v\n", err)
		return 2
	}
	session, reason, err := decodeSession(d, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "herald session decode: %s: %v\n", reason, err)
		return 1
	}
	var out bytes.Buffer
	if json.Indent(&out, session, "", "  ") != nil {
		out.Reset()
		out.Write(session)
	}
	out.WriteByte('\n')
	_, _ = stdout.Write(out.Bytes())
	return 0
}

// decodeSession returns the session as JSON, or a short reason and the
// error.
func decodeSession(d *config.Decode, stdin io.Reader) ([]byte, string, error) {
	switch {
	case d.Marshal != "":
		data, err := readInput(d.Marshal, stdin)
		if err != nil {
			return nil, "input", err
		}
		s, err := rubymarshal.DecodeJSON(data)
		return s, "marshal", err
	case d.Store != "":
		data, err := readInput(d.Store, stdin)
		if err != nil {
			return nil, "input", err
		}
		s, err := railsstore.DecodeValue(data)
		return s, "store value", err
	}
	dec, err := app.RailsCookieDecoder(d.Rails)
	if err != nil {
		return nil, "configuration", err
	}
	s, err := dec.Decode(d.Value)
	return s, railscookie.Reason(err), err
}

func readInput(name string, stdin io.Reader) ([]byte, error) {
	r := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxInput+1))
	if err == nil && len(data) > maxInput {
		err = fmt.Errorf("input larger than %d bytes", maxInput)
	}
	return data, err
}
