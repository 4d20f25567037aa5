package service

import (
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/types/known/structpb"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

// savePaths turns an update mask into the paths a save applies: `step`,
// `data`, or `data.<key>.<key>...`. An empty mask means every field the
// request sets. `name` and `etag` are dropped: grpc-gateway derives PATCH
// masks from the JSON body, which carries both.
func savePaths(mask []string, req *handoffv1.Journey) ([]string, error) {
	if len(mask) == 0 {
		// As grpc-gateway does for a PATCH body: every answer the request
		// carries, by its own path, so a save over gRPC merges exactly as
		// one over REST.
		var paths []string
		if req.GetStep() != "" {
			paths = append(paths, "step")
		}
		return append(paths, leafPaths("data", req.GetData())...), nil
	}
	var paths []string
	for _, p := range mask {
		switch {
		case p == "name" || p == "etag":
			continue
		case p == "*":
			paths = append(paths, "step", "data")
		case p == "step" || p == "data":
			paths = append(paths, p)
		case strings.HasPrefix(p, "data."):
			if slices.Contains(strings.Split(p, ".")[1:], "") {
				return nil, invalidArgument("update_mask", "path "+strconv.Quote(p)+" has an empty key")
			}
			paths = append(paths, p)
		default:
			return nil, invalidArgument("update_mask", "unknown path "+strconv.Quote(p)+": use step, data, or data.<answer> such as data.vehicle.plate")
		}
	}
	return paths, nil
}

// applySave copies the masked fields of req into cur. A data path that req
// does not set deletes that answer (AIP-134: a masked field absent from the
// request is cleared).
func applySave(cur, req *handoffv1.Journey, paths []string) {
	for _, p := range paths {
		switch {
		case p == "step":
			cur.Step = req.GetStep()
		case p == "data":
			cur.Data = req.GetData()
			if cur.Data == nil {
				cur.Data = &structpb.Struct{}
			}
		default:
			keys := strings.Split(strings.TrimPrefix(p, "data."), ".")
			if cur.Data == nil {
				cur.Data = &structpb.Struct{}
			}
			if v, ok := lookup(req.GetData(), keys); ok {
				set(cur.Data, keys, v)
			} else {
				remove(cur.Data, keys)
			}
		}
	}
}

func lookup(s *structpb.Struct, keys []string) (*structpb.Value, bool) {
	for i, k := range keys {
		v, ok := s.GetFields()[k]
		if !ok {
			return nil, false
		}
		if i == len(keys)-1 {
			return v, true
		}
		s = v.GetStructValue()
		if s == nil {
			return nil, false
		}
	}
	return nil, false
}

// set writes v at keys, creating objects on the way and replacing a
// non-object that stands where an object must go.
func set(s *structpb.Struct, keys []string, v *structpb.Value) {
	for _, k := range keys[:len(keys)-1] {
		if s.Fields == nil {
			s.Fields = map[string]*structpb.Value{}
		}
		next := s.Fields[k].GetStructValue()
		if next == nil {
			next = &structpb.Struct{}
			s.Fields[k] = structpb.NewStructValue(next)
		}
		s = next
	}
	if s.Fields == nil {
		s.Fields = map[string]*structpb.Value{}
	}
	s.Fields[keys[len(keys)-1]] = v
}

func remove(s *structpb.Struct, keys []string) {
	for _, k := range keys[:len(keys)-1] {
		s = s.GetFields()[k].GetStructValue()
		if s == nil {
			return
		}
	}
	delete(s.GetFields(), keys[len(keys)-1])
}

// leafPaths lists the paths of every answer in s: nested objects are
// walked, anything else (including an empty object) is a leaf.
func leafPaths(prefix string, s *structpb.Struct) []string {
	var paths []string
	for k, v := range s.GetFields() {
		p := prefix + "." + k
		if sub := v.GetStructValue(); sub != nil && len(sub.GetFields()) > 0 {
			paths = append(paths, leafPaths(p, sub)...)
			continue
		}
		paths = append(paths, p)
	}
	slices.Sort(paths)
	return paths
}
