package rubymarshal

import "testing"

// BenchmarkDecodeDeviseSession decodes a typical Devise session (the
// devise_session vector: session_id, warden.user.user.key,
// warden.user.user.session, _csrf_token, flash; 337 bytes) and reads the
// user id from it, as herald does per connection.
func BenchmarkDecodeDeviseSession(b *testing.B) {
	data := vector(b, "devise_session")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		v, err := Decode(data, nil)
		if err != nil {
			b.Fatal(err)
		}
		if id, _ := userID(v); id != int64(42) {
			b.Fatalf("user id %v", id)
		}
	}
}

// BenchmarkDecodeStoreValue decodes what redis-actionpack stored for a
// Devise session.
func BenchmarkDecodeStoreValue(b *testing.B) {
	var data []byte
	for _, c := range storeCases(b) {
		if c.Name == "redis_actionpack_devise" {
			data = unhex(b, c.ValueHex)
		}
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(data, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkToJSONDeviseSession maps the decoded session to JSON, as
// `herald session decode` does.
func BenchmarkToJSONDeviseSession(b *testing.B) {
	v, err := Decode(vector(b, "devise_session"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ToJSON(v); err != nil {
			b.Fatal(err)
		}
	}
}
