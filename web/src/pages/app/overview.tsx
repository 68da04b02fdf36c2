import { enc } from "../../api/client.ts";
import { CodeBlock, CopyField } from "../../components/copy-button.tsx";
import { Notice } from "../../components/feedback.tsx";
import { Card } from "../../components/layout.tsx";
import { Time } from "../../components/time.tsx";
import { Link } from "../../router.tsx";
import type { AppPageProps } from "./app-layout.tsx";

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

  const health = app.emailProviderHealth;
  return (
    <div className="stack">
      {health?.status === "failing" && (
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
        <dl className="key-list">
          <div className="key-row">
            <dt>Publishable key</dt>
            <dd>
              <CopyField value={app.publishableKey} describe="publishable key" />
            </dd>
          </div>
          <div className="key-row">
            <dt>App ID</dt>
            <dd>
              <CopyField value={app.id} describe="app ID" />
            </dd>
          </div>
        </dl>
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
