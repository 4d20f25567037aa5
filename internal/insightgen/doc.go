// Package insightgen checks the journey map against journeys whose
// figures are known (docs/insight.md, issue 16): it generates synthetic
// journeys of the car-insurance quote from known distributions (entry
// channel, how far customers go, who is resumed by staff, on which
// channel and after how long, who completes), replays them through the
// real gRPC API on a clock it moves, works out the figures the replayed
// journeys imply (Truth) and compares them with what
// GetJourneyTypeInsight returns (Compare).
//
// Customer ids, agent ids and answers are random and distinctive
// (Script.Needles), so that a scan of every insight response for them
// cannot match by accident.
package insightgen
