/**
 * `deno bench -A bench/`: every workload of `_workloads.ts` on every storage, one group per
 * workload family and storage, with the raw-SQL or small-table workload as the group's
 * baseline. One iteration is one whole trial (its size is in the name), so divide the time per
 * iteration by it for the time per unit. `QITE_BENCH_SMOKE=1` runs tiny trials once, as a check.
 *
 * The same workloads run on Bun and Node through `run.ts`.
 *
 * @module
 */

import { STORAGES } from "./_storage.ts";
import { type Context, unitsOf, WORKLOADS } from "./_workloads.ts";

const smoke = Deno.env.get("QITE_BENCH_SMOKE") === "1";
const baselines = new Set(WORKLOADS.map((workload) => workload.versus?.id));

for (const storage of STORAGES) {
  const context: Context = { storage, driver: undefined, smoke };
  for (const workload of WORKLOADS) {
    if (!workload.storages.includes(storage)) continue;
    const units = unitsOf(workload, context);
    Deno.bench({
      name: `${workload.title} [${storage}] ×${units} ${workload.unit}`,
      group: `${workload.group} ${storage}`,
      baseline: baselines.has(workload.id),
      n: smoke ? 1 : 5,
      warmup: smoke ? 0 : 1,
      async fn(b: Deno.BenchContext): Promise<void> {
        const trial = await workload.prepare(context, units);
        try {
          b.start();
          await trial.run(units);
          b.end();
        } finally {
          await trial.close();
        }
      },
    });
  }
}
