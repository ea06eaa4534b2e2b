// Package ingest serves the write endpoints (BBData JSON measures and Influx line
// protocol): parsing, batch validation, authorization through acl and durable
// appends through tsdb.
//
// It may import api, acl, catalog, tsdb and aggregate.
package ingest
