package service

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTypesRemembersOnlyJourneysOfADeclaredType(t *testing.T) {
	const journey = "customers/c-42/journeys/q"
	quote := typeVersion{"car-quote", 3}
	tests := []struct {
		name       string
		remembered []typeVersion
		want       typeVersion
		cached     int
	}{
		{"a journey of a type is remembered", []typeVersion{quote}, quote, 1},
		{"a journey of no type takes no room", []typeVersion{{}}, typeVersion{}, 0},
		{"a journey found to have no type is forgotten", []typeVersion{quote, {}}, typeVersion{}, 0},
		{"a journey naming a type that was not declared when it began takes no room", []typeVersion{{"car-quote", 0}}, typeVersion{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			types := NewTypes()
			for _, tv := range tt.remembered {
				types.remember(journey, tv.id, tv.version)
			}
			require.Equal(t, tt.want, types.expected(journey))
			require.Equal(t, tt.cached, types.journeys.Len())
		})
	}
}
