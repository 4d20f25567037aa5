package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/journeyhandoff/handoff/internal/loadgen"
)

// restAPI calls the REST gateway over HTTP/1.1 with keep-alive, as a
// website backend would.
type restAPI struct {
	host string
	hc   *http.Client
	// The headers of each principal, built once and shared by every call
	// (the client reads them and never writes).
	serviceRead, serviceJSON http.Header
	agentsJSON               []http.Header
}

func newRESTAPI(httpAddr string, maxConns, agents int) *restAPI {
	r := &restAPI{
		host: httpAddr,
		hc: &http.Client{Transport: &http.Transport{
			MaxIdleConns:        maxConns,
			MaxIdleConnsPerHost: maxConns,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		}},
		serviceRead: http.Header{"Authorization": {"Bearer " + serviceToken}},
		serviceJSON: http.Header{"Authorization": {"Bearer " + serviceToken}, "Content-Type": {"application/json"}},
	}
	for a := range agents {
		r.agentsJSON = append(r.agentsJSON, http.Header{"Authorization": {"Bearer " + agentToken(a, agents)}, "Content-Type": {"application/json"}})
	}
	return r
}

func (r *restAPI) close() { r.hc.CloseIdleConnections() }

// restCall is one request, built before the run: its URL parsed, its body
// encoded.
type restCall struct {
	method string
	url    *url.URL
	header http.Header
	body   []byte
}

func (r *restAPI) call(method, path string, header http.Header, body []byte) restCall {
	return restCall{method: method, url: &url.URL{Scheme: "http", Host: r.host, Path: "/v1/" + path}, header: header, body: body}
}

// send makes one request and reads the whole answer: into keep when it is
// set, otherwise off the connection and dropped. Any status but 200 is an
// error carrying the start of the body.
func (r *restAPI) send(ctx context.Context, c restCall, keep *[]byte) error {
	req := (&http.Request{
		Method: c.method, URL: c.url, Host: c.url.Host, Header: c.header,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
	}).WithContext(ctx)
	if c.body != nil {
		req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(c.body)), int64(len(c.body))
	}
	res, err := r.hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 200))
		return fmt.Errorf("%s %s: %s: %s", c.method, c.url.Path, res.Status, b)
	}
	if keep != nil {
		*keep, err = io.ReadAll(res.Body)
		return err
	}
	// Read to the end, so the connection goes back to the pool.
	_, err = io.Copy(io.Discard, res.Body)
	return err
}

// unary is a workload of one call per request, each from ring.
func (r *restAPI) unary(ring *loadgen.Ring[restCall]) workloadOp {
	return workloadOp{
		op:    func(ctx context.Context, _ int, _ uint64) error { return r.send(ctx, ring.Next(), nil) },
		rings: []ringLike{ring},
	}
}

func (r *restAPI) saves(js journeys, size int) (workloadOp, error) {
	ring, err := loadgen.BuildRing(size, func(k int) (restCall, error) {
		body, err := newPageSave(uint64(k)).json()
		c := r.call(http.MethodPatch, journeyName(js.pick(uint64(k))), r.serviceJSON, body)
		if len(saveReadMask) > 0 {
			c.url.RawQuery = url.Values{"readMask": {strings.Join(saveReadMask, ",")}}.Encode()
		}
		return c, err
	})
	if err != nil {
		return workloadOp{}, err
	}
	return r.unary(ring), nil
}

func (r *restAPI) gets(js journeys, size int) (workloadOp, error) {
	ring, err := loadgen.BuildRing(size, func(k int) (restCall, error) {
		return r.call(http.MethodGet, journeyName(js.pick(uint64(k))), r.serviceRead, nil), nil
	})
	if err != nil {
		return workloadOp{}, err
	}
	return r.unary(ring), nil
}

// restHandoff is a handoff's request and the headers of the agent who
// redeems its code.
type restHandoff struct {
	handoff restCall
	agent   http.Header
}

func (r *restAPI) handoffs(js journeys, size int) (workloadOp, error) {
	empty := []byte("{}")
	ring, err := loadgen.BuildRing(size, func(k int) (restHandoff, error) {
		i := js.pick(uint64(k))
		return restHandoff{
			handoff: r.call(http.MethodPost, journeyName(i)+":handoff", r.serviceJSON, empty),
			agent:   r.agentsJSON[i%len(r.agentsJSON)],
		}, nil
	})
	if err != nil {
		return workloadOp{}, err
	}
	op := func(ctx context.Context, _ int, _ uint64) error {
		h := ring.Next()
		var body []byte
		if err := r.send(ctx, h.handoff, &body); err != nil {
			return err
		}
		// The one reply the driver reads: small, and only its code.
		var code struct {
			Code string `json:"code"`
		}
		if err := json.Unmarshal(body, &code); err != nil {
			return fmt.Errorf("handoff: %w", err)
		}
		return r.send(ctx, r.call(http.MethodPost, "handoffs/"+code.Code+":redeem", h.agent, empty), nil)
	}
	return workloadOp{op: op, rings: []ringLike{ring}}, nil
}
