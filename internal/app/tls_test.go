package app_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/app"
	"github.com/journeyhandoff/handoff/internal/config"
	"github.com/journeyhandoff/handoff/internal/testutil"
)

// startTLS runs handoffd serving TLS with certs. h.conn and h.api speak
// TLS, trusting certs' CA; plaintext is a client that does not.
func startTLS(t *testing.T, kind storeKind, certs *testutil.Certificates, change ...func(*config.Config)) (h *harness, plaintext handoffv1.JourneyServiceClient) {
	t.Helper()
	h = start(t, kind, append([]func(*config.Config){func(c *config.Config) {
		c.TLSCertFile, c.TLSKeyFile = certs.CertFile, certs.KeyFile
	}}, change...)...)
	// start dials with insecure credentials; its cleanup closes whatever
	// h.conn is by then, so this one is closed here.
	plainConn := h.conn
	t.Cleanup(func() { _ = plainConn.Close() })
	plaintext = h.api
	conn, err := grpc.NewClient(h.app.GRPCAddr(), grpc.WithTransportCredentials(credentials.NewTLS(clientTLS(certs))))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	h.conn, h.api = conn, handoffv1.NewJourneyServiceClient(conn)
	h.base = "https://" + h.app.HTTPAddr()
	return h, plaintext
}

func clientTLS(certs *testutil.Certificates) *tls.Config {
	return &tls.Config{RootCAs: certs.Pool, MinVersion: tls.VersionTLS12}
}

func TestTLS(t *testing.T) {
	certs := testutil.WriteCertificates(t)
	h, plaintext := startTLS(t, memoryStore, certs)
	j := newJourney(t, h, "c-42") // over TLS
	https := &http.Client{Transport: &http.Transport{TLSClientConfig: clientTLS(certs)}, Timeout: 10 * time.Second}
	t.Cleanup(https.CloseIdleConnections)

	t.Run("grpc_over_tls_works", func(t *testing.T) {
		var p peer.Peer
		got, err := h.api.GetJourney(as(t, c42Token), &handoffv1.GetJourneyRequest{Name: j.GetName()}, grpc.Peer(&p))
		require.NoError(t, err)
		require.Equal(t, "vehicle", got.GetStep())
		info, ok := p.AuthInfo.(credentials.TLSInfo)
		require.True(t, ok, "the call's transport is %T, not TLS", p.AuthInfo)
		require.GreaterOrEqual(t, info.State.Version, uint16(tls.VersionTLS12))
		require.Equal(t, "h2", info.State.NegotiatedProtocol)
	})

	t.Run("a_plaintext_grpc_client_fails", func(t *testing.T) {
		_, err := plaintext.GetJourney(as(t, c42Token), &handoffv1.GetJourneyRequest{Name: j.GetName()})
		requireCode(t, err, codes.Unavailable)
	})

	t.Run("a_grpc_client_that_does_not_trust_the_ca_fails", func(t *testing.T) {
		conn, err := grpc.NewClient(h.app.GRPCAddr(), grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS12})))
		require.NoError(t, err)
		t.Cleanup(func() { _ = conn.Close() })
		_, err = handoffv1.NewJourneyServiceClient(conn).GetJourney(as(t, c42Token), &handoffv1.GetJourneyRequest{Name: j.GetName()})
		st := requireCode(t, err, codes.Unavailable)
		require.Contains(t, st.Message(), "certificate signed by unknown authority")
	})

	t.Run("rest_over_https_goes_through_the_gateway", func(t *testing.T) {
		// The answer comes from the gRPC server, so the gateway's own TLS
		// dial to it works.
		req, err := newRequest(t.Context(), h.base+"/v1/"+j.GetName(), c42Token)
		require.NoError(t, err)
		resp, err := https.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.NotNil(t, resp.TLS)
		require.GreaterOrEqual(t, resp.TLS.Version, uint16(tls.VersionTLS12))
		var got map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
		require.Equal(t, j.GetName(), got["name"])
		require.Equal(t, "vehicle", got["step"])
	})

	t.Run("over_http2_a_refused_body_ends_its_stream_alone", func(t *testing.T) {
		h2 := &http.Client{Transport: &http.Transport{TLSClientConfig: clientTLS(certs), ForceAttemptHTTP2: true}, Timeout: 10 * time.Second}
		t.Cleanup(h2.CloseIdleConnections)
		save := func(token string) int {
			body := `{"data": {"notes": "` + strings.Repeat("x", 10<<10) + `"}}`
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPatch, h.base+"/v1/"+j.GetName(), strings.NewReader(body))
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := h2.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			_, _ = io.Copy(io.Discard, resp.Body)
			require.Equal(t, 2, resp.ProtoMajor)
			return resp.StatusCode
		}
		require.Equal(t, http.StatusUnauthorized, save("not-a-token"), "a large body needs a good token")
		require.Equal(t, http.StatusOK, save(websiteToken), "the connection still serves")
	})

	t.Run("plain_http_to_the_https_port_fails", func(t *testing.T) {
		req, err := newRequest(t.Context(), "http://"+h.app.HTTPAddr()+"/v1/"+j.GetName(), c42Token)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		// net/http's own answer; the request never reaches the API.
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		require.Contains(t, string(body), "HTTP request to an HTTPS server")
	})

	t.Run("tls_below_1_2_is_refused_on_both_ports", func(t *testing.T) {
		for _, addr := range []string{h.app.GRPCAddr(), h.app.HTTPAddr()} {
			old := clientTLS(certs)
			old.MinVersion, old.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
			d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: old}
			conn, err := d.DialContext(t.Context(), "tcp", addr)
			if err == nil {
				_ = conn.Close()
			}
			require.ErrorContains(t, err, "protocol version", addr)
		}
	})
}

func TestRedissWithTheCAFile(t *testing.T) {
	certs := testutil.WriteCertificates(t)
	r := testutil.StartRedisTLS(t, certs)
	h, _ := startTLS(t, storeKind(r.URL()), certs, func(c *config.Config) { c.RedisCAFile = certs.CAFile })

	j := newJourney(t, h, "c-42")
	got, err := h.api.GetJourney(as(t, c42Token), &handoffv1.GetJourneyRequest{Name: j.GetName()})
	require.NoError(t, err)
	require.Equal(t, j.GetEtag(), got.GetEtag())
}

func TestTLSSettingsThatCannotWorkStopTheStart(t *testing.T) {
	certs := testutil.WriteCertificates(t)
	other := testutil.WriteCertificates(t)
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600))

	tests := []struct {
		name    string
		change  func(*config.Config)
		wantErr string
	}{
		{
			name:    "a_missing_certificate_file",
			change:  func(c *config.Config) { c.TLSCertFile, c.TLSKeyFile = filepath.Join(dir, "missing.pem"), certs.KeyFile },
			wantErr: "--tls-cert-file, --tls-key-file: loading the certificate and its key",
		},
		{
			name:    "a_key_of_another_certificate",
			change:  func(c *config.Config) { c.TLSCertFile, c.TLSKeyFile = certs.CertFile, other.KeyFile },
			wantErr: "--tls-cert-file, --tls-key-file: loading the certificate and its key",
		},
		{
			name: "a_redis_ca_file_without_a_certificate",
			change: func(c *config.Config) {
				c.RedisURL, c.RedisCAFile = "rediss://127.0.0.1:1", notPEM
			},
			wantErr: "--redis-ca-file: " + notPEM + " holds no PEM certificate",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.GRPCAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
			tt.change(&cfg)
			require.NoError(t, cfg.Validate())
			_, err := app.New(context.Background(), cfg, slog.New(slog.DiscardHandler), io.Discard)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}
