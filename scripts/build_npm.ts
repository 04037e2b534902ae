/**
 * Builds the npm package into `npm/` from the same source as the JSR package: JavaScript (ESM)
 * and `.d.ts` files made by the TypeScript compiler (the pinned dev dependency `typescript`,
 * which rewrites the sources' `.ts` import specifiers to `.js`), a `package.json` whose
 * `exports` mirror deno.json's, the `qite` command as its `bin`, the README and the LICENSE.
 * The package has no dependencies.
 *
 * `deno task npm` runs this (after `deno install`, which puts `typescript` in node_modules/).
 * Then `cd npm && npm pack` makes the tarball; `deno task npm:test` checks one.
 *
 * @module
 */

// deno-lint-ignore-file no-console

const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const out = `${root}/npm`;

interface DenoJson {
  name: string;
  version: string;
  license: string;
  exports: Record<string, string>;
  compilerOptions: Record<string, unknown>;
}

const deno = JSON.parse(await Deno.readTextFile(`${root}/deno.json`)) as DenoJson;
const entries = Object.values(deno.exports).map((path) => path.replace(/^\.\//, ""));
const CLI = "http/cli.ts";

/**
 * The Node versions the package runs on: from 22.13, the first with `node:sqlite` unflagged.
 * scripts/npm_test.ts runs the package on 22.13.0 and 24.
 */
const NODE = ">=22.13.0";

/** The compiler's settings: deno.json's strictness, ESM for Node, declarations beside. */
const tsconfig = {
  compilerOptions: {
    ...deno.compilerOptions,
    target: "ES2023",
    module: "NodeNext",
    moduleResolution: "NodeNext",
    lib: ["ES2024", "DOM", "DOM.Iterable"],
    types: ["node"],
    typeRoots: [`${root}/node_modules/@types`],
    rewriteRelativeImportExtensions: true,
    declaration: true,
    rootDir: root,
    outDir: out,
    newLine: "lf",
    skipLibCheck: true,
  },
  files: [...entries, CLI].map((file) => `${root}/${file}`),
};

async function run(command: string, args: string[], cwd = root): Promise<void> {
  const { code } = await new Deno.Command(command, {
    args,
    cwd,
    stdout: "inherit",
    stderr: "inherit",
  })
    .output();
  if (code !== 0) throw new Error(`${command} ${args.join(" ")} failed with status ${code}`);
}

await Deno.remove(out, { recursive: true }).catch((error) => {
  if (!(error instanceof Deno.errors.NotFound)) throw error;
});
const temp = await Deno.makeTempDir({ prefix: "qite-npm-" });
try {
  await Deno.writeTextFile(`${temp}/tsconfig.json`, JSON.stringify(tsconfig, null, 2));
  const tsc = `${root}/node_modules/typescript/bin/tsc`;
  try {
    await Deno.stat(tsc);
  } catch {
    throw new Error("the TypeScript compiler is missing: run deno install (or npm install) first");
  }
  await run("node", [tsc, "-p", `${temp}/tsconfig.json`]);
} finally {
  await Deno.remove(temp, { recursive: true });
}

// The compiler rewrites `.ts` specifiers in the JavaScript only; the declarations keep them,
// which TypeScript 5 and later resolve but older tools do not: they get `.js` too.
let declarations = 0;
for await (const path of walk(out)) {
  if (!path.endsWith(".d.ts")) continue;
  const text = await Deno.readTextFile(path);
  const rewritten = text.replace(
    /(\bfrom\s*|\bimport\s*\(\s*)(["'])(\.{1,2}\/[^"']*)\.ts\2/g,
    (_, head, quote, file) => `${head}${quote}${file}.js${quote}`,
  );
  if (rewritten !== text) {
    await Deno.writeTextFile(path, rewritten);
    declarations++;
  }
}

/** `./http/mod.ts` → the `exports` condition map of its built files. */
function built(path: string): { types: string; default: string } {
  const base = path.replace(/\.ts$/, "");
  return { types: `${base}.d.ts`, default: `${base}.js` };
}

const packageJson = {
  name: deno.name,
  version: deno.version,
  description:
    "A persistent message queue on SQLite or PostgreSQL for Node, Bun and Deno: goqite's table, " +
    "jobs, an HTTP server with a dashboard, and an operator's command line. No dependencies.",
  license: deno.license,
  type: "module",
  engines: { node: NODE },
  exports: {
    ...Object.fromEntries(Object.entries(deno.exports).map(([key, path]) => [key, built(path)])),
    "./package.json": "./package.json",
  },
  bin: { qite: "./bin/qite.js" },
  keywords: ["queue", "message-queue", "sqlite", "postgresql", "jobs", "goqite", "sqs"],
};
await Deno.writeTextFile(`${out}/package.json`, JSON.stringify(packageJson, null, 2) + "\n");
await Deno.mkdir(`${out}/bin`);
await Deno.writeTextFile(
  `${out}/bin/qite.js`,
  "#!/usr/bin/env node\n" +
    "// The qite command line (http/cli.ts): qite --help.\n" +
    'import "../http/cli.js";\n',
  { mode: 0o755 },
);
await Deno.chmod(`${out}/bin/qite.js`, 0o755);
for (const file of ["README.md", "LICENSE"]) {
  await Deno.copyFile(`${root}/${file}`, `${out}/${file}`);
}

let files = 0;
for await (const _ of walk(out)) files++;
console.log(
  `npm/: ${deno.name}@${deno.version}, ${files} files (${declarations} declarations with .js ` +
    "specifiers); cd npm && npm pack",
);

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* walk(path);
    else yield path;
  }
}
