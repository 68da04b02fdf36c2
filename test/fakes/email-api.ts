// What the HTTPS fakes of the email APIs (SendGrid, Postmark, Resend) share: an HTTPS server with the test CA,
// JSON in and out, a request log, scripted failures and outages, latency, per-key request windows, and the
// peak number of requests in flight per key. Each vendor's fake (sendgrid.ts, postmark.ts, resend.ts) answers
// the vendor's routes on top of it, with the vendor's own status codes, bodies and headers.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { Socket } from "node:net";
import { type CertChoice, tlsCredentials } from "./certs.ts";

export interface ApiRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body; undefined when there was none or it was not JSON. */
  body: unknown;
  sizeBytes: number;
}

export interface ApiAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ApiRequestRecord {
  method: string;
  path: string;
  status: number;
  at: Date;
  /** Who asked (the fake's key function: an API key, a token), for per-key assertions. */
  key?: string | undefined;
}

export interface ApiFakeCoreOptions {
  /** Answers one request: the vendor's routes. */
  handle(request: ApiRequest): Promise<ApiAnswer> | ApiAnswer;
  /** Whose request it is, for windows and concurrency (e.g. the bearer key); undefined for none. */
  keyOf(request: ApiRequest): string | undefined;
  /** Which requests scripted failures and outages apply to (default: every one). */
  scriptable?(request: ApiRequest): boolean;
  maxBodyBytes?: number;
  cert?: CertChoice;
}

export interface ApiFakeCore {
  readonly port: number;
  readonly url: string;
  readonly requestLog: ApiRequestRecord[];
  /** The most requests of one key that were in flight at once. */
  peakInFlight(key: string): number;
  /**
   * The next `count` scriptable requests get `answer` (before any other check); with `recipient`, only
   * requests whose body names that address, so an earlier email still retrying cannot take it.
   */
  failNext(count: number, answer: ApiAnswer, recipient?: string): void;
  /** Every scriptable request gets `answer` until endOutage(). */
  startOutage(answer: ApiAnswer): void;
  endOutage(): void;
  /** Real time each request takes before it is answered (holding its place in flight). */
  setLatency(ms: number): void;
  close(): Promise<void>;
}

/** Requests per key in a window of `windowMs`; `take` says when the window has room again. */
export class RequestWindow {
  private readonly starts = new Map<string, number[]>();
  constructor(
    public limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new limit, and a window that starts empty (as if the earlier requests were long ago). */
  reset(limit: number): void {
    this.limit = limit;
    this.starts.clear();
  }

  take(key: string): { ok: true; remaining: number } | { ok: false; resetMs: number } {
    const now = this.now();
    const recent = (this.starts.get(key) ?? []).filter((t) => now - t < this.windowMs);
    if (recent.length >= this.limit) {
      this.starts.set(key, recent);
      return { ok: false, resetMs: recent[0]! + this.windowMs - now };
    }
    recent.push(now);
    this.starts.set(key, recent);
    return { ok: true, remaining: this.limit - recent.length };
  }
}

async function readBody(req: IncomingMessage, max: number): Promise<{ raw: Buffer; size: number }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= max) chunks.push(chunk as Buffer);
  }
  return { raw: Buffer.concat(chunks), size };
}

export async function startApiFakeCore(options: ApiFakeCoreOptions): Promise<ApiFakeCore> {
  const requestLog: ApiRequestRecord[] = [];
  const scripted: { answer: ApiAnswer; recipient?: string | undefined }[] = [];
  const takeScripted = (request: ApiRequest): ApiAnswer | undefined => {
    const body = JSON.stringify(request.body ?? "");
    const index = scripted.findIndex((s) => s.recipient === undefined || body.includes(s.recipient));
    return index < 0 ? undefined : scripted.splice(index, 1)[0]!.answer;
  };
  const inFlight = new Map<string, number>();
  const peaks = new Map<string, number>();
  let outage: ApiAnswer | undefined;
  let latencyMs = 0;
  const sockets = new Set<Socket>();
  const maxBody = options.maxBodyBytes ?? 40 * 1024 * 1024;

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "https://api.local");
    const { raw, size } = await readBody(req, maxBody);
    let body: unknown;
    try {
      body = raw.length > 0 ? JSON.parse(raw.toString("utf8")) : undefined;
    } catch {
      body = undefined;
    }
    const request: ApiRequest = {
      method: req.method ?? "",
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body,
      sizeBytes: size,
    };
    const key = options.keyOf(request);
    const record: ApiRequestRecord = {
      method: request.method,
      path: request.path,
      status: 0,
      at: new Date(),
      key,
    };
    requestLog.push(record);
    if (key !== undefined) {
      const now = (inFlight.get(key) ?? 0) + 1;
      inFlight.set(key, now);
      peaks.set(key, Math.max(peaks.get(key) ?? 0, now));
    }
    try {
      if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
      const scriptable = options.scriptable?.(request) ?? true;
      const answer =
        (scriptable && outage) || (scriptable && takeScripted(request)) || (await options.handle(request));
      record.status = answer.status;
      const payload = answer.body === undefined ? "" : JSON.stringify(answer.body);
      res.writeHead(answer.status, {
        ...(payload ? { "Content-Type": "application/json; charset=utf-8" } : {}),
        "Content-Length": String(Buffer.byteLength(payload)),
        ...answer.headers,
      });
      res.end(payload);
    } finally {
      if (key !== undefined) inFlight.set(key, (inFlight.get(key) ?? 1) - 1);
    }
  }

  const server: Server = createServer(tlsCredentials(options.cert), (req, res) => {
    route(req, res).catch((err: unknown) => {
      if (res.headersSent) return;
      res.writeHead(500, { "Content-Type": "text/plain" });
      res.end(String(err));
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("unexpected listen address");

  return {
    port: address.port,
    url: `https://localhost:${address.port}`,
    requestLog,
    peakInFlight: (key) => peaks.get(key) ?? 0,
    failNext(count, answer, recipient) {
      for (let i = 0; i < count; i++) scripted.push({ answer, recipient });
    },
    startOutage(answer) {
      outage = answer;
    },
    endOutage() {
      outage = undefined;
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/** `Name <address>`, `"Name" <address>` or a bare address, as the APIs taking a From string read it. */
export function parseAddressString(value: unknown): { name: string; address: string } | undefined {
  if (typeof value !== "string") return undefined;
  const match = /^\s*(?:"((?:[^"\\]|\\.)*)"|([^<>"]*?))\s*<([^<>\s@]+@[^<>\s@]+\.[^<>\s@]+)>\s*$/.exec(value);
  if (match) return { name: (match[1] ?? match[2] ?? "").replace(/\\(.)/g, "$1").trim(), address: match[3]! };
  return /^[^<>\s@"]+@[^<>\s@]+\.[^<>\s@]+$/.test(value.trim())
    ? { name: "", address: value.trim() }
    : undefined;
}

export const isAddress = (value: unknown): value is string =>
  typeof value === "string" && /^[^<>\s@"]+@[^<>\s@]+\.[^<>\s@]+$/.test(value);

export const domainOf = (address: string) => address.slice(address.lastIndexOf("@") + 1).toLowerCase();
