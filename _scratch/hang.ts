import postgres from "postgres";
import { PostgresQueue, setup } from "../postgres/mod.ts";
const URL = "postgres://postgres@127.0.0.1:5432/test";
const schema = "qite_hang_" + Math.random().toString(36).slice(2, 8);
const admin = postgres(URL, { max: 1, onnotice: () => {} });
await setup(admin, { schema });
const app = "qite-hang-" + schema;
const useBun = (globalThis as any).Bun && process.argv[2] === "bunsql";
const client: any = useBun
  ? new (globalThis as any).Bun.SQL(
    `${URL}?options=${encodeURIComponent("-c application_name=" + app)}`,
    { max: 2 },
  )
  : postgres(URL, {
    max: 2,
    connect_timeout: 5,
    onnotice: () => {},
    fetch_types: false,
    connection: { application_name: app },
  });
const queue = new PostgresQueue({ sql: client, schema, name: "h", retryTimeout: 30000 });
let stop = false;
const killer = (async () => {
  while (!stop) {
    await new Promise((r) => setTimeout(r, 400 + Math.random() * 300));
    await admin.unsafe(
      `select pg_terminate_backend(pid) from pg_stat_activity where application_name = '${app}'`,
    );
  }
})();
let slowest = 0;
let errors = 0;
for (let i = 0; i < 600; i++) {
  const t = performance.now();
  const timer = setTimeout(() => console.log(`send ${i} pending for 20 s`), 20000);
  try {
    await queue.send({ body: "x" + i });
  } catch (e) {
    errors++;
    console.log("error", String(e).slice(0, 200));
  }
  clearTimeout(timer);
  slowest = Math.max(slowest, performance.now() - t);
  await new Promise((r) => setTimeout(r, Math.random() * 30));
}
stop = true;
await killer;
console.log(JSON.stringify({ slowest: Math.round(slowest), errors }));
await queue.close();
await (useBun ? client.close() : client.end({ timeout: 5 }));
await admin.unsafe(`drop schema ${schema} cascade`);
await admin.end();
