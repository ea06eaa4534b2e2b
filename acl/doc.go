// Package acl is tsgate's authorization layer: tenants, principals (users and
// clients), user groups and memberships, shares, restricted links, public flags,
// object tokens, apikeys and scopes, the Casbin policy of record and the compiled
// per-principal bitset views that answer hot-path questions.
//
// It may import catalog (ids only) and pebble; never HTTP types.
package acl
