import type { Catalogue } from "../messages.ts";

/** Polite form (です・ます), full-width punctuation. Japanese has one plural form. */
export const ja: Catalogue = {
  minutes: { other: "{n}分" },
  loginEmail: {
    subject: "{{appName}} のログインコード：{{code}}",
    intro: "{{appName}} のログインコード：",
    instruction: "このコードを入力してログインするか、次のリンクを開いてください。",
    button: "{{appName}} にログイン",
    linkHelp: "ボタンが機能しない場合は、次のリンクを開いてください。",
    expiry: "コードとリンクは1回のみ有効で、{{expiresIn}}後に期限切れになります。",
    notYou:
      "{{recipient}} として {{appName}} へのログインがリクエストされました（{{requestIp}} から）。お心当たりがない場合は、このメールを無視してください。このコードがなければ、誰もログインできません。",
  },
  dashboardEmail: {
    subject: "{{appName}} ダッシュボードのログインコード：{{code}}",
    intro: "{{appName}} ダッシュボードのログインコード：",
    instruction: "このコードを入力してログインするか、次のリンクを開いてください。",
    button: "{{appName}} ダッシュボードにログイン",
    linkHelp: "ボタンが機能しない場合は、次のリンクを開いてください。",
    expiry: "コードとリンクは1回のみ有効で、{{expiresIn}}後に期限切れになります。",
    notYou:
      "{{recipient}} として {{appName}} ダッシュボードへのログインがリクエストされました（{{requestIp}} から）。お心当たりがない場合は、このメールを無視してください。このコードがなければ、誰もログインできません。",
  },
  hostedLogin: {
    title: "{{appName}} にログイン",
    emailLabel: "メールアドレス",
    sendCode: "ログインコードをメールで受け取る",
    sending: "送信しています…",
    codeSent: "{{email}} にコードを送信しました。",
    codeExpires: "有効期限は{{expiresIn}}です。",
    codeLabel: "ログインコード",
    verify: "ログイン",
    openLinkInstead: "メールに記載されたリンクを開いてログインすることもできます。",
    resend: "新しいコードを送信",
    changeEmail: "別のメールアドレスを使用",
    invalidEmail: "有効なメールアドレスを入力してください（例：name@example.com）。",
    invalidCode: "コードが正しくありません。",
    attemptsLeft: { other: "残り{n}回入力できます。" },
    tooManyAttempts: "誤ったコードが多すぎます。新しいコードをリクエストしてください。",
    expired: "このコードは期限切れか、すでに使用されています。新しいコードをリクエストしてください。",
    rateLimited: "試行回数が多すぎます。1分ほど待ってから、もう一度お試しください。",
    signedIn: "ログインしました。このウィンドウを閉じてかまいません。",
    genericError: "問題が発生しました。もう一度お試しください。",
  },
};
