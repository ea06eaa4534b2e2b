// Package aggregate maintains the 15-minute, 1-hour and 1-day rollup rows of every
// numeric object, exact under late data.
//
// It may import tsdb and pebble.
package aggregate
