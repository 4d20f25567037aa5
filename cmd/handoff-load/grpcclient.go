package main

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/loadgen"
)

// dial opens n client connections to a gRPC server. Callers are spread
// over them: one HTTP/2 connection per process is not how a fleet of
// website backends would call. Every call on them goes through
// loadgen.RawCodec, which sends pre-encoded requests as they are and still
// encodes and decodes typed messages for the calls that set up or check.
func dial(addr string, n int) ([]*grpc.ClientConn, error) {
	conns := make([]*grpc.ClientConn, 0, n)
	for range max(n, 1) {
		c, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultCallOptions(grpc.ForceCodecV2(loadgen.RawCodec{})))
		if err != nil {
			closeAll(conns)
			return nil, err
		}
		conns = append(conns, c)
	}
	return conns, nil
}

func closeAll(conns []*grpc.ClientConn) {
	for _, c := range conns {
		_ = c.Close()
	}
}

// grpcAPI calls a gRPC server (handoffd, or the floor's empty server) over
// the driver's connections, with the website's token or an agent's.
type grpcAPI struct {
	conns   []*grpc.ClientConn
	service metadata.MD
	agents  []metadata.MD
}

func newGRPCAPI(conns []*grpc.ClientConn, agents int) *grpcAPI {
	g := &grpcAPI{conns: conns, service: metadata.Pairs("authorization", "Bearer "+serviceToken)}
	for a := range agents {
		g.agents = append(g.agents, metadata.Pairs("authorization", "Bearer "+agentToken(a, agents)))
	}
	return g
}

func (g *grpcAPI) conn(worker int) *grpc.ClientConn { return g.conns[worker%len(g.conns)] }

// client makes typed calls, for setting up and checking, not for load.
func (g *grpcAPI) client(worker int) handoffv1.JourneyServiceClient {
	return handoffv1.NewJourneyServiceClient(g.conn(worker))
}

// call sends req, encoded before the run, as md's principal; reply is a
// loadgen.Discard or loadgen.Field.
func (g *grpcAPI) call(ctx context.Context, worker int, method string, md metadata.MD, req loadgen.Raw, reply any) error {
	return g.conn(worker).Invoke(metadata.NewOutgoingContext(ctx, md), method, req, reply)
}

func encode(m proto.Message) (loadgen.Raw, error) {
	b, err := proto.Marshal(m)
	return loadgen.Raw(b), err
}

// The fields the driver reads or writes by hand: the code of a handoff's
// reply and of a redeem's request. Taken from the generated descriptors,
// so a renumbered field cannot go unnoticed.
var (
	handoffCodeField = fieldNumber(&handoffv1.HandoffJourneyResponse{}, "code")
	redeemCodeField  = fieldNumber(&handoffv1.RedeemHandoffRequest{}, "code")
)

func fieldNumber(m proto.Message, name protoreflect.Name) protowire.Number {
	f := m.ProtoReflect().Descriptor().Fields().ByName(name)
	if f == nil {
		panic(fmt.Sprintf("%s has no field %s", m.ProtoReflect().Descriptor().FullName(), name))
	}
	return f.Number()
}

// saveReadMask is the read_mask of the website's saves (-save-read-mask):
// a page save needs only the etag of the next one back.
var saveReadMask = []string{"etag", "revision"}

// saveRequest is a page save as the website sends it: the journey's name,
// the step it moves to and the page's answers, no etag, no mask, asking
// for saveReadMask back.
func saveRequest(name string, p pageSave) (*handoffv1.UpdateJourneyRequest, error) {
	data, err := p.structData()
	if err != nil {
		return nil, err
	}
	req := &handoffv1.UpdateJourneyRequest{Journey: &handoffv1.Journey{Name: name, Step: p.step, Data: data}}
	if len(saveReadMask) > 0 {
		req.ReadMask = &fieldmaskpb.FieldMask{Paths: saveReadMask}
	}
	return req, nil
}

// unary is a workload of one call per request, each from ring.
func (g *grpcAPI) unary(method string, ring *loadgen.Ring[loadgen.Raw]) workloadOp {
	return workloadOp{
		op: func(ctx context.Context, w int, _ uint64) error {
			return g.call(ctx, w, method, g.service, ring.Next(), &loadgen.Discard{})
		},
		rings: []ringLike{ring},
	}
}

func (g *grpcAPI) saves(js journeys, size int) (workloadOp, error) {
	return g.savesTo(func(k int) int { return js.pick(uint64(k)) }, size)
}

// savesTo is saves whose request k goes to journey pick(k).
func (g *grpcAPI) savesTo(pick func(k int) int, size int) (workloadOp, error) {
	ring, err := loadgen.BuildRing(size, func(k int) (loadgen.Raw, error) {
		req, err := saveRequest(journeyName(pick(k)), newPageSave(uint64(k)))
		if err != nil {
			return nil, err
		}
		return encode(req)
	})
	if err != nil {
		return workloadOp{}, err
	}
	return g.unary(handoffv1.JourneyService_UpdateJourney_FullMethodName, ring), nil
}

func (g *grpcAPI) gets(js journeys, size int) (workloadOp, error) {
	ring, err := loadgen.BuildRing(size, func(k int) (loadgen.Raw, error) {
		return encode(&handoffv1.GetJourneyRequest{Name: journeyName(js.pick(uint64(k)))})
	})
	if err != nil {
		return workloadOp{}, err
	}
	return g.unary(handoffv1.JourneyService_GetJourney_FullMethodName, ring), nil
}

// emptyCalls is the first floor: an empty unary call to the bare server,
// sent as handoffd's requests are (taken from a ring, with the website's
// token, the reply left undecoded), so that a ratio to it compares the
// servers and not two ways of calling. The ring holds one request: Check
// has nothing to vary.
func (g *grpcAPI) emptyCalls() (workloadOp, error) {
	ring, err := loadgen.BuildRing(1, func(int) (loadgen.Raw, error) {
		return encode(&healthpb.HealthCheckRequest{})
	})
	if err != nil {
		return workloadOp{}, err
	}
	return g.unary(healthpb.Health_Check_FullMethodName, ring), nil
}

// handoffCall is a handoff's request and the agent who redeems its code.
type handoffCall struct {
	req   loadgen.Raw
	agent metadata.MD
}

func (g *grpcAPI) handoffs(js journeys, size int) (workloadOp, error) {
	ring, err := loadgen.BuildRing(size, func(k int) (handoffCall, error) {
		i := js.pick(uint64(k))
		req, err := encode(&handoffv1.HandoffJourneyRequest{Name: journeyName(i)})
		return handoffCall{req: req, agent: g.agents[i%len(g.agents)]}, err
	})
	if err != nil {
		return workloadOp{}, err
	}
	op := func(ctx context.Context, w int, _ uint64) error {
		h := ring.Next()
		code := loadgen.Field{Num: handoffCodeField}
		if err := g.call(ctx, w, handoffv1.JourneyService_HandoffJourney_FullMethodName, g.service, h.req, &code); err != nil {
			return fmt.Errorf("handoff: %w", err)
		}
		// The one request that cannot be encoded before the run, since it
		// carries the code just issued: one field, appended by hand.
		redeem := protowire.AppendBytes(protowire.AppendTag(make([]byte, 0, 16), redeemCodeField, protowire.BytesType), code.Value)
		if err := g.call(ctx, w, handoffv1.JourneyService_RedeemHandoff_FullMethodName, h.agent, redeem, &loadgen.Discard{}); err != nil {
			return fmt.Errorf("redeem: %w", err)
		}
		return nil
	}
	return workloadOp{op: op, rings: []ringLike{ring}}, nil
}
