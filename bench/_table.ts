/**
 * Plain-text tables for the terminal.
 *
 * @module
 */

/** Lays out `rows` under `headers`; columns whose header starts with a space align right. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, i) =>
    Math.max(header.trim().length, ...rows.map((row) => (row[i] ?? "").length))
  );
  const right = headers.map((header) => header.startsWith(" "));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, i) => right[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))
      .join("  ").trimEnd();
  return [
    line(headers.map((header) => header.trim())),
    line(widths.map((width) => "-".repeat(width))),
    ...rows.map(line),
  ].join("\n");
}

/** A rate with thousands separators and no decimals, e.g. `27 450`. */
export function rate(value: number): string {
  if (!Number.isFinite(value)) return "—";
  return Math.round(value).toString().replace(/\B(?=(\d{3})+(?!\d))/g, " ");
}

/** A number with three significant digits, e.g. `1.23`, `45.6`, `789`. */
export function figure(value: number): string {
  if (!Number.isFinite(value)) return "—";
  return value >= 100 ? Math.round(value).toString() : value.toPrecision(3);
}
