import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends, type Session, startTestPostern, type TestPostern } from "../support/harness.ts";
import { ALLOWLIST, basicBody } from "./support.ts";

const PASSWORD = "chain-Passw0rd-never-shown!";

type View = {
  id: string;
  position: number;
  label: string;
  senderEmail: string;
  health: { ifItFails: string };
};
type State = { provider: View | null; providers: View[] };

/** The /email-providers routes: an ordered chain per app, addressed by id, that no other app or workspace can touch. */
describe.each(backends)("an app's chain of email providers (%s)", (backend) => {
  let t: TestPostern;
  let owner: Session;
  let app: { id: string };
  let sibling: { id: string };
  let attacker: Session;
  let attackerApp: { id: string };
  const responses: string[] = [];

  const call = async (session: Session, method: string, url: string, body?: unknown) => {
    const res = await t.request(method, url, { session, ...(body !== undefined ? { body } : {}) });
    responses.push(res.text);
    return res;
  };
  const state = async (appId = app.id) =>
    (await call(owner, "GET", `/api/apps/${appId}/email-providers`)).body as unknown as State;
  const provider = (n: number) =>
    basicBody(2500 + n, { senderEmail: `login${n}@acme.example`, username: `user${n}`, password: PASSWORD });

  beforeAll(async () => {
    t = await startTestPostern(backend, ALLOWLIST);
    owner = await t.signIn("owner@acme.example");
    app = await t.createApp(owner, { name: "Acme" });
    sibling = await t.createApp(owner, { name: "Acme Two" });
    await t.unlock(owner.workspaceId);
    attacker = await t.signIn("mallory@evil.example");
    attackerApp = await t.createApp(attacker, { name: "Evil" });
    await t.unlock(attacker.workspaceId);
    const first = await call(owner, "PUT", `/api/apps/${app.id}/email-provider`, provider(1));
    expect(first.status, first.text).toBe(200);
    for (const n of [2, 3]) {
      const res = await call(owner, "POST", `/api/apps/${app.id}/email-providers`, provider(n));
      expect(res.status, res.text).toBe(200);
    }
  });
  afterAll(() => t?.close());

  it("keeps the providers in the order they were added, the first as the primary", async () => {
    const { provider: primary, providers } = await state();
    expect(providers.map((p) => [p.senderEmail, p.position])).toEqual([
      ["login1@acme.example", 0],
      ["login2@acme.example", 1],
      ["login3@acme.example", 2],
    ]);
    expect(primary?.id).toBe(providers[0]!.id);
    expect(providers[0]!.label).toBe("Basic Auth (login1@acme.example)");
    // Each says what takes its emails while it fails: the next one, and the last one nothing.
    expect(providers[0]!.health.ifItFails).toContain(`the next provider, ${providers[1]!.label}`);
    expect(providers[2]!.health.ifItFails).not.toContain("the next provider");
  });

  it("refuses a sixth provider, naming why, and adds nothing", async () => {
    for (const n of [4, 5]) {
      const res = await call(owner, "POST", `/api/apps/${app.id}/email-providers`, provider(n));
      expect(res.status, res.text).toBe(200);
    }
    const sixth = await call(owner, "POST", `/api/apps/${app.id}/email-providers`, provider(6));
    expect(sixth.status).toBe(400);
    expect(sixth.body).toMatchObject({ code: "too_many_providers" });
    expect((await state()).providers).toHaveLength(5);
    for (const p of (await state()).providers.slice(3)) {
      const res = await call(owner, "DELETE", `/api/apps/${app.id}/email-providers/${p.id}`);
      expect(res.status).toBe(204);
    }
  });

  it("reorders only with every id of the app exactly once", async () => {
    const ids = (await state()).providers.map((p) => p.id);
    const [a, b, c] = ids as [string, string, string];
    const foreign = (await call(owner, "PUT", `/api/apps/${sibling.id}/email-provider`, provider(9))).body
      .provider as View;
    for (const order of [[a, b], [a, b, b], [a, b, c, foreign.id], [a, b, "prov_nope"], []]) {
      const res = await call(owner, "PUT", `/api/apps/${app.id}/email-providers/order`, { order });
      expect(res.status, JSON.stringify(order)).toBe(400);
      expect(res.body).toMatchObject({ code: "order_mismatch", field: "order" });
    }
    expect((await state()).providers.map((p) => p.id)).toEqual(ids);

    const res = await call(owner, "PUT", `/api/apps/${app.id}/email-providers/order`, { order: [c, a, b] });
    expect(res.status, res.text).toBe(200);
    const after = res.body as unknown as State;
    expect(after.providers.map((p) => [p.id, p.position])).toEqual([
      [c, 0],
      [a, 1],
      [b, 2],
    ]);
    // The single-provider routes follow: they address the new primary.
    const single = await call(owner, "GET", `/api/apps/${app.id}/email-provider`);
    expect((single.body.provider as View).id).toBe(c);
    const audit = await call(owner, "GET", `/api/workspaces/${owner.workspaceId}/audit`);
    expect(audit.text).toContain("email_provider.reordered");
  });

  it("moves the others up when one is removed", async () => {
    const [primary, second, third] = (await state()).providers as [View, View, View];
    const res = await call(owner, "DELETE", `/api/apps/${app.id}/email-providers/${primary.id}`);
    expect(res.status).toBe(204);
    expect((await state()).providers.map((p) => [p.id, p.position])).toEqual([
      [second.id, 0],
      [third.id, 1],
    ]);
  });

  it("changes one provider by id, leaving the others as they were", async () => {
    const [first, second] = (await state()).providers as [View, View];
    const res = await call(owner, "PUT", `/api/apps/${app.id}/email-providers/${second.id}`, {
      ...provider(7),
      password: undefined,
    });
    expect(res.status, res.text).toBe(400); // a new destination needs its password again
    expect(res.body).toMatchObject({ code: "secret_required" });
    const ok = await call(owner, "PUT", `/api/apps/${app.id}/email-providers/${second.id}`, {
      ...basicBody((second as unknown as { port: number }).port, {
        senderEmail: "renamed@acme.example",
        username: (second as unknown as { username: string }).username,
      }),
      password: undefined,
    });
    expect(ok.status, ok.text).toBe(200);
    const after = (await state()).providers;
    expect(after.map((p) => p.senderEmail)).toEqual([first.senderEmail, "renamed@acme.example"]);
    const off = await call(owner, "PATCH", `/api/apps/${app.id}/email-providers/${second.id}`, {
      enabled: false,
    });
    expect(off.status, off.text).toBe(200);
    expect(
      (off.body as unknown as State).providers.map((p) => (p as unknown as { enabled: boolean }).enabled),
    ).toEqual([true, false]);
    // Disabled, it takes no emails: the primary's fallback is nothing now.
    expect((off.body as unknown as State).providers[0]!.health.ifItFails).not.toContain("the next provider");
  });

  it("answers another app's or another workspace's provider id as unknown, and changes nothing", async () => {
    const victim = await state();
    const siblingState = await state(sibling.id);
    const ids = [...victim.providers, ...siblingState.providers].map((p) => p.id);
    const tries: [Session, string][] = [
      // The owner through another of their apps: an id names a provider of one app only.
      [owner, sibling.id],
      // Another workspace, through its own app and through the victim's.
      [attacker, attackerApp.id],
      [attacker, app.id],
    ];
    for (const [session, appId] of tries) {
      for (const id of ids) {
        if (session === owner && siblingState.providers.some((p) => p.id === id)) continue;
        const base = `/api/apps/${appId}/email-providers/${id}`;
        for (const [method, url, body] of [
          ["PUT", base, provider(8)],
          ["PATCH", base, { enabled: false }],
          ["DELETE", base, undefined],
          ["POST", `${base}/test`, {}],
        ] as const) {
          const res = await call(session, method, url, body);
          expect(res.status, `${method} ${url}`).toBe(404);
        }
      }
      const reorder = await call(session, "PUT", `/api/apps/${appId}/email-providers/order`, {
        order: victim.providers.map((p) => p.id).toReversed(),
      });
      expect(reorder.status).toBeGreaterThanOrEqual(400);
      expect(reorder.status).toBeLessThan(500);
    }
    expect(await state()).toEqual(victim);
    expect(await state(sibling.id)).toEqual(siblingState);
  });

  it("never shows a password in any answer", () => {
    expect(responses.length).toBeGreaterThan(20);
    for (const text of responses) expect(text).not.toContain(PASSWORD);
  });
});
