// Package storetest is the conformance suite every store.Store passes.
//
// A store's test is one line, storetest.Run(t, factory): the factory builds
// a fresh, empty store for each subtest, so no subtest sees another's data
// and any one of them can be run alone with -run. The suite checks the
// contract in store.go as a caller sees it (etags and revisions, expiry,
// request ids, paging, single-use codes, the change log, subscriptions,
// atomicity under concurrency), never how a store keeps its data. A store
// may skip a case only by naming it in a Skip with its reason. Recorder
// is exported for stores' own tests of delivery.
package storetest
