import type { Catalogue } from "../messages.ts";

/** Simplified Chinese, polite form (您), full-width punctuation. Chinese has one plural form. */
export const zhHans: Catalogue = {
  minutes: { other: "{n} 分钟" },
  loginEmail: {
    subject: "您的 {{appName}} 登录验证码：{{code}}",
    intro: "您的 {{appName}} 登录验证码：",
    instruction: "请输入此验证码登录，或打开以下链接：",
    button: "登录 {{appName}}",
    linkHelp: "如果按钮无法使用，请打开以下链接：",
    expiry: "验证码和链接仅可使用一次，将在 {{expiresIn}}后失效。",
    notYou:
      "有人请求以 {{recipient}} 的身份登录 {{appName}}（来自 {{requestIp}}）。如果这不是您本人的操作，请忽略此邮件：没有此验证码，任何人都无法登录。",
  },
  dashboardEmail: {
    subject: "您的 {{appName}} 控制台登录验证码：{{code}}",
    intro: "您的 {{appName}} 控制台登录验证码：",
    instruction: "请输入此验证码登录，或打开以下链接：",
    button: "登录 {{appName}} 控制台",
    linkHelp: "如果按钮无法使用，请打开以下链接：",
    expiry: "验证码和链接仅可使用一次，将在 {{expiresIn}}后失效。",
    notYou:
      "有人请求以 {{recipient}} 的身份登录 {{appName}} 控制台（来自 {{requestIp}}）。如果这不是您本人的操作，请忽略此邮件：没有此验证码，任何人都无法登录。",
  },
  hostedLogin: {
    title: "登录 {{appName}}",
    emailLabel: "电子邮箱地址",
    sendCode: "通过邮件发送登录验证码",
    sending: "正在发送…",
    codeSent: "我们已将验证码发送至 {{email}}。",
    codeExpires: "验证码将在 {{expiresIn}}后失效。",
    codeLabel: "登录验证码",
    verify: "登录",
    openLinkInstead: "您也可以打开邮件中的链接登录。",
    resend: "重新发送验证码",
    changeEmail: "使用其他邮箱地址",
    invalidEmail: "请输入有效的邮箱地址，例如 name@example.com。",
    invalidCode: "验证码不正确。",
    attemptsLeft: { other: "您还可以尝试 {n} 次。" },
    tooManyAttempts: "错误次数过多，请重新获取验证码。",
    expired: "此验证码已失效或已被使用，请重新获取。",
    rateLimited: "尝试次数过多，请等待一分钟后再试。",
    signedIn: "您已登录，可以关闭此窗口。",
    genericError: "出现问题，请重试。",
  },
};
