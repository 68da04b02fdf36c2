// A minimal web app with one protected page, signed in through Postern's hosted login page with the
// SDK. `npm run example` (beside `npm start`); README.md in this folder is the five-minute guide.
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { type PendingSignIn, type PosternClaims, PosternClient } from "../../packages/sdk/src/index.ts";

const PORT = Number(process.env.PORT ?? 3000);
const APP_URL = process.env.APP_URL ?? `http://localhost:${PORT}`;
const postern = new PosternClient({
  url: process.env.POSTERN_URL ?? "http://127.0.0.1:8080",
  appId: process.env.POSTERN_APP_ID ?? "app_demo",
  // Without it the app is a public client (PKCE alone), as Postern's demo app is set up; with it, a
  // confidential one (set the app to client_secret_basic in the dashboard first).
  ...(process.env.POSTERN_SECRET_KEY ? { secretKey: process.env.POSTERN_SECRET_KEY } : {}),
});

interface Session {
  pending?: PendingSignIn;
  user?: PosternClaims;
  idToken?: string;
}
// In memory, for the example; a real app keeps sessions where it keeps them already.
const sessions = new Map<string, Session>();

function sessionOf(request: IncomingMessage, response: ServerResponse): Session {
  const id = /(?:^|;\s*)example_session=([\w-]{43})/.exec(request.headers.cookie ?? "")?.[1];
  if (id && sessions.has(id)) return sessions.get(id)!;
  const fresh = randomBytes(32).toString("base64url");
  sessions.set(fresh, {});
  response.setHeader("set-cookie", `example_session=${fresh}; Path=/; HttpOnly; SameSite=Lax`);
  return sessions.get(fresh)!;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(response: ServerResponse, title: string, body: string, status = 200) {
  response.writeHead(status, { "content-type": "text/html; charset=utf-8" });
  response.end(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><link rel="icon" href="data:,"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;line-height:1.5}
a.button{display:inline-block;background:#1d4ed8;color:#fff;padding:.6rem 1rem;border-radius:.4rem;text-decoration:none}</style>
</head><body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`);
}

const redirect = (response: ServerResponse, location: string) => {
  response.writeHead(303, { location });
  response.end();
};

async function handle(request: IncomingMessage, response: ServerResponse) {
  const url = new URL(request.url ?? "/", APP_URL);
  const session = sessionOf(request, response);
  switch (url.pathname) {
    case "/":
      return page(
        response,
        "Example app",
        session.user
          ? `<p>Signed in as <strong>${escapeHtml(session.user.email)}</strong>.</p><p><a href="/account">Your account</a> · <a href="/logout">Sign out</a></p>`
          : `<p>A page anyone can see.</p><p><a class="button" href="/login">Sign in</a></p>`,
      );
    case "/login": {
      const { url: signInUrl, pending } = await postern.signInUrl({ redirectUri: `${APP_URL}/callback` });
      session.pending = pending;
      return redirect(response, signInUrl);
    }
    case "/callback": {
      if (!session.pending) return redirect(response, "/");
      const pending = session.pending;
      delete session.pending;
      try {
        const signedIn = await postern.handleCallback(url, pending);
        session.user = signedIn.claims;
        session.idToken = signedIn.idToken;
        return redirect(response, "/account");
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        return page(
          response,
          "Sign-in failed",
          `<p>${escapeHtml(message)}</p><p><a href="/">Home</a></p>`,
          400,
        );
      }
    }
    case "/account":
      if (!session.user) return redirect(response, "/login");
      return page(
        response,
        "Your account",
        `<p>This page is protected. Postern says you are:</p>
<dl><dt>Email</dt><dd>${escapeHtml(session.user.email)}</dd><dt>User ID</dt><dd><code>${escapeHtml(session.user.sub)}</code></dd></dl>
<p><a href="/logout">Sign out</a></p>`,
      );
    case "/logout": {
      const idToken = session.idToken;
      delete session.user;
      delete session.idToken;
      return redirect(
        response,
        await postern.signOutUrl({ ...(idToken ? { idToken } : {}), postLogoutRedirectUri: `${APP_URL}/` }),
      );
    }
    default:
      return page(response, "Not found", `<p><a href="/">Home</a></p>`, 404);
  }
}

createServer((request, response) => {
  handle(request, response).catch((err: unknown) => {
    console.error(err);
    if (!response.headersSent)
      page(response, "Something went wrong", "<p>See the example's output.</p>", 500);
  });
}).listen(PORT, "127.0.0.1", () => {
  console.log(
    `Example app on ${APP_URL} (Postern at ${postern.url}, app ${postern.issuer.split("/").pop()})`,
  );
});
