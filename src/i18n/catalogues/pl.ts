import type { Catalogue } from "../messages.ts";

/**
 * Polish login emails address the reader directly, with the pronouns capitalised as courtesy in
 * correspondence ("Twój", "Ty"). App names are not declined: they follow "aplikacji" / "panelu".
 */
export const pl: Catalogue = {
  // Accusative after "za": za 1 minutę, za 2–4 (22–24…) minuty, za 5–21 (25…) minut; fractions: 1,5 minuty.
  minutes: { one: "{n} minutę", few: "{n} minuty", many: "{n} minut", other: "{n} minuty" },
  loginEmail: {
    subject: "Kod logowania do aplikacji {{appName}}: {{code}}",
    intro: "Twój kod logowania do aplikacji {{appName}} to",
    instruction: "Wpisz ten kod, aby się zalogować, lub otwórz ten link:",
    button: "Zaloguj się do aplikacji {{appName}}",
    linkHelp: "Jeśli przycisk nie działa, otwórz ten link:",
    expiry: "Kod i link są jednorazowe i wygasają za {{expiresIn}}.",
    notYou:
      "Ktoś poprosił o zalogowanie do aplikacji {{appName}} jako {{recipient}} (z adresu {{requestIp}}). Jeśli to nie Ty, zignoruj tę wiadomość: bez tego kodu nikt się nie zaloguje.",
  },
  dashboardEmail: {
    subject: "Kod logowania do panelu {{appName}}: {{code}}",
    intro: "Twój kod logowania do panelu {{appName}} to",
    instruction: "Wpisz ten kod, aby się zalogować, lub otwórz ten link:",
    button: "Zaloguj się do panelu {{appName}}",
    linkHelp: "Jeśli przycisk nie działa, otwórz ten link:",
    expiry: "Kod i link są jednorazowe i wygasają za {{expiresIn}}.",
    notYou:
      "Ktoś poprosił o zalogowanie do panelu {{appName}} jako {{recipient}} (z adresu {{requestIp}}). Jeśli to nie Ty, zignoruj tę wiadomość: bez tego kodu nikt się nie zaloguje.",
  },
  hostedLogin: {
    title: "Zaloguj się do aplikacji {{appName}}",
    emailLabel: "Adres e-mail",
    sendCode: "Wyślij mi kod logowania",
    sending: "Wysyłanie…",
    codeSent: "Wysłaliśmy kod na adres {{email}}.",
    codeExpires: "Kod wygasa za {{expiresIn}}.",
    codeLabel: "Kod logowania",
    verify: "Zaloguj się",
    openLinkInstead: "Możesz też otworzyć link z wiadomości.",
    resend: "Wyślij nowy kod",
    changeEmail: "Użyj innego adresu e-mail",
    invalidEmail: "Wpisz prawidłowy adres e-mail, np. imie@example.com.",
    invalidCode: "Ten kod jest nieprawidłowy.",
    // The verb agrees with the number: została 1 próba, zostały 2 próby, zostało 5 prób.
    attemptsLeft: {
      one: "Została {n} próba.",
      few: "Zostały {n} próby.",
      many: "Zostało {n} prób.",
      other: "Zostało {n} próby.",
    },
    tooManyAttempts: "Zbyt wiele błędnych kodów. Poproś o nowy kod.",
    expired: "Ten kod wygasł lub został już użyty. Poproś o nowy kod.",
    rateLimited: "Zbyt wiele prób. Odczekaj minutę i spróbuj ponownie.",
    signedIn: "Zalogowano. Możesz zamknąć to okno.",
    genericError: "Coś poszło nie tak. Spróbuj ponownie.",
  },
};
