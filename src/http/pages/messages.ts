/**
 * Every sentence of the pages end users see (magic links, the hosted login page, sign-out), in one
 * catalogue. English is the only locale today; another locale is a second object of type `Messages`
 * chosen per request, with nothing else to change.
 */

const plural = (n: number, one: string, other: string) => `${n} ${n === 1 ? one : other}`;

/** "45 seconds", "about 2 minutes", "about 1 hour": a wait a person can read. */
function waitFor(seconds: number): string {
  if (seconds < 60) return plural(Math.max(1, Math.ceil(seconds)), "second", "seconds");
  if (seconds < 3600) return `about ${plural(Math.ceil(seconds / 60), "minute", "minutes")}`;
  return `about ${plural(Math.ceil(seconds / 3600), "hour", "hours")}`;
}

export const en = {
  lang: "en",
  dir: "ltr",
  footer: "Passwordless sign-in by Postern",
  errorTitlePrefix: "Error: ",

  link: {
    boundTitle: (app: string) => `Sign in to ${app}`,
    boundText: (email: string) => `You asked to sign in as ${email} in this browser.`,
    boundButton: "Sign in",
    boundNote: "Did not ask to sign in? Close this page: nothing happens unless you press the button.",
    codeTitle: "Enter your code to continue",
    codeText: (email: string) =>
      `This link was opened in a different browser from the one where you asked to sign in. To sign in here, enter the 6-digit code from the same email, sent to ${email}.`,
    codeButton: "Sign in",
    elsewhereTitle: "Continue where you started",
    elsewhereText: (app: string) =>
      `You asked to sign in to ${app} in another browser. Open this link in that browser, or type the 6-digit code from the email on the sign-in page you left open there.`,
    elsewhereNote:
      "For your safety, a sign-in started in one browser cannot be finished in another: the app is waiting for it in the first one.",
    invalidTitle: "This link can no longer be used",
    invalidText: "It has expired or was already used. Ask for a new sign-in email.",
    signedInTitle: (app: string) => `You are signed in to ${app}`,
    signedInText: "You can close this tab and go back to the app.",
    backToSignIn: "Back to sign-in",
  },

  hosted: {
    emailTitle: (app: string) => `Sign in to ${app}`,
    emailText:
      "Enter your email address. We will send you a 6-digit code and a sign-in link: no password needed.",
    emailLabel: "Email address",
    emailButton: "Email me a code",
    codeTitle: "Check your email",
    codeText: (email: string) =>
      `We sent a 6-digit code to ${email}. Enter it below, or open the link in the email in this browser.`,
    codeButton: "Sign in",
    resend: "Send a new code",
    resent: (email: string) => `We sent a new code to ${email}. Older codes no longer work.`,
    changeEmail: "Use a different email address",
    cancel: (app: string) => `Cancel and return to ${app}`,
    expiredTitle: "This sign-in page has expired",
    expiredText: "Go back to the app and start signing in again.",
  },

  oidc: {
    errorTitle: "This sign-in cannot continue",
    errorText:
      "The app sent you here with a request that cannot be accepted. Go back to the app and try again; if it keeps happening, let the app's developers know.",
    errorDetail: (code: string, description: string | undefined) =>
      `Details for the developers: ${code}${description ? ` (${description})` : ""}`,
    logoutTitle: (app: string) => `Sign out of ${app}?`,
    logoutText: "You will need a new code from your email to sign in again.",
    logoutButton: "Sign out",
    stayButton: "Stay signed in",
    loggedOutTitle: (app: string) => `You are signed out of ${app}`,
    loggedOutText: "You can close this tab.",
  },

  code: {
    label: "6-digit code",
    hint: "From the email we sent you; it works once.",
  },

  problems: {
    invalidCode: (triesLeft: number) =>
      triesLeft > 0
        ? `That code is not right. You have ${plural(triesLeft, "try", "tries")} left.`
        : "That code is not right, and it was the last try. Ask for a new code.",
    codeFormat: "Enter the 6 digits from the email.",
    tooManyAttempts: "Too many wrong codes. Ask for a new code.",
    loginExpired: "This code has expired or was already used. Ask for a new one.",
    linkInvalid: "This link has expired or was already used. Ask for a new sign-in email.",
    rateLimited: (seconds: number) => `Too many sign-in requests. Try again in ${waitFor(seconds)}.`,
    crossSite:
      "This form was sent from another site, so it was ignored. Open the link from your email again.",
    unexpected: "Something went wrong on our side. Try again in a moment.",
    invalidEmail: "Enter an email address such as name@example.com.",
    senderRefused: (app: string) =>
      `This address sends the sign-in emails of ${app}, so it cannot be used to sign in to it.`,
  },
};

export type Messages = typeof en;
