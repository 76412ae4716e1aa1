// Command ferretdb runs FerretDB v1 as a library: a MongoDB wire-protocol server
// over SQLite. Library mode avoids the stock binary's start-up check of a generated
// version file (missing from the Go module) and turns telemetry off.
package main

import (
	"context"
	"flag"
	"log"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to serve the MongoDB protocol on")
	sqliteURL := flag.String("sqlite-url", "", "SQLite directory URL, e.g. file:/abs/dir/ (must end in /)")
	flag.Parse()
	if *sqliteURL == "" {
		log.Fatal("-sqlite-url is required")
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Handler:   "sqlite",
		SQLiteURL: *sqliteURL,
	})
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("FerretDB listening on %s, data in %s", *listen, *sqliteURL)
	if err := f.Run(ctx); err != nil {
		log.Fatal(err)
	}
}
