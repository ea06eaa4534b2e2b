// Package catalog owns objects and object groups: metadata, units and their value
// types, tags, enabled state and the versioned history used for as-of reads.
//
// It may import pebble only.
package catalog
