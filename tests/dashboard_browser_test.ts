/// <reference lib="dom" />
/**
 * The dashboard in a real browser: Debian's chromium, headless, driven by playwright-core,
 * against real servers on TCP (serve() in this process, and the standalone server as a child
 * process). Set QITE_SCREENSHOTS=docs to write the README's screenshots (`deno task
 * screenshots`); otherwise they go to a temporary directory and are only checked.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import type { BrowserContext, Page } from "playwright-core";
import { type Database, listQueues, open, Queue, type QueueStats, setup } from "../mod.ts";
import { createJob } from "../jobs/mod.ts";
import {
  createClient,
  createDashboard,
  type DashboardOptions,
  serve,
  type Server,
} from "../http/mod.ts";
import { visibleText } from "../http/_dashboard_view.ts";
import { listen } from "../src/runtime/serve.ts";
import { detectRuntime } from "../src/runtime/detect.ts";
import { runtimeCommand, sleep } from "./_helpers.ts";
import { testClients, TestDatabase } from "./_postgres.ts";
import { PostgresQueue } from "../postgres/mod.ts";
import type { QueueLike } from "../src/queue_like.ts";

const CHILD = fileURLToPath(new URL("./_child.ts", import.meta.url));
const CLI = fileURLToPath(new URL("../http/cli.ts", import.meta.url));
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const HOSTILE = `<img src=x onerror="window.__pwned=1">'"\u0007\u202e`;
const HOSTILE_BODY = "<script>window.__pwned=2</script>\u0000 & more";
/** Browser waits are bounded: long enough for a slow CI machine, short enough to fail. */
const WAIT = { timeout: 10_000 };

let launched: Promise<{ context: BrowserContext; dir: string }> | undefined;

/** The one browser of this file, launched on first use with a fresh profile. */
function browser(): Promise<BrowserContext> {
  launched ??= (async () => {
    let executablePath: string;
    try {
      executablePath = execFileSync("which", ["chromium"], { encoding: "utf8" }).trim();
    } catch {
      throw new Error("chromium is not installed: apt-get install -y chromium");
    }
    const { chromium } = await import("playwright-core");
    const dir = mkdtempSync(join(tmpdir(), "qite-chromium-"));
    const context = await chromium.launchPersistentContext(dir, {
      executablePath,
      headless: true,
      colorScheme: "light",
      viewport: { width: 1200, height: 800 },
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    return { context, dir };
  })();
  return launched.then(({ context }) => context);
}

/** Closes the browser, if a test opened it, and removes its profile. */
async function closeBrowser(): Promise<void> {
  if (launched === undefined) return;
  const opened = launched;
  launched = undefined;
  const { context, dir } = await opened;
  try {
    await context.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Declares a browser test: it gets a fresh browser (launched on first use) that is closed, and
 * its profile removed, when the test ends. (Not in an `after` hook: Deno skips those when
 * some tests are filtered out or skipped.) `screenshots` marks the one test that
 * QITE_SCREENSHOTS keeps; the others are skipped then.
 */
function browserTest(name: string, fn: () => Promise<void>, screenshots = false): void {
  const skip = process.env.QITE_SCREENSHOTS && !screenshots ? "QITE_SCREENSHOTS is set" : false;
  test(name, { skip }, async () => {
    try {
      await fn();
    } finally {
      await closeBrowser();
    }
  });
}

/** A new tab that records script errors and policy violations, checked by `checkClean`. */
async function newPage(): Promise<Page & { problems: string[]; dialogs: string[] }> {
  const page = await (await browser()).newPage() as Page & {
    problems: string[];
    dialogs: string[];
  };
  page.problems = [];
  page.dialogs = [];
  page.on("pageerror", (error) => page.problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    // The browser logs every 4xx answer; the tests check those answers themselves.
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
      page.problems.push(`console: ${message.text()}`);
    }
  });
  page.on("dialog", (dialog) => {
    page.dialogs.push(dialog.message());
    void dialog.accept();
  });
  return page;
}

/** Closes the tab after checking that its scripts ran without an error or a violation. */
async function checkClean(page: Page & { problems: string[] }): Promise<void> {
  const pwned = await page.evaluate(() => (globalThis as { __pwned?: unknown }).__pwned);
  await page.close();
  assert.deepEqual(page.problems, []);
  assert.equal(pwned, undefined, "no script from a queue ran");
}

/** Runs `fn` with a real server (serve() on a free port) on a fresh file, then stops it. */
async function withServer(
  dashboard: DashboardOptions | true,
  fn: (server: Server, path: string) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "qite-dash-"));
  const path = join(dir, "dash.db");
  const server = await serve({ db: path, port: 0, dashboard });
  try {
    await fn(server, path);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Sends a message from another process (this runtime running tests/_child.ts). */
function sendFromChild(driver: string, path: string, queue: string, body: string): Promise<string> {
  const [exe, prefix] = runtimeCommand(CHILD);
  return new Promise((resolve, reject) => {
    const child = spawn(exe, [...prefix, "send", driver, path, queue, body], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout!.on("data", (chunk) => out += chunk);
    child.stderr!.on("data", (chunk) => out += chunk);
    child.on("error", reject);
    child.on("close", (code) => code === 0 ? resolve(out.trim()) : reject(new Error(out)));
  });
}

/** The overview's rows as the page shows them: the queue and the text of each count. */
function overviewRows(page: Page): Promise<Record<string, string>[]> {
  return page.$$eval("#queues tbody tr", (rows) =>
    rows.map((row) => {
      const cells: Record<string, string> = {
        name: (row as HTMLElement).dataset.queue!,
        label: row.querySelector("th")!.textContent!,
      };
      for (const cell of row.querySelectorAll("td[data-col]")) {
        cells[(cell as HTMLElement).dataset.col!] = cell.textContent!;
      }
      return cells;
    }));
}

/** The counts as the page shows them (`1,234` → 1234). */
function counts(cells: Record<string, string>): Omit<QueueStats, "oldestVisibleAge"> {
  const n = (key: string): number => Number(cells[key]!.replaceAll(",", ""));
  return {
    total: n("total"),
    visible: n("visible"),
    inFlight: n("inFlight"),
    delayed: n("delayed"),
    dead: n("dead"),
  };
}

function withoutAge(stats: QueueStats): Omit<QueueStats, "oldestVisibleAge"> {
  const { oldestVisibleAge: _age, ...rest } = stats;
  return rest;
}

/** The ids of a queue page's table, in order. */
function tableIds(page: Page, section: string): Promise<string[]> {
  return page.$$eval(
    `#s-${section} tbody tr`,
    (rows) => rows.map((row) => (row as HTMLElement).dataset.id!),
  );
}

/** What the README's screenshot of a queue shows: a little of everything, as in real use. */
async function showcase(queue: Queue): Promise<void> {
  const people = ["ada", "grace", "edsger", "barbara", "ken", "margaret"];
  for (const [i, who] of people.entries()) {
    await queue.send({
      body: JSON.stringify({ to: `${who}@example.com`, template: i % 2 ? "receipt" : "welcome" }),
      priority: i === 4 ? 10 : 0,
    });
  }
  await createJob(queue, "send-digest", '{"week":47}');
  await queue.send({ body: new Uint8Array([0x1f, 0x8b, 0x08, 0x00, 0x6d, 0x2a, 0x51, 0x67]) });
  await queue.send({ body: '{"to":"linus@example.com","template":"reminder"}', delay: 3_600_000 });
  await queue.extend((await queue.receive())!, 3_600_000);
  const failing = [`{"to":"nobody@invalid","template":"welcome"}`, "not json at all"];
  for (const body of failing) await queue.send({ body, priority: 20 });
  for (const message of await queue.receiveBatch(2)) await queue.bury(message);
}

/** Sends, receives and buries so that the queue has one message in every state. */
async function seedStates(queue: QueueLike): Promise<Record<string, string>> {
  const dead = (await queue.send({ body: "failed three times" }))!;
  await queue.bury((await queue.receive())!);
  const inFlight = (await queue.send({ body: "being worked on", priority: 5 }))!;
  // A long lease, so that no count changes by itself while a test looks.
  await queue.extend((await queue.receive())!, 3_600_000);
  const delayed = (await queue.send({ body: "tomorrow", delay: 86_400_000 }))!;
  const text = (await queue.send({ body: HOSTILE_BODY }))!;
  const binary = (await queue.send({ body: new Uint8Array([0xde, 0xad, 0xbe, 0xef]) }))!;
  const job = (await createJob(queue, "send-email", '{"to":"ada@example.com"}'))!;
  return { dead, inFlight, delayed, text, binary, job };
}

browserTest(
  "The overview shows every queue's counts as stats() does, and follows another process's sends without a reload",
  async () => {
    await withServer(true, async (server, path) => {
      const db = server.db;
      const emails = new Queue({ db, name: "emails" });
      await seedStates(emails);
      const hostile = new Queue({ db, name: HOSTILE });
      await hostile.send({ body: "x" });
      const page = await newPage();
      await page.goto(`${server.url}/`);
      await page.waitForFunction(() => document.querySelectorAll("#queues tbody tr").length === 2);
      const rows = await overviewRows(page);
      assert.deepEqual(rows.map((row) => row.name), [HOSTILE, "emails"]);
      assert.equal(rows[0]!.label, visibleText(HOSTILE));
      assert.deepEqual(counts(rows[0]!), withoutAge(await hostile.stats()));
      assert.deepEqual(counts(rows[1]!), withoutAge(await emails.stats()));
      assert.match(rows[1]!.oldestVisibleAge!, /^\d+ (ms|s)$/);

      await page.evaluate(() => (globalThis as { marker?: number }).marker = 42);
      const before = (await emails.stats()).visible;
      await sendFromChild((db as Database).driver, path, "emails", "from another process");
      await page.waitForFunction(
        (visible) =>
          document.querySelector('#queues tr[data-queue="emails"] td[data-col="visible"]')
            ?.textContent === String(visible),
        before + 1,
        WAIT,
      );
      assert.equal(await page.evaluate(() => (globalThis as { marker?: number }).marker), 42);
      assert.deepEqual(counts((await overviewRows(page))[1]!), withoutAge(await emails.stats()));
      await checkClean(page);
    });
  },
);

browserTest(
  "The overview's sparkline shows the sends and deletes the server answered",
  async () => {
    await withServer(true, async (server) => {
      // The page first (a browser can take seconds to start), then the traffic: the label
      // averages over the last 10 s, so it shows these figures for 10 s after them.
      const page = await newPage();
      await page.goto(`${server.url}/`);
      const client = createClient(`${server.url}/queues/traffic`);
      for (let i = 0; i < 5; i++) await client.send({ body: `m${i}` });
      for (const message of await client.receiveBatch(2)) await client.delete(message);
      // The counter reports whole seconds; within about a second both show up.
      await page.waitForFunction(
        () =>
          document.querySelector('tr[data-queue="traffic"] svg')?.getAttribute("aria-label")
            ?.startsWith("Sends 0.5 per second, deletes 0.2 per second"),
        undefined,
        WAIT,
      );
      const points = await page.$$eval(
        'tr[data-queue="traffic"] polyline',
        (lines) => lines.map((line) => line.getAttribute("points")!.split(" ").length),
      );
      assert.deepEqual(points, [60, 60]);
      await checkClean(page);
    });
  },
);

browserTest(
  "The keyboard reaches the pause control, whose focus is visible, and pausing stops the updates",
  async () => {
    await withServer(true, async (server) => {
      const queue = new Queue({ db: server.db, name: "q" });
      await queue.send({ body: "1" });
      const page = await newPage();
      await page.goto(`${server.url}/`);
      await page.waitForSelector('tr[data-queue="q"]');
      const order: string[] = [];
      for (let i = 0; i < 6 && order[order.length - 1] !== "pause"; i++) {
        await page.keyboard.press("Tab");
        order.push(
          await page.evaluate(() => {
            const active = document.activeElement as HTMLElement;
            return active.id || active.className || active.tagName;
          }),
        );
      }
      assert.deepEqual(order, ["skip", "brand", "pause"]);
      const outline = await page.evaluate(() => {
        const style = getComputedStyle(document.activeElement!);
        return `${style.outlineStyle} ${style.outlineWidth}`;
      });
      assert.equal(outline, "solid 3px");
      await page.keyboard.press("Space");
      assert.equal(await page.getAttribute("#pause", "aria-pressed"), "true");
      await sleep(1200); // a refresh already under way when the button was pressed lands
      await queue.send({ body: "2" });
      await sleep(2500);
      const cell = 'tr[data-queue="q"] td[data-col="visible"]';
      assert.equal(await page.textContent(cell), "1", "no update while paused");
      assert.match((await page.textContent("#updated"))!, /^Paused; updated /);
      await page.keyboard.press("Space");
      assert.equal(await page.getAttribute("#pause", "aria-pressed"), "false");
      await page.waitForFunction(
        (sel) => document.querySelector(sel)?.textContent === "2",
        cell,
        WAIT,
      );
      await checkClean(page);
    });
  },
);

browserTest(
  "A queue page lists visible, delayed, in-flight and dead messages with previews and job names, and hostile text stays text",
  async () => {
    await withServer(true, async (server) => {
      const queue = new Queue({ db: server.db, name: "mixed" });
      const ids = await seedStates(queue);
      const page = await newPage();
      await page.goto(`${server.url}/queue?name=mixed`);
      await page.waitForSelector(`#s-visible tr[data-id="${ids.job}"]`, WAIT);
      const visible = await queue.peek({ limit: 20 });
      assert.deepEqual(await tableIds(page, "visible"), visible.map((m) => m.id));
      assert.deepEqual(await tableIds(page, "delayed"), [ids.delayed]);
      assert.deepEqual(await tableIds(page, "inFlight"), [ids.inFlight]);
      assert.deepEqual(await tableIds(page, "dead"), [ids.dead]);
      const cells = (id: string): Promise<string[]> =>
        page.$$eval(
          `#s-visible tr[data-id="${id}"] td`,
          (tds) => tds.map((td) => td.textContent!),
        );
      const [, , , , , textSize, textBody] = await cells(ids.text!);
      assert.equal(textBody, "<script>window.__pwned=2</script><U+0000> & more");
      assert.equal(textSize, `${new TextEncoder().encode(HOSTILE_BODY).length} B`);
      assert.equal((await cells(ids.binary!))[6], "de ad be ef");
      const job = await cells(ids.job!);
      assert.equal(job[1], "send-email");
      assert.equal(job[6], '{"to":"ada@example.com"}');
      assert.deepEqual(
        await page.$$eval(
          "#s-inFlight tbody td",
          (tds) => tds.slice(2, 4).map((td) => td.textContent),
        ),
        ["5", "1"],
      );
      const stats = await page.$$eval(
        "dd[data-stat]",
        (dds) =>
          Object.fromEntries(dds.map((dd) => [(dd as HTMLElement).dataset.stat, dd.textContent])),
      );
      const actual = await queue.stats();
      for (const key of ["total", "visible", "inFlight", "delayed", "dead"] as const) {
        assert.equal(stats[key], String(actual[key]), key);
      }
      await checkClean(page);

      const evil = new Queue({ db: server.db, name: HOSTILE });
      await evil.send({ body: HOSTILE });
      const other = await newPage();
      await other.goto(`${server.url}/queue?name=${encodeURIComponent(HOSTILE)}`);
      await other.waitForSelector("#s-visible tbody tr", WAIT);
      assert.equal(await other.textContent("h1"), `Queue ${visibleText(HOSTILE)}`);
      assert.equal(await other.title(), `${visibleText(HOSTILE)} · qite`);
      assert.equal(await other.textContent("#s-visible td.body"), visibleText(HOSTILE));
      await checkClean(other);
    });
  },
);

browserTest(
  "Redriving a dead message through the page makes it visible again; delete and purge-dead work too",
  async () => {
    await withServer(true, async (server) => {
      const queue = new Queue({ db: server.db, name: "jobs" });
      const ids = await seedStates(queue);
      const page = await newPage();
      await page.goto(`${server.url}/queue?name=jobs`);
      await page.click(`button[aria-label="Redrive ${ids.dead}"]`, WAIT);
      await page.waitForSelector(`#s-visible tr[data-id="${ids.dead}"]`, WAIT);
      assert.deepEqual(await tableIds(page, "dead"), []);
      assert.equal(await page.isVisible("#s-dead >> text=No message is dead on this page."), true);
      assert.equal(await page.textContent("#status"), `Redrove ${ids.dead}`);
      assert.equal((await queue.stats()).dead, 0);
      assert.ok((await queue.peek({ limit: 20 })).some((m) => m.id === ids.dead));

      await page.click(`#s-visible button[aria-label="Delete ${ids.text}"]`);
      await page.waitForSelector(`#s-visible tr[data-id="${ids.text}"]`, { state: "detached" });
      assert.equal((await queue.peek({ limit: 20 })).some((m) => m.id === ids.text), false);

      for (const message of await queue.receiveBatch(2)) await queue.bury(message);
      await page.waitForFunction(() => document.querySelectorAll("#s-dead tbody tr").length === 2);
      await page.click("text=Purge dead");
      await page.waitForFunction(() => document.querySelectorAll("#s-dead tbody tr").length === 0);
      assert.equal((await queue.stats()).dead, 0);
      assert.match((await page.textContent("#status"))!, /^Purged 2 dead messages$/);
      assert.deepEqual(page.dialogs, [
        `Delete message ${ids.text}? This cannot be undone.`,
        "Delete every dead message of this queue? This cannot be undone.",
      ]);
      await checkClean(page);
    });
  },
);

browserTest(
  "The send form sends a message with a delay and a priority, from the keyboard alone",
  async () => {
    await withServer(true, async (server) => {
      const queue = new Queue({ db: server.db, name: "outbox" });
      const page = await newPage();
      await page.goto(`${server.url}/queue?name=outbox`);
      await page.getByLabel("Body (text)").focus();
      await page.keyboard.type('{"hello": "world"}');
      await page.keyboard.press("Tab");
      await page.keyboard.press("Control+A");
      await page.keyboard.type("60000");
      await page.keyboard.press("Tab");
      await page.keyboard.press("Control+A");
      await page.keyboard.type("9007199254740993");
      await page.keyboard.press("Enter");
      await page.waitForSelector("#s-delayed tbody tr", WAIT);
      const [message] = await queue.peek({ state: "delayed" });
      assert.ok(message);
      assert.equal(new TextDecoder().decode(message.body), '{"hello": "world"}');
      assert.equal(message.priority, 9007199254740993n);
      assert.equal(message.timeout.getTime() - message.created.getTime(), 60_000);
      assert.deepEqual(await tableIds(page, "delayed"), [message.id]);
      assert.equal(await page.inputValue("#send-body"), "", "the form is ready for the next one");
      assert.equal(await page.textContent("#status"), `Sent ${message.id}`);
      await checkClean(page);
    });
  },
);

browserTest(
  "A read-only dashboard has no action controls and refuses a forged action",
  async () => {
    await withServer({ readOnly: true }, async (server) => {
      const queue = new Queue({ db: server.db, name: "ro" });
      await seedStates(queue);
      const before = await queue.stats();
      const page = await newPage();
      await page.goto(`${server.url}/queue?name=ro`);
      await page.waitForSelector("#s-dead tbody tr", WAIT);
      assert.equal(
        await page.$$eval(
          "main button",
          (buttons) =>
            buttons.map((b) => b.textContent).filter((t) =>
              t !== "Previous page" && t !== "Next page"
            )
              .length,
        ),
        0,
      );
      assert.equal(await page.$("#send-form"), null);
      const answer = await page.evaluate(async () => {
        const csrf = document.body.dataset.csrf!;
        const response = await fetch("purge-dead", {
          method: "POST",
          body: new URLSearchParams({ queue: "ro", csrf }),
        });
        return [response.status, (await response.json()).error];
      });
      assert.deepEqual(answer, [403, "the dashboard is read-only"]);
      assert.deepEqual(withoutAge(await queue.stats()), withoutAge(before));
      await checkClean(page);
    });
  },
);

browserTest(
  "authorize decides: a refused action changes nothing and the page says so; a refused visitor sees 403",
  async () => {
    await withServer({ authorize: (request) => request.method === "GET" }, async (server) => {
      const queue = new Queue({ db: server.db, name: "guarded" });
      const ids = await seedStates(queue);
      const page = await newPage();
      await page.goto(`${server.url}/queue?name=guarded`);
      await page.click(`button[aria-label="Redrive ${ids.dead}"]`, WAIT);
      await page.waitForSelector("#status.bad", WAIT);
      assert.equal(await page.textContent("#status"), "Failed: HTTP 403");
      assert.equal((await queue.stats()).dead, 1);
      await checkClean(page);
    });
    await withServer({ authorize: () => false }, async (server) => {
      const page = await newPage();
      const response = await page.goto(`${server.url}/`);
      assert.equal(response!.status(), 403);
      await checkClean(page);
    });
  },
);

browserTest("A cross-site form or fetch cannot act, even with the page's CSRF token", async () => {
  await withServer(true, async (server) => {
    const queue = new Queue({ db: server.db, name: "target" });
    const probe = await newPage();
    await probe.goto(`${server.url}/`);
    const csrf = await probe.evaluate(() => document.body.dataset.csrf!);
    await probe.close();
    const action = `${server.url}/send`;
    const evil = await listen({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (request) => {
        const html = new URL(request.url).pathname === "/fetch"
          ? `<script>fetch(${JSON.stringify(action)}, {method: "POST", mode: "no-cors",
              body: new URLSearchParams({queue: "target", body: "forged", csrf: ${
            JSON.stringify(csrf)
          }})}).finally(() => document.title = "sent")</script>`
          : `<form method="post" action="${action}"><input name="queue" value="target">
              <input name="body" value="forged"><input name="csrf" value="${csrf}"></form>
              <script>document.forms[0].submit()</script>`;
        return Promise.resolve(
          new Response(html, { headers: { "content-type": "text/html" } }),
        );
      },
    });
    try {
      // localhost and 127.0.0.1 are different sites to the browser.
      const page = await newPage();
      const answer = page.waitForResponse(action, WAIT);
      // The page submits its form while it loads, which interrupts this navigation.
      await page.goto(`http://localhost:${evil.port}/form`).catch(() => {});
      const response = await answer;
      assert.equal(response.status(), 403);
      assert.match(await response.text(), /cross-site request refused/);
      await page.goto(`http://localhost:${evil.port}/fetch`);
      await page.waitForFunction(() => document.title === "sent", undefined, WAIT);
      await page.close();
      assert.equal((await queue.stats()).total, 0);
    } finally {
      await evil.close();
    }
  });
});

browserTest(
  "Mounted under a prefix, the dashboard's links and requests stay below it",
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "qite-mount-"));
    const db = open(join(dir, "mount.db"));
    setup(db);
    await new Queue({ db, name: "nested" }).send({ body: "x" });
    const dashboard = createDashboard({
      list: () => listQueues(db),
      queue: (name) => new Queue({ db, name }),
    });
    const app = await listen({
      port: 0,
      hostname: "127.0.0.1",
      fetch: (request) =>
        new URL(request.url).pathname.startsWith("/ops/queues/")
          ? dashboard(request)
          : Promise.resolve(new Response("the app's own page", { status: 404 })),
    });
    try {
      const page = await newPage();
      const paths: string[] = [];
      page.on("request", (request) => paths.push(new URL(request.url()).pathname));
      await page.goto(`http://127.0.0.1:${app.port}/ops/queues/`);
      await page.click("#queues a", WAIT);
      await page.waitForSelector("#s-visible tbody tr", WAIT);
      assert.equal(new URL(page.url()).pathname, "/ops/queues/queue");
      await page.click("#crumbs a");
      await page.waitForSelector("#queues tbody tr", WAIT);
      assert.equal(new URL(page.url()).pathname, "/ops/queues/");
      assert.deepEqual(paths.filter((path) => !path.startsWith("/ops/queues/")), []);
      assert.ok(paths.includes("/ops/queues/queue.json"));
      await checkClean(page);
    } finally {
      await app.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

browserTest(
  "Over PostgreSQL, the overview shows the counts and a redrive through the page works",
  async () => {
    const database = new TestDatabase(testClients()[0]!);
    await database.setup();
    const { sql } = database.client();
    const server = await serve({ db: sql, schema: database.schema, port: 0, dashboard: true });
    const queue = new PostgresQueue({ sql, schema: database.schema, name: "pg-jobs" });
    try {
      const ids = await seedStates(queue);
      const page = await newPage();
      await page.goto(`${server.url}/`);
      await page.waitForSelector('tr[data-queue="pg-jobs"]', WAIT);
      assert.deepEqual(counts((await overviewRows(page))[0]!), withoutAge(await queue.stats()));
      await page.click("text=pg-jobs");
      await page.click(`button[aria-label="Redrive ${ids.dead}"]`, WAIT);
      await page.waitForSelector(`#s-visible tr[data-id="${ids.dead}"]`, WAIT);
      assert.deepEqual(await tableIds(page, "dead"), []);
      assert.equal((await queue.stats()).dead, 0);
      assert.equal(
        await page.textContent(`#s-visible tr[data-id="${ids.job}"] td:nth-child(2)`),
        "send-email",
      );
      await checkClean(page);
    } finally {
      await queue.close();
      await server.close();
      await database.close();
    }
  },
);

/** Starts the standalone server (http/cli.ts) with this runtime and returns its dashboard URL. */
async function startCli(args: string[]): Promise<{ url: string; child: ChildProcess }> {
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
  const started = Date.now();
  while (true) {
    const match = /, dashboard at (http:\/\/\S+\/)/.exec(output);
    if (match) return { url: match[1]!, child };
    if (child.exitCode !== null || Date.now() - started > 30_000) {
      child.kill("SIGKILL");
      throw new Error(`the server did not start:\n${output}`);
    }
    await sleep(20);
  }
}

browserTest(
  "The standalone server's dashboard asks for its --token, then holds an HttpOnly, SameSite=Strict session",
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "qite-cli-"));
    const { url, child } = await startCli(["--db", join(dir, "cli.db"), "--token", "open sesame"]);
    const exited = new Promise((resolve) => child.on("exit", resolve));
    try {
      const page = await newPage();
      await page.goto(url);
      assert.equal(new URL(page.url()).pathname, "/login");
      await page.getByLabel("Token").fill("open sesame?");
      await page.keyboard.press("Enter");
      await page.waitForSelector("text=Wrong token.", WAIT);
      await page.getByLabel("Token").fill("open sesame");
      await page.keyboard.press("Enter");
      await page.waitForSelector("h1:text('Queues')", WAIT);
      assert.equal(new URL(page.url()).pathname, "/");
      const cookies = await page.context().cookies(url);
      const session = cookies.find((cookie) => cookie.name === "qite_session");
      assert.ok(session);
      assert.equal(session.httpOnly, true);
      assert.equal(session.sameSite, "Strict");
      assert.equal(await page.evaluate(() => document.cookie), "", "scripts cannot read it");
      // The cookie opens the dashboard, not the queues' API, which wants the bearer token.
      const api = await page.evaluate(async () => (await fetch("/queues")).status);
      assert.equal(api, 401);
      await page.click("text=Sign out");
      await page.waitForSelector("#token", WAIT);
      assert.equal(new URL(page.url()).pathname, "/login");
      assert.equal(
        (await page.context().cookies(url)).some((c) => c.name === "qite_session"),
        false,
      );
      await checkClean(page);
    } finally {
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

browserTest(
  "At 360 px wide the pages need no sideways scrolling: tables become cards",
  async () => {
    await withServer(true, async (server) => {
      const queue = new Queue({ db: server.db, name: "a-rather-long-queue-name-for-a-phone" });
      await seedStates(queue);
      const page = await newPage();
      await page.setViewportSize({ width: 360, height: 740 });
      for (const path of ["/", `/queue?name=${encodeURIComponent(queue.name)}`]) {
        await page.goto(`${server.url}${path}`);
        await page.waitForSelector("tbody tr", WAIT);
        const [scroll, width, display] = await page.evaluate(() => [
          document.documentElement.scrollWidth,
          document.documentElement.clientWidth,
          getComputedStyle(document.querySelector("tbody tr")!).display,
        ]);
        assert.ok(scroll <= width, `${path} is ${scroll} px wide in a ${width} px window`);
        assert.equal(display, "block");
      }
      await checkClean(page);
    });
  },
);

browserTest("Screenshots of the overview and of a queue page", async () => {
  const out = process.env.QITE_SCREENSHOTS
    ? join(ROOT, process.env.QITE_SCREENSHOTS)
    : mkdtempSync(join(tmpdir(), "qite-shots-"));
  mkdirSync(out, { recursive: true });
  try {
    await withServer(true, async (server) => {
      const db = server.db;
      const client = (name: string) => createClient(`${server.url}/queues/${name}`);
      await showcase(new Queue({ db, name: "emails" }));
      const jobs = new Queue({ db, name: "jobs" });
      for (let i = 0; i < 40; i++) {
        await createJob(jobs, i % 3 ? "resize-image" : "send-report", `{"n":${i}}`);
      }
      const webhooks = new Queue({ db, name: "webhooks", maxReceive: 1 });
      for (let i = 0; i < 7; i++) {
        await webhooks.send({ body: `POST https://example.com/hook/${i}` });
      }
      for (const message of await webhooks.receiveBatch(3)) await webhooks.bury(message);
      // A few seconds of traffic through the server, so the sparklines have a shape.
      const seconds = process.env.QITE_SCREENSHOTS ? 30 : 2;
      const remote = client("jobs");
      for (let s = 0; s < seconds * 5; s++) {
        const burst = 1 + Math.round(4 + 4 * Math.sin(s / 9));
        await remote.sendBatch(Array.from({ length: burst }, (_, i) => ({ body: `t${s}.${i}` })));
        for (const message of await remote.receiveBatch(1 + ((s * 3) % 7))) {
          await remote.delete(message);
        }
        if (s % 4 === 0) await client("webhooks").send({ body: `POST /hook/${s}` });
        await sleep(200);
      }
      const page = await newPage();
      await page.setViewportSize({ width: 1200, height: 400 });
      await page.goto(`${server.url}/`);
      await page.waitForSelector('tr[data-queue="webhooks"] svg', WAIT);
      await sleep(1100);
      await page.screenshot({ path: join(out, "dashboard-overview.png"), fullPage: true });
      await page.goto(`${server.url}/queue?name=emails`);
      await page.waitForSelector("#s-dead tbody tr", WAIT);
      await page.screenshot({ path: join(out, "dashboard-queue.png"), fullPage: true });
      await checkClean(page);
    });
    for (const name of ["dashboard-overview.png", "dashboard-queue.png"]) {
      const png = readFileSync(join(out, name));
      assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], `${name} is a PNG`);
      assert.equal(png.readUInt32BE(16), 1200, `${name} is 1200 px wide`);
    }
  } finally {
    if (!process.env.QITE_SCREENSHOTS) rmSync(out, { recursive: true, force: true });
  }
}, true);
