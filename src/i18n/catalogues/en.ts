import type { Catalogue } from "../messages.ts";

export const en: Catalogue = {
  minutes: { one: "{n} minute", other: "{n} minutes" },
  loginEmail: {
    subject: "Your {{appName}} login code: {{code}}",
    intro: "Your {{appName}} login code is",
    instruction: "Enter this code to sign in, or open this link:",
    button: "Sign in to {{appName}}",
    linkHelp: "If the button does not work, open this link:",
    expiry: "The code and the link work once and expire in {{expiresIn}}.",
    notYou:
      "Someone asked to sign in to {{appName}} as {{recipient}} (from {{requestIp}}). If it was not you, ignore this email: nobody can sign in without this code.",
  },
  dashboardEmail: {
    subject: "Your {{appName}} dashboard login code: {{code}}",
    intro: "Your {{appName}} dashboard login code is",
    instruction: "Enter this code to sign in, or open this link:",
    button: "Sign in to the {{appName}} dashboard",
    linkHelp: "If the button does not work, open this link:",
    expiry: "The code and the link work once and expire in {{expiresIn}}.",
    notYou:
      "Someone asked to sign in to the {{appName}} dashboard as {{recipient}} (from {{requestIp}}). If it was not you, ignore this email: nobody can sign in without this code.",
  },
  hostedLogin: {
    title: "Sign in to {{appName}}",
    emailLabel: "Email address",
    sendCode: "Email me a sign-in code",
    sending: "Sending…",
    codeSent: "We sent a code to {{email}}.",
    codeExpires: "It expires in {{expiresIn}}.",
    codeLabel: "Sign-in code",
    verify: "Sign in",
    openLinkInstead: "You can also open the link in the email.",
    resend: "Send a new code",
    changeEmail: "Use a different email address",
    invalidEmail: "Enter a valid email address, such as name@example.com.",
    invalidCode: "This code is not correct.",
    attemptsLeft: { one: "{n} try left.", other: "{n} tries left." },
    tooManyAttempts: "Too many incorrect codes. Ask for a new one.",
    expired: "This code has expired or was already used. Ask for a new one.",
    rateLimited: "Too many attempts. Wait a minute, then try again.",
    signedIn: "You are signed in. You can close this window.",
    genericError: "Something went wrong. Please try again.",
  },
};
