package journeytype_test

import (
	"slices"
	"testing"

	"github.com/journeyhandoff/handoff/internal/journeytype"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

func TestMask(t *testing.T) {
	tests := []struct {
		name     string
		value    *structpb.Value
		keepLast int
		want     string
	}{
		{"an IBAN keeps its last four", structpb.NewStringValue("NL91ABNA0417164300"), 4, "•••• 4300"},
		{"characters, not bytes, are kept", structpb.NewStringValue("ÅÄÖåäöÅÄÖ"), 2, "•••• ÄÖ"},
		{"keeping none hides it all", structpb.NewStringValue("NL91ABNA0417164300"), 0, "••••"},
		{"a string of twice keepLast hides it all", structpb.NewStringValue("12345678"), 4, "••••"},
		{"a string shorter than keepLast hides it all", structpb.NewStringValue("123"), 4, "••••"},
		{"one character over twice keepLast shows keepLast", structpb.NewStringValue("123456789"), 4, "•••• 6789"},
		{"the empty string", structpb.NewStringValue(""), 4, "••••"},
		{"a number", structpb.NewNumberValue(1234567890), 4, "••••"},
		{"a boolean", structpb.NewBoolValue(true), 4, "••••"},
		{"null", structpb.NewNullValue(), 4, "••••"},
		{"an object", structpb.NewStructValue(&structpb.Struct{Fields: map[string]*structpb.Value{"pin": structpb.NewStringValue("1234")}}), 4, "••••"},
		{"nothing", nil, 4, "••••"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before *structpb.Value
			if tt.value != nil {
				before = proto.Clone(tt.value).(*structpb.Value)
			}
			got := journeytype.Mask(tt.value, tt.keepLast)
			if got.GetStringValue() != tt.want {
				t.Fatalf("Mask = %v; want %q", got, tt.want)
			}
			if tt.value != nil && !proto.Equal(tt.value, before) {
				t.Errorf("Mask changed its argument")
			}
		})
	}
}

func TestSensitive(t *testing.T) {
	typ := mustCompile(t, testType)
	tests := []struct {
		path     string
		keepLast int
		ok       bool
	}{
		{"payment.iban", 4, true},
		{"payment.pin", 0, true},
		{"payment.address", 0, false},
		{"vehicle.plate", 0, false},
		{"payment", 0, false},
		{"payment.iban.x", 0, false},
		{"nowhere.iban", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		keep, ok := typ.Sensitive(tt.path)
		if keep != tt.keepLast || ok != tt.ok {
			t.Errorf("Sensitive(%q) = %d, %v; want %d, %v", tt.path, keep, ok, tt.keepLast, tt.ok)
		}
	}
	paths := typ.SensitivePaths()
	if want := []string{"payment.iban", "payment.pin"}; !slices.Equal(paths, want) {
		t.Fatalf("SensitivePaths() = %q; want %q", paths, want)
	}
	paths[0] = "changed"
	if typ.SensitivePaths()[0] != "payment.iban" {
		t.Errorf("changing the returned slice changed the type")
	}
}
