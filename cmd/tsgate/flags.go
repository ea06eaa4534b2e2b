package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

// errUsage reports that the flag package already printed what was wrong.
var errUsage = errors.New("usage")

// envName is the environment variable that backs flag name: TSGATE_<NAME>, '-' → '_'.
func envName(name string) string {
	return "TSGATE_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// flagSet returns a FlagSet of tsgate's own (libraries register flags on flag.CommandLine,
// DESIGN.md §10) whose errors go to out.
func flagSet(name string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("tsgate "+name, flag.ContinueOnError)
	fs.SetOutput(out)
	return fs
}

// parseFlags parses args, then gives every flag not set on the command line the value of its
// environment variable, when set. Flag errors map to errUsage (the flag package printed them);
// a bad environment value is an error naming the variable.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "tsgate: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		if v, ok := os.LookupEnv(envName(f.Name)); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("bad %s=%q: %v", envName(f.Name), v, e)
			}
		}
	})
	return err
}

// newLogger builds the process logger from --log-level and --log-format.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("bad --log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("bad --log-format %q: want text or json", format)
}

// oneLine folds a multi-line error message into one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
