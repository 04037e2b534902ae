/**
 * Numbered parameters (`?1`, `?2`) for drivers that bind only plain `?`: node:sqlite before
 * Node 22.20 (and 24.0 to 24.6) fails to bind `?NNN` with "column index out of range".
 *
 * @module
 */

/** A statement rewritten with plain `?` only, and where each plain one takes its value. */
export interface PlainParams {
  /** The statement with every numbered parameter written as `?`. */
  readonly sql: string;
  /**
   * For each `?` of {@linkcode PlainParams.sql}, in order, the 0-based index of the argument it
   * takes; `undefined` when the statement needs no rewriting.
   */
  readonly order: readonly number[] | undefined;
}

/**
 * Rewrites `sql` so that it uses plain `?` only, following SQLite's numbering: `?NNN` is
 * parameter NNN, and a plain `?` is one more than the largest number so far. Quoted text,
 * quoted names and comments are left alone. A statement with named parameters (`:a`, `@a`,
 * `$a`) or with plain `?` only is returned as it is.
 */
export function plainParams(sql: string): PlainParams {
  const unchanged: PlainParams = { sql, order: undefined };
  if (!/\?\d/.test(sql)) return unchanged;
  let out = "";
  const order: number[] = [];
  let largest = 0;
  let i = 0;
  const copyUntil = (end: number): void => {
    out += sql.slice(i, end);
    i = end;
  };
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === "'" || c === '"' || c === "`") {
      // A quoted string or name; a doubled quote stays inside it.
      let j = i + 1;
      while (j < sql.length) {
        if (sql[j] === c) {
          if (sql[j + 1] === c) j += 2;
          else break;
        } else j++;
      }
      copyUntil(Math.min(j + 1, sql.length));
    } else if (c === "[") {
      copyUntil(sql.includes("]", i) ? sql.indexOf("]", i) + 1 : sql.length);
    } else if (c === "-" && sql[i + 1] === "-") {
      copyUntil(sql.includes("\n", i) ? sql.indexOf("\n", i) + 1 : sql.length);
    } else if (c === "/" && sql[i + 1] === "*") {
      copyUntil(sql.includes("*/", i + 2) ? sql.indexOf("*/", i + 2) + 2 : sql.length);
    } else if (c === "?") {
      let j = i + 1;
      while (j < sql.length && sql[j]! >= "0" && sql[j]! <= "9") j++;
      const n = j > i + 1 ? Number(sql.slice(i + 1, j)) : largest + 1;
      largest = Math.max(largest, n);
      order.push(n - 1);
      out += "?";
      i = j;
    } else if ((c === ":" || c === "@" || c === "$") && /[A-Za-z_]/.test(sql[i + 1] ?? "")) {
      return unchanged;
    } else {
      copyUntil(i + 1);
    }
  }
  return { sql: out, order };
}

/**
 * The arguments for a statement rewritten by {@linkcode plainParams}, in its `?` order; a
 * parameter given no argument is null, as SQLite leaves it.
 */
export function reorder<T>(order: readonly number[], args: readonly T[]): Array<T | null> {
  const out = new Array<T | null>(order.length);
  for (let k = 0; k < order.length; k++) out[k] = args[order[k]!] ?? null;
  return out;
}
