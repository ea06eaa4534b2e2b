// Package acl is tsgate's authorization layer: tenants, principals (users and
// clients), user groups and memberships, object-group shares (optionally
// time-bounded), restricted links, public flags, object tokens, apikeys and scopes,
// the Casbin policy of record and the compiled per-principal views that answer
// hot-path questions (DESIGN.md §6, API.md §3.3–§4, docs/authorization.md).
//
// It may import catalog and pebble; never HTTP types. Keys: 'a' (state), 'p'
// (Casbin policy and its revision), 'u' (audit) — docs/format/acl.md.
//
// # Using it
//
//	cat, _ := catalog.Open(db, catalog.Options{})
//	a, _ := acl.Open(db, cat, acl.Options{Logger: log})
//	pw, _ := a.Bootstrap(os.Getenv("TSGATE_ADMIN_PASSWORD")) // log pw once if != ""
//	key, principal, err := a.AuthenticateBearer(secret)      // or Authenticate(id, secret)
//	err = a.RequireScope(key, acl.Scope{Verb: acl.VerbRead, Module: acl.ModuleData})
//	kv, err := a.KeyView(key)                                 // ErrExpired
//	kv.CanRead(id); kv.CanWrite(id); kv.CanManage(id); kv.Windows(id); kv.AsOf(id)
//	a.CheckToken(objectID, token)                             // ingest by token
//
// Mutations take the acting principal first (0 = the system: no checks) and
// return the typed errors of errors.go (ErrNotFound, ErrForbidden, ErrDuplicate,
// ErrUnchanged, *ValidationError…), after applying nothing on error. Objects are
// created through ACL.CreateObjects with a catalog.CreateHook, so the catalog
// records, tsdb's series and the audit entry commit in one batch.
//
// # Concurrency
//
// An *ACL is safe for concurrent use. Writers are serialized (validate, commit one
// Pebble batch with pebble.Sync, then publish under a write lock and bump the
// version); readers never wait for an fsync. Views are immutable, cached per
// principal and recompiled when the acl or catalog version moves or a share window
// starts or ends: once a revoking call has returned, no later View/KeyView call
// returns the old rights. The ACL owns no goroutine; Close exists for symmetry and
// the *pebble.DB belongs to the caller.
package acl
