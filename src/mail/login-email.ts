import { readFileSync } from "node:fs";
import Mustache from "mustache";

const template = (name: string) => readFileSync(new URL(`./templates/${name}`, import.meta.url), "utf8");
const textTemplate = template("login.txt.mustache");
const htmlTemplate = template("login.html.mustache");

export interface LoginEmailContent {
  appName: string;
  code: string;
  link: string;
  recipient: string;
  requestIp: string;
  ttlMinutes: number;
}

export interface ComposedEmail {
  subject: string;
  text: string;
  html: string;
}

/** The login email. Mustache escapes every value in the HTML part; the plain-text part is not HTML. */
export function composeLoginEmail(content: LoginEmailContent): ComposedEmail {
  return {
    subject: `Your ${content.appName} login code: ${content.code}`,
    text: Mustache.render(textTemplate, content, {}, { escape: (value: string) => value }),
    html: Mustache.render(htmlTemplate, content),
  };
}
