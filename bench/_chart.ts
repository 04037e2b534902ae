/**
 * The SVG chart `all.ts` writes next to its JSON: one panel per workload and storage, with a
 * group of bars per runtime (the workload in the runtime's colour, its baseline in grey) and the
 * ratio taken within each run written above them. Self-contained: no scripts, no external
 * fonts or images, only the system's sans-serif font.
 *
 * @module
 */

import type { Report, Result } from "./_report.ts";
import { type StorageName, STORAGES } from "./_storage.ts";
import { figure } from "./_table.ts";

const COLOURS: Readonly<Record<string, string>> = {
  deno: "#1f6feb",
  bun: "#c2410c",
  node: "#2f855a",
};
const BASELINE = "#b4b9c0";
const INK = "#1f2328";
const MUTED = "#59636e";
const FONT = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";

const STORAGE_TITLES: Readonly<Record<StorageName, string>> = {
  memory: "In memory",
  "wal-normal": "WAL file, synchronous NORMAL",
  "wal-full": "WAL file, synchronous FULL",
};

const COLUMNS = 3;
const PANEL_WIDTH = 320;
const PANEL_HEIGHT = 200;
const GAP = 16;
const MARGIN = 24;
/** The top of the bars' area in a panel, and its height. */
const PLOT_TOP = 74;
const PLOT_HEIGHT = 90;

/** One bar: its value, its label and its colour. */
interface Bar {
  readonly value: number;
  readonly label: string;
  readonly colour: string;
}

/** One runtime's bars in a panel, with the ratio written above them. */
interface Cluster {
  readonly runtime: string;
  readonly bars: readonly Bar[];
  readonly ratio: string;
}

/** One panel: a workload on a storage. */
interface Panel {
  readonly title: string;
  readonly subtitle: string;
  readonly clusters: readonly Cluster[];
}

function escape(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

/** `950`, `12.3k`, `1.05M`. */
function compact(value: number): string {
  if (!Number.isFinite(value)) return "—";
  if (value >= 1e6) return `${(value / 1e6).toPrecision(3)}M`;
  if (value >= 1e4) return `${(value / 1e3).toPrecision(3)}k`;
  if (value >= 1e3) return `${(value / 1e3).toPrecision(2)}k`;
  return figure(value);
}

function text(
  x: number,
  y: number,
  content: string,
  { size = 11, weight = "normal", fill = INK, anchor = "middle" } = {},
): string {
  return `<text x="${x}" y="${y}" font-size="${size}" font-weight="${weight}" fill="${fill}" ` +
    `text-anchor="${anchor}">${escape(content)}</text>`;
}

/** The ids of workloads that appear only as others' baselines (drawn inside their panels). */
function baselinesOnly(reports: readonly Report[]): Set<string> {
  const results = reports.flatMap((report) => report.results);
  const compared = new Set(results.filter((r) => r.versus !== undefined).map((r) => r.workload));
  return new Set(
    results.map((r) => r.versus).filter((id): id is string =>
      id !== undefined && !compared.has(id)
    ),
  );
}

/** A runtime's bars for one result. */
function clusterOf(report: Report, result: Result): Cluster {
  const colour = COLOURS[report.runtime] ?? INK;
  const runtime = report.runtime;
  if (result.p50 !== undefined && result.p99 !== undefined) {
    return {
      runtime,
      bars: [
        { value: result.p50, label: figure(result.p50), colour },
        { value: result.p99, label: figure(result.p99), colour: BASELINE },
      ],
      ratio: "",
    };
  }
  if (result.cpu !== undefined) {
    return {
      runtime,
      bars: [{ value: result.cpu, label: figure(result.cpu), colour }],
      ratio: "",
    };
  }
  const mine: Bar = { value: result.perSecond, label: compact(result.perSecond), colour };
  if (result.versus === undefined) return { runtime, bars: [mine], ratio: "" };
  const baseline = result.baselinePerSecond ??
    report.results.find((other) =>
      other.workload === result.versus && other.storage === result.storage
    )?.perSecond ?? Number.NaN;
  const ratio = result.percent !== undefined
    ? `${figure(result.percent)} %`
    : result.times !== undefined
    ? `${figure(result.times)}×`
    : "";
  return {
    runtime,
    bars: [{ value: baseline, label: compact(baseline), colour: BASELINE }, mine],
    ratio,
  };
}

function subtitleOf(result: Result): string {
  return `${result.workload} · ${measureOf(result)}`;
}

function measureOf(result: Result): string {
  if (result.p50 !== undefined) return "latency, ms (p50 coloured, p99 grey)";
  if (result.cpu !== undefined) return "share of one core, %";
  const unit = `${result.unit}/s`;
  if (result.percent !== undefined) return `${unit}; grey: ${result.versus}; % of it`;
  if (result.times !== undefined) {
    return `${unit}; grey: ${result.versus}; × its time/${result.unit}`;
  }
  return unit;
}

/** The panels of one storage, in the order of the first report's results. */
function panelsOf(reports: readonly Report[], storage: StorageName): Panel[] {
  const hidden = baselinesOnly(reports);
  const ids: string[] = [];
  for (const report of reports) {
    for (const result of report.results) {
      if (result.storage === storage && !hidden.has(result.workload)) {
        if (!ids.includes(result.workload)) ids.push(result.workload);
      }
    }
  }
  return ids.map((id) => {
    let first: Result | undefined;
    const clusters: Cluster[] = [];
    for (const report of reports) {
      const result = report.results.find((r) => r.workload === id && r.storage === storage);
      if (result === undefined) continue;
      first ??= result;
      clusters.push(clusterOf(report, result));
    }
    return { title: first!.title, subtitle: subtitleOf(first!), clusters };
  });
}

function drawPanel(panel: Panel, x: number, y: number): string {
  const parts = [
    `<rect x="${x}" y="${y}" width="${PANEL_WIDTH}" height="${PANEL_HEIGHT}" rx="6" ` +
    `fill="#ffffff" stroke="#d0d7de"/>`,
    text(x + 10, y + 20, panel.title, { size: 13, weight: "600", anchor: "start" }),
    text(x + 10, y + 36, panel.subtitle, { size: 10.5, fill: MUTED, anchor: "start" }),
  ];
  const max = Math.max(
    ...panel.clusters.flatMap((c) => c.bars.map((b) => b.value)).filter(Number.isFinite),
    Number.MIN_VALUE,
  );
  const base = y + PLOT_TOP + PLOT_HEIGHT;
  const slot = (PANEL_WIDTH - 20) / Math.max(panel.clusters.length, 1);
  parts.push(
    `<line x1="${x + 10}" y1="${base}" x2="${x + PANEL_WIDTH - 10}" y2="${base}" ` +
      `stroke="#8c959f" stroke-width="1"/>`,
  );
  panel.clusters.forEach((cluster, i) => {
    const centre = x + 10 + slot * (i + 0.5);
    const width = Math.min(34, (slot - 16) / cluster.bars.length);
    const left = centre - (width * cluster.bars.length) / 2;
    cluster.bars.forEach((bar, j) => {
      const height = Number.isFinite(bar.value) ? Math.max(1, (bar.value / max) * PLOT_HEIGHT) : 0;
      const barX = left + j * width;
      parts.push(
        `<rect x="${barX + 1}" y="${base - height}" width="${width - 2}" height="${height}" ` +
          `fill="${bar.colour}"/>`,
        text(barX + width / 2, base - height - 3, bar.label, { size: 9.5, fill: MUTED }),
      );
    });
    if (cluster.ratio !== "") {
      parts.push(text(centre, y + 56, cluster.ratio, { size: 12.5, weight: "700" }));
    }
    parts.push(
      text(centre, base + 15, cluster.runtime, {
        size: 11.5,
        weight: "600",
        fill: COLOURS[cluster.runtime] ?? INK,
      }),
    );
  });
  return parts.join("\n");
}

/**
 * Draws `reports` (one per runtime, as `all.ts --json` prints them) as an SVG document.
 *
 * @param reports The runtimes' reports.
 * @param caption A line under the title, e.g. the command and commit.
 * @returns The SVG text.
 */
export function chart(reports: readonly Report[], caption: string): string {
  const width = MARGIN * 2 + COLUMNS * PANEL_WIDTH + (COLUMNS - 1) * GAP;
  const body: string[] = [];
  let y = MARGIN;
  body.push(text(MARGIN, y + 18, "qite bench", { size: 20, weight: "700", anchor: "start" }));
  y += 40;
  const versions = reports.map((report) => {
    const first = report.results[0];
    const sqlite = first === undefined ? "" : ` (${first.driver}, SQLite ${first.sqliteVersion})`;
    return `${report.runtime} ${report.runtimeVersion}${sqlite}`;
  }).join(" · ");
  body.push(text(MARGIN, y, versions, { size: 12, fill: MUTED, anchor: "start" }));
  y += 18;
  body.push(text(MARGIN, y, caption, { size: 12, fill: MUTED, anchor: "start" }));
  y += 10;
  for (const storage of STORAGES) {
    const panels = panelsOf(reports, storage);
    if (panels.length === 0) continue;
    y += 30;
    body.push(
      text(MARGIN, y, STORAGE_TITLES[storage], { size: 15, weight: "700", anchor: "start" }),
    );
    y += 12;
    panels.forEach((panel, i) => {
      const column = i % COLUMNS;
      const row = Math.floor(i / COLUMNS);
      body.push(
        drawPanel(
          panel,
          MARGIN + column * (PANEL_WIDTH + GAP),
          y + row * (PANEL_HEIGHT + GAP),
        ),
      );
    });
    y += Math.ceil(panels.length / COLUMNS) * (PANEL_HEIGHT + GAP) - GAP;
  }
  const height = y + MARGIN;
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" ` +
    `viewBox="0 0 ${width} ${height}" font-family="${FONT}">`,
    `<rect width="${width}" height="${height}" fill="#f6f8fa"/>`,
    ...body,
    "</svg>",
    "",
  ].join("\n");
}
