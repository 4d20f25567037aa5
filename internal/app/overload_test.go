package app_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/loadgen"
	"github.com/journeyhandoff/handoff/internal/testutil"
)

// ovSave is one save a writer made while handoffd was being stopped.
type ovSave struct {
	journey      int // index into the journeys
	step         string
	began, ended time.Time
	code         codes.Code
}

// ovStep names a save: it is the step the save sets, so the PROGRESS_SAVED
// touchpoint it leaves on the timeline says which save it was.
func ovStep(writer, seq int) string { return fmt.Sprintf("w%d-%d", writer, seq) }

func TestStoppingUnderLoadLosesNoAcknowledgedSaveAndAppliesNoneTwice(t *testing.T) {
	const writers, journeysEach = 16, 2
	r := testutil.StartRedis(t)
	a, api, stop, done, grace := startStoppable(t, r.URL())
	defer stop()

	names := make([]string, writers*journeysEach)
	etags := make([]string, len(names)) // element i is only ever touched by the writer owning journey i
	for i := range names {
		j, err := api.CreateJourney(as(t, websiteToken), &handoffv1.CreateJourneyRequest{
			Parent: "customers/c-42", JourneyId: fmt.Sprintf("ov-%d", i),
			Journey: &handoffv1.Journey{JourneyType: "car-insurance-quote"},
		})
		require.NoError(t, err)
		names[i], etags[i] = j.GetName(), j.GetEtag()
	}

	// Each writer saves its own journeys in turn, each save with the etag
	// the previous one returned, until a call fails.
	var acked atomic.Int64
	saves := make([][]ovSave, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 1; ; seq++ {
				jn := w*journeysEach + seq%journeysEach
				data, err := structpb.NewStruct(map[string]any{fmt.Sprintf("w%d", w): seq})
				if err != nil {
					panic(err)
				}
				s := ovSave{journey: jn, step: ovStep(w, seq), began: time.Now()}
				// The deadline only turns a hang into a failure.
				ctx, cancel := context.WithTimeout(as(t, websiteToken), 30*time.Second)
				resp, err := api.UpdateJourney(ctx, &handoffv1.UpdateJourneyRequest{
					Journey: &handoffv1.Journey{Name: names[jn], Etag: etags[jn], Step: s.step, Data: data},
				})
				cancel()
				s.ended, s.code = time.Now(), status.Code(err)
				saves[w] = append(saves[w], s)
				if err != nil {
					return
				}
				etags[jn] = resp.GetEtag()
				acked.Add(1)
			}
		}()
	}
	require.Eventually(t, func() bool { return acked.Load() >= writers*10 }, 30*time.Second, 10*time.Millisecond,
		"the writers did not get going")

	// A client that connected and never said a word (a port scanner, a TCP
	// health probe, a half-dead peer) must not hold the stop: grpc-go's
	// GracefulStop and Stop wait for a connection's handshake.
	stuck, err := net.Dial("tcp", a.GRPCAddr())
	require.NoError(t, err)
	defer stuck.Close()
	// Freeze Redis so that every writer has a save inside the server when
	// the stop comes, then let them finish.
	r.Pause()
	frozen := time.Now()
	time.Sleep(500 * time.Millisecond)
	stopped := time.Now()
	stop() // what SIGTERM does in main
	time.Sleep(200 * time.Millisecond)
	r.Resume()
	select {
	case err := <-done:
		require.NoError(t, err)
		t.Logf("handoffd stopped %v after the stop (shutdown timeout %v)", time.Since(stopped).Round(time.Millisecond), grace)
	case <-time.After(time.Until(stopped.Add(grace))):
		t.Fatalf("handoffd did not stop within its shutdown timeout of %v", grace)
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(30 * time.Second):
		t.Fatal("writers still waiting for an answer 30 s after handoffd stopped")
	}

	t.Run("every_save_finished_or_was_cleanly_refused", func(t *testing.T) {
		inFlight := 0
		for w, ss := range saves {
			for _, s := range ss {
				switch {
				case s.code != codes.OK && s.code != codes.Unavailable:
					t.Errorf("save %s ended %v: neither done nor cleanly refused", s.step, s.code)
				case s.began.Before(frozen) && s.code != codes.OK:
					// It had 500 ms to reach the server before the stop.
					t.Errorf("save %s, in the server's hands at the stop, ended %v instead of finishing", s.step, s.code)
				}
				if s.began.Before(stopped) && s.ended.After(stopped) {
					inFlight++
				}
			}
			require.Equal(t, codes.Unavailable, ss[len(ss)-1].code, "writer %d's last save", w)
		}
		t.Logf("%d saves acknowledged, %d in flight at the stop", acked.Load(), inFlight)
		require.Positive(t, inFlight, "no save was in flight at the stop: the test tested nothing")
	})

	t.Run("new_calls_are_refused_at_once", func(t *testing.T) {
		probes := []struct {
			name string
			call func(ctx context.Context) error
			want func(t *testing.T, err error)
		}{
			{"grpc_on_the_writers_connection", func(ctx context.Context) error {
				_, err := api.GetJourney(ctx, &handoffv1.GetJourneyRequest{Name: names[0]})
				return err
			}, ovWantCode(codes.Unavailable)},
			{"grpc_on_a_new_connection", func(ctx context.Context) error {
				conn, err := grpc.NewClient(a.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
				if err != nil {
					return err
				}
				defer conn.Close()
				_, err = handoffv1.NewJourneyServiceClient(conn).GetJourney(ctx, &handoffv1.GetJourneyRequest{Name: names[0]})
				return err
			}, ovWantCode(codes.Unavailable)},
			{"rest", func(ctx context.Context) error {
				req, err := newRequest(ctx, "http://"+a.HTTPAddr()+"/v1/"+names[0], websiteToken)
				if err != nil {
					return err
				}
				resp, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
				if err == nil {
					resp.Body.Close()
				}
				return err
			}, func(t *testing.T, err error) { require.ErrorIs(t, err, syscall.ECONNREFUSED) }},
		}
		for _, p := range probes {
			t.Run(p.name, func(t *testing.T) {
				// Refused well before the deadline, not left hanging.
				ctx, cancel := context.WithTimeout(as(t, websiteToken), 10*time.Second)
				defer cancel()
				p.want(t, p.call(ctx))
			})
		}
	})

	t.Run("a_fresh_instance_finds_every_acknowledged_save_exactly_once", func(t *testing.T) {
		h := start(t, storeKind(r.URL()))
		for jn, name := range names {
			w := jn / journeysEach
			acknowledged, attempted := map[string]bool{}, map[string]bool{}
			for _, s := range saves[w] {
				if s.journey == jn {
					attempted[s.step] = true
					acknowledged[s.step] = s.code == codes.OK
				}
			}
			var landed []string
			count := map[string]int{}
			for i, tp := range websiteTimeline(t, h, name) {
				switch {
				case i == 0:
					require.Equal(t, handoffv1.TouchpointKind_TOUCHPOINT_KIND_STARTED, tp.GetKind(), "%s", name)
				case tp.GetKind() != handoffv1.TouchpointKind_TOUCHPOINT_KIND_PROGRESS_SAVED:
					t.Errorf("%s: a %v touchpoint nobody made", name, tp.GetKind())
				default:
					landed = append(landed, tp.GetStep())
					count[tp.GetStep()]++
				}
			}
			for step, n := range count {
				switch {
				case !attempted[step]:
					t.Errorf("%s: save %s landed but was never made", name, step)
				case n > 1:
					t.Errorf("%s: save %s landed %d times", name, step, n)
				}
			}
			for step, ok := range acknowledged {
				if ok && count[step] == 0 {
					t.Errorf("%s: acknowledged save %s is missing", name, step)
				}
			}
			// Nothing else changed the journey, so every revision after
			// the first is one save, and the last save is what it holds.
			j, err := h.api.GetJourney(as(t, websiteToken), &handoffv1.GetJourneyRequest{Name: name})
			require.NoError(t, err)
			require.Equal(t, int64(1+len(landed)), j.GetRevision(), "%s: revisions besides the saves on the timeline", name)
			require.NotEmpty(t, landed, name)
			// One writer saves one after the other: in the order it made them.
			seqs := make([]int, len(landed))
			for i, step := range landed {
				_, err = fmt.Sscanf(step, fmt.Sprintf("w%d-%%d", w), &seqs[i])
				require.NoError(t, err)
			}
			require.True(t, slices.IsSorted(seqs), "%s: saves landed out of order: %v", name, landed)
			last := landed[len(landed)-1]
			require.Equal(t, last, j.GetStep(), name)
			require.EqualValues(t, seqs[len(seqs)-1], j.GetData().GetFields()[fmt.Sprintf("w%d", w)].GetNumberValue(), name)
		}
	})
}

// ovWantCode checks a call ended with a status of code want.
func ovWantCode(want codes.Code) func(t *testing.T, err error) {
	return func(t *testing.T, err error) {
		t.Helper()
		requireCode(t, err, want)
	}
}

// The kinds of connection the flood holds open, and how many of each make
// up n in all.
type ovMix struct {
	grpcIdle     int // TCP to the gRPC port, nothing sent
	grpcPreface  int // the HTTP/2 preface and SETTINGS, then nothing
	httpIdle     int // TCP to the HTTP port, nothing sent
	httpSlow     int // half a request header, never finished
	httpKeptOpen int // one request answered, then kept alive and idle
	grpcClients  int // real gRPC client connections, each served a health check
}

func ovMixOf(n int) ovMix {
	m := ovMix{grpcIdle: n / 5, grpcPreface: n / 5, httpIdle: n / 7, httpSlow: n / 7, httpKeptOpen: n / 7}
	m.grpcClients = n - m.grpcIdle - m.grpcPreface - m.httpIdle - m.httpSlow - m.httpKeptOpen
	return m
}

func (m ovMix) total() int {
	return m.grpcIdle + m.grpcPreface + m.httpIdle + m.httpSlow + m.httpKeptOpen + m.grpcClients
}

// The oversized requests of the flood, each with the answer it must get.
type ovFloodKind struct {
	name string
	send func(ctx context.Context) (string, error) // what came back: a gRPC code or an HTTP status
	want []string
}

func TestAFloodOfConnectionsAndOversizedRequestsLeavesAWellBehavedCallerServed(t *testing.T) {
	n, floodFor := 5000, 3*time.Second
	if testing.Short() {
		n, floodFor = 500, time.Second
	}
	mix := ovMixOf(n)
	// Both ends of every connection live in this process.
	ovEnsureFileLimit(t, uint64(2*n+2000))
	h := start(t, redisStore)
	j, err := h.api.CreateJourney(as(t, websiteToken), &handoffv1.CreateJourneyRequest{
		Parent: "customers/c-42", Journey: &handoffv1.Journey{JourneyType: "car-insurance-quote"},
	})
	require.NoError(t, err)

	goroutinesBefore := runtime.NumGoroutine()
	heapBefore, rssBefore := ovMemory()
	peak := ovWatchHeap(t)
	stopCaller := ovStartCaller(t, h, j.GetName())

	opened := time.Now()
	held := ovOpen(t, h, mix)
	t.Logf("%d connections open in %v: %+v", mix.total(), time.Since(opened).Round(time.Millisecond), mix)
	heapHeld, _ := ovMemory()

	kinds := ovFloodKinds(t, h, j.GetName())
	flooded := time.Now()
	got := ovFlood(as(t, websiteToken), kinds, floodFor)

	served := stopCaller()
	heapPeak := peak()
	_, rssPeak := ovMemory()
	held.close()

	t.Run("every_oversized_request_is_refused_with_the_right_status", func(t *testing.T) {
		for _, k := range kinds {
			answers := got[k.name]
			require.NotEmpty(t, answers, "no %s was sent", k.name)
			for answer, times := range answers {
				require.Contains(t, k.want, answer, "%s: %d answered %s", k.name, times, answer)
			}
			t.Logf("%s: %v", k.name, answers)
		}
	})
	t.Run("the_well_behaved_caller_is_served_throughout", func(t *testing.T) {
		require.Empty(t, served.failures)
		during := 0
		for _, b := range served.began {
			if b.After(flooded) {
				during++
			}
		}
		require.GreaterOrEqual(t, during, 10, "the caller hardly called during the flood")
		lat := served.latencies
		slices.Sort(lat)
		t.Logf("%d calls, latency p50 %v, p99 %v, max %v", len(lat), lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1])
	})
	t.Run("memory_stays_bounded", func(t *testing.T) {
		const bound = 512 << 20
		t.Logf("heap in use: %s before, %s with the connections open (%s per connection, both ends), %s at the peak of the flood; VmRSS %s before, %s after (race detector included)",
			ovMiB(heapBefore), ovMiB(heapHeld), ovKiB((heapHeld-min(heapHeld, heapBefore))/uint64(mix.total())), ovMiB(heapPeak), ovMiB(rssBefore), ovMiB(rssPeak))
		require.Less(t, heapPeak-min(heapPeak, heapBefore), uint64(bound), "heap grew by more than %s", ovMiB(bound))
	})
	t.Run("closed_connections_leave_nothing_behind", func(t *testing.T) {
		// The caller's own connections and the server's goroutines that
		// serve them come and go; the flood's thousands must not stay.
		require.Eventually(t, func() bool { return runtime.NumGoroutine() <= goroutinesBefore+50 }, 30*time.Second, 100*time.Millisecond,
			"goroutines: %d before the flood, %d now", goroutinesBefore, runtime.NumGoroutine())
	})
}

// ovEnsureFileLimit skips the test when the limit on open files is too
// low. Go's syscall package already raised the soft limit to (one below)
// the hard one when the process started.
func ovEnsureFileLimit(t *testing.T, need uint64) {
	t.Helper()
	var lim syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim))
	if lim.Cur < need {
		t.Skipf("the flood needs about %d open files (both ends of each connection are in this process) but the limit is %d (hard limit %d): raise it (ulimit -n) or run with -short, which opens a tenth as many", need, lim.Cur, lim.Max)
	}
}

// ovHeld is every connection the flood holds open.
type ovHeld struct {
	raw     []net.Conn
	clients []*grpc.ClientConn
}

func (c *ovHeld) close() {
	for _, r := range c.raw {
		_ = r.Close()
	}
	for _, cc := range c.clients {
		_ = cc.Close()
	}
}

// ovOpen opens mix's connections, 64 at a time, and skips the test when the
// machine (not the server) runs out of descriptors or ports.
func ovOpen(t *testing.T, h *harness, mix ovMix) *ovHeld {
	t.Helper()
	held := &ovHeld{}
	t.Cleanup(held.close)
	var mu sync.Mutex
	var errs []error
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	run := func(count int, open func() error) {
		for range count {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				if err := open(); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}()
		}
	}
	raw := func(addr string, hello func(net.Conn) error) func() error {
		return func() error {
			c, err := net.DialTimeout("tcp", addr, 30*time.Second)
			if err != nil {
				return err
			}
			mu.Lock()
			held.raw = append(held.raw, c)
			mu.Unlock()
			if hello == nil {
				return nil
			}
			return hello(c)
		}
	}
	write := func(b []byte) func(net.Conn) error {
		return func(c net.Conn) error { _, err := c.Write(b); return err }
	}
	grpcAddr, httpAddr := h.app.GRPCAddr(), h.app.HTTPAddr()
	// The client connection preface and an empty SETTINGS frame.
	preface := append([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 0, 0, 0, 4, 0, 0, 0, 0, 0)
	run(mix.grpcIdle, raw(grpcAddr, nil))
	run(mix.grpcPreface, raw(grpcAddr, write(preface)))
	run(mix.httpIdle, raw(httpAddr, nil))
	run(mix.httpSlow, raw(httpAddr, write([]byte("GET /healthz HTTP/1.1\r\nHost: handoff\r\nX-Slow: "))))
	run(mix.httpKeptOpen, raw(httpAddr, func(c net.Conn) error {
		if _, err := c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: handoff\r\n\r\n")); err != nil {
			return err
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET /healthz answered %s", resp.Status)
		}
		return nil
	}))
	run(mix.grpcClients, func() error {
		cc, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return err
		}
		mu.Lock()
		held.clients = append(held.clients, cc)
		mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		resp, err := healthpb.NewHealthClient(cc).Check(ctx, &healthpb.HealthCheckRequest{})
		if err != nil {
			return err
		}
		if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			return fmt.Errorf("health check: %v", resp.GetStatus())
		}
		return nil
	})
	wg.Wait()
	for _, err := range errs {
		if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) || errors.Is(err, syscall.EADDRNOTAVAIL) {
			t.Skipf("this machine cannot open %d connections: %v", mix.total(), err)
		}
	}
	require.Empty(t, errs, "%d of %d connections failed", len(errs), mix.total())
	return held
}

// ovFloodKinds are the oversized requests: 1 MB REST bodies and gRPC
// messages, over the limits (256 KiB by default), and 200 KB ones under
// them whose answers are over the data limit.
func ovFloodKinds(t *testing.T, h *harness, name string) []ovFloodKind {
	rest := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	t.Cleanup(rest.CloseIdleConnections)
	conn, err := grpc.NewClient(h.app.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	api := handoffv1.NewJourneyServiceClient(conn)

	restBody := func(size int) func(ctx context.Context) (string, error) {
		const head, tail = `{"data":{"big":"`, `"}}`
		body := []byte(head + strings.Repeat("x", size-len(head)-len(tail)) + tail)
		return func(ctx context.Context) (string, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodPatch, h.base+"/v1/"+name, bytes.NewReader(body))
			if err != nil {
				return "", err
			}
			req.Header.Set("Authorization", "Bearer "+websiteToken)
			req.Header.Set("Content-Type", "application/json")
			resp, err := rest.Do(req)
			if err != nil {
				return "", err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return strconv.Itoa(resp.StatusCode), nil
		}
	}
	grpcMessage := func(size int) func(ctx context.Context) (string, error) {
		data, err := structpb.NewStruct(map[string]any{"big": strings.Repeat("x", size)})
		require.NoError(t, err)
		req := &handoffv1.UpdateJourneyRequest{Journey: &handoffv1.Journey{Name: name, Data: data}}
		return func(ctx context.Context) (string, error) {
			_, err := api.UpdateJourney(ctx, req)
			return status.Code(err).String(), nil
		}
	}
	tooLarge, badRequest := strconv.Itoa(http.StatusRequestEntityTooLarge), strconv.Itoa(http.StatusBadRequest)
	return []ovFloodKind{
		{"a 1 MB REST body, over the 256 KiB limit", restBody(1_000_000), []string{tooLarge, badRequest}},
		{"a 200 KB REST body", restBody(200_000), []string{badRequest}},
		{"a 1 MB gRPC message, over the 256 KiB limit", grpcMessage(1_000_000), []string{codes.ResourceExhausted.String()}},
		{"a 200 KB gRPC message", grpcMessage(200_000), []string{codes.InvalidArgument.String()}},
	}
}

// ovFlood sends the kinds in turn from 8 goroutines for d and counts the
// answers of each kind.
func ovFlood(ctx context.Context, kinds []ovFloodKind, d time.Duration) map[string]map[string]int {
	var mu sync.Mutex
	got := map[string]map[string]int{}
	for _, k := range kinds {
		got[k.name] = map[string]int{}
	}
	end := time.Now().Add(d)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; time.Now().Before(end); i++ {
				k := kinds[i%len(kinds)]
				callCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
				answer, err := k.send(callCtx)
				cancel()
				if err != nil {
					answer = "error: " + err.Error()
				}
				mu.Lock()
				got[k.name][answer]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return got
}

// ovServed is what the well-behaved caller saw.
type ovServed struct {
	began     []time.Time // when each call started
	latencies []time.Duration
	failures  []string
}

// ovStartCaller saves over gRPC and reads back over gRPC and REST, one call
// after the other, until the returned func stops it (at the latest when the
// test ends); every call must succeed within a generous deadline and read
// what was saved.
func ovStartCaller(t *testing.T, h *harness, name string) (stop func() ovServed) {
	quit := make(chan struct{})
	result := make(chan ovServed, 1)
	stop = sync.OnceValue(func() ovServed { close(quit); return <-result })
	t.Cleanup(func() { stop() })
	rest := &http.Client{Transport: &http.Transport{}}
	go func() {
		defer rest.CloseIdleConnections()
		var s ovServed
		timed := func(what string, call func(ctx context.Context) error) {
			ctx, cancel := context.WithTimeout(as(t, websiteToken), 10*time.Second)
			defer cancel()
			began := time.Now()
			if err := call(ctx); err != nil {
				s.failures = append(s.failures, fmt.Sprintf("%s after %v: %v", what, time.Since(began).Round(time.Millisecond), err))
			}
			s.began = append(s.began, began)
			s.latencies = append(s.latencies, time.Since(began))
		}
		for i := 1; ; i++ {
			select {
			case <-quit:
				result <- s
				return
			default:
			}
			data, _ := structpb.NewStruct(map[string]any{"good": i})
			timed("gRPC save", func(ctx context.Context) error {
				_, err := h.api.UpdateJourney(ctx, &handoffv1.UpdateJourneyRequest{Journey: &handoffv1.Journey{Name: name, Data: data}})
				return err
			})
			timed("gRPC get", func(ctx context.Context) error {
				j, err := h.api.GetJourney(ctx, &handoffv1.GetJourneyRequest{Name: name})
				if err == nil && j.GetData().GetFields()["good"].GetNumberValue() != float64(i) {
					err = fmt.Errorf("read %v after saving %d", j.GetData().GetFields()["good"], i)
				}
				return err
			})
			timed("REST get", func(ctx context.Context) error {
				req, err := newRequest(ctx, h.base+"/v1/"+name, websiteToken)
				if err != nil {
					return err
				}
				resp, err := rest.Do(req)
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				body, err := io.ReadAll(resp.Body)
				if err == nil && resp.StatusCode != http.StatusOK {
					err = fmt.Errorf("%s: %s", resp.Status, body)
				}
				if err == nil && !bytes.Contains(body, []byte(fmt.Sprintf(`"good":%d`, i))) {
					err = fmt.Errorf("read %s after saving %d", body, i)
				}
				return err
			})
		}
	}()
	return stop
}

// ovMemory is the heap in use after a collection, and the resident set
// (which, under -race, includes the race detector's shadow memory).
func ovMemory() (heap, rss uint64) {
	// Twice: sync.Pools (gRPC's buffers) keep what they held until the
	// second collection.
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse, ovRSS()
}

// ovWatchHeap samples the heap in use every 50 ms until the returned func
// is called (at the latest when the test ends), which returns the highest
// sample.
func ovWatchHeap(t *testing.T) func() uint64 {
	quit, result := make(chan struct{}), make(chan uint64, 1)
	stop := sync.OnceValue(func() uint64 { close(quit); return <-result })
	t.Cleanup(func() { stop() })
	go func() {
		var peak uint64
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			select {
			case <-quit:
				result <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return stop
}

// ovRSS is this process's resident set size, 0 where there is none.
func ovRSS() uint64 {
	p, err := loadgen.SampleProc(os.Getpid())
	if err != nil {
		return 0
	}
	return uint64(p.RSS)
}

func ovMiB(b uint64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }
func ovKiB(b uint64) string { return fmt.Sprintf("%.0f KiB", float64(b)/(1<<10)) }
