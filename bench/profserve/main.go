// Command profserve runs a tsgate node as `tsgate serve` does (same server.Open, same
// handlers) and serves net/http/pprof on a second loopback listener, so that a bench run can
// take the server's CPU profile: `tsgate serve` exposes no pprof (issue 12). Benchmarks only.
//
//	TSGATE_ADMIN_PASSWORD=admin-pw go run ./bench/profserve -listen 127.0.0.1:18080 -pprof 127.0.0.1:16060 -data /tmp/d
//	tsgate bench ingest --url http://127.0.0.1:18080 --cpuprofile cpu.pprof --pprof-url http://127.0.0.1:16060 …
//	go tool pprof -top cpu.pprof
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tsgate/tsgate/server"
)

func main() {
	fs := flag.NewFlagSet("profserve", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:18080", "tsgate HTTP listen address")
	pprofAddr := fs.String("pprof", "127.0.0.1:16060", "net/http/pprof listen address (loopback)")
	data := fs.String("data", "", "data directory (required)")
	cost := fs.Int("password-cost", 4, "password hash cost")
	_ = fs.Parse(os.Args[1:])
	if *data == "" {
		fmt.Fprintln(os.Stderr, "profserve: -data is required")
		os.Exit(2)
	}
	if err := run(*listen, *pprofAddr, *data, *cost); err != nil {
		fmt.Fprintf(os.Stderr, "profserve: %v\n", err)
		os.Exit(1)
	}
}

func run(listen, pprofAddr, data string, cost int) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	node, err := server.Open(server.Config{DataDir: data, Logger: log, AdminPassword: os.Getenv("TSGATE_ADMIN_PASSWORD"), PasswordCost: cost})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		_ = node.Close()
		return err
	}
	pln, err := net.Listen("tcp", pprofAddr)
	if err != nil {
		_ = node.Close()
		return err
	}
	psrv := &http.Server{Handler: http.DefaultServeMux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = psrv.Serve(pln) }()
	served := make(chan error, 1)
	go func() { served <- node.Serve(ln) }()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-sigs:
	case err := <-served:
		_ = psrv.Close()
		_ = node.Close()
		return err
	}
	_ = psrv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := node.Shutdown(ctx); err != nil {
		return err
	}
	<-served
	return nil
}
