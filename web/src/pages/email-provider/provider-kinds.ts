import { api } from "../../api/client.ts";
import type { Operation, ResponseOf } from "../../api/operations.ts";
import { useResource } from "../../use-resource.ts";

/** The answer of GET /api/email-provider-kinds: every kind with its form metadata, as /openapi.json describes it. */
export type ProviderKindsResponse = ResponseOf<Operation<"/api/email-provider-kinds", "get">>;

/** One provider kind as the dashboard offers it. */
export type ProviderKind = ProviderKindsResponse["kinds"][number];

/** One field of a kind's form (src/email-provider/kinds/form.ts): names are the PUT body's. */
export type KindField = ProviderKind["fields"][number];

/**
 * The saved provider as the API returns it: the common fields, and every kind's own fields optional
 * (which appear depends on the kind), read by the name the kind's metadata gives them.
 */
export type ProviderView = NonNullable<
  ResponseOf<Operation<"/api/apps/{appId}/email-provider", "get">>["provider"]
>;

/** The saved certificate's public description (the `certificate` input shows it). */
export type ProviderCertificate = NonNullable<ProviderView["certificate"]>;

/** A field of the saved provider's view, by the name the metadata gives it. */
export const viewValue = (provider: ProviderView, name: string): unknown =>
  (provider as unknown as Record<string, unknown>)[name];

/** Whether a saved provider is of this kind: every key of the kind's `match` has the view's value. */
export const isOfKind = (kind: ProviderKind, provider: ProviderView): boolean =>
  Object.entries(kind.match).every(([key, value]) => viewValue(provider, key) === value);

/** The kind a saved provider belongs to. */
export const kindOfProvider = (kinds: ProviderKind[], provider: ProviderView | null) =>
  provider ? kinds.find((kind) => isOfKind(kind, provider)) : undefined;

// The registry changes only with a new server version: one request per page load, shared by every app.
let kindsRequest: Promise<ProviderKindsResponse> | undefined;
const loadKinds = () => {
  kindsRequest ??= api.get("/api/email-provider-kinds").catch((error: unknown) => {
    kindsRequest = undefined;
    throw error;
  });
  return kindsRequest;
};

/** Every provider kind with its form, fetched once. */
export const useProviderKinds = () => useResource("email-provider-kinds", loadKinds);
