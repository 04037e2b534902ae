/**
 * The README's blocks that `deno test --doc` does not run: the quick start (on the runtime that
 * runs this suite, as a child process in a fresh directory) and the commands it names.
 *
 * @module
 */

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { runtimeCommand } from "./_helpers.ts";
import { SCHEMA } from "../mod.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const README = readFileSync(join(ROOT, "README.md"), "utf8");

/** The code blocks of the README, with their info strings. */
function blocks(): Array<{ info: string; code: string }> {
  return [...README.matchAll(/^```([^\n]*)\n([\s\S]*?)^```$/gm)].map((m) => ({
    info: m[1]!,
    code: m[2]!,
  }));
}

test("The README's quick start runs as printed on this runtime, in a fresh directory", () => {
  const quick = blocks().find((b) => b.code.startsWith("// app.mjs"));
  assert.ok(quick, "the README has the quick start");
  assert.match(quick.info, /^js\b/, "it is plain JavaScript, so no runtime needs a flag for it");
  const dir = mkdtempSync(join(tmpdir(), "qite-readme-"));
  try {
    const file = join(dir, "app.mjs");
    const mod = pathToFileURL(join(ROOT, "mod.ts")).href;
    writeFileSync(file, quick.code.replaceAll('"@qite/qite"', JSON.stringify(mod)));
    const [command, args] = runtimeCommand(file);
    const output = execFileSync(command, args, { cwd: dir, encoding: "utf8", timeout: 60_000 });
    assert.equal(output, "hello\n");
    const db = readFileSync(join(dir, "app.db"));
    assert.equal(db.subarray(0, 15).toString("latin1"), "SQLite format 3", "the file it made");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("Every deno task the README names exists in deno.json", () => {
  const tasks = Object.keys(
    (JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8")) as { tasks: object }).tasks,
  );
  const named = [...README.matchAll(/deno@[0-9.]+ task ([a-z:]+)/g)].map((m) => m[1]!);
  assert.ok(named.includes("serve") && named.includes("test"), "the set-up's two commands");
  for (const task of named) assert.ok(tasks.includes(task), `deno task ${task} exists`);
});

test("The README's set-up is two commands: the server on ./qite.db first, then the tests", () => {
  const setUp = README.slice(README.indexOf("## Set-up"));
  const block = blocks().find((b) => setUp.includes(b.code));
  assert.ok(block, "the set-up has a code block");
  const lines = block.code.trim().split("\n").map((line) => line.replace(/\s+#.*$/, ""));
  assert.deepEqual(lines, ["npx -y deno@2.9.6 task serve", "npx -y deno@2.9.6 task test"]);
  const tasks = (JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8")) as {
    tasks: Record<string, string>;
  }).tasks;
  assert.match(tasks.serve!, /http\/cli\.ts/);
  assert.equal(tasks.test, "deno run -A tests/_run.ts");
});

test("The README's schema is SCHEMA, word for word", () => {
  const block = blocks().find((b) => b.info === "sql");
  assert.ok(block, "the README shows the schema");
  assert.equal(block.code.trim(), SCHEMA.trim());
});
