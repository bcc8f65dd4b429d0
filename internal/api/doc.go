// Package api serves POST /api/publish, the HTTP way for a Rails app to
// publish notifications: the same JSON as the Redis channel (one message
// object or an array of them; see package notify), authorised by a shared
// bearer key.
//
//	curl -X POST https://herald.example/api/publish \
//	  -H 'Authorization: Bearer <HERALD_API_KEY>' \
//	  -H 'Content-Type: application/json' \
//	  -d '{"user": 42, "data": {"title": "New comment"}}'
//
// The handler validates the whole body first, so a publish is accepted or
// rejected whole, then hands the messages to a Publisher, which sends them
// to every herald node (this node included) over Redis; it never delivers
// locally, so each socket gets a message once whichever node holds it.
//
// Answers, every body JSON (Content-Type: application/json):
//
//	202 {"published": N}      accepted: N messages were handed to Redis
//	400 {"error": "..."}      the body is not a valid publish; the text
//	                          names the message and field (see notify.Parse)
//	401 {"error": "..."}      missing or wrong key (WWW-Authenticate: Bearer)
//	404 {"error": "..."}      no key is configured: the API is off
//	405 {"error": "..."}      not POST (Allow: POST)
//	413 {"error": "..."}      body larger than Options.MaxBody (1 MiB)
//	415 {"error": "..."}      Content-Type is not application/json, or the
//	                          body is compressed (Content-Encoding)
//	503 {"error": "could not publish: ..."}  Redis did not take the
//	                          messages within Options.Timeout; retry
//
// 202 means the messages reached Redis, not that any socket received them:
// Redis pub/sub delivers to the herald nodes subscribed at that moment.
//
// The key is compared in constant time, over SHA-256 digests so that the
// comparison takes no longer for a key of the right length; the handler
// keeps only the digest. Neither the key nor the Authorization header is
// ever logged.
package api
