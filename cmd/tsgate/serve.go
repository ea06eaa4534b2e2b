package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tsgate/tsgate/api"
	"github.com/tsgate/tsgate/server"
	"github.com/tsgate/tsgate/tsdb"
)

type serveConfig struct {
	listen, data, logLevel, logFormat string
	headBytes, maxBody, maxMeasures   int64
	maxQueryPoints                    int64
	passwordCost                      int
	minFreeDisk                       int64
	backupDir, retention, auditRet    string
	shutdownTimeout                   time.Duration
}

func newServeFlags(out io.Writer) (*flag.FlagSet, *serveConfig) {
	fs := flagSet("serve", out)
	c := &serveConfig{}
	fs.StringVar(&c.listen, "listen", ":8080", "HTTP listen address (env TSGATE_LISTEN)")
	fs.StringVar(&c.data, "data", "./data", "data directory, created when missing (env TSGATE_DATA)")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error (env TSGATE_LOG_LEVEL)")
	fs.StringVar(&c.logFormat, "log-format", "text", "text or json (env TSGATE_LOG_FORMAT)")
	fs.Int64Var(&c.headBytes, "head-bytes", 0, "in-memory head budget in bytes, 0 = default (env TSGATE_HEAD_BYTES)")
	fs.Int64Var(&c.maxBody, "max-body", 32<<20, "largest request body in bytes, 413 beyond (env TSGATE_MAX_BODY)")
	fs.Int64Var(&c.maxMeasures, "max-measures", 100_000, "most measures or lines in one write request, 413 beyond (env TSGATE_MAX_MEASURES)")
	fs.Int64Var(&c.minFreeDisk, "min-free-disk", 128<<20, "free bytes below which writes get 503, negative disables (env TSGATE_MIN_FREE_DISK)")
	fs.StringVar(&c.backupDir, "backup-dir", "", "where POST /admin/backup may write, default <data>/../tsgate-backups (env TSGATE_BACKUP_DIR)")
	fs.StringVar(&c.retention, "retention", "", "default retention of every tenant, e.g. 90d or 10y; empty keeps forever (env TSGATE_RETENTION)")
	fs.Int64Var(&c.maxQueryPoints, "max-query-points", 0, "most rows one values/aggregated//query request may return, 0 = unlimited (env TSGATE_MAX_QUERY_POINTS)")
	fs.StringVar(&c.auditRet, "audit-retention", "400d", "how long audit entries are kept (env TSGATE_AUDIT_RETENTION)")
	fs.IntVar(&c.passwordCost, "password-cost", 0, "password hash cost, 0 = the secure default; tests use the minimum (env TSGATE_PASSWORD_COST)")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 5*time.Second, "how long SIGTERM waits for in-flight requests (env TSGATE_SHUTDOWN_TIMEOUT)")
	return fs, c
}

func serveFlags(out io.Writer) {
	fs, _ := newServeFlags(out)
	fs.PrintDefaults()
}

// cmdServe runs a node until SIGINT or SIGTERM, then drains and exits 0.
func cmdServe(args []string, stdout, stderr io.Writer) error {
	fs, c := newServeFlags(stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if c.headBytes < 0 || c.maxBody <= 0 || c.maxMeasures <= 0 || c.maxQueryPoints < 0 || c.shutdownTimeout <= 0 {
		return fmt.Errorf("--head-bytes must be ≥ 0, --max-body and --shutdown-timeout > 0")
	}
	drain := c.shutdownTimeout
	var retention time.Duration
	if c.retention != "" {
		d, err := api.ParseDuration(c.retention)
		if err != nil || d <= 0 {
			return fmt.Errorf("bad --retention %q: want a duration like 90d or 10y", c.retention)
		}
		retention = d
	}
	auditRetention, err := api.ParseDuration(c.auditRet)
	if err != nil || auditRetention <= 0 {
		return fmt.Errorf("bad --audit-retention %q: want a duration like 400d", c.auditRet)
	}
	log, err := newLogger(stderr, c.logLevel, c.logFormat)
	if err != nil {
		return err
	}
	node, err := server.Open(server.Config{
		DataDir:        c.data,
		Logger:         log,
		AdminPassword:  os.Getenv("TSGATE_ADMIN_PASSWORD"),
		PasswordCost:   c.passwordCost,
		HeadBytes:      c.headBytes,
		MaxBodyBytes:   int(c.maxBody),
		MaxMeasures:    int(c.maxMeasures),
		MinFreeDisk:    c.minFreeDisk,
		BackupDir:      c.backupDir,
		Retention:      retention,
		MaxQueryPoints: c.maxQueryPoints,
		AuditRetention: auditRetention,
		Version:        version,
		Commit:         commit,
	})
	if err != nil {
		if errors.Is(err, tsdb.ErrLocked) {
			return fmt.Errorf("data directory %s is in use by another tsgate process; stop it or choose another --data", c.data)
		}
		return fmt.Errorf("cannot open data directory %s: %w", c.data, err)
	}
	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		_ = node.Close()
		return fmt.Errorf("cannot listen on %s: %w", c.listen, err)
	}
	log.Info("tsgate serving", "listen", ln.Addr().String(), "data", c.data, "version", version)

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	served := make(chan error, 1)
	go func() { served <- node.Serve(ln) }()

	select {
	case sig := <-sigs:
		log.Info("shutting down", "signal", sig.String())
	case err := <-served:
		_ = node.Close()
		return fmt.Errorf("http server stopped: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	if err := node.Shutdown(ctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	<-served
	log.Info("stopped cleanly")
	return nil
}
