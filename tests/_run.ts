/**
 * Runs the whole suite on Deno, Bun and Node 24 (and most of it on Node 22.13), one after the other, and fails if any fails,
 * after installing the development dependencies (`deno install`).
 * `deno task test` runs this. Bun and Node come through npx (pinned versions) unless
 * QITE_BUN / QITE_NODE name an executable.
 *
 * Usage: deno run -A tests/_run.ts [deno|bun|node|node22 ...]
 *
 * @module
 */

// deno-lint-ignore-file no-console

const BUN_VERSION = "1.4.5";
const NODE_VERSION = "24.21.0";
const NODE22_VERSION = "22.13.0";

const root = new URL("..", import.meta.url).pathname;

/** Every test file, relative to the root. */
function testFiles(): string[] {
  return [...Deno.readDirSync(`${root}tests`)]
    .map((entry) => entry.name)
    .filter((name) => name.endsWith("_test.ts"))
    .sort()
    .map((name) => `tests/${name}`);
}

/** Every source file whose JSDoc examples are doc-tested, and the README. */
function docFiles(): string[] {
  const files: string[] = ["README.md"];
  const walk = (dir: string): void => {
    for (const entry of Deno.readDirSync(`${root}${dir}`)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) walk(path);
      else if (entry.name.endsWith(".ts")) files.push(path);
    }
  };
  for (const dir of ["src", "jobs", "http", "postgres"]) {
    try {
      walk(dir);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  files.push("mod.ts");
  // The command line runs when it is imported (it would serve ./qite.db on port 8080 during the
  // run, and end the run if the port is taken); it has no examples.
  return files.filter((file) => file !== "http/cli.ts").filter((file) => {
    try {
      Deno.statSync(`${root}${file}`);
      return true;
    } catch {
      return false;
    }
  });
}

function npx(spec: string, override: string | undefined): string[] {
  return override ? [override] : ["npx", "-y", spec];
}

const runs: Record<string, string[]> = {
  deno: [Deno.execPath(), "test", "-A", "--doc", ...testFiles(), ...docFiles()],
  bun: [
    ...npx(`bun@${BUN_VERSION}`, Deno.env.get("QITE_BUN")),
    "test",
    "--timeout",
    "60000",
    "tests/",
  ],
  node: [
    ...npx(`node@${NODE_VERSION}`, Deno.env.get("QITE_NODE")),
    "--test",
    "--test-timeout=300000",
    ...testFiles(),
  ],
  // The oldest Node qite supports: every test file that does not declare with `using` (which
  // Node 22 does not parse), the TypeScript stripped by Node itself.
  node22: [
    ...npx(`node@${NODE22_VERSION}`, Deno.env.get("QITE_NODE22")),
    "--experimental-strip-types",
    "--disable-warning=ExperimentalWarning",
    "--test",
    "--test-timeout=300000",
    ...testFiles().filter((file) =>
      !/^\s*(await )?using /m.test(
        Deno.readTextFileSync(`${root}${file}`),
      )
    ),
  ],
};

// The development dependencies (package.json: hono, for the mounting tests) into node_modules/,
// where Bun and Node find them too.
{
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: ["install"],
    cwd: root,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (code !== 0) {
    console.error("deno install failed");
    Deno.exit(1);
  }
}

// The dashboard's browser tests drive Debian's chromium: on a fresh machine of this kind it is
// not there yet, and it is one package away (about 20 s), so the suite installs it.
{
  const has = (): boolean => {
    try {
      return new Deno.Command("which", { args: ["chromium"], stdout: "null", stderr: "null" })
        .outputSync().code === 0;
    } catch {
      return false;
    }
  };
  if (!has()) {
    console.log("chromium is missing: installing Debian's package for the browser tests");
    for (const args of [["update"], ["install", "-y", "chromium"]]) {
      await new Deno.Command("apt-get", {
        args,
        env: { DEBIAN_FRONTEND: "noninteractive" },
        stdout: "inherit",
        stderr: "inherit",
      }).output().catch(() => undefined);
    }
    if (!has()) {
      console.error("chromium could not be installed: apt-get install -y chromium, then again");
      Deno.exit(1);
    }
  }
}

const wanted = Deno.args.length > 0 ? Deno.args : Object.keys(runs);
const results: Array<[string, number, number]> = [];
for (const runtime of wanted) {
  const command = runs[runtime];
  if (!command) {
    console.error(`unknown runtime ${runtime}; choose from ${Object.keys(runs).join(", ")}`);
    Deno.exit(2);
  }
  console.log(`\n=== ${runtime}: ${command.join(" ")}\n`);
  const started = performance.now();
  const { code } = await new Deno.Command(command[0]!, {
    args: command.slice(1),
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  results.push([runtime, code, (performance.now() - started) / 1000]);
}

console.log("\n=== summary");
for (const [runtime, code, seconds] of results) {
  console.log(
    `${runtime.padEnd(6)} ${code === 0 ? "passed" : `FAILED (exit ${code})`} in ${
      seconds.toFixed(1)
    } s`,
  );
}
Deno.exit(results.every(([, code]) => code === 0) ? 0 : 1);
