// Command qiteinterop drives goqite (the Go library) for qite's interop harness (interop/run.ts).
//
// It acts as one goqite role on a SQLite file (mattn/go-sqlite3, WAL) or on PostgreSQL (lib/pq)
// and prints one JSON object per line for everything it sends, receives or runs. Bodies are
// base64 in the output (Go's JSON encoding of []byte), so they compare byte for byte.
//
// Modes (-mode):
//
//	version      prints the Go version
//	schema       runs the SQL file -file (goqite's own schema file)
//	send         sends the messages of the JSON file -in: [{"body": base64, "delayMs": n, "priority": n}]
//	produce      sends -count messages with bodies -prefix + i
//	receive      receives (and with -delete deletes) until nothing came for -idle, or -count arrived
//	consume      -workers goroutines receive, print and delete until standard input closes
//	create-jobs  creates -count jobs (jobs.Create), names from -names in turn, bodies -prefix + i
//	run-jobs     runs goqite's job runner with every name of -names registered until standard input closes
//	extend       extends message -id by -delay
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lib/pq"
	_ "github.com/mattn/go-sqlite3"
	"maragu.dev/goqite"
	"maragu.dev/goqite/jobs"
)

type options struct {
	mode, engine, dsn, queue, file, in, prefix, names, id string
	timeout, delay, idle, poll, extend, work              time.Duration
	maxReceive, count, workers, limit                     int
	del                                                   bool
}

var (
	outMu sync.Mutex
	out   = json.NewEncoder(os.Stdout)
)

// emit writes one JSON line, stamped with the time in Unix milliseconds; goroutines share
// standard output.
func emit(v map[string]any) {
	v["t"] = time.Now().UnixMilli()
	outMu.Lock()
	defer outMu.Unlock()
	if err := out.Encode(v); err != nil {
		fail(err)
	}
}

// retry runs op again while it fails with a serialization failure (SQLSTATE 40001): goqite runs
// every operation in a serializable transaction, which PostgreSQL may abort when transactions
// overlap, and leaves retrying to its caller. Each retry is printed.
func retry(what string, op func() error) error {
	for {
		err := op()
		if !serializationFailure(err) {
			return err
		}
		emit(map[string]any{"ev": "retry", "op": what, "error": err.Error()})
		time.Sleep(10 * time.Millisecond)
	}
}

func serializationFailure(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "40001"
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "qiteinterop:", err)
	os.Exit(1)
}

func main() {
	var o options
	flag.StringVar(&o.mode, "mode", "", "what to do (see the package comment)")
	flag.StringVar(&o.engine, "engine", "sqlite", "sqlite or postgres")
	flag.StringVar(&o.dsn, "dsn", "", "SQLite file path, or PostgreSQL URL")
	flag.StringVar(&o.queue, "queue", "interop", "queue name")
	flag.DurationVar(&o.timeout, "timeout", 0, "the queue's timeout (0: goqite's default)")
	flag.IntVar(&o.maxReceive, "max-receive", 0, "the queue's max receive (0: goqite's default)")
	flag.StringVar(&o.file, "file", "", "schema: SQL file")
	flag.StringVar(&o.in, "in", "", "send: JSON file of messages")
	flag.StringVar(&o.prefix, "prefix", "go-", "produce, create-jobs: body prefix")
	flag.IntVar(&o.count, "count", 0, "produce, create-jobs: how many; receive: stop after this many (0: no limit)")
	flag.DurationVar(&o.idle, "idle", 500*time.Millisecond, "receive: stop after this long without a message")
	flag.BoolVar(&o.del, "delete", false, "receive: delete each message")
	flag.IntVar(&o.workers, "workers", 2, "consume: goroutines")
	flag.StringVar(&o.names, "names", "", "create-jobs, run-jobs: comma-separated job names")
	flag.IntVar(&o.limit, "limit", 0, "run-jobs: the runner's limit (0: goqite's default)")
	flag.DurationVar(&o.poll, "poll", 10*time.Millisecond, "consume, run-jobs: poll interval")
	flag.DurationVar(&o.extend, "extend", 0, "run-jobs: the runner's extend (0: goqite's default)")
	flag.DurationVar(&o.work, "work", 0, "consume, run-jobs: how long handling one message takes")
	flag.StringVar(&o.id, "id", "", "extend: message id")
	flag.DurationVar(&o.delay, "delay", 0, "extend: by how much")
	flag.Parse()

	if o.mode == "version" {
		emit(map[string]any{"ev": "version", "go": runtime.Version()})
		return
	}
	db, flavor := openDB(o)
	defer db.Close()
	if o.mode == "schema" {
		text, err := os.ReadFile(o.file)
		if err != nil {
			fail(err)
		}
		if _, err := db.Exec(string(text)); err != nil {
			fail(fmt.Errorf("schema %v: %w", o.file, err))
		}
		emit(map[string]any{"ev": "schema"})
		return
	}
	q := goqite.New(goqite.NewOpts{
		DB: db, Name: o.queue, SQLFlavor: flavor, Timeout: o.timeout, MaxReceive: o.maxReceive,
	})
	ctx := context.Background()
	switch o.mode {
	case "send":
		send(ctx, q, o)
	case "produce":
		for i := 0; i < o.count; i++ {
			body := []byte(o.prefix + strconv.Itoa(i))
			var id goqite.ID
			err := retry("send", func() (err error) {
				id, err = q.SendAndGetID(ctx, goqite.Message{Body: body, Priority: i % 3})
				return err
			})
			if err != nil {
				fail(err)
			}
			emit(map[string]any{"ev": "sent", "id": id, "body": body})
		}
	case "receive":
		receive(ctx, q, o)
	case "consume":
		consume(untilStdinCloses(), q, o)
	case "create-jobs":
		names := strings.Split(o.names, ",")
		for i := 0; i < o.count; i++ {
			name, body := names[i%len(names)], []byte(o.prefix+strconv.Itoa(i))
			var id goqite.ID
			err := retry("create", func() (err error) {
				id, err = jobs.Create(ctx, q, name, goqite.Message{Body: body})
				return err
			})
			if err != nil {
				fail(err)
			}
			emit(map[string]any{"ev": "created", "id": id, "name": name, "body": body})
		}
	case "run-jobs":
		runJobs(untilStdinCloses(), q, o)
	case "extend":
		if err := retry("extend", func() error {
			return q.Extend(ctx, goqite.ID(o.id), o.delay)
		}); err != nil {
			fail(err)
		}
		emit(map[string]any{"ev": "extended", "id": o.id})
	default:
		fail(fmt.Errorf("unknown -mode %q", o.mode))
	}
}

func openDB(o options) (*sql.DB, goqite.SQLFlavor) {
	switch o.engine {
	case "sqlite":
		// The settings of goqite's own tests: WAL, a 5 s busy timeout, foreign keys.
		db, err := sql.Open("sqlite3", o.dsn+"?_journal=WAL&_timeout=5000&_fk=true")
		if err != nil {
			fail(err)
		}
		return db, goqite.SQLFlavorSQLite
	case "postgres":
		db, err := sql.Open("postgres", o.dsn)
		if err != nil {
			fail(err)
		}
		db.SetMaxOpenConns(8)
		return db, goqite.SQLFlavorPostgreSQL
	}
	fail(fmt.Errorf("unknown -engine %q", o.engine))
	return nil, 0
}

type outgoing struct {
	Body     []byte `json:"body"`
	DelayMs  int64  `json:"delayMs"`
	Priority int    `json:"priority"`
}

func send(ctx context.Context, q *goqite.Queue, o options) {
	text, err := os.ReadFile(o.in)
	if err != nil {
		fail(err)
	}
	var messages []outgoing
	if err := json.Unmarshal(text, &messages); err != nil {
		fail(err)
	}
	for i, m := range messages {
		body := m.Body
		if body == nil {
			body = []byte{} // JSON "" decodes to nil; goqite would bind NULL
		}
		var id goqite.ID
		err := retry("send", func() (err error) {
			id, err = q.SendAndGetID(ctx, goqite.Message{
				Body: body, Delay: time.Duration(m.DelayMs) * time.Millisecond, Priority: m.Priority,
			})
			return err
		})
		if err != nil {
			fail(err)
		}
		emit(map[string]any{"ev": "sent", "i": i, "id": id})
	}
}

func receive(ctx context.Context, q *goqite.Queue, o options) {
	last, n := time.Now(), 0
	for o.count == 0 || n < o.count {
		var m *goqite.Message
		err := retry("receive", func() (err error) {
			m, err = q.Receive(ctx)
			return err
		})
		if err != nil {
			fail(err)
		}
		if m == nil {
			if time.Since(last) >= o.idle {
				return
			}
			time.Sleep(5 * time.Millisecond)
			continue
		}
		last, n = time.Now(), n+1
		emit(map[string]any{"ev": "received", "id": m.ID, "body": m.Body})
		if o.del {
			if err := retry("delete", func() error { return q.Delete(ctx, m.ID) }); err != nil {
				fail(err)
			}
		}
	}
}

// untilStdinCloses returns a context cancelled when standard input reaches its end.
func untilStdinCloses() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	return ctx
}

func consume(ctx context.Context, q *goqite.Queue, o options) {
	var wg sync.WaitGroup
	for w := 0; w < o.workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				m, err := q.ReceiveAndWait(ctx, o.poll)
				if errors.Is(err, context.Canceled) {
					return
				}
				if err != nil && !serializationFailure(err) {
					fail(err)
				}
				if err != nil {
					// As retry does, for ReceiveAndWait, which gives up at a failed receive.
					emit(map[string]any{"ev": "retry", "op": "receive", "error": err.Error()})
					time.Sleep(10 * time.Millisecond)
					continue
				}
				emit(map[string]any{"ev": "received", "id": m.ID, "body": m.Body})
				time.Sleep(o.work)
				if err := retry("delete", func() error {
					return q.Delete(context.WithoutCancel(ctx), m.ID)
				}); err != nil {
					fail(err)
				}
			}
		}()
	}
	wg.Wait()
}

type errorLogger struct{}

// Info passes on the runner's error lines only (its other lines are routine).
func (errorLogger) Info(msg string, args ...any) {
	if strings.HasPrefix(msg, "Error") {
		emit(map[string]any{"ev": "error", "op": "runner", "error": strings.TrimSpace(fmt.Sprintln(append([]any{msg}, args...)...))})
	}
}

func runJobs(ctx context.Context, q *goqite.Queue, o options) {
	r := jobs.NewRunner(jobs.NewRunnerOpts{
		Queue: q, Limit: o.limit, PollInterval: o.poll, Extend: o.extend, Log: errorLogger{},
	})
	for _, name := range strings.Split(o.names, ",") {
		name := name
		r.Register(name, func(_ context.Context, body []byte) error {
			emit(map[string]any{"ev": "ran", "name": name, "body": body})
			time.Sleep(o.work)
			return nil
		})
	}
	r.Start(ctx)
}
