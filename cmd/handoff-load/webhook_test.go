package main

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestTheWebhookSinkCountsWhatItAccepts(t *testing.T) {
	dir := t.TempDir()
	sink, err := startWebhookSink(context.Background(), dir)
	require.NoError(t, err)
	defer func() { require.NoError(t, sink.stop(5*time.Second)) }()
	for range 3 {
		resp, err := http.Post("http://"+sink.addr+"/events", "application/json", strings.NewReader(`{"type":"journey.touched"}`))
		require.NoError(t, err)
		require.Equal(t, http.StatusNoContent, resp.StatusCode)
		resp.Body.Close()
	}
	n, err := sink.deliveries()
	require.NoError(t, err)
	require.EqualValues(t, 3, n)

	file, err := writeWebhooksFile(dir, sink.addr)
	require.NoError(t, err)
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	require.Contains(t, string(b), "url: http://"+sink.addr+"/events")
}
