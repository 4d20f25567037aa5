package redis

import (
	"bytes"
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/sealing"
	"github.com/journeyhandoff/handoff/internal/store"
)

// Sealer encrypts values at rest; *sealing.Keyring is one. A value is
// bound to its owner, the name of the journey it belongs to: it opens only
// for that owner, so a sealed body or touchpoint copied to another journey
// (by someone with write access to Redis) fails to open there. Open must
// return a value Seal did not make (one written before sealing was turned
// on) as it is.
type Sealer interface {
	Seal(plaintext, owner []byte) []byte
	Open(value, owner []byte) ([]byte, error)
}

// WithSealer seals (encrypts) everything that holds personal data before it
// reaches Redis: the journey body, each timeline touchpoint, and each change
// in the change log and on its journey's channel. What the scripts check (the
// hash's rev and seq) and the keys stay clear. Values written before
// sealing was turned on are still read.
func WithSealer(sealer Sealer) Option {
	return func(s *Store) { s.sealer = sealer }
}

// sealedChangeMagic starts a change written by a sealing store. A plain
// JourneyChange never starts with it ('h' would be field 13, which
// JourneyChange does not have). After it come protobuf fields:
//
//	1: the journey's name, in clear (as in its keys): the owner that the
//	   sealed parts are bound to
//	2: the sealed JourneyChange head (revision and journey)
//	3: per touchpoint, its name (field 1, spliced in by change.lua) followed
//	   by the sealed touchpoint, as it is in the timeline
const sealedChangeMagic = "hsc1:"

// seal seals b, a value of the journey at key, when the store seals.
func (s *Store) seal(b []byte, key store.JourneyKey) []byte {
	if s.sealer == nil {
		return b
	}
	return s.sealer.Seal(b, []byte(key.Name()))
}

// open opens a value seal made for the journey at key. A store without a
// sealer refuses sealed values clearly instead of failing to decode them.
func (s *Store) open(b []byte, key store.JourneyKey) ([]byte, error) {
	return s.openOwned(b, []byte(key.Name()))
}

func (s *Store) openOwned(b, owner []byte) ([]byte, error) {
	if s.sealer == nil {
		if sealing.IsSealed(b) {
			if id, ok := sealing.KeyID(b); ok {
				return nil, fmt.Errorf("value sealed with key %q, but no encryption keys are configured", id)
			}
			return nil, errors.New("value is sealed, but no encryption keys are configured")
		}
		return b, nil
	}
	return s.sealer.Open(b, owner)
}

// decodeChange decodes a change from the log or the channel: a change
// record (layout v2, a delta), or a v1 change (a whole journey, sealed or
// not), which comes out as a snapshot, since it says how the journey is
// rather than what changed.
func (s *Store) decodeChange(b []byte) (*handoffv1.JourneyChange, error) {
	if rest, ok := bytes.CutPrefix(b, []byte(recordMarker)); ok {
		return s.decodeRecordChange(rest)
	}
	c, err := s.decodeV1Change(b)
	if err != nil {
		return nil, err
	}
	c.Snapshot = true
	return c, nil
}

// decodeV1Change decodes a change written before layout v2.
func (s *Store) decodeV1Change(b []byte) (*handoffv1.JourneyChange, error) {
	c := &handoffv1.JourneyChange{}
	if !bytes.HasPrefix(b, []byte(sealedChangeMagic)) {
		if err := proto.Unmarshal(b, c); err != nil {
			return nil, err
		}
		dropKindless(c.GetJourney().GetData())
		return c, nil
	}
	if s.sealer == nil {
		return nil, errors.New("change is sealed, but no encryption keys are configured")
	}
	rest := b[len(sealedChangeMagic):]
	var owner []byte
	var tps []*handoffv1.Touchpoint
	sawHead := false
	for len(rest) > 0 {
		num, typ, n := protowire.ConsumeTag(rest)
		if n < 0 || typ != protowire.BytesType {
			return nil, errors.New("malformed sealed change")
		}
		rest = rest[n:]
		v, n := protowire.ConsumeBytes(rest)
		if n < 0 {
			return nil, errors.New("malformed sealed change")
		}
		rest = rest[n:]
		// The owner comes first (changeHead writes it so), and every
		// sealed part must open for it.
		switch {
		case num == 1 && owner == nil && !sawHead && len(tps) == 0:
			owner = v
		case owner == nil:
			return nil, errors.New("malformed sealed change: no journey name first")
		case num == 2:
			head, err := s.sealer.Open(v, owner)
			if err != nil {
				return nil, err
			}
			if err := proto.Unmarshal(head, c); err != nil {
				return nil, err
			}
			sawHead = true
		case num == 3:
			tp, err := s.decodeNamedTouchpoint(v, owner)
			if err != nil {
				return nil, err
			}
			tps = append(tps, tp)
		default:
			return nil, fmt.Errorf("malformed sealed change: field %d", num)
		}
	}
	if !sawHead {
		return nil, errors.New("malformed sealed change: no head")
	}
	// Bound to owner, so a head that opened is that journey's own.
	if c.GetJourney().GetName() != string(owner) {
		return nil, errors.New("malformed sealed change: head of another journey")
	}
	c.Touchpoints = append(c.Touchpoints, tps...)
	dropKindless(c.GetJourney().GetData())
	return c, nil
}

// bytesField returns the first length-delimited field numbered num in the
// encoded message b, skipping the fields before it.
func bytesField(b []byte, num protowire.Number) ([]byte, bool) {
	for len(b) > 0 {
		n, typ, tagLen := protowire.ConsumeTag(b)
		if tagLen < 0 {
			return nil, false
		}
		b = b[tagLen:]
		if n == num && typ == protowire.BytesType {
			v, vLen := protowire.ConsumeBytes(b)
			return v, vLen >= 0
		}
		vLen := protowire.ConsumeFieldValue(n, typ, b)
		if vLen < 0 {
			return nil, false
		}
		b = b[vLen:]
	}
	return nil, false
}

// decodeNamedTouchpoint decodes a touchpoint of a sealed change to the
// journey named owner: its name (field 1), then the sealed touchpoint.
func (s *Store) decodeNamedTouchpoint(v, owner []byte) (*handoffv1.Touchpoint, error) {
	num, typ, n := protowire.ConsumeTag(v)
	if n < 0 || num != 1 || typ != protowire.BytesType {
		return nil, errors.New("malformed sealed change: touchpoint without a name")
	}
	v = v[n:]
	name, n := protowire.ConsumeBytes(v)
	if n < 0 {
		return nil, errors.New("malformed sealed change: touchpoint name")
	}
	plain, err := s.openOwned(v[n:], owner)
	if err != nil {
		return nil, err
	}
	tp := &handoffv1.Touchpoint{}
	if err := proto.Unmarshal(plain, tp); err != nil {
		return nil, err
	}
	tp.Name = string(name)
	return tp, nil
}
