package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// IdentityOptions say where a Rails session names its user.
type IdentityOptions struct {
	// DeviseScope is the Warden scope: the session key
	// "warden.user.<scope>.key" holds [[id], salt]. Default "user".
	DeviseScope string
	// Key is a plain session key holding the id, tried when the Devise key
	// is absent. Default "user_id".
	Key string
}

// UserFromSession returns the user id a session (as JSON, in the mapping
// of internal/rubymarshal for Marshal sessions) belongs to: Devise's
// warden.user.<scope>.key ([[id], salt]) first, then the plain key. Ids may
// be strings or integers; integers are kept exactly as written.
func UserFromSession(session []byte, o IdentityOptions) (string, error) {
	if o.DeviseScope == "" {
		o.DeviseScope = "user"
	}
	if o.Key == "" {
		o.Key = "user_id"
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(session, &m); err != nil {
		return "", errors.New("session is not a JSON object")
	}
	devise := "warden.user." + o.DeviseScope + ".key"
	if v, ok := m[devise]; ok {
		var key []json.RawMessage // [[id], salt]
		var ids []json.RawMessage
		if json.Unmarshal(v, &key) != nil || len(key) == 0 || json.Unmarshal(key[0], &ids) != nil || len(ids) == 0 {
			return "", fmt.Errorf("%q is not Devise's [[id], salt]", devise)
		}
		return idText(ids[0], devise)
	}
	if v, ok := m[o.Key]; ok {
		return idText(v, o.Key)
	}
	return "", fmt.Errorf("session has neither %q nor %q", devise, o.Key)
}

// SessionField returns the user id held by one field of a session JSON
// object: a non-empty string or an integer, kept exactly as written.
func SessionField(session []byte, field string) (string, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(session, &m); err != nil {
		return "", errors.New("session is not a JSON object")
	}
	v, ok := m[field]
	if !ok {
		return "", fmt.Errorf("no %q field", field)
	}
	return idText(v, field)
}

// idText reads an id: a non-empty string or a JSON integer.
func idText(v json.RawMessage, field string) (string, error) {
	var s string
	if json.Unmarshal(v, &s) == nil && s != "" {
		return s, nil
	}
	if t := bytes.TrimSpace(v); isInteger(t) {
		return string(t), nil
	}
	return "", fmt.Errorf("%q is not a string or an integer id", field)
}

// isInteger reports whether b is a JSON integer literal.
func isInteger(b []byte) bool {
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
	}
	if len(b) == 0 || (b[0] == '0' && len(b) > 1) {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
