// Which language a login email is in: the request's locale, then Accept-Language, then the app's default.
import { describe, expect, it } from "vitest";
import { hostedLoginWords } from "../../src/i18n/hosted-login.ts";
import { canonicalLocale, templateLocale } from "../../src/i18n/locales.ts";
import { matchLocale, negotiateLocale, parseAcceptLanguage } from "../../src/i18n/negotiate.ts";

describe("locale negotiation", () => {
  it("an explicit locale wins when something serves it", () => {
    expect(negotiateLocale("de", "fr-FR,fr;q=0.9", "en")).toEqual({ locale: "de", source: "requested" });
    expect(negotiateLocale("de-AT", "fr", "en")).toEqual({ locale: "de", source: "requested" });
  });

  it("an explicit locale nobody serves falls through to Accept-Language, then the app's default", () => {
    expect(negotiateLocale("sv", "nl;q=0.8, ja", "en")).toEqual({ locale: "ja", source: "accept-language" });
    expect(negotiateLocale("sv", undefined, "pl")).toEqual({ locale: "pl", source: "app-default" });
  });

  it("Accept-Language by weight, then by order, skipping q=0 and what nobody serves", () => {
    expect(negotiateLocale(undefined, "da, en-GB;q=0.8, de;q=0.9", "en")).toEqual({
      locale: "de",
      source: "accept-language",
    });
    expect(negotiateLocale(undefined, "it;q=0.5, es;q=0.5", "en").locale).toBe("it");
    expect(negotiateLocale(undefined, "fr;q=0, nl;q=0.1", "en").locale).toBe("nl");
    expect(negotiateLocale(undefined, "sv, fi, nb", "fr")).toEqual({ locale: "fr", source: "app-default" });
  });

  it("falls back along the tag: pt-BR → pt, zh-Hant-TW never to Simplified Chinese", () => {
    expect(negotiateLocale(undefined, "pt-BR", "en").locale).toBe("pt");
    expect(negotiateLocale(undefined, "zh-CN", "en").locale).toBe("zh-Hans");
    expect(negotiateLocale(undefined, "zh", "en").locale).toBe("zh-Hans");
    expect(negotiateLocale(undefined, "zh-TW", "en")).toEqual({ locale: "en", source: "app-default" });
    expect(negotiateLocale(undefined, "zh-Hant-TW, ja;q=0.5", "en").locale).toBe("ja");
  });

  it("an app's own locale is served exactly, and before the language it refines", () => {
    const supported = ["en", "pt", "pt-BR", "de"];
    expect(negotiateLocale(undefined, "pt-BR", "en", supported).locale).toBe("pt-BR");
    expect(negotiateLocale(undefined, "pt-PT", "en", supported).locale).toBe("pt");
    expect(matchLocale("pt", ["en", "pt-BR"])).toBe("pt-BR");
  });

  it("the app's default, and English when even that is unknown", () => {
    expect(negotiateLocale(undefined, undefined, "nl")).toEqual({ locale: "nl", source: "app-default" });
    expect(negotiateLocale(undefined, "*", "nl")).toEqual({ locale: "nl", source: "app-default" });
    expect(negotiateLocale(undefined, "xx-YY", "sv")).toEqual({ locale: "en", source: "fallback" });
  });

  it("a malformed header is read as far as it makes sense, never fatally", () => {
    expect(parseAcceptLanguage("en-US,en;q=0.9,*;q=0.1")).toEqual(["en-US", "en", "*"]);
    expect(parseAcceptLanguage(";;, ,q=1,de;q=abc, fr;q=2, ja;q=0.7")).toEqual(["ja"]);
    expect(parseAcceptLanguage(`${"x".repeat(5000)},de`)).toEqual([]);
    const tooMany = `${Array.from({ length: 100 }, () => "sv").join(",")},de`;
    expect(parseAcceptLanguage(tooMany)).not.toContain("de");
    expect(negotiateLocale(undefined, "\u0000\r\nde", "en").locale).toBe("en");
  });
});

describe("locale tags", () => {
  it("are canonicalised, and only simple ones key a template", () => {
    expect(canonicalLocale("PT-br")).toBe("pt-BR");
    expect(canonicalLocale("zh-hans-cn")).toBe("zh-Hans-CN");
    expect(canonicalLocale("en_US")).toBeUndefined();
    expect(canonicalLocale("i-klingon")).toBeUndefined();
    expect(templateLocale("de-CH")).toBe("de-CH");
    expect(templateLocale("en-US-u-ca-buddhist")).toBeUndefined();
    expect(templateLocale("x".repeat(40))).toBeUndefined();
  });
});

describe("the hosted login page's words", () => {
  it("follow the same negotiation, with plurals", () => {
    const polish = hostedLoginWords(undefined, "pl-PL,pl;q=0.9", "en");
    expect(polish.locale).toBe("pl");
    expect(polish.format(polish.strings.title, { appName: "Sklep" })).toBe("Zaloguj się do aplikacji Sklep");
    expect(polish.codeExpires(1)).toBe("Kod wygasa za 1 minutę.");
    expect(polish.codeExpires(10)).toBe("Kod wygasa za 10 minut.");
    expect(polish.attemptsLeft(3)).toBe("Zostały 3 próby.");
    const german = hostedLoginWords("de", undefined, "en");
    expect(german.codeExpires(10)).toBe("Er läuft in 10 Minuten ab.");
    expect(hostedLoginWords(undefined, "xx", "ja").strings.verify).toBe("ログイン");
  });
});
