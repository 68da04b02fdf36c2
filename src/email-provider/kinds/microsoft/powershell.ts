/**
 * The characters PowerShell reads as a single quote: the apostrophe and the four typographic quotes
 * (PowerShell Language Specification 3.0, §2.3.5.2 "String literals", single-quote-character:
 * U+0027, U+2018, U+2019, U+201A, U+201B).
 */
const SINGLE_QUOTES = /['\u2018\u2019\u201A\u201B]/g;

/**
 * A PowerShell verbatim (single-quoted) string: nothing inside is expanded, and inside it any
 * single-quote character followed by another is one literal quote, so doubling each one keeps the
 * value exactly and never ends the string.
 */
export const psQuote = (value: string): string =>
  `'${value.replace(SINGLE_QUOTES, (quote) => quote + quote)}'`;
