import { enc } from "../../api/client.ts";
import { CodeBlock, CopyField } from "../../components/copy-button.tsx";
import { Notice } from "../../components/feedback.tsx";
import { CopyRow, KeyList, KeyRow } from "../../components/key-list.tsx";
import { Card } from "../../components/layout.tsx";
import { Time } from "../../components/time.tsx";
import { Link } from "../../router.tsx";
import type { AppPageProps } from "./app-layout.tsx";
import "./overview.css";

/** How to call the public login API with this app's publishable key. */
export function AppOverviewPage({ app }: AppPageProps) {
  const origin = window.location.origin;
  const redirect = app.redirectUrls[0];
  const sendBody = JSON.stringify(
    redirect ? { email: "user@example.com", redirectUrl: redirect } : { email: "user@example.com" },
  );
  const send = [
    `curl -X POST ${origin}/v1/login/email \\`,
    `  -H "Authorization: Bearer ${app.publishableKey}" \\`,
    `  -H "Content-Type: application/json" \\`,
    `  -d '${sendBody}'`,
  ].join("\n");
  const verify = [
    `curl -X POST ${origin}/v1/login/email/verify \\`,
    `  -H "Authorization: Bearer ${app.publishableKey}" \\`,
    `  -H "Content-Type: application/json" \\`,
    `  -d '{"loginId":"<loginId from step 1>","code":"<6-digit code>"}'`,
  ].join("\n");
  const jwks = `${origin}/v1/apps/${app.id}/jwks.json`;
  // Postern's public URL, as it names itself in the issuer (the dashboard may be reached otherwise).
  const posternUrl = app.issuer.slice(0, -`/oidc/${app.id}`.length);
  const confidential = app.oidc.tokenEndpointAuthMethod !== "none";
  const callback = redirect ?? "https://your-app.example/callback";
  const sdk = [
    `import { PosternClient } from "@postern/sdk";`,
    "",
    "const postern = new PosternClient({",
    `  url: "${posternUrl}",`,
    `  appId: "${app.id}",`,
    ...(confidential
      ? [
          "  secretKey: process.env.POSTERN_SECRET_KEY, // server side only",
          ...(app.oidc.tokenEndpointAuthMethod === "client_secret_post"
            ? [`  tokenEndpointAuthMethod: "client_secret_post",`]
            : []),
        ]
      : []),
    "});",
    "",
    "// GET /login: to the hosted page; keep `pending` in the person's session",
    `const { url, pending } = await postern.signInUrl({ redirectUri: "${callback}" });`,
    "",
    "// GET /callback: checks the answer, redeems the code (PKCE), verifies the ID token",
    "const { claims } = await postern.handleCallback(request.url, pending);",
    "// claims.sub (the user's id), claims.email (verified)",
  ].join("\n");
  const verifyOnServer = [
    `import { verifyToken } from "@postern/sdk";`,
    "",
    `const claims = await verifyToken(token, { url: "${posternUrl}", appId: "${app.id}" });`,
  ].join("\n");
  const anyLibrary = [
    `OIDC_ISSUER=${app.issuer}`,
    `OIDC_CLIENT_ID=${app.id}`,
    ...(confidential ? ["OIDC_CLIENT_SECRET=<the app's secret key, sk_…>"] : []),
    `OIDC_REDIRECT_URI=${callback}`,
    "OIDC_SCOPE=openid email",
  ].join("\n");

  const health = app.emailProviderHealth;
  return (
    <div className="stack">
      {health?.status === "failing" && health.enabled !== false && (
        <Notice tone="danger" title="The custom email provider is failing">
          {health.reason}
          {health.since && (
            <>
              {" "}
              Since <Time iso={health.since} />.
            </>
          )}{" "}
          <Link to={`/w/${enc(app.workspaceId)}/apps/${enc(app.id)}/email-provider`}>
            What happens to login emails, and how to fix it
          </Link>
        </Notice>
      )}
      <Card title="Keys for your login form" id="overview-keys">
        <KeyList>
          <CopyRow label="Publishable key" value={app.publishableKey} describe="publishable key" />
          <CopyRow label="App ID" value={app.id} describe="app ID" />
        </KeyList>
      </Card>
      <Card
        title="Sign in with the hosted page"
        id="integrate-hosted"
        description="Send people to Postern's sign-in page and get them back signed in: OpenID Connect, so the SDK or any OpenID Connect library works."
      >
        <KeyList>
          <CopyRow label="Issuer" value={app.issuer} describe="issuer" />
          <CopyRow
            label="Discovery"
            value={`${app.issuer}/.well-known/openid-configuration`}
            describe="discovery URL"
          />
          <KeyRow label="Client">
            {confidential
              ? `Confidential: the secret key, ${app.oidc.tokenEndpointAuthMethod}, with PKCE`
              : "Public: PKCE, no secret"}{" "}
            (change under Settings)
          </KeyRow>
        </KeyList>
        <ol className="steps">
          <li>
            <h3 className="step-title">With the SDK</h3>
            <p className="step-text">
              {redirect ? (
                <>
                  Returns to <code>{redirect}</code>, one of this app's redirect URLs.
                </>
              ) : (
                "Add your callback URL to the app's redirect URLs under Settings first."
              )}
            </p>
            <CodeBlock code={sdk} language="typescript" describe="the SDK sign-in snippet" />
          </li>
          <li>
            <h3 className="step-title">Verify tokens in your API</h3>
            <CodeBlock
              code={verifyOnServer}
              language="typescript"
              describe="the token verification snippet"
            />
          </li>
          <li>
            <h3 className="step-title">With any OpenID Connect library</h3>
            <CodeBlock code={anyLibrary} language="env" describe="the OpenID Connect settings" />
          </li>
        </ol>
      </Card>
      <Card
        title="Integrate"
        id="integrate"
        description="Two calls log a user in: one sends the email with a code and a magic link, the other exchanges the code for a signed session token."
      >
        <ol className="steps">
          <li>
            <h3 className="step-title">Send the login email</h3>
            <p className="step-text">
              Answers <code>202</code> with a <code>loginId</code>, whether or not the address has logged in
              before.
              {redirect ? (
                <>
                  {" "}
                  The magic link returns the user to <code>{redirect}</code> with the token in the URL
                  fragment.
                </>
              ) : (
                " Add a redirect URL under Settings to let the magic link return the user to your app."
              )}
            </p>
            <CodeBlock code={send} language="shell" describe="the send login email command" />
          </li>
          <li>
            <h3 className="step-title">Verify the code</h3>
            <p className="step-text">
              Answers with <code>{"{ token, user }"}</code>. The token is an ES256 JWT for this app.
            </p>
            <CodeBlock code={verify} language="shell" describe="the verify code command" />
          </li>
          <li>
            <h3 className="step-title">Check the token on your server</h3>
            <p className="step-text">Verify its signature with the app's public keys (JWKS):</p>
            <CopyField value={jwks} describe="JWKS URL" />
          </li>
        </ol>
      </Card>
    </div>
  );
}
