import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { connect } from "node:net";
import { readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { open, Queue } from "../mod.ts";
import { createClient, serve } from "../http/mod.ts";
import { detectRuntime } from "../src/runtime/detect.ts";
import { runtimeCommand, sleep, tempDir, text } from "./_helpers.ts";

const CLI = fileURLToPath(new URL("../http/cli.ts", import.meta.url));
const README = fileURLToPath(new URL("../README.md", import.meta.url));

interface Started {
  readonly url: string;
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

/** Starts the standalone server (http/cli.ts) with this runtime and waits for its URL line. */
async function startServer(args: string[]): Promise<Started> {
  const [exe, prefix] = runtimeCommand(CLI);
  const flags = detectRuntime() === "deno"
    ? ["run", "-A", "--unstable-no-legacy-abort", CLI]
    : prefix;
  const child = spawn(exe, [...flags, "--port", "0", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk) => output += chunk);
  child.stderr!.on("data", (chunk) => output += chunk);
  // Deno's node:child_process reports the signal it sent rather than the child's exit code
  // (exit 0 after SIGTERM shows as code null, signal SIGTERM), so that case counts as 0 here and
  // the child's "stopped" line is checked too.
  const exited = new Promise<number | null>((resolve) =>
    child.on(
      "exit",
      (code, signal) =>
        resolve(code ?? (detectRuntime() === "deno" && signal === "SIGTERM" ? 0 : null)),
    )
  );
  const started = Date.now();
  while (true) {
    const match = output.match(/at (http:\/\/[^ ]+)\/queues\/\{name\}/);
    if (match) return { url: match[1]!, child, output: () => output, exited };
    if (child.exitCode !== null || Date.now() - started > 30_000) {
      child.kill("SIGKILL");
      throw new Error(`the server did not start:\n${output}`);
    }
    await sleep(20);
  }
}

/** Runs `fn` with a started server on a fresh file, then stops it and removes the file. */
async function withServer(
  args: string[],
  fn: (server: Started, path: string) => Promise<void>,
): Promise<void> {
  const dir = tempDir();
  const path = join(dir, "served.db");
  const server = await startServer(["--db", path, ...args]);
  try {
    await fn(server, path);
  } finally {
    if (server.child.exitCode === null) {
      server.child.kill("SIGKILL");
      await server.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

test("The standalone server serves named queues to the client and to raw fetch", async () => {
  await withServer([], async ({ url, output }) => {
    assert.match(output(), /^qite: serving .*served\.db \((bun|node):sqlite, SQLite [\d.]+\) at/);
    assert.match(output(), /\/queues\/\{name\}, dashboard at http:\/\/127\.0\.0\.1:\d+\/\n/);
    const emails = createClient(`${url}/queues/emails`);
    const id = await emails.send({ body: "hello", priority: 1 });
    const message = await emails.receive();
    assert.equal(message?.id, id);
    assert.equal(text(message!.body), "hello");
    assert.equal(await emails.delete(message!), true);

    const post = await fetch(`${url}/queues/sms`, {
      method: "POST",
      body: JSON.stringify({ Message: { Body: btoa("hi"), Delay: 0 } }),
    });
    assert.equal(post.status, 200);
    assert.equal(await post.text(), "");
    const get = await fetch(`${url}/queues/sms`);
    assert.equal(get.status, 200);
    const body = await get.text();
    assert.match(
      body,
      /^\{"Message":\{"ID":"m_[0-9a-f]{32}","Body":"aGk=","Delay":0,"Priority":0\}\}\n$/,
    );
    assert.deepEqual(await (await fetch(`${url}/queues`)).json(), { Queues: ["sms"] });
    assert.equal((await fetch(`${url}/health`)).status, 200);
    const stats = await (await fetch(`${url}/queues/sms/stats`)).json();
    assert.equal(stats.InFlight, 1);
  });
});

test("The standalone server refuses unknown paths, bad queue names and wrong methods", async () => {
  await withServer([], async ({ url }) => {
    const status = async (path: string, init?: RequestInit): Promise<number> => {
      const response = await fetch(`${url}${path}`, init);
      await response.body?.cancel();
      return response.status;
    };
    assert.equal(await status("/"), 200); // the dashboard
    assert.equal(await status("/nothing-here"), 404);
    assert.equal(await status("/deeper/overview.json"), 404);
    assert.equal(await status("/queues/emails/nothing-here"), 404);
    assert.equal(await status("/queues/bad%20name"), 400);
    assert.equal(await status("/queues/%27%3B%20drop%20table%20goqite"), 400);
    assert.equal(await status(`/queues/${"x".repeat(129)}`), 400);
    assert.equal(await status("/queues/emails", { method: "PATCH" }), 405);
    assert.equal(await status("/queues", { method: "POST" }), 405);
  });
});

test("Without its dashboard, the standalone server answers 404 at /", async () => {
  await withServer(["--no-dashboard"], async ({ url, output }) => {
    assert.doesNotMatch(output(), /dashboard/);
    const response = await fetch(`${url}/`);
    assert.equal(response.status, 404);
    await response.body?.cancel();
  });
});

test("The standalone server asks for the bearer token it was given, on the dashboard too", async () => {
  await withServer(["--token", "s3cret", "--read-only"], async ({ url, output }) => {
    assert.match(output(), /, dashboard at http:\/\/[^ ]+\/ \(read-only\)\n/);
    const page = await fetch(`${url}/`, { redirect: "manual" });
    assert.equal(page.status, 303);
    assert.equal(page.headers.get("location"), "login");
    await page.body?.cancel();
    const json = await fetch(`${url}/overview.json`);
    assert.equal(json.status, 401);
    await json.body?.cancel();
    const bearer = await fetch(`${url}/overview.json`, {
      headers: { authorization: "Bearer s3cret" },
    });
    assert.equal((await bearer.json()).readOnly, true);
    const anonymous = await fetch(`${url}/queues/q`);
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.headers.get("www-authenticate"), 'Bearer realm="qite"');
    await anonymous.body?.cancel();
    const listed = await fetch(`${url}/queues`);
    assert.equal(listed.status, 401);
    await listed.body?.cancel();
    const client = createClient(`${url}/queues/q`, {
      headers: { authorization: "Bearer s3cret" },
    });
    await client.send({ body: "let in" });
    assert.equal(text((await client.receive())!.body), "let in");
  });
});

test("SIGTERM ends long polls without handing out messages, then exits with 0", async () => {
  await withServer([], async ({ url, child, exited, output }, path) => {
    const polling = fetch(`${url}/queues/q?timeout=20s`);
    await sleep(200);
    const started = Date.now();
    child.kill("SIGTERM");
    const answer = await polling;
    assert.equal(answer.status, 204);
    assert.equal(await exited, 0);
    assert.match(output(), /qite: SIGTERM, shutting down\nqite: stopped\n$/);
    assert.ok(Date.now() - started < 5000, "the shutdown did not wait for the long poll's timeout");
    using db = open(path);
    const queue = new Queue({ db, name: "q" });
    assert.equal((await queue.stats()).total, 0);
  });
});

test("The README's curl commands work as printed", async (t) => {
  try {
    execFileSync("curl", ["--version"], { stdio: "ignore" });
  } catch {
    t.skip("curl is not installed");
    return;
  }
  const readme = readFileSync(README, "utf8");
  const block = readme.match(/```sh\n(# the curl tour[\s\S]*?)```/)?.[1];
  assert.ok(block, "the README has the curl tour");
  await withServer([], ({ url }, path) => {
    const script = block.replaceAll("localhost:8080", url.replace("http://", ""));
    const output = execFileSync("sh", ["-e", "-c", script], {
      encoding: "utf8",
      cwd: dirname(path),
    });
    assert.match(output, /"Body":"aGVsbG8="/, "the message was received");
    assert.match(output, /\{"Total":0,/, "and deleted");
    return Promise.resolve();
  });
});

test("serve().close() does not wait for connections that sent no request, as browsers keep", async () => {
  const server = await serve({ db: ":memory:", port: 0 });
  const spare = connect(server.port, "127.0.0.1");
  await new Promise((resolve) => spare.once("connect", resolve));
  const started = Date.now();
  await server.close();
  spare.destroy();
  assert.ok(Date.now() - started < 3000, `close() took ${Date.now() - started} ms`);
});
