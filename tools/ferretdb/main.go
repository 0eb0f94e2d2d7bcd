// Command ferretdb runs FerretDB 1.24 through its embeddable package.
//
// A plain `go install` of FerretDB's own cmd panics at start because its
// build/version/version.txt is generated at release time (FerretDB #2982); the
// embeddable package skips that check, so this launcher is the dependable way to
// get a MongoDB-compatible server on machines that have no MongoDB package.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	_ "net/http/pprof" // served only with -pprof
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	handler := flag.String("handler", "sqlite", "backend: sqlite or postgresql")
	sqliteDir := flag.String("sqlite-dir", ".data/ferretdb", "directory for the sqlite backend")
	postgresURL := flag.String("postgresql-url", "postgres://127.0.0.1:5432/ferretdb", "URL for the postgresql backend")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	sqliteSync := flag.String("sqlite-synchronous", "normal", "SQLite synchronous pragma: full (fsync every commit) or normal (WAL, fsync at checkpoints)")
	pprofAddr := flag.String("pprof", "", "address to serve Go's profiles on (/debug/pprof/), for the benchmark; off when empty")
	flag.Parse()

	if *pprofAddr != "" {
		go func() {
			if err := http.ListenAndServe(*pprofAddr, nil); err != nil {
				fmt.Fprintf(os.Stderr, "ferretdb: pprof: %v\n", err)
			}
		}()
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: bad -log-level %q\n", *logLevel)
		os.Exit(2)
	}
	logger := slog.New(&lazyHandler{next: slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})})

	cfg := &ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: *listen},
		Logger:   logger,
		Handler:  *handler,
	}

	switch *handler {
	case "sqlite":
		dir, err := filepath.Abs(*sqliteDir)
		if err == nil {
			err = os.MkdirAll(dir, 0o755)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "ferretdb: cannot create %s: %v\n", *sqliteDir, err)
			os.Exit(1)
		}
		// The SQLite URI must name a directory and end with a slash. With WAL (FerretDB's
		// default) synchronous=normal survives a process crash and only risks the last
		// commits on power loss; full fsyncs every commit and caps writes at the disk's
		// fsync rate.
		cfg.SQLiteURL = "file:" + dir + "/?_pragma=synchronous(" + *sqliteSync + ")"
	case "postgresql":
		cfg.PostgreSQLURL = *postgresURL
	default:
		fmt.Fprintf(os.Stderr, "ferretdb: unknown -handler %q (sqlite or postgresql)\n", *handler)
		os.Exit(2)
	}

	f, err := ferretdb.New(cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: %v\n", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if *handler == "sqlite" {
		dir, _ := filepath.Abs(*sqliteDir)
		go keepIDPathsIndexed(ctx, dir, logger)
	}

	fmt.Fprintf(os.Stderr, "ferretdb: listening on %s (%s)\n", *listen, *handler)
	if err := f.Run(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: %v\n", err)
		os.Exit(1)
	}
}

// lazyHandler defers a logger's attributes until a record is actually logged.
// FerretDB derives a logger with the SQL statement and its arguments for every
// statement it runs (`logger.With`), and slog's text handler formats those
// attributes right away, whether or not anything is ever logged at that level:
// measured at 4% of FerretDB's CPU under the order benchmark, at log level warn.
type lazyHandler struct {
	next slog.Handler
	ops  []lazyOp // WithAttrs and WithGroup calls, in order
}

type lazyOp struct {
	group string // a WithGroup call when attrs is nil
	attrs []slog.Attr
}

func (h *lazyHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

func (h *lazyHandler) Handle(ctx context.Context, record slog.Record) error {
	next := h.next
	for _, op := range h.ops {
		if op.attrs == nil {
			next = next.WithGroup(op.group)
		} else {
			next = next.WithAttrs(op.attrs)
		}
	}
	return next.Handle(ctx, record)
}

func (h *lazyHandler) with(op lazyOp) *lazyHandler {
	ops := make([]lazyOp, len(h.ops), len(h.ops)+1)
	copy(ops, h.ops)
	return &lazyHandler{next: h.next, ops: append(ops, op)}
}

func (h *lazyHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	return h.with(lazyOp{attrs: attrs})
}

func (h *lazyHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return h.with(lazyOp{group: name})
}
