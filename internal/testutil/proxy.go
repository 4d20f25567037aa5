package testutil

import (
	"bytes"
	"encoding/json"
	"testing"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"
)

// Proxy is a TCP proxy between the code under test and one upstream (a
// Redis), run in-process with Shopify's toxiproxy, that a test can make
// slow or break: added latency, connections cut, or the proxy switched off.
type Proxy struct {
	tb    testing.TB
	proxy *toxiproxy.Proxy
	addr  string
}

// Toxic is one way of spoiling the connections through a Proxy. Type and
// Attributes are toxiproxy's (see its README), for example:
//
//	{Type: "latency", Attributes: {"latency": 50}}  // ms added to every chunk
//	{Type: "reset_peer", Attributes: {"timeout": 0}} // RST on the first data
//	{Type: "limit_data", Attributes: {"bytes": 4096}} // close after so many bytes
//	{Type: "timeout", Attributes: {"timeout": 100}} // swallow data, close after 100 ms
type Toxic struct {
	// Name identifies the toxic for RemoveToxic; it must be unique on the
	// proxy.
	Name string
	Type string
	// Stream is "downstream" (upstream's replies to the client, the
	// default) or "upstream" (the client's requests).
	Stream string
	// Toxicity is the share of connections the toxic applies to, each
	// connection drawn once; 0 means all of them.
	Toxicity   float32
	Attributes map[string]any
}

// StartProxy starts a proxy on a free loopback port that forwards every
// connection to upstream ("host:port"), and stops it in t.Cleanup. Nothing
// is dialled until a client connects.
func StartProxy(t testing.TB, upstream string) *Proxy {
	t.Helper()
	// No metrics, no logging: toxiproxy's zerolog output would only be
	// noise in test logs.
	server := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	p := toxiproxy.NewProxy(server, "redis", "127.0.0.1:0", upstream)
	if err := p.Start(); err != nil {
		t.Fatalf("start proxy to %s: %v", upstream, err)
	}
	t.Cleanup(p.Stop)
	// Start bound the port and wrote it back into Listen, so an Enable
	// after a Disable listens on the same address.
	return &Proxy{tb: t, proxy: p, addr: p.Listen}
}

// Addr is the proxy's address, "127.0.0.1:port".
func (p *Proxy) Addr() string { return p.addr }

// AddToxic spoils every connection through the proxy, open or new, as tx
// says.
func (p *Proxy) AddToxic(tx Toxic) {
	p.tb.Helper()
	body := struct {
		Name       string         `json:"name"`
		Type       string         `json:"type"`
		Stream     string         `json:"stream"`
		Toxicity   float32        `json:"toxicity"`
		Attributes map[string]any `json:"attributes"`
	}{tx.Name, tx.Type, tx.Stream, tx.Toxicity, tx.Attributes}
	if body.Stream == "" {
		body.Stream = "downstream"
	}
	if body.Toxicity == 0 {
		body.Toxicity = 1
	}
	raw, err := json.Marshal(body)
	if err != nil {
		p.tb.Fatalf("toxic %s: %v", tx.Name, err)
	}
	if _, err := p.proxy.Toxics.AddToxicJson(bytes.NewReader(raw)); err != nil {
		p.tb.Fatalf("add toxic %s: %v", raw, err)
	}
}

// RemoveToxic takes a toxic added by AddToxic away again.
func (p *Proxy) RemoveToxic(name string) {
	p.tb.Helper()
	if err := p.proxy.Toxics.RemoveToxic(p.tb.Context(), name); err != nil {
		p.tb.Fatalf("remove toxic %s: %v", name, err)
	}
}

// Disable closes every connection through the proxy and refuses new ones,
// as when the network to the upstream is gone.
func (p *Proxy) Disable() { p.proxy.Stop() }

// Enable accepts connections again, on the same address, after Disable.
func (p *Proxy) Enable() {
	p.tb.Helper()
	if err := p.proxy.Start(); err != nil && err != toxiproxy.ErrProxyAlreadyStarted {
		p.tb.Fatalf("enable proxy on %s: %v", p.addr, err)
	}
}
