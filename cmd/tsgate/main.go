// Command tsgate is the tsgate server and its operator tools: `tsgate serve` runs a node,
// `tsgate admin …` works on a stopped node's data directory, `tsgate version` and
// `tsgate help` say what they say.
//
// Flags live here only (STYLE.md §2); every flag has an environment fallback TSGATE_<NAME>.
package main

import (
	"fmt"
	"io"
	"os"
)

// Set at build time with -ldflags "-X main.version=… -X main.commit=…".
var (
	version = "0.1.0-dev"
	commit  = ""
)

const usage = `tsgate — time-series ingestion with an authorization layer

Usage:
  tsgate serve [flags]                 run a node (HTTP on --listen, store under --data)
  tsgate admin reset-password [flags]  set a user's password on a stopped node's data dir
  tsgate admin compact [flags]         compact a stopped node's store (steady size)
  tsgate admin rebuild-rollups [flags] recompute every rollup row from raw data (node stopped)
  tsgate admin check [flags]           verify every block, WAL record and rollup row (node stopped)
  tsgate bench ingest|query|mixed|compare [flags]  load benchmark over the HTTP API
  tsgate admin backup --out DIR [flags] online backup of a running node (Pebble checkpoint)
  tsgate admin restore --from DIR      restore a backup into an empty data dir (node stopped)
  tsgate version                       print version and commit
  tsgate help [command]                this text, or a command's flags

Run 'tsgate help serve' (or any command) for its flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command line and returns the process exit code. Errors are one line on
// stderr, prefixed with "tsgate: ".
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = cmdServe(args[1:], stdout, stderr)
	case "admin":
		err = cmdAdmin(args[1:], stdout, stderr)
	case "bench":
		err = cmdBench(args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "tsgate %s (commit %s)\n", version, commitOrUnknown())
		return 0
	case "help", "-h", "--help", "-help":
		return cmdHelp(args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "tsgate: unknown command %q (run 'tsgate help')\n", args[0])
		return 2
	}
	if err != nil {
		if err == errUsage {
			return 2
		}
		fmt.Fprintf(stderr, "tsgate: %v\n", oneLine(err))
		return 1
	}
	return 0
}

func commitOrUnknown() string {
	if commit != "" {
		return commit
	}
	return "unknown"
}

func cmdHelp(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stdout, usage)
		return 0
	}
	switch args[0] {
	case "serve":
		serveFlags(stdout)
	case "bench":
		if len(args) > 1 {
			_ = cmdBench([]string{args[1], "-h"}, stdout, stdout)
		} else {
			_ = cmdBench([]string{"-h"}, stdout, stdout)
		}
	case "admin":
		if len(args) > 1 {
			if fs := adminFlags(args[1], stdout); fs != nil {
				fs.PrintDefaults()
				return 0
			}
		}
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "tsgate: unknown command %q (run 'tsgate help')\n", args[0])
		return 2
	}
	return 0
}
