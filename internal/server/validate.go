package server

import (
	"context"
	"errors"
	"strings"

	"buf.build/go/protovalidate"
	"github.com/journeyhandoff/handoff/internal/apierr"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// The validation interceptor is ours rather than go-grpc-middleware's
// protovalidate interceptor because that one attaches buf.validate.Violations;
// clients (and grpc-gateway's JSON errors) expect google.rpc.BadRequest.

func validationUnary(v protovalidate.Validator) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if msg, ok := req.(proto.Message); ok {
			if err := validate(v, msg); err != nil {
				return nil, err
			}
		}
		return handler(ctx, req)
	}
}

func validationStream(v protovalidate.Validator) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return handler(srv, &validatingStream{ServerStream: ss, v: v})
	}
}

// validatingStream checks each request message as the handler receives it.
type validatingStream struct {
	grpc.ServerStream
	v protovalidate.Validator
}

func (s *validatingStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	if msg, ok := m.(proto.Message); ok {
		return validate(s.v, msg)
	}
	return nil
}

// validate refuses a request that did not decode (see requestCodec) or
// breaks the rules in the .proto.
func validate(v protovalidate.Validator, msg proto.Message) error {
	if reason, failed := decodeFailure(msg); failed {
		return apierr.BadRequest("the request message does not decode: "+reason, &errdetails.BadRequest_FieldViolation{
			Field: "request", Reason: "MALFORMED_REQUEST", Description: "is not a valid " + string(msg.ProtoReflect().Descriptor().FullName()) + ": " + reason,
		})
	}
	return validationStatus(v.Validate(msg))
}

// friendlier says what a name must look like instead of quoting a regex.
var friendlier = map[string]string{
	"parent":               "must look like customers/{customer}: letters, digits, '.', '_' or '-', at most 63",
	"name":                 "must look like customers/{customer}/journeys/{journey}",
	"journey.name":         "must look like customers/{customer}/journeys/{journey}",
	"journey_id":           "must be 1 to 63 lowercase letters, digits or '-', starting with a letter",
	"request_id":           "must be 1 to 128 letters, digits, '.', '_' or '-'",
	"journey.step":         "must be letters, digits, '.', '_' or '-', at most 128",
	"journey.journey_type": "must be lowercase letters, digits or '-', starting with a letter, e.g. car-insurance-quote",
}

// ruleReason turns a protovalidate rule id (string.pattern,
// journey.name.format) into a violation's reason (STRING_PATTERN).
func ruleReason(ruleID string) string {
	return strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(ruleID))
}

func validationStatus(err error) error {
	if err == nil {
		return nil
	}
	var verr *protovalidate.ValidationError
	if !errors.As(err, &verr) {
		return apierr.Internal()
	}
	var violations []*errdetails.BadRequest_FieldViolation
	var summary []string
	for _, viol := range verr.Violations {
		field := protovalidate.FieldPathString(viol.Proto.GetField())
		desc := viol.Proto.GetMessage()
		if f, ok := friendlier[field]; ok && strings.HasSuffix(viol.Proto.GetRuleId(), "pattern") {
			desc = f
		}
		violations = append(violations, &errdetails.BadRequest_FieldViolation{Field: field, Reason: ruleReason(viol.Proto.GetRuleId()), Description: desc})
		summary = append(summary, field+": "+desc)
	}
	return apierr.BadRequest(strings.Join(summary, "; "), violations...)
}
