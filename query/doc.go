// Package query serves the read endpoints (values, latest, aggregated, stats and
// multi-object queries), filtering series by the caller's compiled acl view at
// scan time and streaming JSON or CSV.
//
// It may import api, acl, catalog, tsdb and aggregate.
package query
