package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

func readJSONL(t *testing.T, path string) []map[string]json.RawMessage {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]json.RawMessage
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func str(m map[string]json.RawMessage, k string) string {
	var s string
	_ = json.Unmarshal(m[k], &s)
	return s
}

func sameJSON(t *testing.T, got, want []byte) bool {
	t.Helper()
	var a, b any
	if json.Unmarshal(got, &a) != nil || json.Unmarshal(want, &b) != nil {
		return false
	}
	return reflect.DeepEqual(a, b)
}

// TestSessionDecodeCookies runs "herald session decode" on the real Rails
// cookies: ok vectors print the session and exit 0, rejected ones exit 1
// with the reason.
func TestSessionDecodeCookies(t *testing.T) {
	for _, v := range readJSONL(t, "../../internal/railscookie/testdata/cookies.jsonl") {
		var secrets []string
		_ = json.Unmarshal(v["secrets"], &secrets)
		if len(secrets) == 0 {
			secrets = []string{str(v, "secret_key_base")}
			var rot []map[string]json.RawMessage
			_ = json.Unmarshal(v["rotations"], &rot)
			for _, r := range rot {
				secrets = append(secrets, str(r, "secret_key_base"))
			}
		}
		var salts map[string]string
		_ = json.Unmarshal(v["salts"], &salts)
		env := map[string]string{
			"HERALD_RAILS_SECRET_KEY_BASE":                     strings.Join(secrets, ","),
			"HERALD_RAILS_SESSION_COOKIE":                      str(v, "cookie_name"),
			"HERALD_RAILS_AUTHENTICATED_ENCRYPTED_COOKIE_SALT": salts["authenticated_encrypted_cookie_salt"],
			"HERALD_RAILS_ENCRYPTED_COOKIE_SALT":               salts["encrypted_cookie_salt"],
			"HERALD_RAILS_ENCRYPTED_SIGNED_COOKIE_SALT":        salts["encrypted_signed_cookie_salt"],
			"HERALD_RAILS_SIGNED_COOKIE_SALT":                  salts["signed_cookie_salt"],
		}
		var stdout, stderr bytes.Buffer
		code := sessionCmd([]string{"decode", str(v, "cookie_value")}, func(k string) string { return env[k] },
			nil, &stdout, &stderr)
		name := str(v, "name")
		if str(v, "expect") == "ok" {
			if code != 0 || !sameJSON(t, stdout.Bytes(), v["session"]) {
				t.Errorf("%s: exit %d, stdout %s, stderr %s", name, code, stdout.String(), stderr.String())
			}
			continue
		}
		// The vectors' reasons, in the command's words.
		reason := map[string]string{"bad_auth_tag": "bad_signature", "expired": "expired"}[str(v, "reject_reason")]
		if code != 1 || !strings.Contains(stderr.String(), reason) || stdout.Len() != 0 {
			t.Errorf("%s: exit %d, stderr %q; want exit 1 naming %q", name, code, stderr.String(), reason)
		}
	}
}

// TestSessionDecodeMarshal feeds raw Marshal bytes on stdin.
func TestSessionDecodeMarshal(t *testing.T) {
	for _, v := range readJSONL(t, "../../internal/rubymarshal/testdata/marshal.jsonl")[:20] {
		raw, _ := hex.DecodeString(str(v, "hex"))
		var stdout, stderr bytes.Buffer
		code := sessionCmd([]string{"decode", "--marshal", "-"}, func(string) string { return "" },
			bytes.NewReader(raw), &stdout, &stderr)
		if code != 0 || !sameJSON(t, stdout.Bytes(), v["expect"]) {
			t.Errorf("%s: exit %d, stdout %s, stderr %s", str(v, "name"), code, stdout.String(), stderr.String())
		}
	}
	var stdout, stderr bytes.Buffer
	code := sessionCmd([]string{"decode", "--marshal", "-"}, func(string) string { return "" },
		strings.NewReader("\x04\x08[\x7f"), &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "marshal") {
		t.Errorf("truncated Marshal: exit %d, stderr %q", code, stderr.String())
	}
}

func TestSessionDecodeUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"encode"}, {"decode"}, {"decode", "a", "b"}, {"decode", "cookie"}} {
		var stdout, stderr bytes.Buffer
		if code := sessionCmd(args, func(string) string { return "" }, nil, &stdout, &stderr); code != 2 {
			t.Errorf("%v: exit %d, want 2 (usage); stderr %q", args, code, stderr.String())
		}
	}
}
