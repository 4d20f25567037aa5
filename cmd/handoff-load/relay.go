package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/journeyhandoff/handoff/internal/loadgen"
	"github.com/journeyhandoff/handoff/internal/store"
	redisstore "github.com/journeyhandoff/handoff/internal/store/redis"
)

// The relay is the third floor: the least a gRPC server in front of the
// save script can be. The floor's bare server answers relayMethod by
// running the script floor's page save, through the store, and nothing
// else: no auth, validation, call log, metrics, or answers to decode. What
// a save through handoffd adds over the relay is handoffd's own work; what
// the relay adds over the script alone is what any server that takes a
// call and runs one script adds on this machine.
const (
	whatRelay   = "bare server + save script"
	relayMethod = "/handoffload.Relay/Save"
)

// What the relay, in the floor server's process, needs of the driver's
// run: Redis, how many journeys there are (it saves the script floor's
// block) and the saves' read mask.
const (
	relayRedisEnv    = "HANDOFF_LOAD_RELAY_REDIS"
	relayJourneysEnv = "HANDOFF_LOAD_RELAY_JOURNEYS"
	relayReadMaskEnv = "HANDOFF_LOAD_RELAY_READ_MASK"
)

// relayRuns says whether a run of opts measures the relay: not with
// -typed-journeys, whose saves need the type's version, which the driver
// learns only after the floor's server starts (make bench-insight).
func relayRuns(opts options) bool { return !opts.typedJourneys }

// relayEnv is the floor server's environment for a run of opts on Redis
// at redisURL: none when the run measures no relay.
func relayEnv(redisURL string, opts options) []string {
	if !relayRuns(opts) {
		return nil
	}
	return []string{
		relayRedisEnv + "=" + redisURL,
		relayJourneysEnv + "=" + strconv.Itoa(opts.journeys),
		relayReadMaskEnv + "=" + strings.Join(saveReadMask, ","),
	}
}

type relaySaver interface {
	save(ctx context.Context) error
}

// relayService is a one-method service written by hand, as it has no
// .proto: Save takes and returns google.protobuf.Empty.
var relayService = grpc.ServiceDesc{
	ServiceName: "handoffload.Relay",
	HandlerType: (*relaySaver)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Save",
		Handler: func(srv any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
			if err := dec(new(emptypb.Empty)); err != nil {
				return nil, err
			}
			if err := srv.(relaySaver).save(ctx); err != nil {
				return nil, err
			}
			return new(emptypb.Empty), nil
		},
	}},
}

// relay saves the script floor's journeys in turn, with page saves made
// before the run, as the driver encodes its requests before it: a call
// costs the relay its time and touchpoint and nothing else of its own.
type relay struct {
	st       *redisstore.Store
	journeys []store.JourneyKey
	saves    []store.Save
	seq      atomic.Uint64
}

func (r *relay) save(ctx context.Context) error {
	seq := r.seq.Add(1)
	sv := r.saves[seq%uint64(len(r.saves))]
	_, err := r.st.SaveJourney(ctx, at(sv, r.journeys[seq%uint64(len(r.journeys))], time.Now()))
	return err
}

// relaySaves is how many page saves the relay makes before the run.
const relaySaves = 4096

// registerRelay adds the relay to srv when the environment names Redis,
// returning what closes its store.
func registerRelay(ctx context.Context, srv *grpc.Server) (func() error, error) {
	url := os.Getenv(relayRedisEnv)
	if url == "" {
		return func() error { return nil }, nil
	}
	n, err := strconv.Atoi(os.Getenv(relayJourneysEnv))
	if err != nil {
		return nil, fmt.Errorf("relay journeys: %w", err)
	}
	saveReadMask = nil
	if m := os.Getenv(relayReadMaskEnv); m != "" {
		saveReadMask = strings.Split(m, ",")
	}
	st, err := redisstore.Open(url)
	if err != nil {
		return nil, err
	}
	block := floorBlock(n)
	floor, err := newScriptFloor(ctx, st, 1, min(64, block), block)
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	r := &relay{st: st, journeys: floor.journeys[0]}
	for seq := range uint64(relaySaves) {
		sv, err := pageStoreSave(seq)
		if err != nil {
			_ = st.Close()
			return nil, err
		}
		r.saves = append(r.saves, sv)
	}
	srv.RegisterService(&relayService, r)
	return st.Close, nil
}

// relayCalls is the relay floor's workload: an empty request to
// relayMethod, sent as every other request is.
func (g *grpcAPI) relayCalls() (workloadOp, error) {
	ring, err := loadgen.BuildRing(1, func(int) (loadgen.Raw, error) {
		return encode(&emptypb.Empty{})
	})
	if err != nil {
		return workloadOp{}, err
	}
	return g.unary(relayMethod, ring), nil
}
