package auth

import "testing"

func TestUserFromSession(t *testing.T) {
	cases := []struct {
		session string
		opts    IdentityOptions
		want    string
		ok      bool
	}{
		{`{"session_id":"x","warden.user.user.key":[[42],"$2a$12$KkZb1lQ9u8v7w6x5y4z3A."],"_csrf_token":"t"}`, IdentityOptions{}, "42", true},
		{`{"warden.user.user.key":[["0b4e7a0e-5b8f-4b5e-8f1a-3c0f6a1e2d9b"],"salt"]}`, IdentityOptions{}, "0b4e7a0e-5b8f-4b5e-8f1a-3c0f6a1e2d9b", true},
		{`{"warden.user.admin.key":[[7],"s"],"user_id":1}`, IdentityOptions{DeviseScope: "admin"}, "7", true},
		{`{"warden.user.admin.key":[[7],"s"],"user_id":1}`, IdentityOptions{}, "1", true},
		{`{"user_id":12345678901234567890}`, IdentityOptions{}, "12345678901234567890", true},
		{`{"uid":"u-9"}`, IdentityOptions{Key: "uid"}, "u-9", true},
		{`{"warden.user.user.key":"broken"}`, IdentityOptions{}, "", false},
		{`{"warden.user.user.key":[[],"s"]}`, IdentityOptions{}, "", false},
		{`{"warden.user.user.key":[[4.5],"s"]}`, IdentityOptions{}, "", false},
		{`{"user_id":null}`, IdentityOptions{}, "", false},
		{`{"user_id":""}`, IdentityOptions{}, "", false},
		{`{"flash":{}}`, IdentityOptions{}, "", false},
		{`[1]`, IdentityOptions{}, "", false},
	}
	for _, c := range cases {
		got, err := UserFromSession([]byte(c.session), c.opts)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("UserFromSession(%s, %+v) = %q, %v; want %q ok=%v", c.session, c.opts, got, err, c.want, c.ok)
		}
	}
}
