import * as client from "openid-client";
import type { Postern } from "../../src/postern.ts";

export const PUBLIC_ORIGIN = "http://postern.localhost";

/** openid-client's requests, answered by Postern in-process (inject), as if over HTTP. */
export function injectFetch(postern: Postern) {
  return async (
    url: string,
    init: { method?: string; headers?: HeadersInit | Record<string, string>; body?: unknown } = {},
  ): Promise<Response> => {
    const target = new URL(url);
    if (target.origin !== PUBLIC_ORIGIN) throw new Error(`unexpected request to ${url}`);
    const res = await postern.http.inject({
      method: (init.method ?? "GET") as "GET",
      url: target.pathname + target.search,
      headers: Object.fromEntries(new Headers(init.headers).entries()),
      ...(init.body !== undefined && init.body !== null
        ? { payload: init.body instanceof Uint8Array ? Buffer.from(init.body) : String(init.body) }
        : {}),
    });
    const headers = new Headers();
    for (const [name, value] of Object.entries(res.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : String(value));
    }
    const empty = res.statusCode === 204 || res.statusCode === 304;
    return new Response(empty ? null : new Uint8Array(res.rawPayload), { status: res.statusCode, headers });
  };
}

/** openid-client configured for an app's issuer, talking to Postern in-process. */
export async function relyingParty(
  postern: Postern,
  issuer: string,
  clientId: string,
  auth: client.ClientAuth = client.None(),
): Promise<client.Configuration> {
  const fetch = injectFetch(postern);
  const config = await client.discovery(new URL(issuer), clientId, undefined, auth, {
    execute: [client.allowInsecureRequests],
    [client.customFetch]: fetch,
  });
  config[client.customFetch] = fetch;
  return config;
}

interface StoredCookie {
  value: string;
  path: string;
}

export interface Answer {
  status: number;
  location: string | undefined;
  text: string;
  url: string;
}

/**
 * A browser, as far as Postern can tell: a cookie jar that honours cookie paths, form posts from
 * the same origin, and redirects followed until they leave Postern (to the app's callback).
 */
export class TestBrowser {
  private readonly cookies = new Map<string, StoredCookie>();

  constructor(
    private postern: Postern,
    private readonly origin: string = PUBLIC_ORIGIN,
  ) {}

  /** The same browser (cookies) talking to another Postern process of the same deployment. */
  use(postern: Postern): this {
    this.postern = postern;
    return this;
  }

  private cookieHeader(path: string): string {
    return [...this.cookies.entries()]
      .filter(
        ([, c]) =>
          path === c.path || path.startsWith(c.path.endsWith("/") ? c.path : `${c.path}/`) || c.path === "/",
      )
      .map(([key, c]) => `${key.split("|")[0]}=${c.value}`)
      .join("; ");
  }

  private remember(setCookie: string | string[] | number | undefined) {
    const lines = Array.isArray(setCookie) ? setCookie : setCookie ? [String(setCookie)] : [];
    for (const line of lines) {
      const [pair, ...attributes] = line.split(";").map((part) => part.trim());
      const [name, ...rest] = pair!.split("=");
      const path = attributes.find((a) => a.toLowerCase().startsWith("path="))?.slice(5) ?? "/";
      const expired = attributes.some((a) => /^expires=thu, 01 jan 1970/i.test(a) || /^max-age=0$/i.test(a));
      const key = `${name}|${path}`;
      if (expired) this.cookies.delete(key);
      else this.cookies.set(key, { value: rest.join("="), path });
    }
  }

  has(name: string): boolean {
    return [...this.cookies.keys()].some((key) => key.startsWith(`${name}|`));
  }

  async request(method: "GET" | "POST", url: string, form?: Record<string, string>): Promise<Answer> {
    const target = new URL(url, this.origin);
    const res = await this.postern.http.inject({
      method,
      url: target.pathname + target.search,
      headers: {
        cookie: this.cookieHeader(target.pathname),
        ...(form
          ? {
              "content-type": "application/x-www-form-urlencoded",
              origin: this.origin,
              "sec-fetch-site": "same-origin",
            }
          : {}),
      },
      ...(form ? { payload: new URLSearchParams(form).toString() } : {}),
    });
    this.remember(res.headers["set-cookie"]);
    const location = res.headers.location === undefined ? undefined : String(res.headers.location);
    return { status: res.statusCode, location, text: res.body, url: target.toString() };
  }

  /** Follows redirects within Postern; returns the last answer, or the first redirect that leaves. */
  async follow(first: Answer): Promise<Answer> {
    let answer = first;
    for (let hops = 0; hops < 10; hops++) {
      if (answer.status < 300 || answer.status >= 400 || !answer.location) return answer;
      const next = new URL(answer.location, answer.url);
      if (next.origin !== this.origin) return { ...answer, location: next.toString() };
      answer = await this.request("GET", next.toString());
    }
    throw new Error("too many redirects");
  }

  async get(url: string): Promise<Answer> {
    return this.follow(await this.request("GET", url));
  }

  async post(url: string, form: Record<string, string>): Promise<Answer> {
    return this.follow(await this.request("POST", url, form));
  }
}

/** The hosted page's interaction path, from the page a browser landed on. */
export function interactionBase(answer: Answer): string {
  const path = new URL(answer.url).pathname;
  if (!/^\/oidc\/[^/]+\/interaction\/[^/]+$/.test(path))
    throw new Error(`not on the hosted page: ${path}\n${answer.text}`);
  return path;
}
