// Package journeytype is the one place where a journey type's definition
// (handoffv1.JourneyType, docs/journeytypes.md) is checked and compiled,
// and where what it allows is decided: which answers a save may write and
// what they may hold, which steps a journey may move from, which answers
// are sensitive and how staff see them. Definitions are read from YAML or
// JSON files in their protojson form (Parse, LoadDir).
//
// Reasons given for a refused answer never quote the refused value: they
// go back to callers and into logs, and answers may be personal data.
package journeytype
