/**
 * The characters that must not reach a terminal or a page as they are, wherever qite shows text
 * that others wrote (bodies, queue and job names): C0 and C1 controls (line breaks and tabs
 * too), DEL, and the characters that hide or reorder text (zero-width, direction-changing, line
 * and paragraph separators, the BOM). The command line and the dashboard share them.
 *
 * @module
 */

/** The characters, as the inside of a regular expression's character class. */
export const HIDDEN_CHARS =
  "\\u0000-\\u001f\\u007f-\\u009f\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u2069\\ufeff";

/** A visible stand-in for one such character: `<U+XXXX>`. */
export function codePointName(char: string): string {
  return `<U+${char.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}>`;
}
