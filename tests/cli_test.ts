/**
 * The command line (`qite`, http/cli.ts) as a user runs it: a child process of this runtime,
 * against a SQLite file, PostgreSQL (a schema of the test's own) and a running server.
 *
 * @module
 */

import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { GOQITE_SCHEMA, open, Queue, setup } from "../mod.ts";
import { createJob } from "../jobs/mod.ts";
import { sleep, tempDir } from "./_helpers.ts";
import { PG_URL, testClients, TestDatabase } from "./_postgres.ts";
import { startServer } from "./_server.ts";
import { closedPort, json, ok, qite, readTable, type Run } from "./_cli.ts";

const COMMANDS = [
  "serve",
  "stats",
  "peek",
  "dead",
  "redrive",
  "purge-dead",
  "send",
  "receive",
];

/** Asserts a failure: the status, and one line on standard error, without a stack trace. */
function assertFailure(run: Run, code: number, pattern: RegExp): void {
  assert.equal(run.code, code, `${run.stdout}${run.stderr}`);
  assert.equal(run.stdout, "");
  assert.match(run.stderr, /^qite: [^\n]+\n$/, `not one line: ${JSON.stringify(run.stderr)}`);
  assert.match(run.stderr, pattern);
  assert.doesNotMatch(run.stderr, /\n\s+at /);
}

/** A set-up SQLite file in a fresh directory; `done` removes it. */
function sqliteFile(): { path: string; done(): void } {
  const dir = tempDir();
  const path = join(dir, "ops.db");
  const db = open(path);
  setup(db);
  db.close();
  return { path, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test("qite --help, qite help and every command's --help print their usage and exit 0", async () => {
  const top = await Promise.all([qite(["--help"]), qite(["-h"]), qite(["help"])]);
  for (const run of top) {
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^qite: a persistent message queue/);
    for (const name of COMMANDS) assert.match(run.stdout, new RegExp(`\\n  ${name} `));
  }
  const runs = await Promise.all(COMMANDS.map((name) => qite([name, "--help"])));
  runs.forEach((run, i) => {
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^usage: qite ${COMMANDS[i]}[ \\n]`));
    assert.match(run.stdout, /\n {2}-h, --help +prints this help\n$/);
  });
  assert.equal((await qite(["help", "peek"])).stdout, runs[2]!.stdout);
  assertFailure(await qite(["help", "nosuch"]), 2, /unknown command "nosuch"/);
});

test("qite refuses bad input with one line on standard error and exit status 2", async () => {
  const file = sqliteFile();
  try {
    const db = ["--db", file.path];
    const cases: Array<[string[], RegExp]> = [
      [["frobnicate"], /^qite: unknown command "frobnicate" \(see qite --help\)/],
      [["peek", ...db], /a queue name is missing \(see qite peek --help\)/],
      [["peek", "q", "--limit", "0", ...db], /--limit must be a whole number from 1 to 1000/],
      [["peek", "q", "--limit", "ten", ...db], /--limit must be a whole number/],
      [["peek", "q", "--state", "dead", ...db], /--state must be visible, delayed or inFlight/],
      [["stats", "--bogus", ...db], /Unknown option '--bogus'/],
      [["stats", "a", "b", ...db], /unexpected argument "b"/],
      [["send", "q", ...db], /an argument is missing/],
      [["send", "q", "x", "--priority", "-1", ...db], /--priority=-/],
      [["send", "q", "x", "--delay", "-5", ...db], /--delay/],
      [["send", "", "x", ...db], /'name' must be a non-empty string/],
      [["send", "q", "x", "--job", "", ...db], /--job must name the job/],
      [["stats", "--schema", "s", ...db], /--schema is for a postgres:\/\/ database only/],
      [["stats", "--timeout", "0", ...db], /--timeout must be a whole number >= 1/],
      [["serve", "--port", "70000", ...db], /--port must be a whole number from 0 to 65535/],
      [["serve", "--db", "http://127.0.0.1:1"], /serve needs a SQLite file or a postgres/],
      [["--port", "x"], /--port must be a whole number/],
    ];
    const runs = await Promise.all(cases.map(([args]) => qite(args)));
    runs.forEach((run, i) => assertFailure(run, 2, cases[i]![1]));
    // Settings that would otherwise fail open: an empty token (an unset variable in
    // `--token "$SECRET"`) and switches that are not a yes or a no.
    const settings: Array<[string[], Record<string, string>, RegExp]> = [
      [["serve", "--token", "", ...db], {}, /the token is empty/],
      [["serve", ...db], { QITE_TOKEN: "" }, /the token is empty/],
      [["serve", ...db], { QITE_READ_ONLY: "maybe" }, /QITE_READ_ONLY must be 1, true, yes/],
      [["serve", ...db], { QITE_DASHBOARD: "nah" }, /QITE_DASHBOARD must be 1, true, yes/],
    ];
    const refused = await Promise.all(settings.map(([args, env]) => qite(args, { env })));
    refused.forEach((run, i) => assertFailure(run, 2, settings[i]![2]));
  } finally {
    file.done();
  }
});

test("On a SQLite file, qite sends, counts, peeks and receives, deleting only with --delete", async () => {
  const file = sqliteFile();
  try {
    const env = { QITE_DB: file.path };
    const id = (await ok(["send", "emails", "hello alice"], { env })).trim();
    assert.match(id, /^m_[0-9a-f]{32}$/);
    await ok(["send", "emails", "urgent", "--priority", "10"], { env });
    await ok(["send", "emails", "later", "--delay", "60000"], { env });
    const binary = await json(["send", "emails", "-"], {
      env,
      stdin: new Uint8Array([0xff, 0x00, 0x41]),
    }) as { id: string };
    await ok(["send", "emails", "-", "--job", "send-email"], { env, stdin: "bob@example.com" });
    await ok(["send", "emails", "line 1\nline 2"], { env });
    await ok(["send", "sms", "--", "-starts with a dash"], { env });
    const long = "x".repeat(59) + "yz";
    await ok(["send", "long", long], { env });
    await ok(["send", "long", "right\u202eto left"], { env });

    const all = readTable(await ok(["stats"], { env }));
    assert.deepEqual(all.map((row) => [row.QUEUE, row.TOTAL, row.VISIBLE, row.DELAYED]), [
      ["emails", "6", "5", "1"],
      ["long", "2", "2", "0"],
      ["sms", "1", "1", "0"],
    ]);
    // Tables cut bodies to 60 characters, JSON has them whole; a direction change makes hex.
    const cut = readTable(await ok(["peek", "long"], { env }));
    assert.deepEqual(cut.map((row) => [row.FORMAT, row.BODY]), [
      ["text", `${"x".repeat(59)}…`],
      ["hex", "7269676874e280ae746f206c656674"],
    ]);
    const whole = await json(["peek", "long"], { env }) as Array<{ body: string }>;
    assert.equal(whole[0]!.body, long);
    const sms = await json(["stats", "sms"], { env }) as Record<string, unknown>;
    assert.equal(typeof sms.oldestVisibleAge, "number");
    assert.deepEqual(sms, {
      queue: "sms",
      total: 1,
      visible: 1,
      inFlight: 0,
      delayed: 0,
      dead: 0,
      oldestVisibleAge: sms.oldestVisibleAge,
    });

    // Peek: receive order, bodies as text or hex, jobs by name; nothing is received.
    const rows = readTable(await ok(["peek", "emails"], { env }));
    assert.deepEqual(rows.map((row) => [row.PRIORITY, row.JOB, row.FORMAT, row.BODY]), [
      ["10", "", "text", "urgent"],
      ["0", "", "text", "hello alice"],
      ["0", "", "hex", "ff0041"],
      ["0", "send-email", "text", "bob@example.com"],
      ["0", "", "hex", "6c696e6520310a6c696e652032"], // "line 1\nline 2": a control character
    ]);
    assert.ok(rows.every((row) => row.RECEIVED === "0" && row.VISIBLE === "now"));
    const peeked = await json(["peek", "emails", "--limit", "3"], { env }) as Array<
      Record<string, unknown>
    >;
    assert.equal(peeked.length, 3);
    assert.deepEqual(peeked[2], {
      ...peeked[2],
      id: binary.id,
      job: null,
      format: "hex",
      body: "ff0041",
      size: 3,
      received: 0,
    });
    assert.match(String(peeked[0]!.created), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const delayed = readTable(await ok(["peek", "emails", "--state", "delayed"], { env }));
    assert.deepEqual(delayed.map((row) => row.BODY), ["later"]);
    assert.match(delayed[0]!.VISIBLE!, /^in [1-5]?\ds$|^in 1m$/);
    assert.equal(
      (await ok(["peek", "emails", "--state", "inFlight"], { env })).trim(),
      "no in-flight messages in emails",
    );

    // Receive without --delete: shown whole, left in the queue, hidden for the timeout.
    const received = await qite(["receive", "emails", "--timeout", "60000"], { env });
    assert.equal(received.code, 0, received.stderr);
    assert.deepEqual(readTable(received.stdout).map((row) => row.BODY), ["urgent"]);
    assert.match(
      received.stderr,
      /^qite: not deleted: m_[0-9a-f]{32} is visible again in 60000 ms \(the queue's timeout\), receive 1 of 3\n$/,
    );
    const inFlight = await json(["peek", "emails", "--state", "inFlight"], { env }) as Array<
      { body: string; received: number }
    >;
    assert.deepEqual(inFlight.map((m) => [m.body, m.received]), [["urgent", 1]]);

    // Receive with --delete: gone.
    const deleted = await json(["receive", "emails", "--delete"], { env }) as Record<
      string,
      unknown
    >;
    assert.equal(deleted.id, id);
    assert.equal(deleted.body, "hello alice");
    assert.equal(deleted.deleted, true);
    assert.equal((await json(["stats", "emails"], { env }) as { total: number }).total, 5);

    // Nothing visible: status 0, nothing on standard output, null with --json.
    const none = await qite(["receive", "nothing"], { env });
    assert.deepEqual([none.code, none.stdout], [0, ""]);
    assert.match(none.stderr, /^qite: no message is visible in nothing\n$/);
    assert.equal(await json(["receive", "nothing", "--wait", "200"], { env }), null);
    assert.equal(
      (await json(["receive", "sms"], { env }) as { body: string }).body,
      "-starts with a dash",
    );
  } finally {
    file.done();
  }
});

test("On a SQLite file, qite pages through dead messages, redrives and purges them", async () => {
  const file = sqliteFile();
  const db = open(file.path);
  try {
    const queue = new Queue({ db, name: "webhooks", maxReceive: 1, timeout: 1 });
    const ids = await queue.sendBatch([{ body: "a" }, { body: "b" }, { body: "c" }]);
    await createJob(queue, "notify", "d");
    await queue.receiveBatch(10);
    await sleep(20);
    const env = { QITE_DB: file.path, QITE_MAX_RECEIVE: "1" };
    assert.equal((await json(["stats", "webhooks"], { env }) as { dead: number }).dead, 4);
    // With goqite's default of 3 receives, none of them is dead yet.
    assert.equal(
      (await json(["stats", "webhooks", "--max-receive", "3"], { env }) as { dead: number }).dead,
      0,
    );

    const first = await ok(["dead", "webhooks", "--limit", "2"], { env });
    const [table, next] = first.trimEnd().split(/\n(?=next page: )/);
    assert.deepEqual(readTable(table!).map((row) => row.BODY), ["a", "b"]);
    const cursor = next!.match(/^next page: --cursor '([^']+)'$/)![1]!; // quoted: it has a space
    const second = await json(["dead", "webhooks", "--limit", "2", "--cursor", cursor], {
      env,
    }) as { messages: Array<{ body: string; job: string | null }>; cursor: string | null };
    assert.deepEqual(second.messages.map((m) => [m.job, m.body]), [[null, "c"], ["notify", "d"]]);
    // A full page that is the last has no cursor, and the table says no next page.
    assert.equal(second.cursor, null);
    assert.doesNotMatch(
      await ok(["dead", "webhooks", "--limit", "2", "--cursor", cursor], { env }),
      /next page/,
    );

    assert.equal(
      (await ok(["redrive", "webhooks", ids[0]!], { env })).trim(),
      "redrove 1 dead message of webhooks",
    );
    assert.deepEqual(await json(["redrive", "webhooks", ids[1]!, "m_unknown"], { env }), {
      redriven: 1,
    });
    assert.deepEqual(
      (await json(["peek", "webhooks"], { env }) as Array<{ body: string }>).map((m) => m.body),
      ["a", "b"],
    );
    assert.equal(
      (await ok(["purge-dead", "webhooks"], { env })).trim(),
      "purged 2 dead messages of webhooks",
    );
    assert.deepEqual(await json(["purge-dead", "webhooks"], { env }), { purged: 0 });
    assert.equal((await ok(["dead", "webhooks"], { env })).trim(), "no dead messages in webhooks");
    assert.deepEqual(await json(["redrive", "webhooks"], { env }), { redriven: 0 });
  } finally {
    db.close();
    file.done();
  }
});

test("qite's whole output reaches a pipe, however long, before it exits", async () => {
  const { path, done } = sqliteFile();
  try {
    const db = open(path);
    const queue = new Queue({ db, name: "long" });
    // About 800 KiB of JSON, to a reader that waits: far more than a pipe holds, so the rest
    // waits in the writer (Node queues it and writes it asynchronously).
    await queue.sendBatch(
      Array.from({ length: 200 }, (_, i) => ({ body: `${i}:${"x".repeat(4000)}` })),
    );
    db.close();
    const args = ["peek", "long", "--limit", "200", "--json", "--db", path];
    const stdout = await ok(args, { slowReader: 1000 });
    const peeked = JSON.parse(stdout) as Array<{ body: string }>;
    assert.equal(peeked.length, 200);
    assert.deepEqual(
      peeked.map((message) => Number(message.body.split(":")[0])).sort((a, b) => a - b),
      Array.from({ length: 200 }, (_, i) => i),
    );
  } finally {
    done();
  }
});

test("stats, peek and dead change nothing in a SQLite file, not even its journal mode", async () => {
  const dir = tempDir();
  try {
    // A file as goqite leaves it: a rollback journal, goqite's schema only.
    const path = join(dir, "goqite.db");
    const goqite = open(path);
    goqite.exec("pragma journal_mode = delete");
    goqite.exec(GOQITE_SCHEMA);
    goqite.exec("insert into goqite (queue, body) values ('q', x'6869')");
    goqite.close();
    const before = readFileSync(path);
    const env = { QITE_DB: path };
    assert.equal((await json(["stats", "q"], { env }) as { total: number }).total, 1);
    assert.equal((await json(["peek", "q"], { env }) as unknown[]).length, 1);
    assert.deepEqual(await json(["dead", "q"], { env }), { messages: [], cursor: null });
    assert.deepEqual(readFileSync(path), before, "the file is as it was");
    // An empty file stays empty.
    const empty = join(dir, "empty.db");
    writeFileSync(empty, "");
    assertFailure(await qite(["stats", "--db", empty]), 1, /goqite/);
    assert.equal(readFileSync(empty).length, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("qite refuses a missing SQLite file without creating it, and a file that is not one", async () => {
  const dir = tempDir();
  try {
    const missing = join(dir, "missing.db");
    assertFailure(
      await qite(["stats", "--db", missing]),
      1,
      /There is no SQLite file at .*missing\.db/,
    );
    assert.equal(existsSync(missing), false);
    const text = join(dir, "notes.txt");
    writeFileSync(text, "not a database, but long enough to have a header of sorts ".repeat(10));
    assertFailure(await qite(["stats", "--db", text]), 1, /Cannot open SQLite file .*notes\.txt/);
    const empty = join(dir, "empty.db");
    open(empty).close();
    assertFailure(await qite(["peek", "q", "--db", empty]), 1, /goqite/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("On PostgreSQL, in a schema of the test's own, qite sends, peeks, receives and redrives", async () => {
  const database = new TestDatabase(testClients()[0]!);
  try {
    await database.setup();
    const env = { QITE_DB: PG_URL, QITE_SCHEMA: database.schema };
    const id = (await ok(["send", "jobs", "-", "--job", "resize"], { env, stdin: "42.png" }))
      .trim();
    await ok(["send", "jobs", "plain", "--priority", "5"], { env });
    await ok(["send", "other", "x", "--delay", "60000"], { env });
    const stats = readTable(await ok(["stats"], { env }));
    assert.deepEqual(stats.map((row) => [row.QUEUE, row.TOTAL, row.VISIBLE, row.DELAYED]), [
      ["jobs", "2", "2", "0"],
      ["other", "1", "0", "1"],
    ]);
    const rows = readTable(await ok(["peek", "jobs"], { env }));
    assert.deepEqual(rows.map((row) => [row.ID === id, row.JOB, row.BODY]), [
      [false, "", "plain"],
      [true, "resize", "42.png"],
    ]);
    // A receive that is not deleted, with a lease of 1 ms and one receive allowed: dead.
    const received = await qite(["receive", "jobs", "--timeout", "1", "--max-receive", "1"], {
      env,
    });
    assert.equal(received.code, 0, received.stderr);
    assert.match(received.stderr, /visible again in 1 ms .*receive 1 of 1/);
    await sleep(20);
    const dead = await json(["dead", "jobs", "--max-receive", "1"], { env }) as {
      messages: Array<{ body: string; received: number }>;
    };
    assert.deepEqual(dead.messages.map((m) => [m.body, m.received]), [["plain", 1]]);
    assert.deepEqual(await json(["redrive", "jobs", "--max-receive", "1"], { env }), {
      redriven: 1,
    });
    const again = await json(["receive", "jobs", "--delete"], { env }) as Record<string, unknown>;
    assert.deepEqual([again.job, again.body, again.received, again.deleted], [
      null,
      "plain",
      1,
      true,
    ]);
    assert.equal(await database.count(), 2);
    assertFailure(
      await qite(["stats", "--schema", `${database.schema}_none`], { env }),
      1,
      /Cannot list queues: .*does not exist/,
    );
  } finally {
    await database.close();
  }
});

test("qite exits 1 with one line when PostgreSQL or a server cannot be reached", async () => {
  const port = await closedPort();
  const [postgres, server, queue] = await Promise.all([
    qite(["stats", "--db", `postgres://postgres@127.0.0.1:${port}/test`]),
    qite(["stats", "--db", `http://127.0.0.1:${port}`]),
    qite(["send", "q", "x", "--db", `http://127.0.0.1:${port}`]),
  ]);
  assertFailure(postgres, 1, /ECONNREFUSED|refused|connect/i);
  assertFailure(server, 1, new RegExp(`Cannot reach http://127\\.0\\.0\\.1:${port}`));
  assertFailure(queue, 1, new RegExp(`Cannot reach http://127\\.0\\.0\\.1:${port}/queues/q`));
});

test("Against a running server, qite lists, sends, peeks, receives and redrives, with its token", async () => {
  const dir = tempDir();
  const server = await startServer([
    "serve",
    "--db",
    join(dir, "served.db"),
    "--token",
    "s3cret",
    "--timeout",
    "1000",
    "--max-receive",
    "1",
  ]);
  try {
    const env = { QITE_DB: `${server.url}/`, QITE_TOKEN: "s3cret" };
    assertFailure(
      await qite(["stats"], { env: { ...env, QITE_TOKEN: undefined } }),
      1,
      /The server answered 401/,
    );
    assertFailure(await qite(["stats", "--timeout", "5"], { env }), 2, /the server's own/);
    assertFailure(await qite(["peek", "bad name"], { env }), 2, /answered 400: the queue name/);
    const id = (await ok(["send", "emails", "hello"], { env })).trim();
    assert.match(id, /^m_[0-9a-f]{32}$/);
    await ok(["send", "emails", "-", "--job", "greet"], { env, stdin: new Uint8Array([1, 2]) });
    assert.deepEqual(readTable(await ok(["stats"], { env })).map((row) => row.QUEUE), ["emails"]);
    const rows = readTable(await ok(["peek", "emails"], { env }));
    assert.deepEqual(rows.map((row) => [row.JOB, row.FORMAT, row.BODY]), [
      ["", "text", "hello"],
      ["greet", "hex", "0102"],
    ]);
    // The server's timeout (1 s) and maximum receive count (1) apply.
    const received = await qite(["receive", "emails"], { env });
    assert.equal(received.code, 0, received.stderr);
    assert.match(
      received.stderr,
      /is visible again in 1000 ms \(the queue's timeout\), receive 1 of 1/,
    );
    let dead: { messages: Array<{ id: string }> } = { messages: [] };
    for (const started = Date.now(); dead.messages.length === 0; await sleep(100)) {
      assert.ok(Date.now() - started < 10_000, "the message did not die");
      dead = await json(["dead", "emails"], { env }) as typeof dead;
    }
    assert.deepEqual(dead.messages.map((m) => m.id), [id]);
    assert.deepEqual(await json(["redrive", "emails"], { env }), { redriven: 1 });
    // Redriven messages go behind the ones waiting.
    const job = await json(["receive", "emails", "--delete"], { env }) as Record<string, unknown>;
    assert.deepEqual([job.job, job.format, job.body, job.deleted], ["greet", "hex", "0102", true]);
    assert.deepEqual(await json(["purge-dead", "emails"], { env }), { purged: 0 });
    assert.equal((await json(["stats", "emails"], { env }) as { total: number }).total, 1);
  } finally {
    server.child.kill("SIGTERM");
    await server.exited;
    rmSync(dir, { recursive: true, force: true });
  }
});
