package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// TLS is the transport security of both listeners: one certificate, TLS 1.2
// or newer, loaded once at start.
type TLS struct {
	server  *tls.Config
	gateway *tls.Config
	leaf    *x509.Certificate
}

// LoadTLS reads a PEM certificate (chain) and its private key. The gateway
// will trust exactly that certificate when it dials our own gRPC server,
// under a name the certificate carries, so no CA bundle is needed for the
// loop and nothing skips verification.
func LoadTLS(certFile, keyFile string) (*TLS, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("loading the certificate and its key: %w", err)
	}
	leaf := cert.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("parsing the certificate: %w", err)
		}
	}
	name, err := nameIn(leaf)
	if err != nil {
		return nil, err
	}
	// Only the leaf: trusting its CA too would let the gateway accept any
	// certificate that CA signed for the name.
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return &TLS{
		server:  &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		gateway: &tls.Config{RootCAs: roots, ServerName: name, MinVersion: tls.VersionTLS12},
		leaf:    leaf,
	}, nil
}

// nameIn picks a name the certificate verifies for. Go checks only subject
// alternative names (never the common name), and a wildcard is not a name
// one can dial, so "*.example.com" becomes "gateway.example.com".
func nameIn(leaf *x509.Certificate) (string, error) {
	if len(leaf.DNSNames) > 0 {
		n := leaf.DNSNames[0]
		if rest, ok := strings.CutPrefix(n, "*."); ok {
			return "gateway." + rest, nil
		}
		return n, nil
	}
	if len(leaf.IPAddresses) > 0 {
		return leaf.IPAddresses[0].String(), nil
	}
	return "", errors.New("the certificate names no host in a subject alternative name (DNS or IP), so no client can verify it; issue it with the names clients dial")
}

// GRPCListener wraps the gRPC listener so every connection is TLS. The
// listener, not grpc.Creds, does the handshake: the gRPC server is built
// without credentials. ALPN must offer h2, which gRPC clients require.
func (t *TLS) GRPCListener(l net.Listener) net.Listener {
	c := t.server.Clone()
	c.NextProtos = []string{"h2"}
	return tls.NewListener(l, c)
}

// HTTPConfig is the http.Server's TLSConfig; ServeTLS adds h2 and http/1.1.
func (t *TLS) HTTPConfig() *tls.Config { return t.server.Clone() }

// Names are the certificate's DNS and IP subject alternative names.
func (t *TLS) Names() []string {
	names := append([]string(nil), t.leaf.DNSNames...)
	for _, ip := range t.leaf.IPAddresses {
		names = append(names, ip.String())
	}
	return names
}

// NotAfter is when the certificate expires.
func (t *TLS) NotAfter() time.Time { return t.leaf.NotAfter }
