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
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: bad -log-level %q\n", *logLevel)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

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
