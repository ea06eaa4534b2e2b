// Package server assembles one tsgate node: it opens the shared Pebble store (tsdb), the
// catalog and the acl on top of it, bootstraps an empty store (API.md §1), builds the HTTP
// server and registers every package's routes into its router.
//
// It exists so that cmd/tsgate and the black-box tests of every HTTP package (in their
// external _test packages) start exactly the same node. It may import everything except
// cmd/; nothing but cmd/tsgate and tests import it.
//
// Close contract: Shutdown stops the HTTP server (no new connections, in-flight requests
// drained), then closes acl, catalog and the store, in that order; the WAL is durable, so the
// head is not flushed (DESIGN.md §4).
package server
