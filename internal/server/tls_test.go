package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLoadTLS(t *testing.T) {
	tests := []struct {
		name     string
		dns      []string
		ips      []net.IP
		wantName string
	}{
		{name: "a_dns_name_is_used_first", dns: []string{"handoff.internal", "localhost"}, ips: []net.IP{net.IPv4(127, 0, 0, 1)}, wantName: "handoff.internal"},
		{name: "a_wildcard_becomes_a_name_it_covers", dns: []string{"*.handoff.internal"}, wantName: "gateway.handoff.internal"},
		{name: "an_ip_address_alone_will_do", ips: []net.IP{net.IPv4(10, 1, 2, 3)}, wantName: "10.1.2.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			certFile, keyFile := selfSigned(t, tt.dns, tt.ips)
			c, err := LoadTLS(certFile, keyFile)
			require.NoError(t, err)
			require.Equal(t, tt.wantName, c.gateway.ServerName)
			require.False(t, c.gateway.InsecureSkipVerify)
			require.Equal(t, uint16(tls.VersionTLS12), c.server.MinVersion)
			// The gateway's settings verify the server's own certificate...
			require.NoError(t, handshake(t, c.server, c.gateway))

			// ...and no other one, even for the same names.
			otherCert, otherKey := selfSigned(t, tt.dns, tt.ips)
			other, err := LoadTLS(otherCert, otherKey)
			require.NoError(t, err)
			require.ErrorContains(t, handshake(t, other.server, c.gateway), "certificate signed by unknown authority")
		})
	}

	t.Run("a_certificate_without_subject_alternative_names_is_refused", func(t *testing.T) {
		certFile, keyFile := selfSigned(t, nil, nil)
		_, err := LoadTLS(certFile, keyFile)
		require.ErrorContains(t, err, "names no host in a subject alternative name")
	})
}

// handshake runs a TLS handshake between server and client settings over a
// loopback connection and returns the client's error.
func handshake(t *testing.T, server, client *tls.Config) error {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		_ = tls.Server(c, server).Handshake()
	}()
	c, err := net.DialTimeout("tcp", l.Addr().String(), 5*time.Second)
	require.NoError(t, err)
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	err = tls.Client(c, client).Handshake()
	_ = c.Close()
	<-done
	return err
}

// selfSigned writes a self-signed certificate (CN "handoff test") with
// these subject alternative names, and its key.
func selfSigned(t *testing.T, dns []string, ips []net.IP) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "handoff test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     dns,
		IPAddresses:  ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))
	return certFile, keyFile
}
