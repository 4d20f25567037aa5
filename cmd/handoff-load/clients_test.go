package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

// A save encoded before the run must be the save today's driver sent for
// the same request number, over gRPC and over REST alike.
func TestPreEncodedSaves(t *testing.T) {
	const name = "customers/c-0000007/journeys/quote"
	for _, tc := range []struct {
		name string
		seq  uint64
	}{
		{"the_first_request_carries_its_page_over_grpc_and_rest_alike", 0},
		{"a_later_request_carries_its_own_page_over_grpc_and_rest_alike", 12345},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPageSave(tc.seq)
			req, err := saveRequest(name, p)
			require.NoError(t, err)
			raw, err := encode(req)
			require.NoError(t, err)
			var grpcSave handoffv1.UpdateJourneyRequest
			require.NoError(t, proto.Unmarshal(raw, &grpcSave))
			j := grpcSave.GetJourney()
			require.Equal(t, name, j.GetName())
			require.Equal(t, p.step, j.GetStep())
			require.Empty(t, grpcSave.GetUpdateMask().GetPaths(), "no mask: each answer sent replaces that answer")
			require.Empty(t, j.GetEtag())
			want := map[string]any{"annualMileage": float64(p.mileage), "vehicle": map[string]any{"plate": p.plate}, "parking": p.parking}
			require.Equal(t, want, j.GetData().AsMap())

			body, err := p.json()
			require.NoError(t, err)
			var restSave struct {
				Step string         `json:"step"`
				Data map[string]any `json:"data"`
			}
			require.NoError(t, json.Unmarshal(body, &restSave))
			require.Equal(t, p.step, restSave.Step)
			require.Equal(t, want, restSave.Data)
		})
	}
}

func TestNumberSave(t *testing.T) {
	const name = "customers/c-hot/journeys/quote-1"
	s, err := newNumberSave(name, "w3")
	require.NoError(t, err)
	for _, tc := range []struct {
		name  string
		value float64
	}{
		{"writes_the_first_request_number", 0},
		{"writes_a_later_request_number", 123_456},
		{"writes_a_number_past_what_an_int32_holds", 1 << 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got handoffv1.UpdateJourneyRequest
			require.NoError(t, proto.Unmarshal(s.with(tc.value), &got))
			require.Equal(t, name, got.GetJourney().GetName())
			require.Empty(t, got.GetJourney().GetStep())
			require.Len(t, got.GetJourney().GetData().GetFields(), 1)
			require.Equal(t, tc.value, got.GetJourney().GetData().GetFields()["w3"].GetNumberValue())
		})
	}
	t.Run("leaves_the_encoded_template_as_it_was", func(t *testing.T) {
		before := string(s.encoded)
		_ = s.with(42)
		require.Equal(t, before, string(s.encoded))
	})
}

// The redeem's request is the one the driver writes by hand, per call.
func TestRedeemRequestByHand(t *testing.T) {
	t.Run("decodes_to_a_redeem_of_the_code", func(t *testing.T) {
		b := protowire.AppendBytes(protowire.AppendTag(nil, redeemCodeField, protowire.BytesType), []byte("K7QM-X2HD"))
		var got handoffv1.RedeemHandoffRequest
		require.NoError(t, proto.Unmarshal(b, &got))
		require.Equal(t, "K7QM-X2HD", got.GetCode())
	})
	t.Run("reads_the_code_of_a_handoff_reply_from_its_field", func(t *testing.T) {
		b, err := proto.Marshal(&handoffv1.HandoffJourneyResponse{Code: "K7QM-X2HD"})
		require.NoError(t, err)
		v, _, n := protowire.ConsumeField(b)
		require.Positive(t, n)
		require.Equal(t, handoffCodeField, v)
	})
}
