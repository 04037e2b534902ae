/**
 * A generated set of malformed requests against the HTTP handler: every one must get a 4xx (or 501
 * for a method qite does not know; never another 5xx, never a hang, never an unhandled rejection)
 * and leave the table as it was.
 * The generator is seeded, so a failure can be replayed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Queue } from "../mod.ts";
import { createHandler } from "../http/mod.ts";
import { eachDriver } from "./_helpers.ts";
import { acceptable, generate, type Malformed, random } from "./_malformed.ts";

const SEED = 20261125;
const MAX_REQUEST_SIZE = 4096;
const MAX_BODY_SIZE = 1024;
/** No malformed request may take longer than this to answer. */
const HANG_MS = 5000;

function toRequest(item: Malformed): Request {
  const init: RequestInit & { duplex?: string } = { method: item.method };
  if (item.headers) init.headers = item.headers;
  if (item.body !== undefined) {
    init.body = item.body;
    if (item.body instanceof ReadableStream) init.duplex = "half";
  }
  return new Request(`http://queue.test${item.path}`, init);
}

eachDriver("At least 1000 malformed HTTP requests all get 4xx and change nothing", async (
  { db },
) => {
  const queue = new Queue({ db, name: "q", timeout: 60_000 });
  const handler = createHandler(queue, {
    maxRequestSize: MAX_REQUEST_SIZE,
    maxBodySize: MAX_BODY_SIZE,
  });
  await queue.sendBatch([{ body: "visible" }, { body: "delayed", delay: 60_000 }, { body: "x" }]);
  await queue.receive(); // one in flight
  const snapshot = (): string =>
    JSON.stringify(
      db.prepare("select * from goqite order by id").all().map((row) => ({
        ...row,
        body: [...(row.body as Uint8Array)],
      })),
    );
  const before = snapshot();

  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };
  const proc = (globalThis as unknown as {
    process: { on(e: string, f: (r: unknown) => void): void; off(e: string, f: unknown): void };
  }).process;
  proc.on("unhandledRejection", onUnhandled);

  const requests = generate(random(SEED), {
    maxRequestSize: MAX_REQUEST_SIZE,
    maxBodySize: MAX_BODY_SIZE,
  });
  const counts = new Map<string, number>();
  try {
    for (const item of requests) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const hang = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("no answer")), HANG_MS);
      });
      const response = await Promise.race([handler(toRequest(item)), hang]).finally(() =>
        clearTimeout(timer)
      );
      const text = await response.text();
      const what = `${item.category}: ${item.method} ${item.path} ${
        typeof item.body === "string" ? item.body.slice(0, 80) : ""
      } -> ${response.status} ${text.trim()}`;
      assert.ok(acceptable(item, response.status), what);
      counts.set(item.category, (counts.get(item.category) ?? 0) + 1);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  } finally {
    proc.off("unhandledRejection", onUnhandled);
  }
  assert.ok(requests.length >= 1000, `${requests.length} requests were generated`);
  assert.deepEqual(unhandled, []);
  assert.equal(snapshot(), before, "the table is unchanged");
  // deno-lint-ignore no-console
  console.log(
    `qite: ${requests.length} malformed requests, all 4xx: ${
      [...counts].map(([category, n]) => `${category} ${n}`).join(", ")
    }`,
  );
});
