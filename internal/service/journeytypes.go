package service

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/proto"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/apierr"
	"github.com/journeyhandoff/handoff/internal/journeytype"
	"github.com/journeyhandoff/handoff/internal/store"
)

// TypesAPI implements handoffv1.JourneyTypeService: journey types as
// resources (docs/journeytypes.md). Who may call what is auth's table.
type TypesAPI struct {
	handoffv1.UnimplementedJourneyTypeServiceServer
	svc *Service
}

var _ handoffv1.JourneyTypeServiceServer = TypesAPI{}

// TypesAPI is the journey type service of s.
func (s *Service) TypesAPI() TypesAPI { return TypesAPI{svc: s} }

// CreateJourneyType declares a new type, version 1.
func (a TypesAPI) CreateJourneyType(ctx context.Context, req *handoffv1.CreateJourneyTypeRequest) (*handoffv1.JourneyType, error) {
	return a.put(ctx, req.GetJourneyType(), store.TypePut{MustBeNew: true})
}

// UpdateJourneyType stores the next version of a declared type.
func (a TypesAPI) UpdateJourneyType(ctx context.Context, req *handoffv1.UpdateJourneyTypeRequest) (*handoffv1.JourneyType, error) {
	def := req.GetJourneyType()
	id := strings.TrimPrefix(def.GetName(), journeytype.NamePrefix)
	if _, err := a.svc.store.JourneyType(ctx, id, 0); err != nil {
		return nil, typeError(def.GetName(), err)
	}
	put := store.TypePut{}
	if etag := def.GetEtag(); etag != "" {
		v, err := strconv.ParseInt(etag, 10, 64)
		if err != nil || v < 1 {
			return nil, invalidArgument("journey_type.etag", "INVALID_ETAG", "etag "+strconv.Quote(etag)+" is not one this service gave out: send the etag of the version you read")
		}
		put.IfVersion = v
	}
	return a.put(ctx, def, put)
}

func (a TypesAPI) put(ctx context.Context, def *handoffv1.JourneyType, put store.TypePut) (*handoffv1.JourneyType, error) {
	put.Now = a.svc.now()
	tp, _, err := a.svc.types.Put(ctx, def, put)
	var invalid *journeytype.InvalidError
	if errors.As(err, &invalid) {
		violations := make([]*errdetails.BadRequest_FieldViolation, len(invalid.Reasons))
		for i, r := range invalid.Reasons {
			violations[i] = &errdetails.BadRequest_FieldViolation{Field: "journey_type", Reason: "INVALID_DEFINITION", Description: r}
		}
		return nil, apierr.BadRequest(err.Error(), violations...)
	}
	if err != nil {
		return nil, typeError(def.GetName(), err)
	}
	return proto.CloneOf(tp.Definition()), nil
}

// GetJourneyType reads the latest version, or the one the name asks for
// (`journeyTypes/{type}@{version}`).
func (a TypesAPI) GetJourneyType(ctx context.Context, req *handoffv1.GetJourneyTypeRequest) (*handoffv1.JourneyType, error) {
	id, at, _ := strings.Cut(strings.TrimPrefix(req.GetName(), journeytype.NamePrefix), "@")
	var version int64
	if at != "" {
		v, err := strconv.ParseInt(at, 10, 64)
		if err != nil || v < 1 {
			return nil, invalidArgument("name", "INVALID_NAME", "version "+strconv.Quote(at)+" is not a number from 1")
		}
		version = v
	}
	def, err := a.svc.store.JourneyType(ctx, id, version)
	if err != nil {
		return nil, typeError(req.GetName(), err)
	}
	return def, nil
}

// ListJourneyTypes lists the latest version of every type, by name.
func (a TypesAPI) ListJourneyTypes(ctx context.Context, _ *handoffv1.ListJourneyTypesRequest) (*handoffv1.ListJourneyTypesResponse, error) {
	latest, err := a.svc.store.LatestJourneyTypes(ctx)
	if err != nil {
		return nil, err
	}
	out := &handoffv1.ListJourneyTypesResponse{}
	for _, id := range slices.Sorted(maps.Keys(latest)) {
		def, err := a.svc.store.JourneyType(ctx, id, latest[id])
		if err != nil {
			return nil, typeError(journeytype.NamePrefix+id, err)
		}
		out.JourneyTypes = append(out.JourneyTypes, def)
	}
	return out, nil
}

func typeError(name string, err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return apierr.NotFound("journey type %s not found", name)
	case errors.Is(err, store.ErrAlreadyExists):
		return apierr.AlreadyExists("journey type %s exists: update it to make a new version", name)
	case errors.Is(err, store.ErrConflict):
		return apierr.Aborted("journey type %s has a newer version than the etag sent: read it and apply your change to it", name)
	}
	return err
}
