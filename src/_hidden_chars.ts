/**
 * The characters that must not reach a terminal or a page as they are, wherever qite shows text
 * that others wrote (bodies, queue and job names): controls (C0 and C1, line breaks and tabs
 * too, DEL), format characters (zero-width, direction-changing, the BOM, soft hyphen, tags),
 * line and paragraph separators, and every other character Unicode says to render as nothing
 * (fillers, variation selectors, the combining grapheme joiner). With them, two different names
 * could look alike (`pay\u00adments` and `payments`); shown, they cannot. The command line and
 * the dashboard share them.
 *
 * Variation selectors are among them, so an emoji written with one (U+2764 U+FE0F) shows the
 * selector too: the price of never hiding one in a name.
 *
 * @module
 */

/**
 * The characters, as the inside of a regular expression's character class; the expression needs
 * the `u` flag.
 */
export const HIDDEN_CHARS = "\\p{Cc}\\p{Cf}\\p{Zl}\\p{Zp}\\p{Default_Ignorable_Code_Point}";

/** A visible stand-in for one such character: `<U+XXXX>`. */
export function codePointName(char: string): string {
  return `<U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}>`;
}
