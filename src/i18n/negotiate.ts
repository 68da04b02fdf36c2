import { BUILT_IN_LOCALES, baseLocale, canonicalLocale, FALLBACK_LOCALE } from "./locales.ts";

/** Where a negotiated locale came from, for the delivery log and for tests. */
export type LocaleSource = "requested" | "accept-language" | "app-default" | "fallback";

export interface NegotiatedLocale {
  locale: string;
  source: LocaleSource;
}

/** Headers are attacker-sized; nobody's browser sends more than a few ranges. */
const MAX_HEADER = 4096;
const MAX_RANGES = 32;

/**
 * The language ranges of an Accept-Language header (RFC 9110 §12.5.4), best first: by weight, then in
 * the order given. `q=0` means "not acceptable" and drops the range; malformed entries are skipped,
 * never fatal. `*` is kept: it accepts anything, which the caller reads as "the default".
 */
export function parseAcceptLanguage(header: string | undefined): string[] {
  if (!header) return [];
  const ranges: { tag: string; q: number; index: number }[] = [];
  for (const [index, entry] of header.slice(0, MAX_HEADER).split(",").slice(0, MAX_RANGES).entries()) {
    const [rawTag, ...params] = entry.trim().split(";");
    const tag = rawTag?.trim() ?? "";
    let q = 1;
    for (const param of params) {
      const match = /^\s*q\s*=\s*(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)\s*$/i.exec(param);
      if (match) q = Number(match[1]);
      else if (/^\s*q\s*=/i.test(param)) q = -1; // a malformed weight: the range is skipped
    }
    if (q <= 0) continue;
    if (tag === "*") {
      ranges.push({ tag, q, index });
      continue;
    }
    const canonical = canonicalLocale(tag);
    if (canonical) ranges.push({ tag: canonical, q, index });
  }
  return ranges.sort((a, b) => b.q - a.q || a.index - b.index).map((r) => r.tag);
}

function maximized(tag: string): {
  language: string;
  script: string | undefined;
  region: string | undefined;
} {
  const locale = new Intl.Locale(tag).maximize();
  return { language: locale.language, script: locale.script, region: locale.region };
}

/**
 * The supported locale that serves a wanted one, or undefined:
 * 1. the same tag (`de-CH` when de-CH is supported);
 * 2. a less specific one, as RFC 4647 lookup does (`pt-BR` → `pt`, `zh-Hant-TW` → `zh-Hant`);
 * 3. one with the same language and writing system (`zh-CN` → `zh-Hans`, `pt` → `pt-BR`), preferring
 *    the same region. A different script is never a match: `zh-TW` readers are not sent Simplified Chinese.
 */
export function matchLocale(wanted: string, supported: readonly string[]): string | undefined {
  const base = baseLocale(wanted);
  if (!base) return undefined;
  const byLower = new Map(supported.map((s) => [s.toLowerCase(), s]));
  const parts = base.split("-");
  for (let length = parts.length; length > 0; length--) {
    const found = byLower.get(parts.slice(0, length).join("-").toLowerCase());
    if (found) return found;
  }
  const want = maximized(base);
  let sameScript: string | undefined;
  for (const candidate of supported) {
    const have = maximized(candidate);
    if (have.language !== want.language || have.script !== want.script) continue;
    if (have.region === want.region) return candidate;
    sameScript ??= candidate;
  }
  return sameScript;
}

/**
 * The locale of a login email (and of the hosted login page): the `locale` the app asked for if one
 * of `supported` serves it, else the best the end user's Accept-Language accepts, else the app's
 * default, else English. `supported` is what the app can send: the built-in translations and the
 * locales it has templates for.
 */
export function negotiateLocale(
  requested: string | undefined,
  acceptLanguage: string | undefined,
  appDefault: string | undefined,
  supported: readonly string[] = BUILT_IN_LOCALES,
): NegotiatedLocale {
  if (requested) {
    const locale = matchLocale(requested, supported);
    if (locale) return { locale, source: "requested" };
  }
  for (const range of parseAcceptLanguage(acceptLanguage)) {
    if (range === "*") break;
    const locale = matchLocale(range, supported);
    if (locale) return { locale, source: "accept-language" };
  }
  if (appDefault && supported.includes(appDefault)) return { locale: appDefault, source: "app-default" };
  return { locale: FALLBACK_LOCALE, source: "fallback" };
}
