import { type Html, html, trustedHtml } from "./html.ts";
import { type Branding, notice, page } from "./layout.ts";
import { codeField } from "./link-pages.ts";
import type { Messages } from "./messages.ts";

/**
 * The hosted login page: the OpenID Connect interaction an app sends its users to. Plain forms, so
 * the whole flow works without JavaScript; every error is announced and tied to its field.
 */

export interface InteractionPaths {
  /** GET shows the current step; POST targets hang below it. */
  base: string;
}

const cancelForm = (m: Messages, branding: Branding, paths: InteractionPaths) =>
  html`<form method="post" action="${paths.base}/abort" class="row">
<button type="submit" class="link">${m.hosted.cancel(branding.name)}</button>
</form>`;

export function emailStepPage(
  m: Messages,
  branding: Branding,
  paths: InteractionPaths,
  state: { email?: string | undefined; error?: string | undefined; notice?: string | undefined },
): Html {
  const { error } = state;
  return page({
    messages: m,
    branding,
    title: m.hosted.emailTitle(branding.name),
    error: error !== undefined,
    body: html`${state.notice ? notice("info", [state.notice]) : ""}
<p class="lead">${m.hosted.emailText}</p>
<form method="post" action="${paths.base}/email" novalidate>
<div class="field">
<label for="email">${m.hosted.emailLabel}</label>
<input id="email" name="email" type="email" autocomplete="email" inputmode="email" autocapitalize="none" spellcheck="false" required value="${state.email ?? ""}"${error ? html` aria-invalid="true" aria-describedby="email-error"` : ""} autofocus>
${error ? html`<p class="field-error" id="email-error">${error}</p>` : ""}
</div>
<button type="submit">${m.hosted.emailButton}</button>
</form>
${cancelForm(m, branding, paths)}`,
  });
}

export function codeStepPage(
  m: Messages,
  branding: Branding,
  paths: InteractionPaths,
  state: {
    email: string;
    /** A problem with the code as typed (wrong, malformed): shown at the field. */
    fieldError?: string | undefined;
    /** A problem with the login as a whole (expired, too many tries, too many emails). */
    error?: string | undefined;
    notice?: string | undefined;
  },
): Html {
  return page({
    messages: m,
    branding,
    title: m.hosted.codeTitle,
    error: state.error !== undefined || state.fieldError !== undefined,
    body: html`${state.error ? notice("error", [state.error]) : ""}${state.notice ? notice("ok", [state.notice]) : ""}
<p class="lead">${m.hosted.codeText(state.email)}</p>
<form method="post" action="${paths.base}/code" novalidate>
${codeField(m, state.fieldError)}
<button type="submit">${m.hosted.codeButton}</button>
</form>
<div class="row">
<form method="post" action="${paths.base}/resend"><button type="submit" class="link">${m.hosted.resend}</button></form>
<a href="${paths.base}?step=email">${m.hosted.changeEmail}</a>
</div>
${cancelForm(m, branding, paths)}`,
  });
}

/** The interaction is gone (expired, finished, or its cookie is missing): the app must start again. */
export function interactionExpiredPage(m: Messages, branding: Branding): Html {
  return page({
    messages: m,
    branding,
    title: m.hosted.expiredTitle,
    error: true,
    body: html`${notice("error", [m.hosted.expiredText])}`,
  });
}

/** A hosted-page login's link opened in another browser: it can only finish where it started. */
export function elsewherePage(m: Messages, branding: Branding): Html {
  return page({
    messages: m,
    branding,
    title: m.link.elsewhereTitle,
    body: html`<p class="lead">${m.link.elsewhereText(branding.name)}</p>
${notice("info", [m.link.elsewhereNote])}`,
  });
}

export function providerErrorPage(
  m: Messages,
  branding: Branding,
  out: { error: string; error_description?: string | undefined },
): Html {
  return page({
    messages: m,
    branding,
    title: m.oidc.errorTitle,
    error: true,
    body: html`${notice("error", [m.oidc.errorText])}
<p class="lead">${m.oidc.errorDetail(out.error, out.error_description)}</p>`,
  });
}

/**
 * RP-initiated logout: oidc-provider's own form (its action and xsrf field, which it escapes itself),
 * and the buttons that submit it.
 */
export function logoutPage(m: Messages, branding: Branding, form: string): Html {
  return page({
    messages: m,
    branding,
    title: m.oidc.logoutTitle(branding.name),
    body: html`<p class="lead">${m.oidc.logoutText}</p>
${trustedHtml(form)}
<div class="actions">
<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>${m.oidc.logoutButton}</button>
<button type="submit" form="op.logoutForm" class="secondary">${m.oidc.stayButton}</button>
</div>`,
  });
}

export function loggedOutPage(m: Messages, branding: Branding): Html {
  return page({
    messages: m,
    branding,
    title: m.oidc.loggedOutTitle(branding.name),
    body: html`${notice("ok", [m.oidc.loggedOutText])}`,
  });
}
