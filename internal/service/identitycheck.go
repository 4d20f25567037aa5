package service

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/answers"
	"github.com/journeyhandoff/handoff/internal/apierr"
	"github.com/journeyhandoff/handoff/internal/auth"
	"github.com/journeyhandoff/handoff/internal/store"
)

// The step-up check of an identity lookup: the caller's answer against
// the journey's, compared as digests in constant time, never shown.

// errLookupNotFound is the one answer to a lookup that is not the
// caller's: expired, unknown and another agent's read alike.
func errLookupNotFound(name string) error {
	return apierr.NotFound("identity lookup %s not found (lookups last 10 minutes, for the agent who made them): look the identity up again", name)
}

var errAnswerDoesNotMatch = apierr.FailedPrecondition("the answer does not match")

const tooManyChecks = "too many identity checks failed"

// identityCheck is the answer j's step-up check asks for (the first of its
// type's identity checks that j has answered) and its label; "" when j has
// none it can pass.
func (s *Service) identityCheck(ctx context.Context, j *handoffv1.Journey) (string, map[string]string, error) {
	tp, err := s.types.ofJourney(ctx, j)
	if err != nil {
		return "", nil, typesError(err)
	}
	if tp == nil {
		return "", nil, nil
	}
	for _, path := range tp.IdentityChecks() {
		if v, ok := answers.Lookup(j.GetData(), path); ok && v.GetKind() != nil {
			if _, isNull := v.GetKind().(*structpb.Value_NullValue); !isNull {
				return path, tp.Label(path), nil
			}
		}
	}
	return "", nil, nil
}

// recordTouch appends a touchpoint of kind by p on the journey, moving
// neither its etag nor its content, as a staff view does.
func (s *Service) recordTouch(ctx context.Context, p auth.Principal, key store.JourneyKey, kind handoffv1.TouchpointKind, ch handoffv1.Channel, detail string) (*handoffv1.Journey, error) {
	return s.mutate(ctx, key, "", func(cur *handoffv1.Journey) (effect, error) {
		return recorded(&handoffv1.Touchpoint{
			Time: timestamppb.New(s.now()), Channel: ch, ChannelDetail: detail,
			Actor: actor(p), Kind: kind, Step: cur.GetStep(),
		}), nil
	})
}

// VerifyIdentityLookup opens one match of the caller's lookup when the
// caller's answer matches the journey's.
func (a IdentitiesAPI) VerifyIdentityLookup(ctx context.Context, req *handoffv1.VerifyIdentityLookupRequest) (*handoffv1.Journey, error) {
	s := a.svc
	p, err := s.caller(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := a.keys(); err != nil {
		return nil, err
	}
	ch, detail, err := channelOf(ctx, p, req.GetChannel(), req.GetChannelDetail())
	if err != nil {
		return nil, err
	}
	lookup, err := s.store.IdentityLookup(ctx, strings.TrimPrefix(req.GetName(), "identityLookups/"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && lookup.Principal != p.ID) {
		return nil, errLookupNotFound(req.GetName())
	}
	if err != nil {
		return nil, err
	}
	n := int(req.GetMatch())
	if n < 1 || n > len(lookup.Matches) {
		return nil, invalidArgument("match", "NO_SUCH_MATCH", "the lookup has no match of that number: use one of the numbers it listed")
	}
	key := lookup.Matches[n-1]
	cur, err := s.store.GetJourney(ctx, key)
	if err != nil {
		return nil, journeyError(key, err)
	}
	path, _, err := s.identityCheck(ctx, cur)
	if err != nil {
		return nil, err
	}
	if path == "" {
		return nil, failedPrecondition("journey %s has no identity check it can pass: ask the customer for a handoff code instead", key.Name())
	}
	// Counted as failed before the comparison, as a redeem is, so checks
	// made in parallel stay within the limit.
	attempt, err := s.startRedeem(ctx, []failureCounter{
		{key: "identity-check:principal:" + p.ID, limit: s.opts.IdentityCheckFailures, window: IdentityWindow, refusal: tooManyChecks},
		{key: journeyCheckCounter(key), limit: s.opts.IdentityCheckFailures, window: IdentityWindow, refusal: tooManyChecks},
	})
	if err != nil {
		return nil, err
	}
	stored, _ := answers.Lookup(cur.GetData(), path)
	if !sameAnswer(stored, req.GetAnswer()) {
		if _, err := s.recordTouch(ctx, p, key, handoffv1.TouchpointKind_TOUCHPOINT_KIND_CHECK_FAILED, ch, detail); err != nil {
			return nil, err
		}
		return nil, errAnswerDoesNotMatch
	}
	s.forget(ctx, attempt)
	j, err := s.takeCase(ctx, p, key, ch, detail, handoffv1.TouchpointKind_TOUCHPOINT_KIND_IDENTIFIED,
		"ask them to release or transfer it")
	if err != nil || req.GetView() != handoffv1.JourneyView_JOURNEY_VIEW_FULL {
		return j, err
	}
	return s.readJourney(ctx, key, s.store.JourneyWithProvenance)
}

// sameAnswer compares the caller's answer with the stored one: strings
// without case and whitespace, anything else as canonical JSON. A caller
// who typed a number or date as text still matches (the console cannot
// tell), read as JSON when the stored answer is not a string. Both sides
// become digests of equal length, compared in constant time.
func sameAnswer(stored, given *structpb.Value) bool {
	want, ok1 := canonicalAnswer(stored, stored)
	got, ok2 := canonicalAnswer(given, stored)
	w, g := sha256.Sum256(want), sha256.Sum256(got)
	return subtle.ConstantTimeCompare(w[:], g[:]) == 1 && ok1 && ok2
}

// canonicalAnswer is v in the form it is compared in, as an answer shaped
// like stored.
func canonicalAnswer(v, stored *structpb.Value) ([]byte, bool) {
	if v == nil || v.GetKind() == nil {
		return nil, false
	}
	_, storedIsString := stored.GetKind().(*structpb.Value_StringValue)
	text, isString := v.GetKind().(*structpb.Value_StringValue)
	switch {
	case storedIsString && isString:
		return []byte("s:" + foldText(text.StringValue)), true
	case storedIsString:
		raw, err := json.Marshal(v.AsInterface())
		return []byte("s:" + foldText(string(raw))), err == nil
	case isString:
		var parsed any
		if err := json.Unmarshal([]byte(text.StringValue), &parsed); err != nil {
			return nil, false
		}
		raw, err := json.Marshal(parsed)
		return append([]byte("j:"), raw...), err == nil
	}
	// encoding/json writes object keys sorted and numbers one way: canonical.
	raw, err := json.Marshal(v.AsInterface())
	return append([]byte("j:"), raw...), err == nil
}

// foldText is s case-folded (Unicode, not just ASCII) without any whitespace.
func foldText(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
	return cases.Fold().String(s)
}

// journeyCheckCounter names a journey's failed-check counter by the
// SHA-256 of its name: the counter outlives an erasure by up to its
// window, and must not name the customer meanwhile.
func journeyCheckCounter(key store.JourneyKey) string {
	sum := sha256.Sum256([]byte(key.Name()))
	return "identity-check:journey:" + hex.EncodeToString(sum[:])
}
