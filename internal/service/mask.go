package service

import (
	"slices"
	"strconv"
	"strings"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/answers"
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
		for _, l := range answers.Leaves(req.GetData()) {
			paths = append(paths, "data."+l.Path)
		}
		return paths, nil
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
				return nil, invalidArgument("update_mask", "EMPTY_MASK_KEY", "path "+strconv.Quote(p)+" has an empty key")
			}
			paths = append(paths, p)
		default:
			return nil, invalidArgument("update_mask", "UNKNOWN_MASK_PATH", "unknown path "+strconv.Quote(p)+": use step, data, or data.<answer> such as data.vehicle.plate")
		}
	}
	return paths, nil
}
