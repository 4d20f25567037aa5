// Package insight counts what journeys do as it happens (docs/insight.md):
// it turns each write a store reports into counts per journey type and
// day (reached, left, switched, resumed, expired, completed), adds them up
// in memory and writes them in batches, and reads them back as the
// journey map of a type over a range of days. No count names a customer,
// a journey, an agent or an answer.
package insight
