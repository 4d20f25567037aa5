package memory

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

// PutJourneyType implements store.JourneyTypes.
func (s *Store) PutJourneyType(_ context.Context, def *handoffv1.JourneyType, put store.TypePut) (*handoffv1.JourneyType, bool, error) {
	id := strings.TrimPrefix(def.GetName(), "journeyTypes/")
	s.mu.Lock()
	defer s.mu.Unlock()
	versions := s.types[id]
	latest := int64(len(versions))
	if put.MustBeNew && latest > 0 {
		return nil, false, fmt.Errorf("journey type %s: %w", id, store.ErrAlreadyExists)
	}
	if put.IfVersion != 0 && put.IfVersion != latest {
		return nil, false, fmt.Errorf("journey type %s is at version %d, not %d: %w", id, latest, put.IfVersion, store.ErrConflict)
	}
	if latest > 0 && put.Same(versions[latest-1], def) {
		return proto.CloneOf(versions[latest-1]), false, nil
	}
	stored := proto.CloneOf(def)
	stored.Name = "journeyTypes/" + id
	stored.Version = latest + 1
	stored.Etag = strconv.FormatInt(stored.Version, 10)
	stored.CreateTime = timestamppb.New(put.Now)
	s.types[id] = append(versions, stored)
	return proto.CloneOf(stored), true, nil
}

// JourneyType implements store.JourneyTypes.
func (s *Store) JourneyType(_ context.Context, id string, version int64) (*handoffv1.JourneyType, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	versions := s.types[id]
	if version == 0 {
		version = int64(len(versions))
	}
	if version < 1 || version > int64(len(versions)) {
		return nil, fmt.Errorf("journey type %s version %d: %w", id, version, store.ErrNotFound)
	}
	return proto.CloneOf(versions[version-1]), nil
}

// LatestJourneyTypes implements store.JourneyTypes.
func (s *Store) LatestJourneyTypes(context.Context) (map[string]int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int64, len(s.types))
	for id, versions := range s.types {
		out[id] = int64(len(versions))
	}
	return out, nil
}
