// Package bench is tsgate's load generator and side-by-side comparison tooling.
// It is an HTTP client of tsgate and uses the public API only (plus bench/dataset).
package bench
