// The dashboard's files: hashed assets compressed at build time and cached for a year, index.html
// revalidated on every visit, and client-side routes answered with index.html. Needs `npm run build:web`.
import { readdirSync, readFileSync } from "node:fs";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPostern, type TestPostern } from "../support/harness.ts";

const dist = new URL("../../web/dist/", import.meta.url);
const bundle = readdirSync(new URL("assets/", dist)).find((f) => f.endsWith(".js"));

describe("dashboard static assets", () => {
  let t: TestPostern;
  const get = (url: string, acceptEncoding?: string) =>
    t.postern.http.inject({
      method: "GET",
      url,
      headers: acceptEncoding ? { "accept-encoding": acceptEncoding } : {},
    });

  beforeAll(async () => {
    t = await startTestPostern("pglite", {}, { workers: false });
  });
  afterAll(() => t?.close());

  it("has a built bundle to serve", () => {
    expect(bundle, "run npm run build:web first").toBeDefined();
  });

  const original = () => readFileSync(new URL(`assets/${bundle}`, dist));

  it("sends the bundle brotli-compressed to a browser that accepts br, decompressing to the same bytes", async () => {
    const res = await get(`/assets/${bundle}`, "gzip, deflate, br");
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-encoding"]).toBe("br");
    expect(res.headers["content-type"]).toMatch(/javascript/);
    expect(res.headers.vary).toMatch(/accept-encoding/i);
    expect(res.rawPayload.length).toBeLessThan(original().length / 2);
    expect(brotliDecompressSync(res.rawPayload).equals(original())).toBe(true);
  });

  it("sends it gzip-compressed to a client that accepts only gzip", async () => {
    const res = await get(`/assets/${bundle}`, "gzip");
    expect(res.headers["content-encoding"]).toBe("gzip");
    expect(res.headers.vary).toMatch(/accept-encoding/i);
    expect(gunzipSync(res.rawPayload).equals(original())).toBe(true);
  });

  it("sends it as is to a client that accepts no encoding", async () => {
    const res = await get(`/assets/${bundle}`);
    expect(res.headers["content-encoding"]).toBeUndefined();
    expect(res.rawPayload.equals(original())).toBe(true);
  });

  it("lets browsers keep a hashed file for a year and makes them revalidate index.html", async () => {
    expect((await get(`/assets/${bundle}`, "br")).headers["cache-control"]).toBe(
      "public, max-age=31536000, immutable",
    );
    for (const url of ["/", "/index.html"]) {
      const res = await get(url, "br");
      expect(res.statusCode).toBe(200);
      expect(res.headers["cache-control"]).toBe("no-cache");
      expect(res.headers["content-type"]).toMatch(/text\/html/);
    }
  });

  it("answers a deep link into the dashboard with index.html, not cached", async () => {
    const res = await get("/workspaces/ws_x/apps/app_y/settings", "gzip");
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/text\/html/);
    expect(res.headers["cache-control"]).toBe("no-cache");
    const html = res.headers["content-encoding"] === "gzip" ? gunzipSync(res.rawPayload) : res.rawPayload;
    expect(html.toString()).toContain(`/assets/${bundle}`);
  });
});
