// The accessibility audit every browser test runs on each page and state it visits: axe-core with the
// WCAG 2.x A/AA rules and axe's best practices, at a phone's width and a desktop's, plus a check that
// nothing scrolls sideways. Screenshots are taken at both widths while the page is there.
import { AxeBuilder } from "@axe-core/playwright";
import type { Page } from "playwright-core";
import { expect } from "vitest";
import { screenshot } from "./harness.ts";

const AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"];
export const AUDIT_WIDTHS = [375, 1440] as const;

/**
 * Audits the page with axe-core and screenshots it at 375 and 1440 px, then restores its viewport.
 * A state that exists at one width only (the phone's open menu) passes just that width.
 */
export async function auditAndCapture(
  page: Page,
  name: string,
  widths: readonly number[] = AUDIT_WIDTHS,
): Promise<void> {
  const original = page.viewportSize();
  for (const width of widths) {
    await page.setViewportSize({ width, height: original?.height ?? 900 });
    await expectAccessible(page, `${name} at ${width} px`);
    await screenshot(page, name);
  }
  if (original) await page.setViewportSize(original);
}

/** axe-core finds no violation on the page as it is now, and nothing scrolls sideways (soft: every state is listed). */
export async function expectAccessible(page: Page, label: string): Promise<void> {
  // Sandboxed frames are left out: they render an email (the developer's HTML, not the page's), and
  // axe's script may not run there (injecting it logs a console error and can stall the run).
  const results = await new AxeBuilder({ page }).withTags(AXE_TAGS).exclude("iframe[sandbox]").analyze();
  const violations = results.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`,
  );
  // Soft, so one run lists every page's violations instead of stopping at the first.
  expect.soft(violations, label).toEqual([]);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect.soft(overflow, `${label} scrolls sideways`).toBeLessThanOrEqual(0);
}
