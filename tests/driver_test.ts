import assert from "node:assert/strict";
import { test } from "node:test";
import { open } from "../mod.ts";
import { detectRuntime } from "../src/runtime/detect.ts";
import { testDrivers } from "./_helpers.ts";

const versions = (globalThis as { process?: { versions: Record<string, string> } }).process!
  .versions;
const runtime = versions.bun ? "bun" : versions.deno ? "deno" : "node";

test(`detectRuntime() says ${runtime}`, () => {
  assert.equal(detectRuntime(), runtime);
});

test(`open() picks ${runtime === "bun" ? "bun:sqlite" : "node:sqlite"} on ${runtime}`, () => {
  // No `using` here: this file also runs on Node 22, which does not have it.
  const db = open(":memory:");
  try {
    assert.equal(db.driver, runtime === "bun" ? "bun:sqlite" : "node:sqlite");
    // deno-lint-ignore no-console
    console.log(
      `qite: ${runtime} ${versions[runtime]} picked ${db.driver} (SQLite ${db.sqliteVersion}); ` +
        `suite drivers: ${testDrivers().join(", ")}`,
    );
  } finally {
    db.close();
  }
});

test(`the suite runs every driver ${runtime} offers`, () => {
  const expected = {
    bun: ["bun:sqlite", "node:sqlite"],
    deno: ["node:sqlite", "@db/sqlite"],
    node: ["node:sqlite"],
  }[runtime];
  assert.deepEqual(testDrivers(), expected);
});
