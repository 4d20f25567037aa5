package redis

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/store"
)

// Identity links (docs/reach.md): the customer's links hash is the truth,
// in the customer's slot, erased with the customer; each digest's index
// set names the customers that linked it, in its own slot, so no script
// spans two slots. A lookup reads the index, then asks each customer's
// hash whether it still holds the digest.

var (
	linkArgs   = args{"id", "digest", "kind", "network", "create_ms", "expire_ms", "now_ms", "limit", "rest"}
	unlinkArgs = args{"id", "now_ms"}

	//go:embed link.lua
	linkLua    string
	linkScript = newScript(linkArgs, linkLua)

	//go:embed unlink.lua
	unlinkLua    string
	unlinkScript = newScript(unlinkArgs, unlinkLua)
)

// linksKey is the customer's links hash (see link.lua).
func (s *Store) linksKey(customer string) string {
	return s.prefix + "{" + customer + "}:idl"
}

// linkersKey is the set of customers that linked digest: its own slot.
func (s *Store) linkersKey(digest string) string {
	return s.prefix + "{idn:" + digest + "}"
}

// lookupKey holds one identity lookup, in its own slot as a code does.
func (s *Store) lookupKey(id string) string {
	return s.prefix + "lookup:" + id
}

// LinkIdentity implements store.Store: the customer's hash first (what
// counts), then the digest's index entry. A failure between the two leaves
// a link nobody finds until it is linked again, never the reverse.
func (s *Store) LinkIdentity(ctx context.Context, customer string, link store.IdentityLink, replaces []string, limit int) (store.IdentityLink, bool, error) {
	a := linkArgs.make(len(replaces))
	a[linkArgs.index("id")] = link.ID
	a[linkArgs.index("digest")] = link.Digest
	a[linkArgs.index("kind")] = int32(link.Kind)
	a[linkArgs.index("network")] = link.Network
	a[linkArgs.index("create_ms")] = link.CreateTime.UnixMilli()
	a[linkArgs.index("expire_ms")] = link.ExpireTime.UnixMilli()
	a[linkArgs.index("now_ms")] = time.Now().UnixMilli()
	a[linkArgs.index("limit")] = max(limit, 0)
	for _, d := range replaces {
		a = append(a, d)
	}
	res, err := s.runWrite(ctx, linkScript, []string{s.linksKey(customer)}, a...).StringSlice()
	if err != nil {
		return store.IdentityLink{}, false, wrapErr(ctx, "link identity", err)
	}
	if len(res) < 3 {
		return store.IdentityLink{}, false, fmt.Errorf("link identity: unexpected script result of %d values", len(res))
	}
	if res[2] == "full" {
		for _, d := range res[3:] {
			s.tidyIndex(ctx, d, customer)
		}
		return store.IdentityLink{}, false, fmt.Errorf("link identity: %w", store.ErrLinkLimit)
	}
	createMS, err := strconv.ParseInt(res[1], 10, 64)
	if err != nil {
		return store.IdentityLink{}, false, fmt.Errorf("link identity: malformed create time")
	}
	link.ID, link.CreateTime = res[0], time.UnixMilli(createMS).UTC()
	link.ExpireTime = time.UnixMilli(link.ExpireTime.UnixMilli()).UTC()
	if err := s.indexLink(ctx, link.Digest, customer, link.ExpireTime); err != nil {
		return store.IdentityLink{}, false, wrapErr(ctx, "link identity", err)
	}
	for _, d := range res[3:] {
		s.tidyIndex(ctx, d, customer)
	}
	return link, res[2] == "1", nil
}

// indexLink adds customer to digest's index set, which lives as long as
// its longest-lived entry: NX sets a first expiry, GT only moves it later.
func (s *Store) indexLink(ctx context.Context, digest, customer string, expire time.Time) error {
	key := s.linkersKey(digest)
	ms := expire.UnixMilli()
	_, err := s.client.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.SAdd(ctx, key, customer)
		p.Do(ctx, "PEXPIREAT", key, ms, "NX")
		p.Do(ctx, "PEXPIREAT", key, ms, "GT")
		return nil
	})
	return err
}

// tidyIndex takes customer off digest's index set once its hash no longer
// holds the digest, then clears the digest's `x:` mark (see link.lua).
// Only tidying: lookups ignore such entries anyway, so a failure is not
// the caller's, and the mark left behind has erasure take the entry off.
// A link made again meanwhile is put back.
func (s *Store) tidyIndex(ctx context.Context, digest, customer string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	if err := s.client.SRem(ctx, s.linkersKey(digest), customer).Err(); err != nil {
		return
	}
	if err := s.client.HDel(ctx, s.linksKey(customer), "x:"+digest).Err(); err != nil {
		return
	}
	if exp, ok, err := s.heldUntil(ctx, customer, digest); err == nil && ok {
		_ = s.indexLink(ctx, digest, customer, exp)
	}
}

// heldUntil reads whether customer holds a live link of digest, and until when.
func (s *Store) heldUntil(ctx context.Context, customer, digest string) (time.Time, bool, error) {
	v, err := s.client.HGet(ctx, s.linksKey(customer), "d:"+digest).Result()
	if errors.Is(err, goredis.Nil) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, err
	}
	exp, ok := heldExpiry(v)
	return exp, ok && time.Now().Before(exp), nil
}

// heldExpiry reads a `d:<digest>` field's `<expire ms>:<id>`.
func heldExpiry(v string) (time.Time, bool) {
	ms, _, ok := strings.Cut(v, ":")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil {
		return time.Time{}, false
	}
	return time.UnixMilli(n), true
}

// IdentityLinks implements store.Store.
func (s *Store) IdentityLinks(ctx context.Context, customer string) ([]store.IdentityLink, error) {
	all, err := s.client.HGetAll(ctx, s.linksKey(customer)).Result()
	if err != nil {
		return nil, wrapErr(ctx, "identity links", err)
	}
	now := time.Now()
	var out []store.IdentityLink
	for field, rec := range all {
		id, ok := strings.CutPrefix(field, "l:")
		if !ok {
			continue
		}
		l, err := parseLink(id, rec)
		if err != nil {
			return nil, err
		}
		if now.Before(l.ExpireTime) {
			out = append(out, l)
		}
	}
	store.SortIdentityLinks(out)
	return out, nil
}

// parseLink reads an `l:<id>` field (see link.lua).
func parseLink(id, rec string) (store.IdentityLink, error) {
	f := strings.SplitN(rec, " ", 5)
	if len(f) != 5 {
		return store.IdentityLink{}, fmt.Errorf("identity link %s: malformed record", id)
	}
	expire, err1 := strconv.ParseInt(f[0], 10, 64)
	create, err2 := strconv.ParseInt(f[1], 10, 64)
	kind, err3 := strconv.ParseInt(f[2], 10, 32)
	if err := errors.Join(err1, err2, err3); err != nil {
		return store.IdentityLink{}, fmt.Errorf("identity link %s: malformed record", id)
	}
	return store.IdentityLink{
		ID: id, Digest: f[3], Kind: handoffv1.IdentityKind(kind), Network: f[4],
		CreateTime: time.UnixMilli(create).UTC(), ExpireTime: time.UnixMilli(expire).UTC(),
	}, nil
}

// UnlinkIdentity implements store.Store.
func (s *Store) UnlinkIdentity(ctx context.Context, customer, id string) error {
	a := unlinkArgs.make(0)
	a[unlinkArgs.index("id")] = id
	a[unlinkArgs.index("now_ms")] = time.Now().UnixMilli()
	res, err := s.runWrite(ctx, unlinkScript, []string{s.linksKey(customer)}, a...).StringSlice()
	switch {
	case errors.Is(err, goredis.Nil):
		return fmt.Errorf("identity link %s: %w", id, store.ErrNotFound)
	case err != nil:
		return wrapErr(ctx, "unlink identity", err)
	case len(res) != 2:
		return fmt.Errorf("unlink identity: unexpected script result of %d values", len(res))
	}
	// An expired link is gone all the same, its index entry with it.
	s.tidyIndex(ctx, res[0], customer)
	if res[1] != "1" {
		return fmt.Errorf("identity link %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// LinkedCustomers implements store.Store: the index sets, then each named
// customer's own hash, which decides.
func (s *Store) LinkedCustomers(ctx context.Context, digests []string) (map[string][]string, error) {
	sets := make([]*goredis.StringSliceCmd, len(digests))
	if _, err := s.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, d := range digests {
			sets[i] = p.SMembers(ctx, s.linkersKey(d))
		}
		return nil
	}); err != nil {
		return nil, wrapErr(ctx, "linked customers", err)
	}
	type claim struct {
		digest, customer string
		held             *goredis.StringCmd
	}
	var claims []claim
	for i, d := range digests {
		for _, c := range sets[i].Val() {
			claims = append(claims, claim{digest: d, customer: c})
		}
	}
	out := map[string][]string{}
	if len(claims) == 0 {
		return out, nil
	}
	_, err := s.client.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i := range claims {
			claims[i].held = p.HGet(ctx, s.linksKey(claims[i].customer), "d:"+claims[i].digest)
		}
		return nil
	})
	if err != nil && !errors.Is(err, goredis.Nil) {
		return nil, wrapErr(ctx, "linked customers", err)
	}
	now := time.Now()
	for _, c := range claims {
		if exp, ok := heldExpiry(c.held.Val()); ok && now.Before(exp) {
			out[c.digest] = append(out[c.digest], c.customer)
		}
	}
	for _, cs := range out {
		slices.Sort(cs)
	}
	return out, nil
}

// lookupRecord is a lookup as its key holds it.
type lookupRecord struct {
	Principal string   `json:"p"`
	Matches   []string `json:"m"` // journey names
	ExpireMS  int64    `json:"e"`
}

// PutIdentityLookup implements store.Store.
func (s *Store) PutIdentityLookup(ctx context.Context, l store.IdentityLookup) error {
	rec := lookupRecord{Principal: l.Principal, ExpireMS: l.ExpireTime.UnixMilli(), Matches: make([]string, len(l.Matches))}
	for i, k := range l.Matches {
		rec.Matches[i] = k.Name()
	}
	raw, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("put identity lookup: %w", err)
	}
	if err := s.client.SetArgs(ctx, s.lookupKey(l.ID), raw, goredis.SetArgs{ExpireAt: l.ExpireTime}).Err(); err != nil {
		return wrapErr(ctx, "put identity lookup", err)
	}
	return nil
}

// IdentityLookup implements store.Store.
func (s *Store) IdentityLookup(ctx context.Context, id string) (store.IdentityLookup, error) {
	raw, err := s.client.Get(ctx, s.lookupKey(id)).Bytes()
	switch {
	case errors.Is(err, goredis.Nil):
		return store.IdentityLookup{}, fmt.Errorf("identity lookup: %w", store.ErrNotFound)
	case err != nil:
		return store.IdentityLookup{}, wrapErr(ctx, "identity lookup", err)
	}
	var rec lookupRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return store.IdentityLookup{}, fmt.Errorf("identity lookup: malformed record")
	}
	l := store.IdentityLookup{ID: id, Principal: rec.Principal, ExpireTime: time.UnixMilli(rec.ExpireMS).UTC()}
	for _, name := range rec.Matches {
		k, err := store.ParseJourneyName(name)
		if err != nil {
			return store.IdentityLookup{}, fmt.Errorf("identity lookup: malformed record")
		}
		l.Matches = append(l.Matches, k)
	}
	return l, nil
}

// DeleteIdentityLookup implements store.Store.
func (s *Store) DeleteIdentityLookup(ctx context.Context, id string) error {
	if err := s.client.Del(ctx, s.lookupKey(id)).Err(); err != nil {
		return wrapErr(ctx, "delete identity lookup", err)
	}
	return nil
}

// linkedDigests are the digests the customer's hash names, for erasure:
// those of its links, live or expired, and those dropped whose index
// entry may not have been tidied (`x:`, see link.lua).
func (s *Store) linkedDigests(ctx context.Context, customer string) ([]string, error) {
	all, err := s.client.HGetAll(ctx, s.linksKey(customer)).Result()
	if err != nil {
		return nil, err
	}
	var out []string
	for f, v := range all {
		if d, ok := strings.CutPrefix(f, "d:"); ok {
			out = append(out, d)
		} else if d, ok := strings.CutPrefix(f, "x:"); ok {
			out = append(out, d)
		} else if id, ok := strings.CutPrefix(f, "l:"); ok {
			if l, err := parseLink(id, v); err == nil {
				out = append(out, l.Digest)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
