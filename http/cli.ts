/**
 * `qite`, the command line: the standalone server and an operator's commands. Run it with any
 * of:
 *
 *     qite <command> …                          (after npm install: the package's bin)
 *     deno run -A http/cli.ts <command> …       (deno task qite <command> …)
 *     bun http/cli.ts <command> …
 *     node http/cli.ts <command> …              (Node ≥ 22.18, or 22.13 with --experimental-strip-types)
 *
 * Commands (`qite --help`, `qite <command> --help`):
 *
 *     serve                   every queue of a SQLite file or a PostgreSQL database over HTTP,
 *                             with the dashboard at / (also what flags without a command do)
 *     stats [queue]           counts by state, of one queue or of every queue
 *     peek <queue>            messages without receiving them (--state, --limit)
 *     dead <queue>            dead messages, a page at a time (--limit, --cursor)
 *     redrive <queue> [ids…]  dead messages receivable again
 *     purge-dead <queue>      deletes the dead messages
 *     send <queue> <body|->   sends a message (--delay, --priority, --job; - reads stdin)
 *     receive <queue>         receives a message, deleted only with --delete
 *
 * Every command but `serve` acts on `--db` (or `QITE_DB`): a SQLite file, a `postgres://` URL
 * (`--schema`; Bun.sql on Bun, the npm package `postgres` elsewhere, imported only then) or a
 * running server's `http://` URL (`--token`). Tables by default, JSON with `--json`; a failure
 * is one line on standard error, with exit status 2 for a mistake in the command line and 1
 * for anything else.
 *
 * @module
 */

import process from "node:process";
import { main } from "../cli/main.ts";

const status = await main(process.argv.slice(2));
if (status !== undefined) {
  // Node writes to a full pipe asynchronously: exiting at once would cut the output off (at
  // 64 KiB when a slower program reads it). A write's callback runs once everything before it
  // is written.
  await Promise.all(
    [process.stdout, process.stderr].map((stream) =>
      new Promise<void>((resolve) => stream.write("", () => resolve()))
    ),
  );
  process.exit(status);
}
