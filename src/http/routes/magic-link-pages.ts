import type { FastifyInstance, FastifyReply } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { DomainError } from "../../errors.ts";
import { acceptFormBodies, browserSecretOf, isCrossSiteForm } from "../browser-forms.ts";
import { elsewherePage } from "../pages/hosted-login-pages.ts";
import type { Branding } from "../pages/layout.ts";
import { sendPage } from "../pages/layout.ts";
import { boundLinkPage, codeLinkPage, invalidLinkPage } from "../pages/link-pages.ts";
import { en } from "../pages/messages.ts";
import { isRetryable, problemText, statusOfProblem } from "../pages/problem-text.ts";

/** What a magic link opens to, as its page needs it. */
export interface OpenedLinkView {
  email: string;
  boundHere: boolean;
  branding: Branding;
  /** Where the one-click form posts, if not to the link's own path (the hosted page's interaction). */
  boundAction?: string | undefined;
  /** A login that can only finish in the browser that asked (one of the hosted login page). */
  onlyWhereStarted?: boolean;
}

export interface LinkFlow<Session> {
  path: string;
  tags: string[];
  /** Where a person goes to ask for a new email, if the flow has such a page. */
  backHref?: string;
  open(token: string, browserSecret: string | undefined): Promise<OpenedLinkView>;
  redeemInBrowser(token: string, browserSecret: string | undefined): Promise<Session>;
  redeemWithCode(token: string, code: string, ip: string): Promise<Session>;
  signedIn(reply: FastifyReply, session: Session): FastifyReply;
}

const TOKEN = /^[A-Za-z0-9_-]{1,128}$/;
const CODE = /^\d{6}$/;

/**
 * The GET (and HEAD) of a magic link shows a page and changes nothing; only its form's POST uses the
 * link: one click where the login was asked for, the emailed code anywhere else. Shared by end-user
 * logins and dashboard sign-in (docs/security.md, "Magic links and link scanners").
 */
export function registerLinkPages<Session>(
  app: FastifyInstance,
  publicUrl: string,
  flow: LinkFlow<Session>,
): void {
  const m = en;
  const postern: Branding = { name: "Postern" };
  const invalid = (reply: FastifyReply, status: number, message?: string) =>
    sendPage(
      reply,
      status,
      invalidLinkPage(m, postern, {
        ...(message ? { message } : {}),
        ...(flow.backHref ? { backHref: flow.backHref } : {}),
      }),
    );

  const show = async (
    reply: FastifyReply,
    token: string,
    browserSecret: string | undefined,
    error?: { status: number; message: string; field: boolean },
  ) => {
    const view = await flow.open(token, browserSecret);
    const form = { action: flow.path, token, email: view.email };
    const status = error?.status ?? 200;
    if (view.boundHere) {
      return sendPage(
        reply,
        status,
        boundLinkPage(m, view.branding, { ...form, action: view.boundAction ?? flow.path }),
      );
    }
    if (view.onlyWhereStarted) return sendPage(reply, 200, elsewherePage(m, view.branding));
    return sendPage(reply, status, codeLinkPage(m, view.branding, form, error));
  };

  app.register(async (scope) => {
    acceptFormBodies(scope);
    const routes = scope.withTypeProvider<ZodTypeProvider>();

    routes.get(
      flow.path,
      {
        schema: {
          tags: flow.tags,
          summary: "Open a magic link: a page, never a use of the link",
          description:
            "GET and HEAD never use the link (link scanners open every link first). In the browser that asked for the login the page has one button; in any other it asks for the 6-digit code from the same email.",
          querystring: z.object({ token: z.string().max(256).optional() }),
          produces: ["text/html"],
        },
      },
      async (request, reply) => {
        const token = request.query.token ?? "";
        if (!TOKEN.test(token)) return invalid(reply, 400);
        try {
          return await show(reply, token, browserSecretOf(request));
        } catch (err) {
          if (err instanceof DomainError) return invalid(reply, 400, problemText(m, err));
          throw err;
        }
      },
    );

    routes.post(
      flow.path,
      {
        schema: {
          tags: flow.tags,
          summary: "Use a magic link (the page's form)",
          description:
            "Without `code`: works only in the browser the login was bound to when it was asked for. With `code`: the 6-digit code from the same email, counted against its tries.",
          consumes: ["application/x-www-form-urlencoded"],
          produces: ["text/html"],
          body: z.object({ token: z.string().max(256), code: z.string().max(64).optional() }),
        },
      },
      async (request, reply) => {
        const { token, code } = request.body;
        if (isCrossSiteForm(request, publicUrl)) return invalid(reply, 403, m.problems.crossSite);
        if (!TOKEN.test(token)) return invalid(reply, 400);
        const browserSecret = browserSecretOf(request);
        try {
          if (code === undefined)
            return flow.signedIn(reply, await flow.redeemInBrowser(token, browserSecret));
          const digits = code.replace(/\s/g, "");
          if (!CODE.test(digits)) {
            // A malformed code (a scanner's empty submission) is no try: it never reaches the counter.
            return await show(reply, token, undefined, {
              status: 400,
              message: m.problems.codeFormat,
              field: true,
            });
          }
          return flow.signedIn(reply, await flow.redeemWithCode(token, digits, request.ip));
        } catch (err) {
          if (!(err instanceof DomainError)) throw err;
          if (err.code === "link_needs_code" || err.code === "link_only_where_started") {
            return show(reply, token, undefined);
          }
          if (isRetryable(err)) {
            const message = problemText(m, err);
            return show(reply, token, undefined, { status: statusOfProblem(err), message, field: true });
          }
          return invalid(reply, statusOfProblem(err), problemText(m, err));
        }
      },
    );
  });
}
