package server

import (
	"testing"

	"buf.build/go/protovalidate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

// FuzzRequestValidation feeds arbitrary JSON bodies, decoded as the gateway
// decodes them, to the validation interceptor's check: it must never panic,
// and a refusal is always INVALID_ARGUMENT with field violations. The
// corpus in testdata/ runs with every `go test`.
func FuzzRequestValidation(f *testing.F) {
	v, err := protovalidate.New()
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		`{"journey":{"name":"customers/c-42/journeys/j1","step":"vehicle","data":{"a":1}},"updateMask":"step"}`,
		`{"journey":{"name":"customers//journeys/x"}}`,
		`{"journey":{"name":"customers/c-42/journeys/j1","journeyType":"Bad Type","step":"../.."}}`,
		`{"journey":{"name":"customers/c-42/journeys/j1","etag":"` + string(make([]byte, 80)) + `"},"channel":"CHANNEL_PHONE"}`,
		`{"journey":null}`,
		`{}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := &handoffv1.UpdateJourneyRequest{}
		if protojson.Unmarshal(body, req) != nil {
			return // the gateway refuses bodies it cannot decode before this point
		}
		err := validationStatus(v.Validate(req))
		if err == nil {
			return
		}
		st := status.Convert(err)
		if st.Code() != codes.InvalidArgument {
			t.Fatalf("refused with %v, want INVALID_ARGUMENT: %v", st.Code(), st.Message())
		}
		for _, d := range st.Details() {
			if br, ok := d.(*errdetails.BadRequest); ok && len(br.GetFieldViolations()) > 0 {
				return
			}
		}
		t.Fatalf("INVALID_ARGUMENT without field violations: %v", st.Message())
	})
}
