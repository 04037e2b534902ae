/**
 * Aligned tables and short durations, for the command line's default output.
 *
 * @module
 */

import { safeText } from "./body.ts";

/** A column: its heading, and whether its cells are numbers (aligned right). */
export interface Column {
  readonly title: string;
  readonly numeric?: boolean;
}

/**
 * The rows as an aligned table under a header line, columns two spaces apart, with no spaces
 * at the ends of lines. Every cell is made safe to print (see `safeText`).
 */
export function table(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const cells = rows.map((row) => row.map(safeText));
  const widths = columns.map((column, i) =>
    Math.max(width(column.title), ...cells.map((row) => width(row[i] ?? "")))
  );
  const line = (row: readonly string[]): string =>
    columns
      .map((column, i) => {
        const cell = row[i] ?? "";
        const pad = " ".repeat(widths[i]! - width(cell));
        return column.numeric ? pad + cell : cell + pad;
      })
      .join("  ")
      .trimEnd();
  return [line(columns.map((column) => column.title)), ...cells.map(line)].join("\n");
}

/** Characters as a terminal counts them, near enough: code points. */
function width(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** `text` cut to at most `max` characters, with `…` when it was longer. */
export function cut(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join("")}…`;
}

/** A duration in ms, short: `850ms`, `12s`, `5m3s`, `2h5m`, `3d4h`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const units: Array<[number, string]> = [[86_400, "d"], [3600, "h"], [60, "m"], [1, "s"]];
  const i = units.findIndex(([size]) => s >= size);
  const [big, bigName] = units[i]!;
  const [small, smallName] = units[i + 1]!;
  const rest = Math.floor((s % big) / small);
  return `${Math.floor(s / big)}${bigName}${rest === 0 ? "" : `${rest}${smallName}`}`;
}
