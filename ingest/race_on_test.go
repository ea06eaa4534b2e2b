//go:build race

package ingest_test

// raceEnabled: the race detector instruments allocations and makes sync.Pool drop items on
// purpose, so allocation counts mean nothing under it.
const raceEnabled = true
