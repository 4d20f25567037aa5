package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	goredis "github.com/redis/go-redis/v9"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

// Journey types live in two hashes of one slot (docs/journeytypes.md): the
// latest version of each type, and every version's definition (protobuf)
// by `<type>@<version>`. The hash tag starts with `_`, which no customer
// id does, so no customer's keys (or erasure) come near them.
const typesTag = "{_types}"

// putTypeScript adds a version if the type's latest is still the one the
// caller compared with. KEYS[1] latest, KEYS[2] definitions; ARGV type,
// latest read ('0': none), new version, definition.
var putTypeScript = goredis.NewScript(`
if (redis.call('HGET', KEYS[1], ARGV[1]) or '0') ~= ARGV[2] then
  return 'moved'
end
redis.call('HSET', KEYS[2], ARGV[1] .. '@' .. ARGV[3], ARGV[4])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 'added'
`)

func (s *Store) typesLatestKey() string { return s.prefix + typesTag + ":latest" }
func (s *Store) typesDefsKey() string   { return s.prefix + typesTag + ":defs" }

// PutJourneyType implements store.JourneyTypes: compare in Go (put.Same),
// then add the version in a script that checks nobody added one since.
func (s *Store) PutJourneyType(ctx context.Context, def *handoffv1.JourneyType, put store.TypePut) (*handoffv1.JourneyType, bool, error) {
	id := strings.TrimPrefix(def.GetName(), "journeyTypes/")
	for range 5 {
		latest, err := s.latestVersion(ctx, id)
		if err != nil {
			return nil, false, err
		}
		if put.MustBeNew && latest > 0 {
			return nil, false, fmt.Errorf("journey type %s: %w", id, store.ErrAlreadyExists)
		}
		if put.IfVersion != 0 && put.IfVersion != latest {
			return nil, false, fmt.Errorf("journey type %s is at version %d, not %d: %w", id, latest, put.IfVersion, store.ErrConflict)
		}
		if latest > 0 {
			cur, err := s.JourneyType(ctx, id, latest)
			if err != nil {
				return nil, false, err
			}
			if put.Same(cur, def) {
				return cur, false, nil
			}
		}
		stored := proto.CloneOf(def)
		stored.Name = "journeyTypes/" + id
		stored.Version = latest + 1
		stored.Etag = strconv.FormatInt(stored.Version, 10)
		stored.CreateTime = timestamppb.New(put.Now)
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(stored)
		if err != nil {
			return nil, false, fmt.Errorf("put journey type %s: %w", id, err)
		}
		res, err := s.runWrite(ctx, putTypeScript, []string{s.typesLatestKey(), s.typesDefsKey()},
			id, strconv.FormatInt(latest, 10), stored.Version, b).Text()
		if err != nil {
			return nil, false, wrapErr(ctx, "put journey type", err)
		}
		if res == "added" {
			return stored, true, nil
		}
		// Another instance added a version meanwhile: compare with it.
	}
	return nil, false, fmt.Errorf("put journey type %s: versions keep being added: %w", id, store.ErrConflict)
}

func (s *Store) latestVersion(ctx context.Context, id string) (int64, error) {
	v, err := s.client.HGet(ctx, s.typesLatestKey(), id).Int64()
	if errors.Is(err, goredis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, wrapErr(ctx, "journey type "+id, err)
	}
	return v, nil
}

// JourneyType implements store.JourneyTypes.
func (s *Store) JourneyType(ctx context.Context, id string, version int64) (*handoffv1.JourneyType, error) {
	if version == 0 {
		latest, err := s.latestVersion(ctx, id)
		if err != nil {
			return nil, err
		}
		version = latest
	}
	b, err := s.client.HGet(ctx, s.typesDefsKey(), id+"@"+strconv.FormatInt(version, 10)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, fmt.Errorf("journey type %s version %d: %w", id, version, store.ErrNotFound)
	}
	if err != nil {
		return nil, wrapErr(ctx, "journey type "+id, err)
	}
	def := &handoffv1.JourneyType{}
	if err := proto.Unmarshal(b, def); err != nil {
		return nil, fmt.Errorf("journey type %s version %d: %w", id, version, err)
	}
	return def, nil
}

// LatestJourneyTypes implements store.JourneyTypes.
func (s *Store) LatestJourneyTypes(ctx context.Context) (map[string]int64, error) {
	kv, err := s.client.HGetAll(ctx, s.typesLatestKey()).Result()
	if err != nil {
		return nil, wrapErr(ctx, "journey types", err)
	}
	out := make(map[string]int64, len(kv))
	for id, v := range kv {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("journey type %s: latest version %q", id, v)
		}
		out[id] = n
	}
	return out, nil
}
