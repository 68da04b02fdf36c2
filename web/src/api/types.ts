// Shapes of the management API: names for the generated types of /openapi.json (./openapi.ts), so a
// change on the server shows up here as a type error instead of drifting. The few hand-written parts
// say why the document does not describe them.
import type { BodyOf, Method, Operation, PathWith, ResponseOf } from "./operations.ts";

type Answer<M extends Method, P extends PathWith<M>> = ResponseOf<Operation<P, M>>;
type Body<M extends Method, P extends PathWith<M>> = BodyOf<Operation<P, M>>;
type Item<List> = List extends readonly (infer Element)[] ? Element : never;

/**
 * RFC 9457 problem details. The document gives every error answer the standard members and `field`,
 * and leaves the rest open; the extension members some problems carry are written here: `errors[]`
 * for a validation failure (src/http/problem.ts), and the domain errors' own members, `line`/`column`
 * for a template and `retryAfter`/`setting` for a rate limit.
 */
export type Problem = Operation<
  "/api/auth/email",
  "post"
>["responses"][400]["content"]["application/json"] & {
  line?: number | null;
  column?: number | null;
  errors?: { field: string; message: string; code?: string; line?: number | null; column?: number | null }[];
  retryAfter?: number;
  setting?: string;
};

export type SessionStatus = Answer<"get", "/api/session">;
export type Account = Answer<"post", "/api/auth/email/verify">["account"];
export type LoginStarted = Answer<"post", "/api/auth/email">;
export type SignedIn = Answer<"post", "/api/auth/email/verify">;

export type Workspace = Answer<"get", "/api/workspaces/{workspaceId}">;
export type Role = Workspace["role"];
export type Feature = Body<"post", "/api/operator/workspaces/{workspaceId}/features">["feature"];

/**
 * A workspace as /api/me lists it. Its schema declares `role` as any string
 * (src/http/routes/dashboard-auth.ts); the values are those of the workspace routes' enum, which
 * the dashboard needs to decide what to offer. Replace by the generated type once that schema uses
 * the enum.
 */
export type WorkspaceSummary = Omit<Item<Answer<"get", "/api/me">["workspaces"]>, "role"> & { role: Role };
export type Me = Omit<Answer<"get", "/api/me">, "workspaces"> & { workspaces: WorkspaceSummary[] };
export const asMe = (answer: Answer<"get", "/api/me">) => answer as Me;

export type Member = Item<Answer<"get", "/api/workspaces/{workspaceId}/members">["members"]>;
export type AuditEvent = Item<Answer<"get", "/api/workspaces/{workspaceId}/audit">["events"]>;

export type App = Answer<"get", "/api/apps/{appId}">;
export type AppWithSecret = Answer<"post", "/api/workspaces/{workspaceId}/apps">;
export type TokenEndpointAuthMethod = App["oidc"]["tokenEndpointAuthMethod"];

export type Delivery = Answer<"get", "/api/apps/{appId}/deliveries/{deliveryId}">;
export type DeliveryPage = Answer<"get", "/api/apps/{appId}/deliveries">;
export type DeliveryStatus = Delivery["status"];
export type DeliveryAttempt = Item<Delivery["attempts"]>;
export type Route = Delivery["route"];

/** Every status, in the order the delivery log's filter lists them (the type checks none is missing). */
export const deliveryStatuses = [
  "queued",
  "sending",
  "sent",
  "retrying",
  "failed",
  "expired",
] as const satisfies readonly DeliveryStatus[];
// A status added on the server and not above fails here.
const everyStatusListed: Exclude<DeliveryStatus, (typeof deliveryStatuses)[number]> extends never
  ? true
  : never = true;
void everyStatusListed;

export type DevMessage = Item<Answer<"get", "/api/dev/inbox">["messages"]>;

// Email provider

export type ProviderInput = Body<"put", "/api/apps/{appId}/email-provider">;
export type SmtpBasicInput = Extract<ProviderInput, { type: "smtp_basic" }>;
/** The OAuth kind this form edits: Microsoft's fields (the Google Workspace kind has a form of its own in the registry). */
export type SmtpOAuthInput = Extract<ProviderInput, { type: "smtp_oauth"; provider: "microsoft" }>;
/** `none` (plaintext) is accepted only for hosts on the operator's allowlist. */
export type SmtpSecurity = SmtpBasicInput["security"];
export type OAuthProviderName = SmtpOAuthInput["provider"];

export type TestResult = Answer<"post", "/api/apps/{appId}/email-provider/test">;
export type TestStep = Item<TestResult["steps"]>;
export type TestStepName = TestStep["name"];

type EmailProviderAnswer = Answer<"get", "/api/apps/{appId}/email-provider">;
type ProviderView = NonNullable<EmailProviderAnswer["provider"]>;
export type ProviderHealth = ProviderView["health"];

/**
 * The saved provider, one type per kind. The document describes it as one object with a string
 * `type` and every kind's fields optional (src/http/routes/email-provider.ts `providerView`), so it
 * cannot tell the kinds apart; the kinds' fields are those of the PUT body, with `passwordSet` and
 * `clientSecretSet` in place of the secrets.
 */
type ProviderCommon = Omit<
  ProviderView,
  | "type"
  | "host"
  | "port"
  | "security"
  | "username"
  | "passwordSet"
  | "provider"
  | "clientId"
  | "tenantId"
  | "clientSecretSet"
>;
export type SmtpBasicProvider = ProviderCommon &
  Pick<SmtpBasicInput, "type" | "host" | "port" | "security" | "username"> & { passwordSet: boolean };
export type SmtpOAuthProvider = ProviderCommon &
  Pick<SmtpOAuthInput, "type" | "provider" | "clientId" | "tenantId"> & { clientSecretSet: boolean };
export type Provider = SmtpBasicProvider | SmtpOAuthProvider;
export type EmailProviderState = Omit<EmailProviderAnswer, "provider"> & { provider: Provider | null };
export const asProviderState = (answer: EmailProviderAnswer) => answer as EmailProviderState;

export type GuideStep = Item<Answer<"get", "/api/apps/{appId}/email-provider/microsoft-guide">["steps"]>;

// Login email templates

export type EmailSettings = Answer<"get", "/api/apps/{appId}/email-settings">;
export type EmailSettingsPatch = Body<"patch", "/api/apps/{appId}/email-settings">;

export type TemplateList = Answer<"get", "/api/apps/{appId}/email-templates">;
export type TemplateLocale = Item<TemplateList["locales"]>;
export type EmailTemplate = Answer<"get", "/api/apps/{appId}/email-templates/{locale}">;
/** What an edit changes: the saved template's subject, HTML and text (null: derived from the HTML). */
export type TemplateSource = Pick<EmailTemplate, "subject" | "html" | "text">;

type PreviewRequest = Body<"post", "/api/apps/{appId}/email-templates/{locale}/preview">;
export type TemplatePreview = Answer<"post", "/api/apps/{appId}/email-templates/{locale}/preview">;
export type TemplateProblem = Item<TemplatePreview["errors"]>;
export type TemplatePart = TemplateProblem["field"];
export type RenderedEmail = NonNullable<TemplatePreview["email"]>;
export type TemplateSample = NonNullable<PreviewRequest["sample"]>;
export type TemplateTestSent = Answer<"post", "/api/apps/{appId}/email-templates/{locale}/test">;
