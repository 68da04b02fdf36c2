import type { Catalogue } from "../messages.ts";

/** Formal register (Lei) in the sentences; buttons keep the usual interface imperative ("Accedi"). */
export const it: Catalogue = {
  // CLDR "many" is for round millions: "1.000.000 di minuti".
  minutes: { one: "{n} minuto", many: "{n} di minuti", other: "{n} minuti" },
  loginEmail: {
    subject: "Codice di accesso a {{appName}}: {{code}}",
    intro: "Il suo codice di accesso a {{appName}} è",
    instruction: "Inserisca questo codice per accedere oppure apra questo link:",
    button: "Accedi a {{appName}}",
    linkHelp: "Se il pulsante non funziona, apra questo link:",
    expiry: "Il codice e il link sono validi una sola volta e scadono tra {{expiresIn}}.",
    notYou:
      "È stato richiesto l’accesso a {{appName}} come {{recipient}} (da {{requestIp}}). Se non ha fatto lei questa richiesta, ignori questa email: nessuno può accedere senza questo codice.",
  },
  dashboardEmail: {
    subject: "Codice di accesso alla dashboard di {{appName}}: {{code}}",
    intro: "Il suo codice di accesso alla dashboard di {{appName}} è",
    instruction: "Inserisca questo codice per accedere oppure apra questo link:",
    button: "Accedi alla dashboard di {{appName}}",
    linkHelp: "Se il pulsante non funziona, apra questo link:",
    expiry: "Il codice e il link sono validi una sola volta e scadono tra {{expiresIn}}.",
    notYou:
      "È stato richiesto l’accesso alla dashboard di {{appName}} come {{recipient}} (da {{requestIp}}). Se non ha fatto lei questa richiesta, ignori questa email: nessuno può accedere senza questo codice.",
  },
  hostedLogin: {
    title: "Accedi a {{appName}}",
    emailLabel: "Indirizzo email",
    sendCode: "Inviami un codice di accesso",
    sending: "Invio in corso…",
    codeSent: "Abbiamo inviato un codice a {{email}}.",
    codeExpires: "Scade tra {{expiresIn}}.",
    codeLabel: "Codice di accesso",
    verify: "Accedi",
    openLinkInstead: "Può anche aprire il link contenuto nell’email.",
    resend: "Invia un nuovo codice",
    changeEmail: "Usa un altro indirizzo email",
    invalidEmail: "Inserisca un indirizzo email valido, ad esempio nome@example.com.",
    invalidCode: "Il codice non è corretto.",
    attemptsLeft: {
      one: "Le resta {n} tentativo.",
      many: "Le restano {n} di tentativi.",
      other: "Le restano {n} tentativi.",
    },
    tooManyAttempts: "Troppi codici errati. Ne richieda uno nuovo.",
    expired: "Questo codice è scaduto o è già stato usato. Ne richieda uno nuovo.",
    rateLimited: "Troppi tentativi. Attenda un minuto e riprovi.",
    signedIn: "Accesso effettuato. Può chiudere questa finestra.",
    genericError: "Si è verificato un errore. Riprovi.",
  },
};
