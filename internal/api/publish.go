package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heraldrt/herald/internal/notify"
)

// Publisher sends validated messages to every herald node (in production:
// one Redis PUBLISH of the canonical JSON per message, pipelined).
type Publisher interface {
	Publish(ctx context.Context, msgs []notify.Message) error
}

// Options configure NewHandler.
type Options struct {
	// Key is the bearer key clients must send. Empty turns the API off:
	// every request is answered 404.
	Key string
	// MaxBody bounds the request body in bytes. Zero or less means 1 MiB.
	MaxBody int64
	// Publisher sends accepted messages. Required when Key is set.
	Publisher Publisher
	// Logger receives one record per rejected or failed request (and one
	// at debug level per accepted one). Nil discards.
	Logger *slog.Logger
	// Timeout bounds one Publish call. Zero or less means 5 seconds.
	Timeout time.Duration
	// OnReject, if set, is called with the HTTP status of every refused
	// request (for metrics).
	OnReject func(status int)
}

// Defaults for Options.
const (
	DefaultMaxBody = 1 << 20
	DefaultTimeout = 5 * time.Second
)

type handler struct {
	enabled   bool
	keySum    [sha256.Size]byte // only the digest: the key itself is not kept
	maxBody   int64
	publisher Publisher
	log       *slog.Logger
	timeout   time.Duration
	onReject  func(status int)
}

// NewHandler returns the handler of POST /api/publish; mount it at that
// path. It panics if Key is set and Publisher is nil.
func NewHandler(o Options) http.Handler {
	h := &handler{
		enabled:   o.Key != "",
		keySum:    sha256.Sum256([]byte(o.Key)),
		maxBody:   o.MaxBody,
		publisher: o.Publisher,
		log:       o.Logger,
		timeout:   o.Timeout,
		onReject:  o.OnReject,
	}
	if h.enabled && h.publisher == nil {
		panic("api: NewHandler with a Key needs a Publisher")
	}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBody
	}
	if h.timeout <= 0 {
		h.timeout = DefaultTimeout
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.enabled {
		h.fail(w, r, http.StatusNotFound, "the publish API is disabled: set HERALD_API_KEY")
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.fail(w, r, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed: use POST")
		return
	}
	if msg, errCode := h.authorize(r); msg != "" {
		if errCode != "" {
			w.Header().Set("WWW-Authenticate", `Bearer error="`+errCode+`"`)
		} else {
			w.Header().Set("WWW-Authenticate", "Bearer")
		}
		h.fail(w, r, http.StatusUnauthorized, msg)
		return
	}
	if msg := checkContentType(r.Header); msg != "" {
		h.fail(w, r, http.StatusUnsupportedMediaType, msg)
		return
	}
	tooLarge := fmt.Sprintf("request body too large: at most %d bytes", h.maxBody)
	if r.ContentLength > h.maxBody {
		h.fail(w, r, http.StatusRequestEntityTooLarge, tooLarge)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			h.fail(w, r, http.StatusRequestEntityTooLarge, tooLarge)
			return
		}
		h.fail(w, r, http.StatusBadRequest, "could not read the request body")
		return
	}
	msgs, err := notify.Parse(body)
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	// A client that hangs up must not cut a publish in half: the
	// messages go out whole or the timeout says they did not.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), h.timeout)
	defer cancel()
	if err := h.publisher.Publish(ctx, msgs); err != nil {
		h.log.Error("api: publish failed", "remote", r.RemoteAddr, "messages", len(msgs), "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "could not publish: " + err.Error()})
		return
	}
	h.log.Debug("api: published", "remote", r.RemoteAddr, "messages", len(msgs))
	writeJSON(w, http.StatusAccepted, map[string]int{"published": len(msgs)})
}

// authorize checks the bearer key. On failure it returns the message for
// the client and the RFC 6750 error code for WWW-Authenticate ("" when the
// request carried no credentials, which RFC 6750 §3.1 says to answer
// without one).
func (h *handler) authorize(r *http.Request) (msg, errCode string) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return "missing API key: send Authorization: Bearer <key>", ""
	}
	scheme, token, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "the Authorization header must be Bearer <key>", ""
	}
	token = strings.TrimSpace(token)
	// Digests have one length whatever the key's, so the comparison takes
	// the same time for a key of any length, and is constant time.
	sum := sha256.Sum256([]byte(token))
	if token == "" || subtle.ConstantTimeCompare(sum[:], h.keySum[:]) != 1 {
		return "invalid API key", "invalid_token"
	}
	return "", ""
}

// checkContentType accepts application/json, with parameters (charset),
// uncompressed.
func checkContentType(hdr http.Header) string {
	ct := hdr.Get("Content-Type")
	if ct == "" {
		return "missing Content-Type: send application/json"
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return "unsupported Content-Type " + strconv.Quote(ct) + ": send application/json"
	}
	if ce := hdr.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return "unsupported Content-Encoding " + strconv.Quote(ce) + ": send the body uncompressed"
	}
	return ""
}

// fail answers a rejected request and logs why. It logs neither headers
// nor the body: the Authorization header holds the key, and a body may
// hold session tokens.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	level := slog.LevelInfo
	if status == http.StatusUnauthorized {
		level = slog.LevelWarn
	}
	h.log.Log(r.Context(), level, "api: request rejected", "remote", r.RemoteAddr, "method", r.Method, "status", status, "reason", msg)
	if h.onReject != nil {
		h.onReject(status)
	}
	writeJSON(w, status, map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // cannot happen for the maps above
		b = []byte(`{"error":"internal error"}`)
		status = http.StatusInternalServerError
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
