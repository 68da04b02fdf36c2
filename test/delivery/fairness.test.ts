import { createServer, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALLOWLIST, basicBody, deliveryWhen, sendLogin } from "../email-provider/support.ts";
import { type Session, startTestPostern, type TestPostern } from "../support/harness.ts";

describe("one tenant's hanging SMTP server", () => {
  let t: TestPostern;
  let session: Session;
  const sockets: Socket[] = [];
  // Accepts connections and never says a word: the worst kind of broken server.
  const silent = createServer((socket) => sockets.push(socket));

  beforeAll(async () => {
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    t = await startTestPostern("pglite", { ...ALLOWLIST, POSTERN_WORKER_CONCURRENCY: "3" });
    session = await t.signIn("owner@example.com");
    await t.unlock(session.workspaceId);
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    silent.close();
    await t?.close();
  });

  it("holds only the slots of its own emails: other apps' login emails go out meanwhile", async () => {
    const stuck = await t.createApp(session, { name: "Stuck" });
    const healthy = await t.createApp(session, { name: "Healthy" });
    const port = (silent.address() as { port: number }).port;
    const saved = await t.request("PUT", `/api/apps/${stuck.id}/email-provider`, {
      session,
      body: basicBody(port),
    });
    expect(saved.status).toBe(200);
    const hanging = [
      await sendLogin(t, stuck.publishableKey, "a@example.com"),
      await sendLogin(t, stuck.publishableKey, "b@example.com"),
    ];
    await deliveryWhen(t, session, stuck.id, hanging[1]!, (d) => d.status === "sending");

    const started = Date.now();
    const id = await sendLogin(t, healthy.publishableKey, "fine@example.com");
    await deliveryWhen(t, session, healthy.id, id, (d) => d.status === "sent");
    expect(Date.now() - started).toBeLessThan(5_000);
    for (const h of hanging)
      expect((await deliveryWhen(t, session, stuck.id, h, () => true)).status).toBe("sending");
  });
});
