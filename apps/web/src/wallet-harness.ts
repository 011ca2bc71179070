// What the wallet page's browser tests share: opening a page in a fresh browser context, creating a
// wallet through the page, reading its balance, and screenshots at desktop and phone size.
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { expect } from "vitest";
import { REPO_ROOT } from "../../guardiand/src/npm-start-harness.js";

export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

/**
 * Screenshots go to docs/web/ only when asked (`CONCLAVE_WEB_SCREENSHOTS=1`), so that a test run
 * leaves the repository's files alone; else to the test's temporary directory.
 */
const SHOTS_TO_DOCS = process.env["CONCLAVE_WEB_SCREENSHOTS"] === "1";

/** A page in its own browser context (its own IndexedDB: another user), errors collected. */
export async function openPage(
  browser: Browser,
  url: string,
  errors: string[],
  viewport = DESKTOP,
  deviceScaleFactor = 1,
): Promise<Page> {
  const context = await browser.newContext({ viewport, deviceScaleFactor });
  const page = await context.newPage();
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  await page.goto(url);
  return page;
}

/** Full-page screenshots of the current view at desktop and phone size (`NAME-desktop.png`, `NAME-phone.png`). */
export async function shotBoth(page: Page, name: string, tmp: string): Promise<void> {
  const dir = SHOTS_TO_DOCS ? join(REPO_ROOT, "docs", "web") : join(tmp, "screenshots");
  const before = page.viewportSize() ?? DESKTOP;
  await page.setViewportSize(DESKTOP);
  await page.screenshot({ path: join(dir, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: join(dir, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize(before);
}

export async function balanceOf(page: Page): Promise<string> {
  return (await page.locator("#balance").innerText()).trim();
}

/** Creates a wallet with the invite in the form; returns the recovery phrase the page showed. */
export async function createInPage(page: Page, shotsTmp?: string): Promise<string> {
  await page.getByLabel("Create a new wallet").check();
  await page.getByRole("button", { name: "Create wallet" }).click();
  await expect.poll(() => page.locator("#mnemonic li").count(), { timeout: 30_000 }).toBeGreaterThan(11);
  const words = await page.locator("#mnemonic li").allInnerTexts();
  if (shotsTmp !== undefined) await shotBoth(page, "wallet-phrase", shotsTmp);
  await page.getByLabel("I have written the words down").check();
  await page.getByRole("button", { name: "Continue to the wallet" }).click();
  await expect.poll(() => page.locator("#balance").count(), { timeout: 15_000 }).toBe(1);
  return words.map((w) => w.trim()).join(" ");
}
