package app_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

// BenchmarkSaveToWatcher measures how long a save takes to reach every
// watcher of the journey on one instance (Redis store), against the save
// call itself measured in the same run. Run it with:
//
//	go test ./internal/app -run '^$' -bench SaveToWatcher -benchtime 200x
func BenchmarkSaveToWatcher(b *testing.B) {
	for _, watchers := range []int{1, 1000, 10000} {
		b.Run(fmt.Sprintf("watchers=%d", watchers), func(b *testing.B) {
			benchSaveToWatcher(b, watchers)
		})
	}
}

func benchSaveToWatcher(b *testing.B, watchers int) {
	h := start(b, redisStore)
	j := newJourney(b, h, "c-42")
	ctx := as(b, websiteToken)

	// Spread the streams over a few connections, as many browsers would.
	const conns = 8
	var clients []handoffv1.JourneyServiceClient
	for range conns {
		c, err := grpc.NewClient(h.app.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		require.NoError(b, err)
		b.Cleanup(func() { _ = c.Close() })
		clients = append(clients, handoffv1.NewJourneyServiceClient(c))
	}
	d := newDeliveries(watchers)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var opened sync.WaitGroup
	for w := range watchers {
		opened.Add(1)
		go func() {
			stream, err := clients[w%conns].WatchJourney(wctx, &handoffv1.WatchJourneyRequest{Name: j.GetName()})
			if err == nil {
				_, err = stream.Recv()
			}
			opened.Done()
			if err != nil {
				return
			}
			for {
				c, err := stream.Recv()
				if err != nil {
					return
				}
				d.arrived(c.GetRevision())
			}
		}()
	}
	opened.Wait()
	require.Equal(b, watchers, h.app.OpenWatches())

	d.saveAndReport(b, ctx, h, j)
	b.ReportMetric(float64(redisClients(b, h.redis.Addr())), "redis-conns")
}

// redisClients is how many connections Redis has, less the one asking.
func redisClients(b *testing.B, addr string) int {
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	defer c.Close()
	info, err := c.Info(context.Background(), "clients").Result()
	require.NoError(b, err)
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "connected_clients:"); ok {
			n, _ := strconv.Atoi(v)
			return n - 1
		}
	}
	return -1
}

// BenchmarkSaveToSSEWatcher is BenchmarkSaveToWatcher for browsers: each
// watcher reads Server-Sent Events through the REST gateway (one HTTP/1.1
// connection each, as EventSource opens them). Run it with:
//
//	go test ./internal/app -run '^$' -bench SaveToSSEWatcher -benchtime 200x
func BenchmarkSaveToSSEWatcher(b *testing.B) {
	for _, watchers := range []int{1, 1000} {
		b.Run(fmt.Sprintf("watchers=%d", watchers), func(b *testing.B) {
			benchSaveToSSEWatcher(b, watchers)
		})
	}
}

func benchSaveToSSEWatcher(b *testing.B, watchers int) {
	h := start(b, redisStore)
	j := newJourney(b, h, "c-42")
	ctx := as(b, websiteToken)
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: watchers}}
	b.Cleanup(client.CloseIdleConnections)
	d := newDeliveries(watchers)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var opened sync.WaitGroup
	url := h.base + "/v1/" + j.GetName() + ":watch"
	for range watchers {
		opened.Add(1)
		go func() {
			req, err := http.NewRequestWithContext(wctx, http.MethodGet, url, nil)
			if err != nil {
				opened.Done()
				return
			}
			req.Header.Set("Authorization", "Bearer "+websiteToken)
			req.Header.Set("Accept", "text/event-stream")
			req.Header.Set("Last-Event-ID", strconv.FormatInt(j.GetRevision(), 10))
			resp, err := client.Do(req)
			opened.Done()
			if err != nil {
				return
			}
			defer resp.Body.Close()
			lines := bufio.NewReader(resp.Body)
			for {
				line, err := lines.ReadString('\n')
				if err != nil {
					return
				}
				if v, ok := strings.CutPrefix(strings.TrimSpace(line), "id: "); ok {
					rev, _ := strconv.ParseInt(v, 10, 64)
					d.arrived(rev)
				}
			}
		}()
	}
	opened.Wait()
	require.Eventually(b, func() bool { return h.app.OpenWatches() == watchers }, 30*time.Second, 10*time.Millisecond)

	d.saveAndReport(b, ctx, h, j)
}

// deliveries times each save from just before it is sent until each of the
// watchers has received it.
type deliveries struct {
	watchers  int
	sentAt    sync.Map // revision → time.Time
	mu        sync.Mutex
	latencies []time.Duration
	received  chan struct{}
}

func newDeliveries(watchers int) *deliveries {
	return &deliveries{watchers: watchers, received: make(chan struct{}, watchers)}
}

// arrived notes that a watcher received revision rev; revisions no save
// of the loop made (a watch's start) are not counted.
func (d *deliveries) arrived(rev int64) {
	at, ok := d.sentAt.Load(rev)
	if !ok {
		return
	}
	latency := time.Since(at.(time.Time))
	d.mu.Lock()
	d.latencies = append(d.latencies, latency)
	d.mu.Unlock()
	d.received <- struct{}{}
}

// saveAndReport saves to j once per benchmark iteration, waits until every
// watcher received the save, and reports the save's and the deliveries'
// percentiles.
func (d *deliveries) saveAndReport(b *testing.B, ctx context.Context, h *harness, j *handoffv1.Journey) {
	var saveTimes []time.Duration
	rev := j.GetRevision()
	for i := 0; b.Loop(); i++ {
		rev++
		began := time.Now()
		d.sentAt.Store(rev, began)
		require.NoError(b, saveAnswer(ctx, h.api, j.GetName(), "n", i))
		saveTimes = append(saveTimes, time.Since(began))
		for range d.watchers {
			<-d.received
		}
	}
	b.StopTimer()

	p := func(ds []time.Duration, q float64) float64 {
		slices.Sort(ds)
		return float64(ds[int(q*float64(len(ds)-1))].Microseconds())
	}
	save50 := p(saveTimes, 0.5)
	b.ReportMetric(save50, "save-p50-µs")
	b.ReportMetric(p(d.latencies, 0.5), "watch-p50-µs")
	b.ReportMetric(p(d.latencies, 0.99), "watch-p99-µs")
	b.ReportMetric(p(d.latencies, 0.5)/save50, "watch-p50/save-p50")
}
