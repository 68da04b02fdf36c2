import type { Catalogue } from "../messages.ts";

/**
 * Written to read well in Brazil and in Portugal: third-person forms (formal in Portugal, the usual
 * form in Brazil), "o seu", and words both use ("insira", "link", "e-mail"). An app that wants
 * pt-BR or pt-PT wording adds a template for that locale.
 */
export const pt: Catalogue = {
  // CLDR "many" is for round millions: "1 000 000 de minutos".
  minutes: { one: "{n} minuto", many: "{n} de minutos", other: "{n} minutos" },
  loginEmail: {
    subject: "O seu código para entrar em {{appName}}: {{code}}",
    intro: "O seu código para entrar em {{appName}} é",
    instruction: "Insira este código para entrar ou abra este link:",
    button: "Entrar em {{appName}}",
    linkHelp: "Se o botão não funcionar, abra este link:",
    expiry: "O código e o link só podem ser usados uma vez e expiram em {{expiresIn}}.",
    notYou:
      "Foi solicitado o acesso a {{appName}} com {{recipient}} (a partir de {{requestIp}}). Se não fez este pedido, ignore este e-mail: ninguém consegue entrar sem este código.",
  },
  dashboardEmail: {
    subject: "O seu código para entrar no painel de {{appName}}: {{code}}",
    intro: "O seu código para entrar no painel de {{appName}} é",
    instruction: "Insira este código para entrar ou abra este link:",
    button: "Entrar no painel de {{appName}}",
    linkHelp: "Se o botão não funcionar, abra este link:",
    expiry: "O código e o link só podem ser usados uma vez e expiram em {{expiresIn}}.",
    notYou:
      "Foi solicitado o acesso ao painel de {{appName}} com {{recipient}} (a partir de {{requestIp}}). Se não fez este pedido, ignore este e-mail: ninguém consegue entrar sem este código.",
  },
  hostedLogin: {
    title: "Entrar em {{appName}}",
    emailLabel: "Endereço de e-mail",
    sendCode: "Enviar código de acesso por e-mail",
    sending: "Aguarde…",
    codeSent: "Enviamos um código para {{email}}.",
    codeExpires: "Expira em {{expiresIn}}.",
    codeLabel: "Código de acesso",
    verify: "Entrar",
    openLinkInstead: "Também pode abrir o link do e-mail.",
    resend: "Enviar um novo código",
    changeEmail: "Usar outro endereço de e-mail",
    invalidEmail: "Insira um endereço de e-mail válido, por exemplo nome@example.com.",
    invalidCode: "Este código não está correto.",
    attemptsLeft: {
      one: "Resta {n} tentativa.",
      many: "Restam {n} de tentativas.",
      other: "Restam {n} tentativas.",
    },
    tooManyAttempts: "Muitos códigos incorretos. Peça um novo código.",
    expired: "Este código expirou ou já foi usado. Peça um novo código.",
    rateLimited: "Muitas tentativas. Aguarde um minuto e tente novamente.",
    signedIn: "Sessão iniciada. Já pode fechar esta janela.",
    genericError: "Ocorreu um erro. Tente novamente.",
  },
};
