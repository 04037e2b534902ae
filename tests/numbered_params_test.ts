import { test } from "node:test";
import assert from "node:assert/strict";
import { plainParams, reorder } from "../src/runtime/_numbered_params.ts";
import { eachDriver } from "./_helpers.ts";
import { random as seeded } from "./_random.ts";

test("plainParams writes numbered parameters as plain ones, in SQLite's numbering", () => {
  const { sql, order } = plainParams("select ?2, ?, ?1, ?");
  assert.equal(sql, "select ?, ?, ?, ?");
  assert.deepEqual(order, [1, 2, 0, 3]);
  assert.deepEqual(reorder(order!, ["a", "b", "c", "d"]), ["b", "c", "a", "d"]);
});

test("plainParams leaves quoted text, quoted names and comments alone", () => {
  const text = `select '?1 it''s', "?2", \`?3\`, [?4], ?2 -- ?5\n, /* ?6 */ ?1`;
  const { sql, order } = plainParams(text);
  assert.equal(sql, `select '?1 it''s', "?2", \`?3\`, [?4], ? -- ?5\n, /* ?6 */ ?`);
  assert.deepEqual(order, [1, 0]);
});

test("plainParams returns plain and named statements as they are", () => {
  for (const text of ["select ?, ?", "select :a, ?1", "select 1", "select '?1'"]) {
    const plain = plainParams(text);
    assert.equal(plain.sql, text);
    if (text.includes("?1") && !text.includes(":a")) {
      assert.deepEqual(plain.order, []);
    } else {
      assert.equal(plain.order, undefined);
    }
  }
});

test("reorder leaves a parameter given no argument null, as SQLite does", () => {
  assert.deepEqual(reorder([0, 2], ["a"]), ["a", null]);
});

eachDriver(
  "A statement rewritten by plainParams returns what SQLite returns for the numbered one",
  ({ db }) => {
    const random = seeded(7);
    for (let round = 0; round < 200; round++) {
      // Up to 6 parameters, numbered or plain, in a random order, some repeated.
      const parts: string[] = [];
      for (let k = 0; k < 1 + Math.floor(random() * 6); k++) {
        parts.push(random() < 0.3 ? "?" : `?${1 + Math.floor(random() * 6)}`);
      }
      const text = `select ${parts.map((p, k) => `${p} as c${k}`).join(", ")}`;
      const args = Array.from({ length: 12 }, (_, k) => `v${k}`);
      const plain = plainParams(text);
      const count = plain.order === undefined ? 0 : Math.max(0, ...plain.order) + 1;
      const given = args.slice(0, count);
      const expected = { ...db.prepare(text).get(...given) };
      const actual = plain.order === undefined
        ? expected
        : { ...db.prepare(plain.sql).get(...reorder(plain.order, given)) };
      assert.deepEqual(actual, expected, text);
    }
  },
);
