import type { Catalogue } from "../messages.ts";

/**
 * Formal register (vous). French typography: a no-break space (U+00A0) before ":" and the
 * typographic apostrophe.
 */
export const fr: Catalogue = {
  // CLDR "many" is for round millions: "1 000 000 de minutes".
  minutes: { one: "{n} minute", many: "{n} de minutes", other: "{n} minutes" },
  loginEmail: {
    subject: "Votre code de connexion à {{appName}}\u00a0: {{code}}",
    intro: "Voici votre code de connexion à {{appName}}\u00a0:",
    instruction: "Saisissez ce code pour vous connecter, ou ouvrez ce lien\u00a0:",
    button: "Se connecter à {{appName}}",
    linkHelp: "Si le bouton ne fonctionne pas, ouvrez ce lien\u00a0:",
    expiry: "Le code et le lien ne peuvent être utilisés qu’une seule fois et expirent dans {{expiresIn}}.",
    notYou:
      "Une connexion à {{appName}} a été demandée pour {{recipient}} (depuis {{requestIp}}). Si vous n’êtes pas à l’origine de cette demande, ignorez cet e-mail\u00a0: personne ne peut se connecter sans ce code.",
  },
  dashboardEmail: {
    subject: "Votre code de connexion au tableau de bord {{appName}}\u00a0: {{code}}",
    intro: "Voici votre code de connexion au tableau de bord {{appName}}\u00a0:",
    instruction: "Saisissez ce code pour vous connecter, ou ouvrez ce lien\u00a0:",
    button: "Se connecter au tableau de bord {{appName}}",
    linkHelp: "Si le bouton ne fonctionne pas, ouvrez ce lien\u00a0:",
    expiry: "Le code et le lien ne peuvent être utilisés qu’une seule fois et expirent dans {{expiresIn}}.",
    notYou:
      "Une connexion au tableau de bord {{appName}} a été demandée pour {{recipient}} (depuis {{requestIp}}). Si vous n’êtes pas à l’origine de cette demande, ignorez cet e-mail\u00a0: personne ne peut se connecter sans ce code.",
  },
  hostedLogin: {
    title: "Se connecter à {{appName}}",
    emailLabel: "Adresse e-mail",
    sendCode: "Recevoir un code de connexion par e-mail",
    sending: "Envoi en cours…",
    codeSent: "Nous avons envoyé un code à {{email}}.",
    codeExpires: "Il expire dans {{expiresIn}}.",
    codeLabel: "Code de connexion",
    verify: "Se connecter",
    openLinkInstead: "Vous pouvez aussi ouvrir le lien contenu dans l’e-mail.",
    resend: "Envoyer un nouveau code",
    changeEmail: "Utiliser une autre adresse e-mail",
    invalidEmail: "Saisissez une adresse e-mail valide, par exemple nom@example.com.",
    invalidCode: "Ce code n’est pas correct.",
    attemptsLeft: {
      one: "Il vous reste {n} essai.",
      many: "Il vous reste {n} d’essais.",
      other: "Il vous reste {n} essais.",
    },
    tooManyAttempts: "Trop de codes incorrects. Demandez-en un nouveau.",
    expired: "Ce code a expiré ou a déjà été utilisé. Demandez-en un nouveau.",
    rateLimited: "Trop de tentatives. Patientez une minute, puis réessayez.",
    signedIn: "Vous êtes connecté. Vous pouvez fermer cette fenêtre.",
    genericError: "Une erreur s’est produite. Veuillez réessayer.",
  },
};
