package identity

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	handoffv1 "github.com/journeyhandoff/handoff/gen/go/handoff/v1"
)

func TestParse(t *testing.T) {
	const (
		phone  = handoffv1.IdentityKind_IDENTITY_KIND_PHONE
		email  = handoffv1.IdentityKind_IDENTITY_KIND_EMAIL
		social = handoffv1.IdentityKind_IDENTITY_KIND_SOCIAL
	)
	tests := []struct {
		name, region, in string
		kind             handoffv1.IdentityKind
		network, normal  string
		err              error
	}{
		{name: "a_phone_number_with_spaces_becomes_its_e164_form", in: "+31 6 1234 5678", kind: phone, normal: "+31612345678"},
		{name: "dashes_dots_and_brackets_in_a_number_are_ignored", in: "+31 (0)6-12.34.56.78", kind: phone, normal: "+31612345678"},
		{name: "a_number_without_plus_is_read_in_the_default_region", region: "NL", in: "06 12345678", kind: phone, normal: "+31612345678"},
		{name: "a_number_with_plus_keeps_its_own_country_whatever_the_default", region: "NL", in: "+44 20 7946 0958", kind: phone, normal: "+442079460958"},
		{name: "a_number_without_plus_is_refused_without_a_default_region", in: "0612345678", err: ErrPhoneRegion},
		{name: "a_number_no_country_uses_is_refused", in: "+31 1", err: ErrPhone},
		{name: "letters_are_no_phone_number", in: "+31 6 FLOWERS", err: ErrNotAnIdentity},
		{name: "an_email_address_is_lower_cased", in: "Anna.B@Example.COM", kind: email, normal: "anna.b@example.com"},
		{name: "an_address_with_a_display_name_is_refused", in: "Anna <anna@example.com>", err: ErrEmail},
		{name: "an_address_with_a_comment_is_refused", in: "anna@example.com (Anna)", err: ErrEmail},
		{name: "two_at_signs_are_no_address", in: "anna@@example.com", err: ErrEmail},
		{name: "a_social_handle_is_lower_cased_and_loses_its_at", in: "social:Instagram:@Anna.B", kind: social, network: "instagram", normal: "instagram:anna.b"},
		{name: "the_social_prefix_is_read_without_case", in: "SOCIAL:x:anna_b", kind: social, network: "x", normal: "x:anna_b"},
		{name: "a_handle_with_a_space_is_refused", in: "social:instagram:anna b", err: ErrSocial},
		{name: "a_handle_without_a_network_is_refused", in: "social:anna", err: ErrSocial},
		{name: "a_network_with_a_dot_is_refused", in: "social:insta.gram:anna", err: ErrSocial},
		{name: "a_handle_over_64_characters_is_refused", in: "social:x:" + strings.Repeat("a", 65), err: ErrSocial},
		{name: "an_empty_identity_is_refused", in: "  ", err: ErrNotAnIdentity},
		{name: "a_name_is_no_identity", in: "Anna Bakker", err: ErrNotAnIdentity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewParser(tt.region)
			require.NoError(t, err)
			got, err := p.Parse(tt.in)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				if in := strings.TrimSpace(tt.in); in != "" {
					require.NotContains(t, err.Error(), in, "an error must never quote the input")
				}
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.kind, got.Kind())
			require.Equal(t, tt.network, got.Network())
			require.Equal(t, tt.normal, got.Normal())
		})
	}
}

func TestAnIdentityPrintsAsItsKindOnly(t *testing.T) {
	p, err := NewParser("")
	require.NoError(t, err)
	id, err := p.Parse("+31 6 1234 5678")
	require.NoError(t, err)
	require.Equal(t, "phone identity", id.String())
	require.NotContains(t, id.LogValue().String(), "612345678")
}

func TestNewParserRefusesAnUnknownRegion(t *testing.T) {
	_, err := NewParser("XX")
	require.Error(t, err)
	p, err := NewParser("nl")
	require.NoError(t, err, "a region is read without case")
	_, err = p.Parse("0612345678")
	require.NoError(t, err)
}
