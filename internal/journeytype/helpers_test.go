package journeytype_test

import (
	"testing"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
	"github.com/journeyhandoff/handoff/internal/journeytype"
	"google.golang.org/protobuf/types/known/structpb"
)

// testType is a small valid definition that every rule test breaks in one
// place.
const testType = `
name: journeyTypes/test-type
title: {en: Test, pt-BR: Teste}
ttl: 3600s
steps:
  - id: vehicle
    label: {en: Vehicle}
    help: {en: About the car.}
    answers:
      - key: plate
        kind: text
        schema: {type: string, minLength: 2, maxLength: 12, pattern: '^[A-Z0-9-]+$'}
      - key: year
        kind: number
        schema: {type: integer, minimum: 1950, maximum: 2100}
      - key: level
        kind: select
        schema: {type: string, enum: [basic, full]}
        options:
          - {value: basic, label: {en: Basic}}
          - {value: full, label: {en: Full}}
      - key: notes # no kind (text) and no schema (anything)
  - id: payment
    momentOfTruth: true
    answers:
      - key: iban
        sensitive: true
        maskKeepLast: 4
        schema: {type: string, pattern: '^[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}$'}
      - key: pin
        sensitive: true
      - key: address
        schema:
          type: object
          properties: {street: {type: string}, number: {type: integer, minimum: 1}}
          required: [street]
          additionalProperties: false
  - id: done
`

func parse(t *testing.T, src string) *handoffv1.JourneyType {
	t.Helper()
	def, err := journeytype.Parse([]byte(src), "test.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return def
}

func mustCompile(t *testing.T, src string) *journeytype.Type {
	t.Helper()
	typ, err := journeytype.Compile(parse(t, src))
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return typ
}

// value turns JSON into a protobuf value, as a save's data arrives.
func value(t *testing.T, js string) *structpb.Value {
	t.Helper()
	v := &structpb.Value{}
	if err := v.UnmarshalJSON([]byte(js)); err != nil {
		t.Fatalf("value %s: %v", js, err)
	}
	return v
}

func schema(t *testing.T, js string) *structpb.Struct {
	t.Helper()
	s := &structpb.Struct{}
	if err := s.UnmarshalJSON([]byte(js)); err != nil {
		t.Fatalf("schema %s: %v", js, err)
	}
	return s
}
