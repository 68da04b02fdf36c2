import type { Catalogue } from "../messages.ts";

/** Formal register (Sie), as German login and security emails are written. */
export const de: Catalogue = {
  // Dative after "in": "in 1 Minute", "in 10 Minuten".
  minutes: { one: "{n} Minute", other: "{n} Minuten" },
  loginEmail: {
    subject: "Ihr Anmeldecode für {{appName}}: {{code}}",
    intro: "Ihr Anmeldecode für {{appName}} lautet",
    instruction: "Geben Sie diesen Code ein, um sich anzumelden, oder öffnen Sie diesen Link:",
    button: "Bei {{appName}} anmelden",
    linkHelp: "Falls die Schaltfläche nicht funktioniert, öffnen Sie diesen Link:",
    expiry: "Der Code und der Link sind nur einmal gültig und laufen in {{expiresIn}} ab.",
    notYou:
      "Jemand hat eine Anmeldung bei {{appName}} als {{recipient}} angefordert (von {{requestIp}}). Falls Sie das nicht waren, ignorieren Sie diese E-Mail: Ohne diesen Code kann sich niemand anmelden.",
  },
  dashboardEmail: {
    subject: "Ihr Anmeldecode für das {{appName}}-Dashboard: {{code}}",
    intro: "Ihr Anmeldecode für das {{appName}}-Dashboard lautet",
    instruction: "Geben Sie diesen Code ein, um sich anzumelden, oder öffnen Sie diesen Link:",
    button: "Im {{appName}}-Dashboard anmelden",
    linkHelp: "Falls die Schaltfläche nicht funktioniert, öffnen Sie diesen Link:",
    expiry: "Der Code und der Link sind nur einmal gültig und laufen in {{expiresIn}} ab.",
    notYou:
      "Jemand hat eine Anmeldung im {{appName}}-Dashboard als {{recipient}} angefordert (von {{requestIp}}). Falls Sie das nicht waren, ignorieren Sie diese E-Mail: Ohne diesen Code kann sich niemand anmelden.",
  },
  hostedLogin: {
    title: "Bei {{appName}} anmelden",
    emailLabel: "E-Mail-Adresse",
    sendCode: "Anmeldecode per E-Mail senden",
    sending: "Wird gesendet …",
    codeSent: "Wir haben einen Code an {{email}} gesendet.",
    codeExpires: "Er läuft in {{expiresIn}} ab.",
    codeLabel: "Anmeldecode",
    verify: "Anmelden",
    openLinkInstead: "Sie können auch den Link in der E-Mail öffnen.",
    resend: "Neuen Code senden",
    changeEmail: "Andere E-Mail-Adresse verwenden",
    invalidEmail: "Geben Sie eine gültige E-Mail-Adresse ein, z. B. name@example.com.",
    invalidCode: "Dieser Code ist nicht korrekt.",
    attemptsLeft: { one: "Noch {n} Versuch.", other: "Noch {n} Versuche." },
    tooManyAttempts: "Zu viele falsche Codes. Fordern Sie einen neuen an.",
    expired: "Dieser Code ist abgelaufen oder wurde bereits verwendet. Fordern Sie einen neuen an.",
    rateLimited: "Zu viele Versuche. Warten Sie eine Minute und versuchen Sie es dann erneut.",
    signedIn: "Sie sind angemeldet. Sie können dieses Fenster schließen.",
    genericError: "Etwas ist schiefgelaufen. Bitte versuchen Sie es erneut.",
  },
};
