/**
 * Checks the npm package as a user gets it: packs `npm/` (built by scripts/build_npm.ts) with
 * `npm pack`, installs the tarball into a fresh temporary project with npm (offline: the
 * package has no dependencies), type-checks a TypeScript file against its declarations, runs
 * scripts/npm_smoke.js on Node 24, on the oldest Node its `engines` allow and on Bun, and runs
 * the installed `qite` command on each,
 * on a SQLite file and against PostgreSQL (QITE_PG_URL, by default the local test server).
 *
 * `deno task npm:test` runs the build, then this. Node and Bun come through npx at the suite's
 * pinned versions (QITE_NODE / QITE_BUN name other executables).
 *
 * @module
 */

// deno-lint-ignore-file no-console

const BUN_VERSION = "1.4.5";
const NODE_VERSION = "24.21.0";
/** The oldest Node the package's `engines` allow (scripts/build_npm.ts). */
const OLDEST_NODE = "22.13.0";
const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const PG_URL = Deno.env.get("QITE_PG_URL") ?? "postgres://postgres@127.0.0.1:5432/test";

interface Output {
  stdout: string;
  stderr: string;
}

/** Runs a command in `cwd` and returns its status and output. */
async function attempt(
  command: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<Output & { code: number }> {
  const [exe, ...args] = command;
  const result = await new Deno.Command(exe!, {
    args,
    cwd,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: result.code,
    stdout: new TextDecoder().decode(result.stdout),
    stderr: new TextDecoder().decode(result.stderr),
  };
}

/** Runs a command in `cwd`; throws with its output unless it exits with 0. */
async function run(
  command: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<Output> {
  const output = await attempt(command, cwd, env);
  if (output.code !== 0) {
    throw new Error(
      `${command.join(" ")} exited with ${output.code}:\n${output.stdout}${output.stderr}`,
    );
  }
  return output;
}

/** Runs a command that must fail with status 1 and a one-line message matching `pattern`. */
async function refused(
  command: string[],
  cwd: string,
  env: Record<string, string>,
  pattern: RegExp,
): Promise<void> {
  const { code, stdout, stderr } = await attempt(command, cwd, env);
  if (code !== 1 || stdout !== "" || !/^qite: [^\n]+\n$/.test(stderr) || !pattern.test(stderr)) {
    throw new Error(
      `${command.join(" ")}: expected status 1 and ${pattern}, got ${code}:\n${stdout}${stderr}`,
    );
  }
}

/** The command that runs `name` at `version` (QITE_NODE / QITE_BUN override the suite's). */
function runtime(
  name: "node" | "bun",
  version = name === "node" ? NODE_VERSION : BUN_VERSION,
): string[] {
  const override = version === OLDEST_NODE
    ? undefined
    : Deno.env.get(name === "node" ? "QITE_NODE" : "QITE_BUN");
  if (override) return [override];
  return ["npx", "-y", `${name}@${version}`];
}

const temp = await Deno.makeTempDir({ prefix: "qite-npm-test-" });
try {
  // Pack.
  const packed = JSON.parse(
    (await run(["npm", "pack", "--json", "--pack-destination", temp], `${root}/npm`)).stdout,
  ) as Array<{ filename: string; files: unknown[]; size: number }>;
  const tarball = `${temp}/${packed[0]!.filename}`;
  console.log(
    `packed ${packed[0]!.filename}: ${packed[0]!.files.length} files, ${packed[0]!.size} bytes`,
  );

  // Install into a fresh project, offline.
  const project = `${temp}/project`;
  await Deno.mkdir(project);
  await Deno.writeTextFile(
    `${project}/package.json`,
    JSON.stringify({ name: "qite-npm-test", private: true, type: "module" }),
  );
  await run(
    ["npm", "install", "--offline", "--no-audit", "--no-fund", "--no-package-lock", tarball],
    project,
  );
  const installed = JSON.parse(
    await Deno.readTextFile(`${project}/node_modules/@qite/qite/package.json`),
  ) as { dependencies?: unknown; engines: { node: string } };
  if (installed.dependencies !== undefined) throw new Error("the package has dependencies");
  const modules = [...Deno.readDirSync(`${project}/node_modules`)].map((entry) => entry.name);
  if (modules.filter((name) => !name.startsWith(".")).join() !== "@qite") {
    throw new Error(`the install brought more than the package: ${modules.join(", ")}`);
  }
  console.log(`installed offline into a fresh project (engines: node ${installed.engines.node})`);

  // Its declarations, as a strict TypeScript user sees them.
  await Deno.copyFile(`${root}/scripts/npm_smoke.js`, `${project}/smoke.js`);
  await Deno.writeTextFile(
    `${project}/check.ts`,
    [
      'import { open, Queue, type QueueStats, setup } from "@qite/qite";',
      'import { createJob, type JobEnvelope, Runner } from "@qite/qite/jobs";',
      'import { createClient, type Server, serve } from "@qite/qite/http";',
      'import { PostgresQueue, type PostgresClient } from "@qite/qite/postgres";',
      "const db = open(':memory:');",
      "setup(db);",
      "const stats: QueueStats = await new Queue({ db, name: 'q' }).stats();",
      "// @ts-expect-error: counts are numbers",
      "const wrong: string = stats.total;",
      "export type T = [JobEnvelope, Server, PostgresClient, typeof wrong];",
      "export const values = [createJob, Runner, createClient, serve, PostgresQueue];",
    ].join("\n"),
  );
  await Deno.writeTextFile(
    `${project}/tsconfig.json`,
    JSON.stringify({
      compilerOptions: {
        strict: true,
        module: "NodeNext",
        moduleResolution: "NodeNext",
        target: "ES2022",
        lib: ["ES2024", "DOM"],
        types: ["node"],
        typeRoots: [`${root}/node_modules/@types`],
        noEmit: true,
        skipLibCheck: false,
      },
      files: ["check.ts"],
    }),
  );
  await run(["node", `${root}/node_modules/typescript/bin/tsc`, "-p", "."], project);
  console.log("its declarations type-check in a strict NodeNext project");

  // The program, and the installed command, on Node 24, the oldest Node of `engines`, and Bun.
  const node24 = runtime("node", NODE_VERSION);
  const nodePath = (await run([...node24, "-p", "process.execPath"], project)).stdout.trim();
  const env = { PATH: `${nodePath.replace(/\/[^/]+$/, "")}:${Deno.env.get("PATH") ?? ""}` };
  const runtimes: Array<{ name: string; exe: string[]; qite: string[] }> = [
    // The bin as npm linked it: its `#!/usr/bin/env node` finds Node 24 first on PATH.
    { name: `Node ${NODE_VERSION}`, exe: node24, qite: ["node_modules/.bin/qite"] },
    {
      name: `Node ${OLDEST_NODE}`,
      exe: runtime("node", OLDEST_NODE),
      qite: [...runtime("node", OLDEST_NODE), "node_modules/.bin/qite"],
    },
    {
      name: `Bun ${BUN_VERSION}`,
      exe: runtime("bun"),
      qite: [...runtime("bun"), "node_modules/.bin/qite"],
    },
  ];
  let postgresInstalled = false;
  for (const [i, { name, exe, qite }] of runtimes.entries()) {
    const db = `smoke-${i}.db`;
    console.log(`${name}: ${(await run([...exe, "smoke.js", db], project)).stdout.trim()}`);
    await run([...qite, "send", "jobs", "alice", "--job", "greet", "--db", db], project, env);
    const stats = JSON.parse(
      (await run([...qite, "stats", "--db", db, "--json"], project, env)).stdout,
    ) as Array<{ queue: string; total: number }>;
    const totals = Object.fromEntries(stats.map((s) => [s.queue, s.total]));
    if (totals.jobs !== 1 || totals.remote !== 1 || totals.emails !== undefined) {
      throw new Error(`qite stats on ${name} reads ${JSON.stringify(totals)}`);
    }
    const help = (await run([...qite, "--help"], project, env)).stdout;
    if (!help.startsWith("qite: ")) throw new Error(`qite --help on ${name} printed ${help}`);
    if (i === 0) {
      const viaNpx = (await run(["npx", "qite", "stats", "--db", db], project, env)).stdout;
      if (!/^QUEUE +TOTAL/.test(viaNpx)) throw new Error(`npx qite stats printed ${viaNpx}`);
    }
    console.log(`${name}: the installed qite command reads ${JSON.stringify(totals)}`);

    // PostgreSQL: Bun has Bun.sql; Node needs the npm package postgres beside qite. A schema
    // that does not exist makes the server answer, which shows the client loaded and connected.
    const schema = `qite_npm_test_missing_${crypto.randomUUID().slice(0, 8)}`;
    const pg = [...qite, "stats", "--db", PG_URL, "--schema", schema];
    if (name.startsWith("Node") && !postgresInstalled) {
      await refused(pg, project, env, /needs the npm package "postgres"/);
      // postgres.js has no dependencies: the repository's copy stands for `npm install postgres`.
      await run(["cp", "-rL", `${root}/node_modules/postgres`, "node_modules/postgres"], project);
      postgresInstalled = true;
    }
    await refused(pg, project, env, new RegExp(`"?${schema}"?\\.goqite.* does not exist`));
    console.log(`${name}: qite reaches PostgreSQL`);
  }
  console.log("the npm package test passed");
} finally {
  await Deno.remove(temp, { recursive: true });
}
