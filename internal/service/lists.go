package service

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/apierr"
	"github.com/journeyhandoff/handoff/internal/auth"
	"github.com/journeyhandoff/handoff/internal/store"
)

// Page sizes (AIP-158): a missing size gets the default, a larger one
// Options.MaxPageSize.
const (
	defaultJourneyPage    = 50
	defaultTouchpointPage = 100
)

// ListJourneys lists a customer's journeys, newest first.
func (s *Service) ListJourneys(ctx context.Context, req *handoffv1.ListJourneysRequest) (*handoffv1.ListJourneysResponse, error) {
	p, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	customer := strings.TrimPrefix(req.GetParent(), "customers/")
	if !auth.CustomerCanAccess(p, customer) {
		return nil, apierr.NotFound("customer %s not found", req.GetParent())
	}
	var tok journeyPageToken
	if err := decodePageToken(req.GetPageToken(), &tok); err != nil {
		return nil, err
	}
	if req.GetPageToken() != "" && (tok.Parent != req.GetParent() || tok.State != req.GetState()) {
		return nil, invalidArgument("page_token", "PAGE_TOKEN_OF_ANOTHER_QUERY", "page_token belongs to a listing with another parent or state: repeat the same query")
	}
	q := store.ListJourneysQuery{State: req.GetState(), Limit: pageSize(req.GetPageSize(), defaultJourneyPage, s.opts.MaxPageSize)}
	if req.GetPageToken() != "" {
		q.After = &store.JourneyCursor{CreateTime: time.UnixMicro(tok.CreateMicros).UTC(), Journey: tok.Journey}
	}
	journeys, next, err := s.store.ListJourneys(ctx, customer, q)
	if err != nil {
		return nil, err
	}
	if audited(p) {
		ch, detail, err := channelOf(ctx, p, handoffv1.Channel_CHANNEL_UNSPECIFIED, "")
		if err != nil {
			return nil, err
		}
		for i, j := range journeys {
			key, _ := store.ParseJourneyName(j.GetName())
			viewed, err := s.recordView(ctx, p, key, ch, detail)
			if err != nil {
				return nil, err
			}
			journeys[i] = viewed
		}
	}
	resp := &handoffv1.ListJourneysResponse{Journeys: journeys}
	if next != nil {
		resp.NextPageToken = encodePageToken(journeyPageToken{
			Parent: req.GetParent(), State: req.GetState(), CreateMicros: next.CreateTime.UnixMicro(), Journey: next.Journey,
		})
	}
	return resp, nil
}

// ListTouchpoints lists a journey's timeline, oldest first.
func (s *Service) ListTouchpoints(ctx context.Context, req *handoffv1.ListTouchpointsRequest) (*handoffv1.ListTouchpointsResponse, error) {
	key, p, err := s.journeyFor(ctx, req.GetParent())
	if err != nil {
		return nil, err
	}
	var tok touchpointPageToken
	if err := decodePageToken(req.GetPageToken(), &tok); err != nil {
		return nil, err
	}
	if req.GetPageToken() != "" && (tok.Parent != req.GetParent() || tok.Offset < 0) {
		return nil, invalidArgument("page_token", "PAGE_TOKEN_OF_ANOTHER_QUERY", "page_token belongs to another journey's timeline: repeat the same query")
	}
	tps, more, err := s.store.ListTouchpoints(ctx, key, tok.Offset, pageSize(req.GetPageSize(), defaultTouchpointPage, s.opts.MaxPageSize))
	if err != nil {
		return nil, journeyError(key, err)
	}
	resp := &handoffv1.ListTouchpointsResponse{Touchpoints: redactTouchpoints(p, tps)}
	if more {
		resp.NextPageToken = encodePageToken(touchpointPageToken{Parent: req.GetParent(), Offset: tok.Offset + len(tps)})
	}
	return resp, nil
}

type journeyPageToken struct {
	Parent       string                 `json:"p"`
	State        handoffv1.JourneyState `json:"s,omitempty"`
	CreateMicros int64                  `json:"t"`
	Journey      string                 `json:"j"`
}

type touchpointPageToken struct {
	Parent string `json:"p"`
	Offset int    `json:"o"`
}

// Page tokens are opaque to clients (base64url JSON); they carry the query
// they belong to so a token cannot be replayed against another listing.
func encodePageToken(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodePageToken(token string, into any) error {
	if token == "" {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err == nil {
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		err = dec.Decode(into)
	}
	if err != nil {
		return invalidArgument("page_token", "INVALID_PAGE_TOKEN", "page_token is not valid: pass the next_page_token of the previous page unchanged")
	}
	return nil
}

func pageSize(requested int32, def, max int) int {
	switch {
	case requested <= 0:
		return min(def, max)
	case int(requested) > max:
		return max
	}
	return int(requested)
}
