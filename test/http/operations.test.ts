import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends, startTestPostern, type TestPostern, waitFor } from "../support/harness.ts";

describe.each(backends)("health, readiness and metrics (%s)", (backend) => {
  let t: TestPostern;
  beforeAll(async () => {
    t = await startTestPostern(backend);
  });
  afterAll(() => t?.close());

  it("answers liveness and readiness with each check", async () => {
    expect((await t.request("GET", "/healthz")).body).toEqual({ ok: true });
    const ready = await t.request("GET", "/readyz");
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ ok: true, checks: { database: true, migrations: true, queue: true } });
  });

  it("exposes delivery outcomes, send duration, queue depth and HTTP latency to Prometheus", async () => {
    const session = await t.signIn("metrics@example.com");
    await waitFor(async () => {
      const text = (await t.request("GET", "/metrics")).text;
      return /postern_deliveries_total\{status="sent",route="default"\} 1/.test(text) ? text : undefined;
    });
    const text = (await t.request("GET", "/metrics")).text;
    expect(text).toMatch(/postern_smtp_send_duration_seconds_count\{route="default",outcome="sent"\} 1/);
    expect(text).toMatch(/postern_queue_depth\{state="queued"\} \d+/);
    expect(text).toMatch(
      /postern_http_request_duration_seconds_count\{method="POST",route="\/api\/auth\/email",status="202"\} 1/,
    );
    expect(text).not.toContain(session.cookie.split("=")[1]!);
  });
});
