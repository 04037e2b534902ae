/**
 * `timeout: 0`: goqite reads it as its default; qite refuses it, since a message would be handed
 * out again at once (two receives in a row would return it twice).
 *
 * @module
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Queue } from "../mod.ts";
import { createClient, createRouter } from "../http/mod.ts";
import { eachDriver, runtimeCommand } from "./_helpers.ts";

eachDriver("A queue, a router and a client refuse a timeout of 0 with a RangeError", ({ db }) => {
  assert.throws(() => new Queue({ db, name: "q", timeout: 0 }), RangeError);
  assert.throws(() => createRouter({ db, timeout: 0 }), RangeError);
  assert.throws(() => createClient("http://queue.test/q", { timeout: 0 }), RangeError);
  assert.ok(new Queue({ db, name: "q", timeout: 1 }));
});

eachDriver("The server refuses --timeout 0 with a one-line message and a non-zero exit", async (
  { path },
) => {
  const cli = fileURLToPath(new URL("../http/cli.ts", import.meta.url));
  const [exe, prefix] = runtimeCommand(cli);
  const child = spawn(exe, [...prefix, "--db", path, "--port", "0", "--timeout", "0"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk) => output += chunk);
  child.stderr!.on("data", (chunk) => output += chunk);
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  assert.notEqual(code, 0, output);
  assert.match(output, /timeout/);
  assert.doesNotMatch(output, /serving/);
}, ["node:sqlite", "bun:sqlite"]);
