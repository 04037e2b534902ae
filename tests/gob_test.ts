/**
 * goqite's job format (Go encoding/gob) against golden bytes written by Go itself
 * (`tests/fixtures/gob/gen.go`), qite's bytes as Go decoded them, a seeded fuzz of the decoder,
 * forged lengths, the legacy JSON envelope, and the format through a real queue and runner.
 *
 * @module
 */

import { concatBytes } from "../src/_bytes.ts";
import assert from "node:assert/strict";
import process from "node:process";
import { test } from "node:test";
import { Queue } from "../mod.ts";
import { createJob, decodeJob, encodeJob, Runner } from "../jobs/mod.ts";
import { decodeGob, decodeGobStart, encodeGob } from "../jobs/_gob.ts";
import { decodeJobStart } from "../jobs/envelope.ts";
import { type GoCase, goCases, qiteCases, random } from "./_gob_fixtures.ts";
import { encodeQiteJobs } from "./fixtures/gob/write_qite.ts";
import { eachDriver, sleep, text } from "./_helpers.ts";

const SEED = Number(process.env.QITE_GOB_SEED ?? 20261126);
const REPLAY = `seed ${SEED} (replay with QITE_GOB_SEED=${SEED})`;
/** The whole fuzz loop must end well within this. */
const FUZZ_BUDGET_MS = 60_000;
/** No single decode may take longer than this. */
const CALL_BUDGET_MS = 1_000;

const GO = goCases();
const byId = (id: string): GoCase => {
  const found = GO.find((c) => c.id === id);
  assert.ok(found, `no golden case ${id}`);
  return found;
};

/** Where two byte strings first differ, or -1. */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : length;
}

function assertSameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  const at = firstDifference(actual, expected);
  assert.equal(
    at,
    -1,
    `${what}: ${actual.length} bytes vs ${expected.length}, first difference at byte ${at}`,
  );
}

function hex(bytes: Uint8Array, max = 64): string {
  const shown = Array.from(bytes.subarray(0, max), (b) => b.toString(16).padStart(2, "0"));
  return shown.join(" ") + (bytes.length > max ? ` … (${bytes.length} bytes)` : "");
}

// A small gob writer for streams Go would never write.
function uint(x: bigint | number): number[] {
  const value = BigInt(x);
  if (value < 128n) return [Number(value)];
  const bytes: number[] = [];
  for (let rest = value; rest > 0n; rest >>= 8n) bytes.unshift(Number(rest & 0xffn));
  return [256 - bytes.length, ...bytes];
}
function int(x: number): number[] {
  return uint(x < 0 ? BigInt(-x - 1) * 2n + 1n : BigInt(x) * 2n);
}
function str(value: string): number[] {
  const bytes = new TextEncoder().encode(value);
  return [...uint(bytes.length), ...bytes];
}
function message(...parts: number[][]): number[] {
  const payload = parts.flat();
  return [...uint(payload.length), ...payload];
}
function common(name: string, id: number): number[] {
  return [0x01, ...str(name), 0x01, ...int(id), 0x00];
}
function structType(id: number, name: string, fields: [string, number][]): number[] {
  const encoded = fields.flatMap(([field, type]) => [0x01, ...str(field), 0x01, ...int(type), 0]);
  return message(
    int(-id),
    [0x03, 0x01, ...common(name, id), 0x01, ...uint(fields.length)],
    encoded,
    [
      0x00,
      0x00,
    ],
  );
}
function sliceType(id: number, elem: number): number[] {
  return message(int(-id), [0x02, 0x01, ...common("", id), 0x01, ...int(elem), 0x00, 0x00]);
}
function mapType(id: number, key: number, elem: number): number[] {
  return message(int(-id), [
    0x04,
    0x01,
    ...common("", id),
    0x01,
    ...int(key),
    0x01,
    ...int(elem),
    0x00,
    0x00,
  ]);
}
const STRING = 6;
const BYTES = 5;
const INT = 2;

test("encodeJob writes Go's bytes, byte for byte, for every case of goqite's struct", () => {
  const cases = GO.filter((c) => c.goqite);
  assert.ok(cases.length >= 20);
  for (const c of cases) {
    assertSameBytes(encodeGob(c.go.name, c.go.body), c.gob, c.id);
    if (c.go.name === "") assert.throws(() => encodeJob(c.go.name, c.go.body), TypeError);
    else assertSameBytes(encodeJob(c.go.name, c.go.body), c.gob, c.id);
  }
  const sizes = cases.map((c) => c.go.body.length);
  assert.ok(sizes.includes(0) && sizes.some((size) => size > 1 << 20), "empty and > 1 MiB bodies");
});

test("decodeJob reads back the name and body Go encoded, for every case qite accepts", () => {
  const accepted = GO.filter((c) => c.qite === "accepts");
  assert.ok(accepted.length >= 25);
  for (const c of accepted) {
    assert.equal(c.go.error, undefined, `${c.id}: goqite's decoder accepts it too`);
    const job = decodeGob(c.gob);
    assert.equal(job.name, c.go.name, c.id);
    assertSameBytes(job.body, c.go.body, c.id);
    if (c.go.name === "") {
      assert.throws(() => decodeJob(c.gob), { name: "SyntaxError", message: /name is empty/ });
    } else {
      const decoded = decodeJob(c.gob);
      assert.equal(decoded.name, c.go.name, c.id);
      assertSameBytes(decoded.body, c.go.body, c.id);
      assert.equal(decoded.body.buffer, c.gob.buffer, `${c.id}: the body is a view, not a copy`);
    }
  }
});

test("decodeGobStart reads the name and the body so far from a stream's start, or refuses it", () => {
  // Any prefix of any stream qite accepts: a SyntaxError, or the name (empty while a Message
  // sent before it is cut) and the start of the body.
  for (const c of GO.filter((c) => c.qite === "accepts")) {
    const whole = decodeGob(c.gob);
    const cuts = c.gob.length <= 2048
      ? Array.from({ length: c.gob.length + 1 }, (_, i) => i)
      : Array.from({ length: 50 }, (_, i) => Math.floor((c.gob.length * i) / 49));
    for (const cut of cuts) {
      let job;
      try {
        job = decodeGobStart(c.gob.subarray(0, cut));
      } catch (error) {
        assert.ok(error instanceof SyntaxError, `${c.id} cut at ${cut}: ${error}`);
        continue;
      }
      assert.ok(job.name === whole.name || job.name === "", `${c.id} cut at ${cut}`);
      assertSameBytes(job.body, whole.body.subarray(0, job.body.length), `${c.id} cut at ${cut}`);
    }
    assert.deepEqual(decodeGobStart(c.gob), whole, c.id);
  }
  // goqite's and qite's order (Name, then Message): every prefix past the name has the name and
  // exactly the body so far.
  const body = Uint8Array.from({ length: 300 }, (_, i) => i % 256);
  const stream = encodeJob("resize", body);
  const bodyAt = stream.length - body.length - 1; // the struct's closing 0 comes last
  for (let cut = 0; cut <= stream.length; cut++) {
    if (cut < bodyAt) {
      assert.throws(() => decodeJobStart(stream.subarray(0, cut)), SyntaxError, `cut at ${cut}`);
      continue;
    }
    const job = decodeJobStart(stream.subarray(0, cut));
    assert.equal(job.name, "resize", `cut at ${cut}`);
    assertSameBytes(job.body, body.subarray(0, Math.min(cut - bodyAt, 300)), `cut at ${cut}`);
  }
  // The old JSON envelope: its header line is the name.
  const legacy = decodeJobStart(text2bytes('{"v":1,"name":"work"}\nbo'));
  assert.deepEqual([legacy.name, text(legacy.body)], ["work", "bo"]);
  assert.throws(() => decodeJobStart(text2bytes("plain text, cut")), SyntaxError);
});

test("decodeJob refuses, with a SyntaxError saying why, every case qite does not accept", () => {
  const reasons: Record<string, RegExp> = {
    "interface-value": /interface value/,
    "name-not-string": /field Name .* not a string/,
    "message-is-string": /field Message .* not a byte slice/,
    "no-job-fields": /neither a Name nor a Message/,
    "not-a-struct": /built-in type id 6, not a struct/,
    "deep-nesting": /nested deeper than 64/,
    "two-values": /bytes after its value/,
    "name-invalid-utf8": /Name that is not valid UTF-8/,
  };
  const refused = GO.filter((c) => c.qite === "refuses");
  assert.deepEqual(refused.map((c) => c.id).sort(), Object.keys(reasons).sort());
  for (const c of refused) {
    assert.throws(() => decodeJob(c.gob), { name: "SyntaxError", message: reasons[c.id] }, c.id);
  }
});

test("Go decodes what encodeJob writes: the bytes Go checked are what encodeJob writes today", () => {
  const checked = qiteCases();
  const now = encodeQiteJobs();
  assert.deepEqual(checked.map((c) => c.id), now.map((c) => c.id));
  for (const [i, c] of checked.entries()) {
    assert.equal(c.name, now[i]!.name, c.id);
    assertSameBytes(c.body, now[i]!.body, c.id);
    assertSameBytes(c.gob, now[i]!.gob, `${c.id}: rerun write_qite.ts and gen.go`);
    const job = decodeJob(c.gob);
    assert.equal(job.name, c.name, c.id);
    assertSameBytes(job.body, c.body, c.id);
  }
  assert.ok(checked.some((c) => c.body.length >= 2 ** 24), "a body with a 4-byte length");
});

test(`encodeJob and decodeJob round-trip random names and bodies (${REPLAY})`, () => {
  const next = random(SEED);
  for (let i = 0; i < 500; i++) {
    let name = "";
    const chars = 1 + Math.floor(next() * 40);
    for (let c = 0; c < chars; c++) {
      const point = next() < 0.5 ? 0x20 + Math.floor(next() * 0x60) : Math.floor(next() * 0x110000);
      name += String.fromCodePoint(point >= 0xd800 && point < 0xe000 ? 0x41 : point);
    }
    const body = Uint8Array.from({ length: Math.floor(next() ** 3 * 70_000) }, () => next() * 256);
    const job = decodeJob(encodeJob(name, body));
    assert.equal(job.name, name, `${REPLAY}, case ${i}`);
    assertSameBytes(job.body, body, `${REPLAY}, case ${i}`);
  }
});

test("encodeJob refuses an empty or lone-surrogate name and a body of another type", () => {
  assert.throws(() => encodeJob("", "x"), { name: "TypeError", message: /non-empty string/ });
  assert.throws(() => encodeJob("a\ud800", "x"), { name: "TypeError", message: /surrogate/ });
  assert.throws(() => encodeJob(5 as unknown as string, "x"), TypeError);
  assert.throws(() => encodeJob("a", 5 as unknown as string), { name: "TypeError" });
  assert.throws(() => decodeJob("x" as unknown as Uint8Array), { name: "TypeError" });
});

test("decodeJob still reads the JSON envelope of earlier qite versions", () => {
  const old = (header: string, body: string): Uint8Array => text2bytes(`${header}\n${body}`);
  let job = decodeJob(old('{"v":1,"name":"work"}', "line 1\nline 2"));
  assert.equal(job.name, "work");
  assert.equal(text(job.body), "line 1\nline 2");
  job = decodeJob(old('{ "v": 1, "name": "spaced", "extra": true }', ""));
  assert.equal(job.name, "spaced");
  assert.equal(job.body.length, 0);
  assert.throws(() => decodeJob(old('{"v":2,"name":"x"}', "")), /version must be 1/);
  assert.throws(() => decodeJob(old('{"v":1,"name":""}', "")), /name is empty/);
  assert.throws(() => decodeJob(old('{"v":1,"name":', "")), /not JSON/);
  assert.throws(() => decodeJob(text2bytes('{"v":1,"name":"x"}')), /no header line/);
});

test("decodeJob reads a gob stream that starts with '{' as gob, not as the JSON envelope", () => {
  // A type name that makes the type definition exactly 123 bytes: its length byte is '{'.
  let stream: number[] = [];
  for (let length = 1; stream[0] !== 0x7b; length++) {
    stream = structType(65, "m".repeat(length), [["Name", STRING], ["Message", BYTES]]);
  }
  stream.push(...message(int(65), [0x01, ...str("curly"), 0x01, ...str("body"), 0x00]));
  const job = decodeJob(Uint8Array.from(stream));
  assert.equal(job.name, "curly");
  assert.equal(text(job.body), "body");
});

test("decodeJob refuses forged huge lengths and counts at once, without allocating them", () => {
  const goqite = byId("name-and-body").gob.subarray(0, 42); // the type definition, type id 64
  const withTags = [
    ...structType(65, "tagged", [["Name", STRING], ["Tags", 66], ["Attrs", 67], [
      "Message",
      BYTES,
    ]]),
    ...sliceType(66, STRING),
    ...mapType(67, STRING, INT),
  ];
  const huge = [2n ** 31n, 2n ** 32n + 1n, 2n ** 40n, 2n ** 53n + 1n, 2n ** 64n - 1n];
  for (const length of huge) {
    const forged: [string, number[]][] = [
      ["message length", [...uint(length), 0xff, 0x82, 0x00]],
      ["value message length", [...goqite, ...uint(length), 0xff, 0x80, 0x00]],
      ["name length", [...goqite, ...message([0xff, 0x80, 0x01], uint(length), [0x61, 0x00])]],
      ["body length", [...goqite, ...message([0xff, 0x80, 0x02], uint(length), [0x61, 0x00])]],
      ["slice count", [...withTags, ...message(int(65), [0x02], uint(length), [0x01, 0x61, 0])]],
      ["map count", [...withTags, ...message(int(65), [0x03], uint(length), [0x01, 0x61, 0])]],
      ["string length", [...withTags, ...message(int(65), [0x02, 0x01], uint(length), [0x61])]],
      ["field count", message(int(-65), [0x03, 0x01, ...common("s", 65), 0x01], uint(length))],
    ];
    for (const [what, bytes] of forged) {
      const started = performance.now();
      assert.throws(
        () => decodeJob(Uint8Array.from(bytes)),
        {
          name: "SyntaxError",
          message: /more than the \d+ left|items in \d+ bytes|struct fields in \d+ bytes/,
        },
        `${what} ${length}`,
      );
      assert.ok(performance.now() - started < CALL_BUDGET_MS, `${what} ${length}`);
    }
  }
  assert.throws(() => decodeJob(Uint8Array.of(0xf7, 1, 2, 3, 4, 5, 6, 7, 8, 9)), /more than 8/);
});

/** Calls decodeJob; fails unless it returns a job or throws a SyntaxError. Returns the time. */
function probe(bytes: Uint8Array, what: string): { ok: boolean; ms: number } {
  const started = performance.now();
  let ok = false;
  try {
    const job = decodeJob(bytes);
    assert.equal(typeof job.name, "string");
    assert.ok(job.body instanceof Uint8Array);
    ok = true;
  } catch (error) {
    if (!(error instanceof SyntaxError)) {
      assert.fail(`${REPLAY}: ${what} threw ${String(error)} for ${hex(bytes)}`);
    }
  }
  // The same bytes as the start of a longer body (the dashboard's preview): the same promise.
  try {
    const start = decodeJobStart(bytes);
    assert.equal(typeof start.name, "string");
    assert.ok(start.body instanceof Uint8Array);
  } catch (error) {
    if (!(error instanceof SyntaxError)) {
      assert.fail(`${REPLAY}: ${what} as a start threw ${String(error)} for ${hex(bytes)}`);
    }
  }
  const ms = performance.now() - started;
  assert.ok(ms < CALL_BUDGET_MS, `${REPLAY}: ${what} took ${ms} ms for ${hex(bytes)}`);
  return { ok, ms };
}

test(`decodeJob returns a job or throws SyntaxError for mutated and random input (${REPLAY})`, () => {
  const next = random(SEED);
  const below = (n: number): number => Math.floor(next() * n);
  const randomBytes = (length: number): Uint8Array => Uint8Array.from({ length }, () => below(256));
  const started = performance.now();
  let calls = 0;
  const seeds = [
    ...GO.map((c) => ({ id: c.id, bytes: c.gob, gob: c.qite === "accepts" })),
    { id: "legacy", bytes: text2bytes('{"v":1,"name":"work"}\nbody'), gob: false },
  ];
  for (const { id, bytes, gob } of seeds) {
    const small = bytes.length <= 4096;
    // Every proper prefix of a gob stream qite accepts is refused.
    const cuts = small
      ? Array.from({ length: bytes.length }, (_, i) => i)
      : Array.from({ length: 40 }, (_, i) => i < 20 ? below(200) : below(bytes.length));
    for (const cut of cuts) {
      const result = probe(bytes.subarray(0, cut), `${id} cut at ${cut}`);
      if (gob) assert.equal(result.ok, false, `${REPLAY}: ${id} cut at ${cut} was accepted`);
      calls++;
    }
    const rounds = small ? 400 : 15;
    const near =
      (): number => (next() < 0.5 ? below(Math.min(bytes.length, 120)) : below(bytes.length));
    for (let i = 0; i < rounds; i++) {
      const flipped = bytes.slice();
      const at = near();
      flipped[at] = flipped[at]! ^ (1 + below(255));
      probe(flipped, `${id} with byte ${at} flipped`);

      const insertAt = near();
      const insertion = randomBytes(1 + below(3));
      probe(
        concat(bytes.subarray(0, insertAt), insertion, bytes.subarray(insertAt)),
        `${id} with ${hex(insertion)} inserted at ${insertAt}`,
      );

      const deleteAt = near();
      const count = 1 + below(3);
      probe(
        concat(bytes.subarray(0, deleteAt), bytes.subarray(deleteAt + count)),
        `${id} without ${count} bytes at ${deleteAt}`,
      );

      const spliceAt = near();
      probe(
        concat(bytes.subarray(0, spliceAt), randomBytes(below(64))),
        `${id} with a random tail after ${spliceAt}`,
      );
      calls += 4;
    }
  }
  for (let i = 0; i < 5000; i++) {
    probe(randomBytes(below(300)), `random bytes ${i}`);
    calls++;
  }
  const elapsed = performance.now() - started;
  assert.ok(calls > 40_000, `${calls} calls`);
  assert.ok(elapsed < FUZZ_BUDGET_MS, `${REPLAY}: ${calls} calls took ${elapsed} ms`);
});

function concat(...parts: Uint8Array[]): Uint8Array {
  return concatBytes(parts);
}

function text2bytes(value: string): Uint8Array {
  return new TextEncoder().encode(value);
}

eachDriver("createJob stores exactly the bytes goqite's jobs.Create stores", async (context) => {
  const queue = new Queue({ db: context.db, name: "jobs" });
  for (const id of ["name-and-body", "emoji", "body-64k-plus-1"]) {
    const c = byId(id);
    const messageId = await createJob(queue, c.go.name, c.go.body);
    const row = context.db.prepare("select body from goqite where id = ?").get(messageId);
    assertSameBytes(new Uint8Array(row?.body as Uint8Array), c.gob, id);
  }
});

eachDriver(
  "Runner runs jobs that Go wrote, of goqite's struct or another, and old JSON envelopes",
  async (context) => {
    const queue = new Queue({ db: context.db, name: "jobs" });
    const ids = [
      "name-and-body",
      "cjk",
      "body-1m-plus-1",
      "other-name-and-order",
      "extra-composite-fields",
    ];
    const want = new Map<string, Uint8Array>(ids.map((id) => [byId(id).go.name, byId(id).go.body]));
    want.set("legacy", text2bytes("old body"));
    for (const id of ids) await queue.send({ body: byId(id).gob });
    await queue.send({ body: text2bytes('{"v":1,"name":"legacy"}\nold body') });
    const runner = new Runner({ queue });
    const ran = new Map<string, Uint8Array>();
    for (const name of want.keys()) {
      runner.register(name, (body) => void ran.set(name, body.slice()));
    }
    const controller = new AbortController();
    const done = runner.start({ signal: controller.signal });
    const deadline = Date.now() + 10_000;
    while (ran.size < want.size && Date.now() < deadline) await sleep(5);
    controller.abort();
    await done;
    assert.deepEqual([...ran.keys()].sort(), [...want.keys()].sort());
    for (const [name, body] of want) assertSameBytes(ran.get(name)!, body, name);
  },
);

test("decodeJob reads what Go 1.19 and 1.20 wrote, where goqite's struct got type id 65", () => {
  // gob.NewEncoder(&b).Encode(message{Name: "greet"}) under Go 1.19.8.
  const hex = "2aff81030101076d65737361676501ff8200010201044e616d65010c0001074d657373616765" +
    "010a0000000aff820105677265657400";
  const bytes = Uint8Array.from(hex.match(/../g)!, (pair) => parseInt(pair, 16));
  const job = decodeJob(bytes);
  assert.equal(job.name, "greet");
  assert.equal(job.body.length, 0);
  assert.notDeepEqual([...encodeJob("greet", "")], [...bytes], "qite writes Go 1.21's id, 64");
});
