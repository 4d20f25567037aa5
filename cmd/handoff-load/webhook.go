package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// roleWebhookSink is the helper role of -webhook-sink: a receiver that
// accepts every delivery at once, so what is measured is handoffd's side.
const roleWebhookSink = "webhook-sink"

// deliveriesPath answers how many deliveries the sink accepted.
const deliveriesPath = "/deliveries"

func serveWebhookSink(ctx context.Context, stdout io.Writer) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	var accepted atomic.Int64
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == deliveriesPath {
			fmt.Fprint(w, accepted.Load())
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		accepted.Add(1)
		w.WriteHeader(http.StatusNoContent)
	})}
	fmt.Fprintf(stdout, "listening %s\n", l.Addr())
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(l); err != http.ErrServerClosed {
		return err
	}
	return nil
}

func startWebhookSink(ctx context.Context, dir string) (*emptyServer, error) {
	return startRole(ctx, dir, roleWebhookSink)
}

// deliveries asks the webhook sink how many deliveries it accepted.
func (e *emptyServer) deliveries() (int64, error) {
	resp, err := http.Get("http://" + e.addr + deliveriesPath)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
}

// writeWebhooksFile writes a --webhooks-file naming the sink, with a fresh
// Standard Webhooks secret beside it.
func writeWebhooksFile(dir, addr string) (string, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return "", err
	}
	secret := filepath.Join(dir, "webhook-secret")
	if err := os.WriteFile(secret, []byte("whsec_"+base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		return "", err
	}
	file := filepath.Join(dir, "webhooks.yaml")
	yaml := fmt.Sprintf("webhooks:\n  - name: bench\n    url: http://%s/events\n    secretFile: %s\n", addr, secret)
	return file, os.WriteFile(file, []byte(yaml), 0o600)
}
