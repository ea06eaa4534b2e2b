// Command tsgate is the tsgate server and its operator tools.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "tsgate: not wired yet")
	os.Exit(2)
}
