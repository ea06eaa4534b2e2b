// Package catalog owns objects and object groups: metadata, units and their value
// types, tags, enabled state, public flags, comments and the versioned history used
// for as-of reads (API.md §3.5, DESIGN.md §6).
//
// It may import pebble only. Keys live under the first byte 'c' of the shared
// Pebble store; their layout is docs/format/catalog.md.
//
// Concurrency: a *Catalog is safe for concurrent use. Reads are served from memory
// (every current object and group is loaded at Open); writes are serialized by one
// mutex and committed with pebble.Sync before they become visible. Version() grows
// after every committed change that can alter authorization (acl recompiles its
// views when it moves). The Catalog owns no goroutine and the *pebble.DB belongs to
// the caller, so there is nothing to Close.
//
// Authorization is not checked here: acl decides who may call what. Changes that
// touch authorization state — creating, disabling, deleting or publishing objects,
// object-group membership, deleting object groups — should go through the acl
// wrappers (acl.CreateObjects, SetObjectEnabled, DeleteObject, SetPublic,
// AddToObjectGroup, DeleteObjectGroup): they check the actor and put the token
// deletions, shares and audit entries in the catalog's batch through its hooks.
package catalog
