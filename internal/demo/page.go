package demo

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"html/template"
	"net/http"
	"time"
)

//go:embed page.html
var pageHTML string

var pageTmpl = template.Must(template.New("page").Parse(pageHTML))

var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>herald demo: error</title><link rel="icon" href="data:,"></head>
<body><p data-testid="error">{{.}}</p><p><a href="/">Back to the demo</a></p></body></html>
`))

// bundle is socket.io-client's browser build, vendored from npm by
// scripts/update-client-bundle.sh (MIT, see static/LICENSE.socket.io-client).
//
//go:embed static/socket.io.min.js
var bundle []byte

// bundleTag identifies the bundle's content: its ETag, and the query
// string the page loads it with, so that a new bundle is never hidden by
// the long cache lifetime of the old one.
var bundleTag = func() string {
	sum := sha256.Sum256(bundle)
	return hex.EncodeToString(sum[:8])
}()

func serveBundle(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", `"`+bundleTag+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "socket.io.min.js", time.Time{}, bytes.NewReader(bundle))
}

type pageData struct {
	Nonce     string
	BundleURL string
	Cookie    string
	User      *session
}

func (h *handler) page(w http.ResponseWriter, r *http.Request) {
	d := pageData{
		Nonce:     nonce(),
		BundleURL: "/socket.io.min.js?v=" + bundleTag,
		Cookie:    h.opts.Cookie,
	}
	if token, ok := h.cookie(r); ok {
		d.User = h.signed.get(token)
	}
	var b bytes.Buffer
	if err := pageTmpl.Execute(&b, d); err != nil {
		h.log.Error("demo: rendering the page", "err", err)
		http.Error(w, "cannot render the page", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("X-Frame-Options", "DENY")
	// Nothing but this page's own inline script and style, the bundle, and
	// connections (polling, WebSocket) to this origin.
	hd.Set("Content-Security-Policy", "default-src 'none'; "+
		"script-src 'self' 'nonce-"+d.Nonce+"'; style-src 'nonce-"+d.Nonce+"'; "+
		"connect-src 'self'; img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	_, _ = w.Write(b.Bytes())
}

func nonce() string {
	p := make([]byte, 18)
	_, _ = rand.Read(p) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(p)
}
