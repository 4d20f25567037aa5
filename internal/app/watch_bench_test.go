package app_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/config"
	"github.com/journeyhandoff/handoff/internal/loadgen"
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

// BenchmarkSaveToLeanWatcher is BenchmarkSaveToWatcher with watchers that
// cost this machine almost nothing (leanWatchConn: one reader per
// connection, only the revision read), as if they ran on other machines:
// what it measures is handoffd. Run it with:
//
//	go test ./internal/app -run '^$' -bench SaveToLeanWatcher -benchtime 200x
func BenchmarkSaveToLeanWatcher(b *testing.B) {
	for _, run := range []struct {
		watchers int
		every    time.Duration // between saves; 0: each save as soon as the last reached every watcher
	}{{1, 0}, {1000, 0}, {10000, 0}, {10000, 100 * time.Millisecond}} {
		name := fmt.Sprintf("watchers=%d", run.watchers)
		if run.every > 0 {
			name += "/every=" + run.every.String()
		}
		b.Run(name, func(b *testing.B) {
			h := start(b, redisStore, quietLogs)
			j := newJourney(b, h, "c-42")
			d := newDeliveries(run.watchers)
			d.every = run.every
			openLeanWatchers(b, h, run.watchers, func(int) *handoffv1.Journey { return j }, func(_ int, rev int64) { d.arrived(rev) })
			cpu := processCPU(b)
			d.saveAndReport(b, as(b, websiteToken), h, j)
			b.ReportMetric(float64((processCPU(b)-cpu).Microseconds())/float64(b.N*run.watchers), "cpu-µs/delivery")
		})
	}
}

// BenchmarkSaveToWatchersOfManyJourneys spreads 100,000 lean watchers
// over 10,000 journeys, ten each, and saves those journeys in turn at a
// steady 1,000 saves/s (each save reaches ten watchers), timing each save
// from just before it is sent until each of its watchers received it. Run
// it with:
//
//	go test ./internal/app -run '^$' -bench SaveToWatchersOfManyJourneys -benchtime 5000x -timeout 30m
func BenchmarkSaveToWatchersOfManyJourneys(b *testing.B) {
	const journeys, perJourney, rate = 10000, 10, 1000
	h := start(b, redisStore, quietLogs)
	ctx := as(b, websiteToken)
	js := make([]*handoffv1.Journey, journeys)
	var created sync.WaitGroup
	for w := range 8 {
		created.Go(func() {
			for k := w; k < journeys; k += 8 {
				js[k] = newJourney(b, h, fmt.Sprintf("c-%d", k))
			}
		})
	}
	created.Wait()

	// A delivery is known by its journey and revision: k<<32 | revision.
	d := newDeliveries(perJourney)
	var arrivals atomic.Int64
	d.received = nil
	openLeanWatchers(b, h, journeys*perJourney, func(i int) *handoffv1.Journey { return js[i/perJourney] }, func(watch int, rev int64) {
		if d.arrived(int64(watch/perJourney)<<32 | rev) {
			arrivals.Add(1)
		}
	})
	goroutines := runtime.NumGoroutine()

	revs := make([]int64, journeys)
	for k, j := range js {
		revs[k] = j.GetRevision()
	}
	var mu sync.Mutex
	var saveTimes []time.Duration
	var saving sync.WaitGroup
	cpu := processCPU(b)
	began := time.Now()
	for i := 0; b.Loop(); i++ {
		time.Sleep(time.Until(began.Add(time.Duration(i) * time.Second / rate)))
		k := i % journeys
		revs[k]++
		d.sending(int64(k)<<32 | revs[k])
		saving.Go(func() {
			sent := time.Now()
			require.NoError(b, saveAnswer(ctx, h.api, js[k].GetName(), "n", i))
			mu.Lock()
			saveTimes = append(saveTimes, time.Since(sent))
			mu.Unlock()
		})
	}
	saving.Wait()
	want := int64(b.N * perJourney)
	require.Eventually(b, func() bool { return arrivals.Load() == want }, time.Minute, time.Millisecond,
		"every save reaches each of its watchers")
	b.StopTimer()
	b.ReportMetric(float64((processCPU(b)-cpu).Microseconds())/float64(want), "cpu-µs/delivery")
	b.ReportMetric(float64(goroutines)/float64(journeys*perJourney), "goroutines/watcher")
	reportLatencies(b, saveTimes, d.latencies)
}

// quietLogs logs only warnings: the harness otherwise keeps every line in
// memory, and a benchmark's are many.
func quietLogs(c *config.Config) { c.LogLevel = slog.LevelWarn }

// openLeanWatchers opens n watches, watch i of journeyOf(i), over eight
// lean connections, and waits until handoffd follows them all.
func openLeanWatchers(b *testing.B, h *harness, n int, journeyOf func(int) *handoffv1.Journey, arrived func(watch int, rev int64)) {
	const conns = 8
	var cs []*leanWatchConn
	for range conns {
		cs = append(cs, dialLeanWatch(b, h.app.GRPCAddr(), websiteToken, arrived))
	}
	// A thousand at a time: a hundred thousand browsers opening their
	// watches in the same millisecond would find the store's connection
	// pool full (UNAVAILABLE, and they would retry).
	const batch = 1000
	began := time.Now()
	for i := range n {
		j := journeyOf(i)
		require.NoError(b, cs[i%conns].open(j.GetName(), 0, i)) // from a snapshot: its first message
		if (i+1)%batch != 0 && i != n-1 {
			continue
		}
		for h.app.OpenWatches() < i+1 {
			for _, c := range cs {
				ended, status := c.ended()
				require.Zero(b, ended, "a watch ended: %s", status)
			}
			require.Less(b, time.Since(began), 10*time.Minute, "%d of %d watches open", h.app.OpenWatches(), n)
			time.Sleep(time.Millisecond)
		}
	}
	// Open, and each has its first message: the snapshot it starts from.
	started := func() (n int) {
		for _, c := range cs {
			n += int(c.started.Load())
		}
		return n
	}
	for started() < n {
		require.Less(b, time.Since(began), 10*time.Minute, "%d of %d watches started", started(), n)
		time.Sleep(time.Millisecond)
	}
	b.Logf("%d watches opened in %v", n, time.Since(began).Round(time.Millisecond))
}

// processCPU is the CPU time this process has spent, user and system.
func processCPU(b *testing.B) time.Duration {
	p, err := loadgen.SampleProc(os.Getpid())
	require.NoError(b, err)
	return p.CPU
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
// watchers has received it. It runs in handoffd's process: what it
// allocates per delivery, the server's collector would collect.
type deliveries struct {
	watchers  int
	every     time.Duration // saveAndReport's pace; 0: back to back
	mu        sync.Mutex
	sentAt    map[int64]time.Time // by revision
	latencies []time.Duration
	received  chan struct{}
}

func newDeliveries(watchers int) *deliveries {
	return &deliveries{watchers: watchers, sentAt: map[int64]time.Time{}, received: make(chan struct{}, watchers)}
}

// sending notes that the save of revision rev is about to be sent, and
// makes room for its deliveries.
func (d *deliveries) sending(rev int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.latencies = slices.Grow(d.latencies, d.watchers)
	d.sentAt[rev] = time.Now()
}

// arrived notes that a watcher received revision rev, and reports whether
// a save of the loop made it (a watch's start is not counted).
func (d *deliveries) arrived(rev int64) bool {
	d.mu.Lock()
	at, ok := d.sentAt[rev]
	if ok {
		d.latencies = append(d.latencies, time.Since(at))
	}
	d.mu.Unlock()
	if ok && d.received != nil {
		d.received <- struct{}{}
	}
	return ok
}

// saveAndReport saves to j once per benchmark iteration (at most one per
// d.every), waits until every watcher received the save, and reports the save's and the deliveries'
// percentiles.
func (d *deliveries) saveAndReport(b *testing.B, ctx context.Context, h *harness, j *handoffv1.Journey) {
	var saveTimes []time.Duration
	rev := j.GetRevision()
	// A warm-up save, not measured: a stream's first change costs more
	// than the next (buffers, stacks grown), and watches open over time.
	rev++
	d.sending(rev)
	require.NoError(b, saveAnswer(ctx, h.api, j.GetName(), "n", -1))
	for range d.watchers {
		<-d.received
	}
	d.mu.Lock()
	d.latencies = d.latencies[:0]
	d.mu.Unlock()
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		time.Sleep(time.Until(start.Add(time.Duration(i) * d.every)))
		rev++
		d.sending(rev)
		began := time.Now()
		require.NoError(b, saveAnswer(ctx, h.api, j.GetName(), "n", i))
		saveTimes = append(saveTimes, time.Since(began))
		for range d.watchers {
			<-d.received
		}
	}
	b.StopTimer()
	reportLatencies(b, saveTimes, d.latencies)
}

// reportLatencies reports the percentiles of the saves' and the
// deliveries' latencies.
func reportLatencies(b *testing.B, saveTimes, deliveries []time.Duration) {
	p := func(ds []time.Duration, q float64) float64 {
		slices.Sort(ds)
		return float64(ds[int(q*float64(len(ds)-1))].Microseconds())
	}
	save50 := p(saveTimes, 0.5)
	b.ReportMetric(save50, "save-p50-µs")
	b.ReportMetric(p(deliveries, 0.5), "watch-p50-µs")
	b.ReportMetric(p(deliveries, 0.9), "watch-p90-µs")
	b.ReportMetric(p(deliveries, 0.99), "watch-p99-µs")
	b.ReportMetric(p(deliveries, 0.5)/save50, "watch-p50/save-p50")
}
