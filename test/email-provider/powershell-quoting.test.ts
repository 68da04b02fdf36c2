import { describe, expect, it } from "vitest";
import { microsoftGuide } from "../../src/email-provider/kinds/microsoft/guide.ts";
import { psQuote } from "../../src/email-provider/kinds/microsoft/powershell.ts";
import { HOSTILE, readVerbatimString } from "./powershell-reader.ts";

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
