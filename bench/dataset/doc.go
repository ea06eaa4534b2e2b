// Package dataset generates the standard benchmark dataset of DESIGN.md §8,
// deterministic for a seed. It is a leaf package (stdlib only) that the tests and
// benchmarks of any package may import.
package dataset
