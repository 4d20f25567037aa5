// Package identity gives an identity a customer is reached by (a phone
// number, an e-mail address, a social handle) its one normal form, and
// that form its keyed digest: the only shape in which the store ever sees
// an identity (docs/reach.md, "Identity links").
//
// Nothing here quotes an identity: errors say what is wrong without the
// input, and Identity prints as its kind only, so a stray %v in a log line
// leaks nothing.
package identity
