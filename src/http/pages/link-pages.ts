import { type Html, html } from "./html.ts";
import { type Branding, notice, page } from "./layout.ts";
import type { Messages } from "./messages.ts";

/** The pages a magic link opens: none of them uses the link by being loaded. */

export interface LinkForm {
  /** Where the form posts (the link's own path, or the login's hosted-page interaction). */
  action: string;
  token: string;
  email: string;
}

/** The code field, with its error tied to it for screen readers. */
export function codeField(m: Messages, error: string | undefined): Html {
  return html`<div class="field">
<label for="code">${m.code.label}</label>
<span class="hint" id="code-hint">${m.code.hint}</span>
<input id="code" name="code" type="text" class="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required aria-describedby="code-hint${error ? " code-error" : ""}"${error ? html` aria-invalid="true" autofocus` : ""}>
${error ? html`<p class="field-error" id="code-error">${error}</p>` : ""}
</div>`;
}

/** The browser that asked: one deliberate click signs in. */
export function boundLinkPage(m: Messages, branding: Branding, form: LinkForm): Html {
  return page({
    messages: m,
    branding,
    title: m.link.boundTitle(branding.name),
    body: html`<p class="lead">${m.link.boundText(form.email)}</p>
<form method="post" action="${form.action}">
<input type="hidden" name="token" value="${form.token}">
<button type="submit">${m.link.boundButton}</button>
</form>
<p class="row">${m.link.boundNote}</p>`,
  });
}

/** Any other browser (a scanner's, the person's phone): the code from the same email first. */
export function codeLinkPage(
  m: Messages,
  branding: Branding,
  form: LinkForm,
  error?: { message: string; field: boolean },
): Html {
  return page({
    messages: m,
    branding,
    title: m.link.codeTitle,
    error: error !== undefined,
    body: html`${error && !error.field ? notice("error", [error.message]) : ""}
<p class="lead">${m.link.codeText(form.email)}</p>
<form method="post" action="${form.action}" novalidate>
<input type="hidden" name="token" value="${form.token}">
${codeField(m, error?.field ? error.message : undefined)}
<button type="submit">${m.link.codeButton}</button>
</form>`,
  });
}

/** A link that cannot be used any more (or a login that ended in an error a new email fixes). */
export function invalidLinkPage(
  m: Messages,
  branding: Branding,
  options: { message?: string; backHref?: string } = {},
): Html {
  return page({
    messages: m,
    branding,
    title: m.link.invalidTitle,
    error: true,
    body: html`${notice("error", [options.message ?? m.link.invalidText])}
${options.backHref ? html`<p><a class="button secondary" href="${options.backHref}">${m.link.backToSignIn}</a></p>` : ""}`,
  });
}

/** A login without a redirect URL, signed in by its link: nothing to send the browser to. */
export function signedInPage(m: Messages, branding: Branding): Html {
  return page({
    messages: m,
    branding,
    title: m.link.signedInTitle(branding.name),
    body: html`${notice("ok", [m.link.signedInText])}`,
  });
}
