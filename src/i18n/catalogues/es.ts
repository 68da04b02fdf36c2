import type { Catalogue } from "../messages.ts";

/** Formal register (usted), in wording that reads naturally in Spain and in Latin America. */
export const es: Catalogue = {
  // CLDR "many" is for round millions: "1 000 000 de minutos".
  minutes: { one: "{n} minuto", many: "{n} de minutos", other: "{n} minutos" },
  loginEmail: {
    subject: "Su código de acceso a {{appName}}: {{code}}",
    intro: "Su código de acceso a {{appName}} es",
    instruction: "Introduzca este código para iniciar sesión o abra este enlace:",
    button: "Iniciar sesión en {{appName}}",
    linkHelp: "Si el botón no funciona, abra este enlace:",
    expiry: "El código y el enlace solo pueden usarse una vez y caducan en {{expiresIn}}.",
    notYou:
      "Se ha solicitado iniciar sesión en {{appName}} como {{recipient}} (desde {{requestIp}}). Si no ha sido usted, ignore este correo: nadie puede iniciar sesión sin este código.",
  },
  dashboardEmail: {
    subject: "Su código de acceso al panel de {{appName}}: {{code}}",
    intro: "Su código de acceso al panel de {{appName}} es",
    instruction: "Introduzca este código para iniciar sesión o abra este enlace:",
    button: "Iniciar sesión en el panel de {{appName}}",
    linkHelp: "Si el botón no funciona, abra este enlace:",
    expiry: "El código y el enlace solo pueden usarse una vez y caducan en {{expiresIn}}.",
    notYou:
      "Se ha solicitado iniciar sesión en el panel de {{appName}} como {{recipient}} (desde {{requestIp}}). Si no ha sido usted, ignore este correo: nadie puede iniciar sesión sin este código.",
  },
  hostedLogin: {
    title: "Iniciar sesión en {{appName}}",
    emailLabel: "Correo electrónico",
    sendCode: "Enviarme un código de acceso",
    sending: "Enviando…",
    codeSent: "Hemos enviado un código a {{email}}.",
    codeExpires: "Caduca en {{expiresIn}}.",
    codeLabel: "Código de acceso",
    verify: "Iniciar sesión",
    openLinkInstead: "También puede abrir el enlace del correo.",
    resend: "Enviar un código nuevo",
    changeEmail: "Usar otra dirección de correo",
    invalidEmail: "Introduzca una dirección de correo válida, por ejemplo nombre@example.com.",
    invalidCode: "El código no es correcto.",
    attemptsLeft: {
      one: "Le queda {n} intento.",
      many: "Le quedan {n} de intentos.",
      other: "Le quedan {n} intentos.",
    },
    tooManyAttempts: "Demasiados códigos incorrectos. Solicite uno nuevo.",
    expired: "Este código ha caducado o ya se ha usado. Solicite uno nuevo.",
    rateLimited: "Demasiados intentos. Espere un minuto y vuelva a intentarlo.",
    signedIn: "Ha iniciado sesión. Ya puede cerrar esta ventana.",
    genericError: "Se ha producido un error. Vuelva a intentarlo.",
  },
};
