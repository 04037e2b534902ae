/**
 * The README's command-line session (the `sh` block that ends its "Command line" section), run as
 * printed: every `$ qite …` line, in order, as a child process of this runtime, against a SQLite
 * file that a server (token `s3cret`) has just created and serves, that server, a schema of the
 * test's own on PostgreSQL and a port where nothing listens. Only those targets are substituted
 * (and the ports where they are printed). What cannot repeat is masked: message ids (but each
 * one must stand for the same message wherever the session shows it), ages and durations,
 * timestamps and column padding; everything else must be what the README prints, and a step that
 * prints only `qite: …` must exit with 1 or 2, any other with 0.
 *
 * @module
 */

import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { detectRuntime } from "../src/runtime/detect.ts";
import { tempDir } from "./_helpers.ts";
import { PG_URL, TestDatabase } from "./_postgres.ts";
import { type Started, startServer } from "./_server.ts";
import { closedPort, qite, readTable } from "./_cli.ts";

const README = readFileSync(fileURLToPath(new URL("../README.md", import.meta.url)), "utf8");

/** The targets as the README names them (`--db` values, and the one `--schema`). */
const NAMED = {
  file: "app.db",
  server: "http://127.0.0.1:8089",
  postgres: "postgres://postgres@127.0.0.1:5432/test",
  unreachable: "http://127.0.0.1:8090",
  schema: "qite_demo",
} as const;

type Target = keyof typeof NAMED;

/** One `$ qite …` line of the session and the lines it printed. */
interface Step {
  /** The command as printed, without `$ `. */
  readonly line: string;
  /** qite's arguments, as the README names the targets. */
  readonly args: string[];
  /** Standard input's bytes, from `printf … |`. */
  readonly stdin: Uint8Array | undefined;
  readonly output: string[];
}

/** The README's "## Command line" section. */
function sessionSection(): string {
  const start = README.search(/^## Command line$/m);
  assert.ok(start >= 0, "the README has a Command line section");
  const section = README.slice(start);
  const next = section.slice(3).search(/^## /m);
  return next < 0 ? section : section.slice(0, next + 3);
}

/** The last `sh` block of the README's "## Command line" section. */
function sessionBlock(): string {
  const blocks = [...sessionSection().matchAll(/^```sh\n([\s\S]*?)^```$/gm)];
  assert.ok(blocks.length > 0, "the Command line section ends with a session");
  return blocks.at(-1)![1]!;
}

/** The session's steps: each `$ ` line and the lines under it. */
function parseSession(block: string): Step[] {
  const steps: Step[] = [];
  for (const line of block.replace(/\n$/, "").split("\n")) {
    if (line.startsWith("$ ")) {
      steps.push({ line: line.slice(2), ...command(line.slice(2)), output: [] });
    } else {
      assert.ok(steps.length > 0, `the session prints ${JSON.stringify(line)} before a command`);
      steps.at(-1)!.output.push(line);
    }
  }
  return steps;
}

/** `qite …`, or `printf FORMAT | qite …`, as arguments and standard input. */
function command(line: string): { args: string[]; stdin: Uint8Array | undefined } {
  const commands = pipeline(line);
  const last = commands.at(-1)!;
  assert.equal(last[0], "qite", `every command of the session is qite: ${line}`);
  if (commands.length === 1) return { args: last.slice(1), stdin: undefined };
  assert.ok(
    commands.length === 2 && commands[0]!.length === 2 && commands[0]![0] === "printf",
    `the test reads only printf FORMAT | qite …: ${line}`,
  );
  return { args: last.slice(1), stdin: printf(commands[0]![1]!) };
}

/** The words of a shell command line, split at `|`: quotes and backslashes, nothing more. */
function pipeline(line: string): string[][] {
  const commands: string[][] = [[]];
  let word: string | undefined;
  const end = (): void => {
    if (word !== undefined) commands.at(-1)!.push(word);
    word = undefined;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === " ") {
      end();
    } else if (c === "|") {
      end();
      commands.push([]);
    } else if (c === "'" || c === '"') {
      const close = line.indexOf(c, i + 1);
      assert.ok(close > i, `unclosed quote in ${line}`);
      const quoted = line.slice(i + 1, close);
      assert.ok(c === "'" || !/[$`\\]/.test(quoted), `the test does not expand ${quoted}`);
      word = (word ?? "") + quoted;
      i = close;
    } else if (c === "\\") {
      word = (word ?? "") + (line[++i] ?? "");
    } else {
      assert.doesNotMatch(c, /[;&<>()$`*?[\]{}~#!]/, `the test does not read the shell's ${c}`);
      word = (word ?? "") + c;
    }
  }
  end();
  return commands;
}

/** The bytes `printf FORMAT` writes: octal escapes (`\377`), `\n`, `\t`, `\\` and `%%`. */
function printf(format: string): Uint8Array {
  const bytes: number[] = [];
  const escapes: Record<string, number> = { n: 10, t: 9, r: 13, "\\": 92 };
  const parts = format.split(/(\\[0-7]{1,3}|\\.|%.?)/);
  parts.forEach((part, i) => {
    if (i % 2 === 0) bytes.push(...new TextEncoder().encode(part));
    else if (part === "%%") bytes.push(37);
    else if (/^\\[0-7]/.test(part)) bytes.push(parseInt(part.slice(1), 8) & 0xff);
    else {
      const code = part.startsWith("\\") ? escapes[part.slice(1)] : undefined;
      assert.ok(code !== undefined, `the test does not read printf's ${part}`);
      bytes.push(code);
    }
  });
  return new Uint8Array(bytes);
}

/** The lines of a stream's text; a stream that prints something ends it with a line break. */
function lines(text: string, name: string, step: Step): string[] {
  if (text === "") return [];
  assert.ok(text.endsWith("\n"), `$ ${step.line}: ${name} does not end with a line break`);
  return text.slice(0, -1).split("\n");
}

const ID = /m_[0-9a-f]{32}/g;
const TIMESTAMP = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g;
/** An age or a duration as the tables print it: `298ms`, `11s`, `5m3s`, `2h5m`, `3d4h`. */
const DURATION = /^(?:\d+(?:ms|[smhd]))+$/;

/** A line with what cannot repeat masked, and runs of spaces (column padding) as one. */
function mask(line: string): string {
  return line.replace(TIMESTAMP, "<timestamp>").trimEnd().split(/ +/)
    .map((word) => DURATION.test(word) ? "<duration>" : word).join(" ");
}

/**
 * Why a server cannot be reached is the runtime's own text, after `Cannot reach URL: `. The
 * README shows Node's (`npx qite` runs on Node); on Deno and Bun the text differs, and it must
 * still say that the connection was refused.
 */
function runtimeWords(expected: string, actual: string): string {
  const prefix = /^qite: Cannot reach \S+: /.exec(expected)?.[0];
  if (prefix === undefined || detectRuntime() === "node") return actual;
  const refused = actual.startsWith(prefix) && /refused/i.test(actual.slice(prefix.length));
  return refused ? expected : actual;
}

/**
 * Message ids across the session: each id the README shows stands for one message of this run,
 * and each message of this run for one id of the README.
 */
class Ids {
  #mine = new Map<string, string>();
  #readme = new Map<string, string>();

  /**
   * `actual` with its ids written as the README's ids in the same places of `expected`, where
   * they are the same messages; an id that is another message than the README's stays as it is
   * (and the comparison shows it).
   */
  translate(expected: string, actual: string): string {
    const readme = expected.match(ID) ?? [];
    let i = 0;
    return actual.replace(ID, (id) => {
      const shown = readme[i++];
      if (shown === undefined) return id;
      const mine = this.#mine.get(shown);
      const theirs = this.#readme.get(id);
      if ((mine !== undefined && mine !== id) || (theirs !== undefined && theirs !== shown)) {
        return id;
      }
      this.#mine.set(shown, id);
      this.#readme.set(id, shown);
      return shown;
    });
  }
}

/** Where the session's targets are in this run. */
interface Places {
  readonly file: string;
  readonly server: Started;
  readonly schema: string;
  readonly unreachable: string;
}

/** The step's arguments with the targets replaced; records which targets it used. */
function substitute(step: Step, places: Places, used: Set<Target>): string[] {
  const db: Record<string, [Target, string]> = {
    [NAMED.file]: ["file", places.file],
    [NAMED.server]: ["server", places.server.url],
    [NAMED.postgres]: ["postgres", PG_URL],
    [NAMED.unreachable]: ["unreachable", places.unreachable],
  };
  const args = [...step.args];
  assert.ok(args.includes("--db"), `$ ${step.line}: every command names its --db`);
  args.forEach((arg, i) => {
    assert.doesNotMatch(arg, /^--(db|schema)=/, `$ ${step.line}: write --db and --schema apart`);
    if (args[i - 1] === "--db") {
      const target = db[arg];
      assert.ok(target, `$ ${step.line}: the test has no target for --db ${arg}`);
      used.add(target[0]);
      args[i] = target[1];
    } else if (args[i - 1] === "--schema") {
      assert.equal(arg, NAMED.schema, `$ ${step.line}: the test has no schema ${arg}`);
      used.add("schema");
      args[i] = places.schema;
    }
  });
  return args;
}

/** The printed lines with the servers' addresses of this run. */
function hosts(line: string, places: Places): string {
  return line
    .replaceAll(new URL(NAMED.server).host, new URL(places.server.url).host)
    .replaceAll(new URL(NAMED.unreachable).host, new URL(places.unreachable).host);
}

/**
 * Node 22 warns on standard error that type stripping and node:sqlite are experimental; the
 * suite's runner passes `--disable-warning=ExperimentalWarning` to Node (tests/_run.ts), and
 * this file passes it to its children however it is run.
 */
const NODE_OPTIONS: Record<string, string> = detectRuntime() === "node"
  ? {
    NODE_OPTIONS: [process.env.NODE_OPTIONS, "--disable-warning=ExperimentalWarning"]
      .filter((option) => option).join(" "),
  }
  : {};

/** Runs one step and compares what it printed, stream by stream, with the README's lines. */
async function check(step: Step, places: Places, used: Set<Target>, ids: Ids): Promise<void> {
  const expected = step.output.map((line) => hosts(line, places));
  // qite's notes and failures ("qite: …") go to standard error, the rest to standard output.
  const err = expected.filter((line) => line.startsWith("qite: "));
  const out = expected.filter((line) => !line.startsWith("qite: "));
  assert.deepEqual(
    expected,
    [...out, ...err],
    `$ ${step.line}: the README shows qite's notes last`,
  );

  const run = await qite(substitute(step, places, used), {
    env: NODE_OPTIONS,
    ...(step.stdin ? { stdin: step.stdin } : {}),
  });
  const printed = `$ ${step.line}\n${run.stdout}${run.stderr}(exit status ${run.code})`;
  // A step that prints only "qite: …" lines is a failure (1 or 2); every other one succeeds.
  if (out.length === 0 && err.length > 0) assert.ok(run.code === 1 || run.code === 2, printed);
  else assert.equal(run.code, 0, printed);
  if (/^[A-Z][A-Z ]*[A-Z]\n/.test(run.stdout)) readTable(run.stdout); // throws when out of line

  const stdout = lines(run.stdout, "standard output", step);
  const stderr = lines(run.stderr, "standard error", step).map((line, i) =>
    runtimeWords(err[i] ?? "", line)
  );
  const seen = (actual: string[], want: string[]): string[] =>
    actual.map((line, i) => mask(ids.translate(want[i] ?? "", line)));
  // The ids of this run appear as the README's ids for the same messages; one that stays as
  // printed is not the message the README shows there.
  assert.deepEqual(
    { stdout: seen(stdout, out), stderr: seen(stderr, err) },
    { stdout: out.map(mask), stderr: err.map(mask) },
    printed,
  );
}

test("The README's command-line session prints what it shows, on a SQLite file, a server and PostgreSQL", async () => {
  const steps = parseSession(sessionBlock());
  const dir = tempDir();
  let server: Started | undefined;
  const database = new TestDatabase("postgres.js");
  try {
    // The session starts with the server that the README names, which creates the file; qite's
    // other commands create no table.
    const port = new URL(NAMED.server).port;
    const serve = `qite serve --db ${NAMED.file} --port ${port} --token s3cret`;
    assert.ok(
      sessionSection().includes(`\`${serve}\` running`),
      `the README says that ${serve} runs during the session`,
    );
    const file = join(dir, NAMED.file);
    server = await startServer(["serve", "--db", file, "--token", "s3cret"]);
    await database.setup();
    const places: Places = {
      file,
      server,
      schema: database.schema,
      unreachable: `http://127.0.0.1:${await closedPort()}`,
    };
    const used = new Set<Target>();
    const ids = new Ids();
    for (const step of steps) await check(step, places, used, ids);
    assert.deepEqual([...used].sort(), Object.keys(NAMED).sort(), "the session uses every target");
  } finally {
    if (server !== undefined) {
      server.child.kill("SIGTERM");
      await server.exited;
    }
    rmSync(dir, { recursive: true, force: true });
    await database.close();
  }
});
