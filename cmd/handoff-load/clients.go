package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/loadgen"
)

// callTimeout bounds one call, so a wedged server ends a phase with errors
// instead of hanging it; it is far above any latency worth reporting.
const callTimeout = 30 * time.Second

// api is one way of calling handoffd: gRPC or REST through the gateway.
// worker picks the connection (gRPC) so callers spread over a few.
type api interface {
	save(ctx context.Context, worker int, name string, p pageSave) error
	get(ctx context.Context, worker int, name string) error
	// handoffRedeem is the website asking for a code for journey i and
	// its agent redeeming it: the two calls of one handoff.
	handoffRedeem(ctx context.Context, worker int, i int) error
}

// dial opens n client connections to a gRPC server. Callers are spread
// over them: one HTTP/2 connection per process is not how a fleet of
// website backends would call.
func dial(addr string, n int) ([]*grpc.ClientConn, error) {
	conns := make([]*grpc.ClientConn, 0, n)
	for range max(n, 1) {
		c, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
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

type grpcAPI struct {
	clients []handoffv1.JourneyServiceClient
	service metadata.MD
	agents  []metadata.MD
}

func newGRPCAPI(conns []*grpc.ClientConn, agents int) *grpcAPI {
	g := &grpcAPI{service: metadata.Pairs("authorization", "Bearer "+serviceToken)}
	for a := range agents {
		g.agents = append(g.agents, metadata.Pairs("authorization", "Bearer "+agentToken(a, agents)))
	}
	for _, c := range conns {
		g.clients = append(g.clients, handoffv1.NewJourneyServiceClient(c))
	}
	return g
}

func (g *grpcAPI) client(worker int) handoffv1.JourneyServiceClient {
	return g.clients[worker%len(g.clients)]
}

func (g *grpcAPI) save(ctx context.Context, worker int, name string, p pageSave) error {
	_, err := g.saveData(ctx, worker, name, p.step, p.data())
	return err
}

// saveData saves answers without an etag or mask: each answer it carries
// replaces that answer, the rest stay.
func (g *grpcAPI) saveData(ctx context.Context, worker int, name, step string, answers map[string]any) (*handoffv1.Journey, error) {
	data, err := structpb.NewStruct(answers)
	if err != nil {
		return nil, err
	}
	return g.client(worker).UpdateJourney(metadata.NewOutgoingContext(ctx, g.service), &handoffv1.UpdateJourneyRequest{
		Journey: &handoffv1.Journey{Name: name, Step: step, Data: data},
	})
}

func (g *grpcAPI) get(ctx context.Context, worker int, name string) error {
	_, err := g.getJourney(ctx, worker, name)
	return err
}

func (g *grpcAPI) getJourney(ctx context.Context, worker int, name string) (*handoffv1.Journey, error) {
	return g.client(worker).GetJourney(metadata.NewOutgoingContext(ctx, g.service), &handoffv1.GetJourneyRequest{Name: name})
}

func (g *grpcAPI) handoffRedeem(ctx context.Context, worker int, i int) error {
	c := g.client(worker)
	h, err := c.HandoffJourney(metadata.NewOutgoingContext(ctx, g.service), &handoffv1.HandoffJourneyRequest{Name: journeyName(i)})
	if err != nil {
		return fmt.Errorf("handoff: %w", err)
	}
	if _, err := c.RedeemHandoff(metadata.NewOutgoingContext(ctx, g.agents[i%len(g.agents)]), &handoffv1.RedeemHandoffRequest{Code: h.GetCode()}); err != nil {
		return fmt.Errorf("redeem: %w", err)
	}
	return nil
}

// restAPI calls the REST gateway over HTTP/1.1 with keep-alive, as a
// website backend would.
type restAPI struct {
	base   string
	hc     *http.Client
	agents int
}

func newRESTAPI(httpAddr string, maxConns, agents int) *restAPI {
	return &restAPI{
		base:   "http://" + httpAddr + "/v1/",
		agents: agents,
		hc: &http.Client{Transport: &http.Transport{
			MaxIdleConns:        maxConns,
			MaxIdleConnsPerHost: maxConns,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		}},
	}
}

func (r *restAPI) close() { r.hc.CloseIdleConnections() }

// do sends one request and reads the whole answer (into out when set); any
// status but 200 is an error carrying the body.
func (r *restAPI) do(ctx context.Context, method, path, token string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := r.hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s: %.200s", method, path, res.Status, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func (r *restAPI) save(ctx context.Context, _ int, name string, p pageSave) error {
	return r.do(ctx, http.MethodPatch, name, serviceToken, p.json(), nil)
}

func (r *restAPI) get(ctx context.Context, _ int, name string) error {
	return r.do(ctx, http.MethodGet, name, serviceToken, nil, nil)
}

func (r *restAPI) handoffRedeem(ctx context.Context, _ int, i int) error {
	var h struct {
		Code string `json:"code"`
	}
	if err := r.do(ctx, http.MethodPost, journeyName(i)+":handoff", serviceToken, []byte("{}"), &h); err != nil {
		return err
	}
	return r.do(ctx, http.MethodPost, "handoffs/"+h.Code+":redeem", agentToken(i, r.agents), []byte("{}"), nil)
}

// journeys is where a workload's requests go: journey first+k for k in
// [0, n), spread evenly over all of them by the request number; salt makes
// each phase pick differently. The journeys below first are the
// save-script floor's own.
type journeys struct {
	first, n int
	salt     uint64
}

func (js journeys) pick(seq uint64) int { return js.first + spread(seq, js.salt, js.n) }

func saveOp(a api, js journeys) loadgen.Op {
	return func(ctx context.Context, w int, seq uint64) error {
		return a.save(ctx, w, journeyName(js.pick(seq)), newPageSave(seq))
	}
}

func getOp(a api, js journeys) loadgen.Op {
	return func(ctx context.Context, w int, seq uint64) error {
		return a.get(ctx, w, journeyName(js.pick(seq)))
	}
}

func handoffOp(a api, js journeys) loadgen.Op {
	return func(ctx context.Context, w int, seq uint64) error {
		return a.handoffRedeem(ctx, w, js.pick(seq))
	}
}

// mixOp sends each request as the kind the mix picks for it; ops are in
// the order of the mix's shares.
func mixOp(m *loadgen.Mix, ops []loadgen.Op) loadgen.Op {
	return func(ctx context.Context, w int, seq uint64) error {
		return ops[m.Pick(seq)](ctx, w, seq)
	}
}

// emptyCallOp is the first floor: one empty unary call.
func emptyCallOp(conns []*grpc.ClientConn) loadgen.Op {
	clients := make([]healthpb.HealthClient, len(conns))
	for i, c := range conns {
		clients[i] = healthpb.NewHealthClient(c)
	}
	return func(ctx context.Context, w int, _ uint64) error {
		_, err := clients[w%len(clients)].Check(ctx, &healthpb.HealthCheckRequest{})
		return err
	}
}

// timed gives every call of op its own deadline.
func timed(op loadgen.Op) loadgen.Op {
	return func(ctx context.Context, w int, seq uint64) error {
		ctx, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		return op(ctx, w, seq)
	}
}
