import type Provider from "oidc-provider";
import { type App, getAppById } from "../apps/apps.ts";
import { signingKeyIds } from "../apps/signing-keys.ts";
import { boundedCache } from "../bounded-cache.ts";
import type { Context } from "../context.ts";
import { buildProvider, type ProviderPages } from "./provider.ts";

const MAX_CACHED = 200;

/**
 * The apps' providers, built on first use and kept while their keys stay the same. Everything else
 * about an app (redirect URLs, secret key, client settings, name) is read from the database on every
 * request by the adapter, so a change made through any process applies at once everywhere.
 */
export class OidcProviders {
  /** Set on every use: the least recently used goes first when the cache is full. */
  private readonly cache = boundedCache<{ keys: string; provider: Promise<Provider> }>(MAX_CACHED);

  constructor(
    private readonly ctx: Context,
    private readonly pages: ProviderPages,
  ) {}

  /** The app and its provider, or undefined when there is no such app. */
  async get(appId: string): Promise<{ app: App; provider: Provider } | undefined> {
    const app = await getAppById(this.ctx.db, appId);
    if (!app) {
      this.cache.delete(appId);
      return undefined;
    }
    const keys = (await signingKeyIds(this.ctx.db, appId)).join(",");
    let entry = this.cache.get(appId);
    if (!entry || entry.keys !== keys) {
      entry = { keys, provider: buildProvider(this.ctx, app, this.pages) };
      entry.provider.catch(() => this.cache.delete(appId));
    }
    this.cache.set(appId, entry);
    return { app, provider: await entry.provider };
  }
}
