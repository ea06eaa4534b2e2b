package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/tsgate/tsgate/acl"
	"github.com/tsgate/tsgate/aggregate"
	"github.com/tsgate/tsgate/catalog"
	"github.com/tsgate/tsgate/tsdb"
)

type adminConfig struct {
	data, user    string
	passwordStdin bool
}

// adminFlags returns the flag set of `tsgate admin <sub>`, or nil for an unknown one.
func adminFlags(sub string, out io.Writer) *flag.FlagSet {
	fs, _ := newAdminFlags(sub, out)
	return fs
}

func newAdminFlags(sub string, out io.Writer) (*flag.FlagSet, *adminConfig) {
	c := &adminConfig{}
	fs := flagSet("admin "+sub, out)
	fs.StringVar(&c.data, "data", "./data", "data directory of a stopped node (env TSGATE_DATA)")
	switch sub {
	case "reset-password":
		fs.StringVar(&c.user, "user", "admin", "user whose password is set")
		fs.BoolVar(&c.passwordStdin, "password-stdin", false, "read the new password from the first line of stdin (else a random one is generated and printed)")
	case "compact", "rebuild-rollups", "check":
	default:
		return nil, nil
	}
	return fs, c
}

// cmdAdmin runs `tsgate admin <sub>` against a stopped node's data directory.
func cmdAdmin(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("admin needs a command: reset-password, compact, rebuild-rollups, check, backup or restore (run 'tsgate help')")
	}
	switch args[0] {
	case "backup":
		return cmdBackup(args[1:], stdout, stderr)
	case "restore":
		return cmdRestore(args[1:], stdout, stderr)
	}
	fs, c := newAdminFlags(args[0], stderr)
	if fs == nil {
		return fmt.Errorf("unknown admin command %q: want reset-password, compact, rebuild-rollups, check, backup or restore", args[0])
	}
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	db, err := tsdb.Open(c.data, tsdb.Options{})
	if err != nil {
		if errors.Is(err, tsdb.ErrLocked) {
			return fmt.Errorf("data directory %s is in use by a running tsgate; stop it first", c.data)
		}
		return fmt.Errorf("cannot open data directory %s: %w", c.data, err)
	}
	defer db.Close()
	switch args[0] {
	case "reset-password":
		return resetPassword(db, c, os.Stdin, stdout)
	case "rebuild-rollups":
		return rebuildRollups(db, stdout, stderr)
	case "check":
		return checkStore(db, stdout, stderr)
	case "compact":
		start := time.Now()
		fmt.Fprintf(stderr, "compacting %s (flush head, merge blocks, full Pebble compaction)…\n", c.data)
		// Rollups attached: the flush of the head writes their rows too.
		r, err := aggregate.Open(db, aggregate.Options{})
		if err != nil {
			return fmt.Errorf("cannot open rollups: %w", err)
		}
		err = db.Compact(context.Background())
		if cerr := r.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("compaction failed: %w", err)
		}
		fmt.Fprintf(stdout, "compacted %s in %s\n", c.data, time.Since(start).Round(time.Millisecond))
	}
	return nil
}

func resetPassword(db *tsdb.DB, c *adminConfig, stdin io.Reader, stdout io.Writer) error {
	password := ""
	if c.passwordStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("cannot read the password from stdin: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
		if password == "" {
			return errors.New("no password on stdin")
		}
	} else {
		var b [12]byte
		if _, err := rand.Read(b[:]); err != nil {
			return err
		}
		password = hex.EncodeToString(b[:])
	}
	cat, err := catalog.Open(db.Pebble(), catalog.Options{})
	if err != nil {
		return fmt.Errorf("cannot open catalog: %w", err)
	}
	a, err := acl.Open(db.Pebble(), cat, acl.Options{})
	if err != nil {
		return fmt.Errorf("cannot open acl: %w", err)
	}
	defer a.Close()
	if err := a.ResetPassword(c.user, password); err != nil {
		return err
	}
	if c.passwordStdin {
		fmt.Fprintf(stdout, "password of %s changed; its login keys are revoked\n", c.user)
	} else {
		fmt.Fprintf(stdout, "password of %s set to: %s\n", c.user, password)
	}
	return nil
}

// rebuildRollups recomputes every rollup row from raw data (after a bug or an upgrade).
func rebuildRollups(db *tsdb.DB, stdout, stderr io.Writer) error {
	r, err := aggregate.Open(db, aggregate.Options{})
	if err != nil {
		return fmt.Errorf("cannot open rollups: %w", err)
	}
	start := time.Now()
	last := time.Time{}
	err = r.Rebuild(context.Background(), func(done, total int) {
		if time.Since(last) > time.Second || done == total {
			fmt.Fprintf(stderr, "\rrebuilding rollups: %d/%d objects", done, total)
			last = time.Now()
		}
	})
	fmt.Fprintln(stderr)
	if cerr := r.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("rebuild failed: %w", err)
	}
	fmt.Fprintf(stdout, "rollups rebuilt in %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}

// checkStore walks every block, WAL record and rollup row of a stopped node's store, verifies
// checksums and decodes them, prints a summary and fails when anything is damaged.
func checkStore(db *tsdb.DB, stdout, stderr io.Writer) error {
	ctx := context.Background()
	start := time.Now()
	rep, err := db.Check(ctx, func(n int) { fmt.Fprintf(stderr, "\rchecked %d blocks", n) })
	if err != nil {
		return fmt.Errorf("check failed: %w", err)
	}
	problems := rep.Problems
	r, err := aggregate.Open(db, aggregate.Options{})
	if err != nil {
		problems = append(problems, fmt.Sprintf("rollups do not open: %v", err))
	} else {
		rows := 0
		db.ForEachSeries(func(id uint32, t tsdb.ValueType) bool {
			if t != tsdb.Float && t != tsdb.Int {
				return true
			}
			for _, res := range []aggregate.Resolution{aggregate.Hours, aggregate.Days} {
				err := r.ObjectRows(ctx, id, res, 0, tsdb.MaxTimestamp, func(*aggregate.Row) error { rows++; return nil })
				if err != nil {
					problems = append(problems, fmt.Sprintf("rollup rows of object %d: %v", id, err))
				}
			}
			return true
		})
		if cerr := r.Close(); cerr != nil {
			problems = append(problems, fmt.Sprintf("rollups do not close: %v", cerr))
		}
		fmt.Fprintf(stderr, "\r")
		fmt.Fprintf(stdout, "rollup rows read: %d\n", rows)
	}
	fmt.Fprintf(stdout, "objects %d, blocks %d, samples %d, block bytes %d, WAL records %d, checked in %s\n",
		rep.Series, rep.Blocks, rep.Samples, rep.BlockBytes, rep.WALRecords, time.Since(start).Round(time.Millisecond))
	for _, p := range problems {
		fmt.Fprintf(stdout, "problem: %s\n", p)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%d problem(s) found in %s", len(problems), db.Dir())
	}
	fmt.Fprintln(stdout, "no problems found")
	return nil
}
