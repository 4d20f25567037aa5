// Package web holds the browser side of handoff: the agent console
// (/console), the demo quote website (/demo) and the website kit
// (/sdk/handoff.js), plain HTML, CSS and ES modules embedded in the binary.
// There is no build step: what is in static/ is what the browser gets.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// Files is the embedded tree as served: console/, demo/, sdk/, forms/,
// assets/ and index.html.
var Files = mustSub(static, "static")

// sections are the top-level folders served under their own name; a
// request for the bare folder (/console) gets its index.html.
var sections = map[string]bool{"console": true, "demo": true, "sdk": true, "forms": true, "assets": true}

// contentSecurityPolicy allows nothing but this origin: no inline script or
// style, no framing. connect-src covers fetch and EventSource to the API.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Handler serves the embedded files: `/` (a page of links), `/console`,
// `/demo`, `/sdk/handoff.js` and what those pages load. Anything else is
// 404, so it can be mounted at "/" beside the API.
func Handler() http.Handler {
	etags := map[string]string{}
	_ = fs.WalkDir(Files, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(Files, p)
			sum := sha256.Sum256(b)
			etags[p] = `"` + hex.EncodeToString(sum[:8]) + `"`
		}
		return nil
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name, ok := fileFor(r.URL.Path)
		if !ok {
			http.NotFound(w, r)
			return
		}
		b, err := fs.ReadFile(Files, name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		// The demo and the console may carry a token in their URL.
		h.Set("Referrer-Policy", "no-referrer")
		// Always revalidate: a new handoffd must not run against old scripts.
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", etags[name])
		if strings.HasPrefix(name, "sdk/") {
			// A module script from another origin is fetched with CORS.
			h.Set("Access-Control-Allow-Origin", "*")
		}
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
	})
}

// fileFor maps a URL path to an embedded file: /console and /console/ to
// console/index.html, /console/app.js to console/app.js.
func fileFor(urlPath string) (string, bool) {
	if urlPath == "/" {
		return "index.html", true
	}
	clean := path.Clean(urlPath)
	if clean != strings.TrimSuffix(urlPath, "/") || strings.Contains(clean, "..") {
		return "", false
	}
	section, rest, _ := strings.Cut(strings.TrimPrefix(clean, "/"), "/")
	if !sections[section] {
		return "", false
	}
	if rest == "" {
		return section + "/index.html", true
	}
	return section + "/" + rest, true
}

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic("web: " + err.Error())
	}
	return sub
}
