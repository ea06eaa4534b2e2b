// Package api is tsgate's HTTP front: the router that ingest and query register
// their routes into, authentication, the one error writer, and the BBData
// management endpoints.
//
// It may import acl, catalog and tsdb. fasthttp types stop at api, ingest and query.
package api
