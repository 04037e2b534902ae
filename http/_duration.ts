/**
 * Go duration strings (`300ms`, `1.5s`, `1m30s`), parsed as Go's `time.ParseDuration` parses
 * them, because goqite's clients send them in `?timeout=` and `?interval=`.
 *
 * The text is a byte string (one char per byte, as {@linkcode parseGoQuery} returns query
 * values), because Go reads it as bytes: `µs` is the two bytes `\xc2\xb5` followed by `s`.
 *
 * @module
 */

const UNITS: ReadonlyMap<string, bigint> = new Map([
  ["ns", 1n],
  ["us", 1_000n],
  ["\xc2\xb5s", 1_000n], // U+00B5 micro sign, as UTF-8 bytes
  ["\xce\xbcs", 1_000n], // U+03BC Greek mu, as UTF-8 bytes
  ["ms", 1_000_000n],
  ["s", 1_000_000_000n],
  ["m", 60_000_000_000n],
  ["h", 3_600_000_000_000n],
]);

const MAX = 1n << 63n;
const MAX_QUOTED = 64;
const NON_ASCII = /[^ -~]/; // anything but printable ASCII (a URL's query holds no controls)

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= "0" && c <= "9";
}

/**
 * Quotes a byte string as Go's time package does in its errors (bytes below a space or above
 * 0x7f as `\xNN`, `"` and `\` escaped), keeping at most the first 64 bytes, so that an error
 * answer never echoes more than a short excerpt of the input.
 *
 * @param bytes The byte string.
 * @returns The quoted excerpt, with `…` and the whole length when it was cut.
 */
export function quoteGo(bytes: string): string {
  let out = '"';
  const shown = bytes.length > MAX_QUOTED ? bytes.slice(0, MAX_QUOTED) : bytes;
  for (const c of shown) {
    const code = c.charCodeAt(0);
    if (code < 0x20 || code >= 0x80) {
      out += `\\x${code.toString(16).padStart(2, "0")}`;
    } else if (c === '"' || c === "\\") out += `\\${c}`;
    else out += c;
  }
  return shown === bytes ? `${out}"` : `${out}…" (${bytes.length} bytes)`;
}

/**
 * Parses a Go duration string, such as `300ms`, `-1.5h` or `2h45m`, into nanoseconds, with
 * Go's rules: 64-bit overflow checks on the whole part, at most 63 bits of fraction digits
 * (further digits are ignored), the fraction scaled through a double.
 *
 * @param text The duration, as a byte string.
 * @returns The duration in nanoseconds (may be negative).
 * @throws {SyntaxError} With Go's message (`time: invalid duration "x"`, the input quoted as
 * an excerpt) if it does not parse or overflows 64 bits.
 */
export function parseGoDuration(text: string): bigint {
  const invalid = (): SyntaxError => new SyntaxError(`time: invalid duration ${quoteGo(text)}`);
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
    // The whole part: an unsigned integer of at most 2^63.
    let i = 0;
    let whole = 0n;
    while (isDigit(s[i])) {
      if (whole > MAX / 10n) throw invalid();
      whole = whole * 10n + BigInt(s.charCodeAt(i) - 48);
      if (whole > MAX) throw invalid();
      i++;
    }
    const pre = i > 0;
    // The fraction: digits while they fit 63 bits, then ignored.
    let fraction = 0n;
    let scale = 1;
    let post = false;
    if (s[i] === ".") {
      i++;
      const from = i;
      let overflow = false;
      while (isDigit(s[i])) {
        if (!overflow) {
          if (fraction > (MAX - 1n) / 10n) overflow = true;
          else {
            const next = fraction * 10n + BigInt(s.charCodeAt(i) - 48);
            if (next > MAX) overflow = true;
            else {
              fraction = next;
              scale *= 10;
            }
          }
        }
        i++;
      }
      post = i > from;
    }
    if (!pre && !post) throw invalid();
    s = s.slice(i);
    let end = 0;
    while (end < s.length && s[end] !== "." && !isDigit(s[end])) end++;
    if (end === 0) throw new SyntaxError(`time: missing unit in duration ${quoteGo(text)}`);
    const name = s.slice(0, end);
    s = s.slice(end);
    const unit = UNITS.get(name);
    if (unit === undefined) {
      throw new SyntaxError(`time: unknown unit ${quoteGo(name)} in duration ${quoteGo(text)}`);
    }
    if (whole > MAX / unit) throw invalid();
    let value = whole * unit;
    if (fraction > 0n) {
      value += BigInt(Math.trunc(Number(fraction) * (Number(unit) / scale)));
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
 * Parses a URL's raw query as Go's `url.ParseQuery` does: pairs split on `&`, a pair holding a
 * `;` or a malformed `%` escape dropped, `+` read as a space, and values kept as byte strings
 * (one char per byte, not decoded as UTF-8).
 *
 * @param raw The query, without the `?`.
 * @returns Each key's values, in order (`Get` is the first).
 */
export function parseGoQuery(raw: string): Map<string, string[]> {
  const values = new Map<string, string[]>();
  for (const pair of raw.split("&")) {
    if (pair === "" || pair.includes(";")) continue;
    const eq = pair.indexOf("=");
    const key = unescapeQuery(eq < 0 ? pair : pair.slice(0, eq));
    const value = unescapeQuery(eq < 0 ? "" : pair.slice(eq + 1));
    if (key === undefined || value === undefined) continue;
    const list = values.get(key);
    if (list === undefined) values.set(key, [value]);
    else list.push(value);
  }
  return values;
}

/** Go's `url.QueryUnescape` to a byte string, or `undefined` for a malformed escape. */
function unescapeQuery(s: string): string | undefined {
  if (!s.includes("%") && !s.includes("+") && !NON_ASCII.test(s)) return s;
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "%") {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return undefined;
      out += String.fromCharCode(parseInt(hex, 16));
      i += 2;
    } else if (c === "+") out += " ";
    else if (c.charCodeAt(0) < 0x80) out += c;
    else {
      // A raw non-ASCII character: its UTF-8 bytes.
      const cp = s.codePointAt(i)!;
      for (const byte of new TextEncoder().encode(String.fromCodePoint(cp))) {
        out += String.fromCharCode(byte);
      }
      if (cp > 0xffff) i++;
    }
  }
  return out;
}
