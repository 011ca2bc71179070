// The wallet page's Monero flows in Debian's Chromium against real Monero software: monerod in
// regtest, the real key ceremony making the guardians' wallets one 3-of-4 multisig wallet, four
// guardian processes serving the page (startMoneroFederation). Deposit: the page shows the wallet's
// own subaddress (text and QR code), a plain Monero wallet pays it, the page shows the progress bar
// over the confirmations and then the balance. Withdraw: the page pays part back to the user's
// address; the tx key it shows proves the payment with check_tx_key. Screenshots: wallet-deposit-*,
// wallet-withdraw-* (docs/web with CONCLAVE_WEB_SCREENSHOTS=1).
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMoneroFederation } from "../../guardiand/src/index.js";
import type { MoneroFederation } from "../../guardiand/src/index.js";
import { parseXmr } from "@conclave/monero";
import { ensureChromiumInstalled, launchChromium } from "./harness.js";
import { DESKTOP, balanceOf, createInPage, openPage, shotBoth } from "./wallet-harness.js";

const CONFIRMATIONS = 4;
const PAID = parseXmr("1.5");

let fed: MoneroFederation | undefined;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

function federation(): MoneroFederation {
  if (!fed) throw new Error("the federation did not start");
  return fed;
}

beforeAll(async () => {
  ensureChromiumInstalled();
  [fed, browser] = await Promise.all([
    startMoneroFederation({
      moneroConfig: { confirmations: CONFIRMATIONS, payoutConfirmations: 2 },
      pollMs: 200,
      blockEveryMs: 1000,
      prefix: "conclave-wallet-page-monero-",
    }),
    launchChromium(),
  ]);
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await fed?.stop();
});

describe("the wallet page with Monero (real monerod regtest, the ceremony's 3-of-4 multisig, 4 guardian processes)", () => {
  it("deposit: the page's subaddress (text and QR) paid from a Monero wallet; a progress bar over the confirmations; then the balance", async () => {
    page = await openPage(browser, `${federation().apiUrl(1)}/wallet`, pageErrors, DESKTOP);
    await expect
      .poll(() => page.locator("#invite").inputValue(), { timeout: 15_000 })
      .toBe(federation().invite);
    await createInPage(page);
    await page.evaluate('location.hash = "#/deposit"');
    await page.getByRole("button", { name: "Show my deposit address" }).click();
    await expect.poll(() => page.locator("#deposit-address").count(), { timeout: 120_000 }).toBe(1);
    const address = await page.locator("#deposit-address").inputValue();
    expect(address).not.toBe(federation().address);
    expect((await federation().guardianWallets[0]!.validateAddress({ address })).subaddress).toBe(true);
    expect(await page.locator("#deposit-qr").getAttribute("aria-label")).toBe(
      "QR code of your deposit address",
    );

    const user = federation().user;
    await user.refresh();
    await user.transfer({ destinations: [{ address, amount: PAID }] });
    // The bar over the confirmations, with its count in its label, while the payment confirms.
    const bar = page.locator("#deposit-confirmations");
    await expect.poll(() => bar.count(), { timeout: 120_000, interval: 100 }).toBe(1);
    expect(await bar.getAttribute("max")).toBe(String(CONFIRMATIONS));
    await shotBoth(page, "wallet-deposit", federation().root);
    await expect.poll(() => page.locator("#deposit-done").count(), { timeout: 240_000 }).toBe(1);
    expect(await page.locator("#deposit-done").innerText()).toContain("Deposited: 1.5 XMR");
    await page.evaluate('location.hash = "#/balance"');
    await expect.poll(() => balanceOf(page)).toBe("1.5 XMR");
  }, 420_000);

  it("withdraw: XMR paid to the user's Monero address, stages shown, the tx key proves it with check_tx_key", async () => {
    await page.evaluate('location.hash = "#/withdraw"');
    await page.locator("#withdraw-address").fill(federation().userAddress);
    await page.locator("#withdraw-amount").fill("0.5");
    await page.getByRole("button", { name: "Withdraw", exact: true }).click();
    await expect.poll(() => page.locator("#withdraw-progress").count(), { timeout: 60_000 }).toBe(1);
    await shotBoth(page, "wallet-withdraw", federation().root);
    await expect.poll(() => page.locator("#withdraw-done").count(), { timeout: 300_000 }).toBe(1);
    const txid = await page.locator("#withdraw-txid").innerText();
    const txKey = await page.locator("#withdraw-txkey").innerText();
    const proof = await federation().user.checkTxKey({ txid, txKey, address: federation().userAddress });
    expect(proof.received).toBe(parseXmr("0.5"));
    await page.evaluate('location.hash = "#/balance"');
    const left = await balanceOf(page);
    // 1.5 XMR minus 0.5 and the Monero network fee (the mint charges none here).
    expect(left).toMatch(/^0\.9\d+ XMR$/);
    expect(pageErrors.filter((e) => !/status of 429 \(Too Many Requests\)/.test(e))).toEqual([]);
  }, 420_000);
});
