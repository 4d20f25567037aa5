package service

import (
	"slices"

	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/auth"
	"github.com/journeyhandoff/handoff/internal/journeytype"
	"github.com/journeyhandoff/handoff/internal/watch"
)

// WatchJourney streams the journey as it is, then every change.
func (s *Service) WatchJourney(req *handoffv1.WatchJourneyRequest, stream handoffv1.JourneyService_WatchJourneyServer) error {
	ctx := stream.Context()
	key, p, err := s.journeyFor(ctx, req.GetName())
	if err != nil {
		return err
	}
	if audited(p) {
		ch, detail, err := channelOf(ctx, p, handoffv1.Channel_CHANNEL_UNSPECIFIED, "")
		if err != nil {
			return err
		}
		if _, err := s.recordView(ctx, p, key, ch, detail); err != nil {
			return err
		}
	}
	j, err := s.store.GetJourney(ctx, key)
	if err != nil {
		return journeyError(key, err)
	}
	// Changes carry no type version; the journey's never changes, but a
	// journey created again under its name (after it expired or was
	// erased) may be of another: snapshots and creates carry it.
	masked := !auth.RightsOf(p.Role).SeesSensitiveAnswers
	var masking *journeytype.Type
	if masked {
		if masking, err = s.types.ofJourney(ctx, j); err != nil {
			return typesError(err)
		}
	}
	// Headers now say the watch is accepted, before any change arrives: an
	// event-stream client resuming at the current revision must not wait
	// for the next change to learn it is connected.
	if err := stream.SendHeader(metadata.Pairs("x-handoff-watch", "accepted")); err != nil {
		return err
	}
	viewKey := s.viewKey(p, masking)
	err = s.hub.Watch(ctx, key, req.GetAfterRevision(), func(c *watch.Change) error {
		if masked && (c.GetSnapshot() || slices.Contains(c.GetChangedPaths(), "journey_type_version")) {
			if masking, err = s.types.ofJourney(ctx, c.GetJourney()); err != nil {
				return typesError(err)
			}
			viewKey = s.viewKey(p, masking)
		}
		// Every watcher of the journey gets the same Change: it is encoded
		// once per view (the customer's, staff's, by the type version
		// masking it), and the server's codec sends those bytes on each
		// stream (server.requestCodec).
		e, ok := c.Memoized(viewKey)
		if !ok {
			e = c.Memo(viewKey, func() any { return encodeChange(seenChange(p, masking, c.JourneyChange)) })
		}
		if e, ok := e.(*encodedChange); ok {
			return stream.SendMsg(e)
		}
		return stream.Send(seenChange(p, masking, c.JourneyChange))
	})
	if err != nil {
		return journeyError(key, err)
	}
	return nil
}

// encodedChange is a JourneyChange in protobuf's wire format, which the
// server's codec sends as it is. It is built once and sent on many streams,
// buffers and all: grpc-go only reads them, and a SliceBuffer's Free does
// nothing.
type encodedChange struct{ buffers mem.BufferSlice }

// encodeChange encodes c, or is nil (an encoder error: send c itself, to
// get the error where it belongs).
func encodeChange(c *handoffv1.JourneyChange) any {
	b, err := proto.Marshal(c)
	if err != nil {
		return nil
	}
	return &encodedChange{buffers: mem.BufferSlice{mem.SliceBuffer(b)}}
}

// EncodedBuffers returns the encoded change.
func (e *encodedChange) EncodedBuffers() mem.BufferSlice { return e.buffers }

// view is what a watcher sees of a change, by its role's rights: staff
// notes or not, and the type version sensitive answers are masked by
// (none: not masked).
type view struct {
	customer bool
	masking  typeVersion
}

// seenChange is c as p sees it with masking: the view viewOf names.
func seenChange(p auth.Principal, masking *journeytype.Type, c *handoffv1.JourneyChange) *handoffv1.JourneyChange {
	return maskedChange(masking, redactChange(p, c))
}

func viewOf(p auth.Principal, masking *journeytype.Type) view {
	v := view{customer: forCustomer(p)}
	if masking != nil {
		v.masking = typeVersion{masking.ID(), masking.Version()}
	}
	return v
}

// viewKey is the memo key of what p sees of a change (see view), looked up
// once per watch: thousands of watchers compare it per change, and the one
// pointer per view compares without reading the view.
func (s *Service) viewKey(p auth.Principal, masking *journeytype.Type) any {
	v := viewOf(p, masking)
	if k, ok := s.views.Load(v); ok {
		return k
	}
	k, _ := s.views.LoadOrStore(v, &v)
	return k
}

// forCustomer reports whether p sees the customer's view: presence (who is
// helping, on which channel) but never the notes staff leave each other.
func forCustomer(p auth.Principal) bool { return !auth.RightsOf(p.Role).SeesStaffNotes }

// staffNote reports a note left by staff (handoff itself included: a
// lapsed claim names the agent whose claim lapsed).
func staffNote(tp *handoffv1.Touchpoint) bool {
	return tp.GetNote() != "" && auth.RightsOf(tp.GetActor().GetRole()).Staff
}

func redactTouchpoints(p auth.Principal, tps []*handoffv1.Touchpoint) []*handoffv1.Touchpoint {
	if !forCustomer(p) {
		return tps
	}
	out := make([]*handoffv1.Touchpoint, len(tps))
	for i, tp := range tps {
		if staffNote(tp) {
			tp = proto.CloneOf(tp)
			tp.Note = ""
		}
		out[i] = tp
	}
	return out
}

// redactChange never modifies c: the hub shares it between watchers.
func redactChange(p auth.Principal, c *handoffv1.JourneyChange) *handoffv1.JourneyChange {
	if !forCustomer(p) {
		return c
	}
	out := &handoffv1.JourneyChange{Revision: c.GetRevision(), Journey: c.GetJourney(), Snapshot: c.GetSnapshot(), ChangedPaths: c.GetChangedPaths()}
	out.Touchpoints = redactTouchpoints(p, c.GetTouchpoints())
	return out
}
