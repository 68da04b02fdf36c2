import type { Catalogue } from "../messages.ts";

/** Formal register (u), as Dutch security emails are usually written. */
export const nl: Catalogue = {
  minutes: { one: "{n} minuut", other: "{n} minuten" },
  loginEmail: {
    subject: "Uw inlogcode voor {{appName}}: {{code}}",
    intro: "Uw inlogcode voor {{appName}} is",
    instruction: "Voer deze code in om in te loggen, of open deze link:",
    button: "Inloggen bij {{appName}}",
    linkHelp: "Werkt de knop niet? Open dan deze link:",
    expiry: "De code en de link zijn eenmalig bruikbaar en verlopen over {{expiresIn}}.",
    notYou:
      "Iemand heeft gevraagd om als {{recipient}} in te loggen bij {{appName}} (vanaf {{requestIp}}). Was u dit niet? Negeer dan deze e-mail: zonder deze code kan niemand inloggen.",
  },
  dashboardEmail: {
    subject: "Uw inlogcode voor het {{appName}}-dashboard: {{code}}",
    intro: "Uw inlogcode voor het {{appName}}-dashboard is",
    instruction: "Voer deze code in om in te loggen, of open deze link:",
    button: "Inloggen op het {{appName}}-dashboard",
    linkHelp: "Werkt de knop niet? Open dan deze link:",
    expiry: "De code en de link zijn eenmalig bruikbaar en verlopen over {{expiresIn}}.",
    notYou:
      "Iemand heeft gevraagd om als {{recipient}} in te loggen op het {{appName}}-dashboard (vanaf {{requestIp}}). Was u dit niet? Negeer dan deze e-mail: zonder deze code kan niemand inloggen.",
  },
  hostedLogin: {
    title: "Inloggen bij {{appName}}",
    emailLabel: "E-mailadres",
    sendCode: "Stuur mij een inlogcode",
    sending: "Bezig met verzenden…",
    codeSent: "We hebben een code gestuurd naar {{email}}.",
    codeExpires: "De code verloopt over {{expiresIn}}.",
    codeLabel: "Inlogcode",
    verify: "Inloggen",
    openLinkInstead: "U kunt ook de link in de e-mail openen.",
    resend: "Nieuwe code sturen",
    changeEmail: "Een ander e-mailadres gebruiken",
    invalidEmail: "Voer een geldig e-mailadres in, zoals naam@example.com.",
    invalidCode: "Deze code is niet juist.",
    attemptsLeft: { one: "Nog {n} poging over.", other: "Nog {n} pogingen over." },
    tooManyAttempts: "Te veel onjuiste codes. Vraag een nieuwe code aan.",
    expired: "Deze code is verlopen of al gebruikt. Vraag een nieuwe code aan.",
    rateLimited: "Te veel pogingen. Wacht een minuut en probeer het opnieuw.",
    signedIn: "U bent ingelogd. U kunt dit venster sluiten.",
    genericError: "Er is iets misgegaan. Probeer het opnieuw.",
  },
};
