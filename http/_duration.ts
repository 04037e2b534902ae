/**
 * Go duration strings (`300ms`, `1.5s`, `1m30s`), parsed as Go's `time.ParseDuration` parses
 * them, because goqite's clients send them in `?timeout=` and `?interval=`.
 *
 * @module
 */

const UNITS: ReadonlyMap<string, bigint> = new Map([
  ["ns", 1n],
  ["us", 1_000n],
  ["\u00b5s", 1_000n], // micro sign
  ["\u03bcs", 1_000n], // Greek mu
  ["ms", 1_000_000n],
  ["s", 1_000_000_000n],
  ["m", 60_000_000_000n],
  ["h", 3_600_000_000_000n],
]);

const MAX = 1n << 63n;

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= "0" && c <= "9";
}

/**
 * Parses a Go duration string, such as `300ms`, `-1.5h` or `2h45m`, into nanoseconds.
 *
 * @param text The duration.
 * @returns The duration in nanoseconds (may be negative).
 * @throws {SyntaxError} With Go's message (`time: invalid duration "x"`) if it does not parse
 * or overflows 64 bits.
 */
export function parseGoDuration(text: string): bigint {
  const quoted = JSON.stringify(text);
  const invalid = (): SyntaxError => new SyntaxError(`time: invalid duration ${quoted}`);
  let s = text;
  let negative = false;
  if (s[0] === "-" || s[0] === "+") {
    negative = s[0] === "-";
    s = s.slice(1);
  }
  if (s === "0") return 0n;
  if (s === "") throw invalid();
  let total = 0n;
  while (s !== "") {
    if (!(s[0] === "." || isDigit(s[0]))) throw invalid();
    let i = 0;
    let whole = 0n;
    while (isDigit(s[i])) {
      whole = whole * 10n + BigInt(s.charCodeAt(i) - 48);
      if (whole >= MAX) throw invalid();
      i++;
    }
    const hasWhole = i > 0;
    let fraction = 0;
    let scale = 1;
    let hasFraction = false;
    if (s[i] === ".") {
      i++;
      let overflow = false;
      while (isDigit(s[i])) {
        hasFraction = true;
        if (!overflow) {
          const next = fraction * 10 + (s.charCodeAt(i) - 48);
          if (next > Number.MAX_SAFE_INTEGER) overflow = true;
          else {
            fraction = next;
            scale *= 10;
          }
        }
        i++;
      }
    }
    if (!hasWhole && !hasFraction) throw invalid();
    s = s.slice(i);
    let end = 0;
    while (end < s.length && s[end] !== "." && !isDigit(s[end])) end++;
    if (end === 0) throw new SyntaxError(`time: missing unit in duration ${quoted}`);
    const name = s.slice(0, end);
    s = s.slice(end);
    const unit = UNITS.get(name);
    if (unit === undefined) {
      throw new SyntaxError(`time: unknown unit ${JSON.stringify(name)} in duration ${quoted}`);
    }
    if (whole > MAX / unit) throw invalid();
    let value = whole * unit;
    if (fraction > 0) {
      value += BigInt(Math.floor(fraction * (Number(unit) / scale)));
      if (value > MAX) throw invalid();
    }
    total += value;
    if (total > MAX) throw invalid();
  }
  if (negative) return -total;
  if (total > MAX - 1n) throw invalid();
  return total;
}

/**
 * Formats nanoseconds as a Go duration string that {@linkcode parseGoDuration} reads back, for
 * the client: whole milliseconds as `…ms`, anything finer as `…ns`.
 *
 * @param ns The duration in nanoseconds, ≥ 0.
 * @returns The text.
 */
export function formatGoDuration(ns: bigint): string {
  return ns % 1_000_000n === 0n ? `${ns / 1_000_000n}ms` : `${ns}ns`;
}
