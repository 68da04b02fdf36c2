import { de } from "./catalogues/de.ts";
import { en } from "./catalogues/en.ts";
import { es } from "./catalogues/es.ts";
import { fr } from "./catalogues/fr.ts";
import { it } from "./catalogues/it.ts";
import { ja } from "./catalogues/ja.ts";
import { nl } from "./catalogues/nl.ts";
import { pl } from "./catalogues/pl.ts";
import { pt } from "./catalogues/pt.ts";
import { zhHans } from "./catalogues/zh-hans.ts";
import { BUILT_IN_LOCALES, type BuiltInLocale, FALLBACK_LOCALE } from "./locales.ts";
import type { Catalogue } from "./messages.ts";
import { matchLocale } from "./negotiate.ts";

const catalogues: Record<BuiltInLocale, Catalogue> = {
  en,
  de,
  fr,
  es,
  pt,
  it,
  nl,
  pl,
  ja,
  "zh-Hans": zhHans,
};

/**
 * The built-in translation that serves `locale`, and the locale it is for: `pt-BR` gets Portuguese,
 * a locale Postern has no translation for gets English.
 */
export function catalogueFor(locale: string): { locale: BuiltInLocale; catalogue: Catalogue } {
  const found = (matchLocale(locale, BUILT_IN_LOCALES) as BuiltInLocale | undefined) ?? FALLBACK_LOCALE;
  return { locale: found, catalogue: catalogues[found] };
}
