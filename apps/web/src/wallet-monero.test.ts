// The wallet page's Monero flows in Debian's Chromium against real Monero software: monerod in
// regtest, the real key ceremony making the guardians' wallets one 3-of-4 multisig wallet, four
// guardian processes serving the page (startMoneroFederation). Deposit: the page shows the wallet's
// own subaddress (text and QR code), a plain Monero wallet pays it, the page shows the progress bar
// over the confirmations and then the balance. Withdraw: the page pays part back to the user's
// address; the tx key it shows proves the payment with check_tx_key. Screenshots: wallet-deposit-*,
// wallet-withdraw-* (docs/web with CONCLAVE_WEB_SCREENSHOTS=1).
// The status page beside them: the deposit's Monero txid looked up (a subaddress deposit: seen by the
// guardians' wallets, confirmed, credited by t, spent by a federation transaction; no address, index
// or amount shown; screenshots lookup-subaddress-deposit-*), and the figure table's pending-payouts
// and wallet rows during and after the withdrawal, against each guardian's GET reserves.
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
let status: Page;
const pageErrors: string[] = [];
/** The status page's errors (its look-ups get 404s for what a guardian does not know: not errors). */
const statusErrors: string[] = [];
/** The deposit's Monero txid (test 1). */
let depositTxid = "";

interface Reserves {
  pendingPayouts: { count: number; amount: string };
  wallet?: { balance: string; unlocked: string };
}

const reservesOf = async (i: number): Promise<Reserves> =>
  (await (await fetch(`${federation().apiUrl(i)}/v1/modules/monero/reserves`)).json()) as Reserves;

/** The piconero a figure-table cell shows (its title), or undefined. */
const cellPiconero = async (p: Page, selector: string): Promise<string | undefined> => {
  const title = await p
    .locator(`${selector} span[title]`)
    .first()
    .getAttribute("title", { timeout: 1_000 })
    .catch(() => null);
  return title?.replace(/ piconero$/, "");
};

/**
 * Each guardian's figure-table cell of `row` and its wallet row (#wallets) as that guardian's GET
 * reserves says at the same time, or what differs (read again until they match: the page reloads
 * at most every 5 s).
 */
async function figuresMatchApi(row: "pending-payouts" | "wallet"): Promise<string> {
  const off: string[] = [];
  for (let i = 0; i < 4; i++) {
    const api = await reservesOf(i);
    const want = row === "pending-payouts" ? api.pendingPayouts.amount : api.wallet?.balance;
    const shown = await cellPiconero(status, `#owed tr[data-row="${row}"] td[data-guardian="${i}"]`);
    if (shown !== want) off.push(`guardian ${i} ${row}: page ${shown}, api ${want}`);
    if (row === "wallet") {
      const balance = await cellPiconero(
        status,
        `#wallets tr[data-guardian="${i}"] td[data-field="balance"]`,
      );
      const unlocked = await cellPiconero(
        status,
        `#wallets tr[data-guardian="${i}"] td[data-field="unlocked"]`,
      );
      if (balance !== api.wallet?.balance || unlocked !== api.wallet?.unlocked)
        off.push(
          `guardian ${i} wallet row: page ${balance}/${unlocked}, api ${api.wallet?.balance}/${api.wallet?.unlocked}`,
        );
    }
  }
  return off.join("; ") || "match";
}

/** No Monero address in a text: neither the federation's, the user's, nor anything shaped like one. */
function expectNoMoneroAddress(s: string): void {
  expect(s).not.toContain(federation().address);
  expect(s).not.toContain(federation().userAddress);
  expect(s).not.toMatch(/[1-9A-HJ-NP-Za-km-z]{95}/);
}

async function lookUp(p: Page, id: string): Promise<void> {
  await p.getByLabel(/Monero deposit txid/).fill(id);
  await p.getByRole("button", { name: "Look up" }).click();
}
const resultText = (p: Page) => () =>
  p
    .locator("#lookup-result")
    .innerText()
    .catch(() => "");

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
    depositTxid = (await user.transfer({ destinations: [{ address, amount: PAID }] })).txid ?? "";
    expect(depositTxid).toMatch(/^[0-9a-f]{64}$/);
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

  it("the status page's look-up of the subaddress deposit's Monero txid: its life cycle to the federation transaction that spent it, with t agreeing, no address, index or amount", async () => {
    expect(depositTxid).not.toBe("");
    // Every guardian's answer: spent, by one federation transaction; nothing tying it to a wallet.
    const views = await Promise.all(
      [0, 1, 2, 3].map(async (i) => {
        const r = await fetch(
          `${federation().apiUrl(i)}/v1/modules/monero/subaddress-deposits/${depositTxid}`,
        );
        return {
          text: await r.clone().text(),
          view: (await r.json()) as { deposits: { state: string; spentIn?: string }[] },
        };
      }),
    );
    const spentIn = views[0]!.view.deposits[0]?.spentIn ?? "";
    expect(spentIn).toMatch(/^[0-9a-f]{64}$/);
    for (const v of views) {
      expect(v.view.deposits.map((d) => [d.state, d.spentIn])).toEqual([["spent", spentIn]]);
      expect(v.text).not.toMatch(/index|claimKey|address|amount/i);
      expectNoMoneroAddress(v.text);
    }
    // The spender is a federation transaction the guardians accepted.
    const tx = (await (await fetch(`${federation().apiUrl(0)}/v1/transactions/${spentIn}`)).json()) as {
      state: string;
    };
    expect(tx.state).toBe("accepted");

    status = await openPage(browser, `${federation().apiUrl(2)}/#/lookup/`, statusErrors, DESKTOP);
    await lookUp(status, depositTxid);
    await expect.poll(resultText(status), { timeout: 60_000 }).toContain("Monero deposit to a subaddress");
    const found = await resultText(status)();
    expect(found).toContain("4 of 4 answering guardians agree");
    expect(found).toContain("Credited: the guardians attested it");
    expect(found).toContain("3 of 3 needed attested it");
    expect(found).toContain(`${CONFIRMATIONS} of ${CONFIRMATIONS} confirmations`);
    expect(found).toContain("Federation transaction that spent the deposit");
    expect(found).toContain(spentIn);
    const steps = status
      .locator("article", { hasText: "Monero deposit to a subaddress" })
      .locator("ol.steps li");
    expect(await Promise.all((await steps.all()).map((e) => e.getAttribute("data-state")))).toEqual([
      "done",
      "done",
      "done",
      "done",
    ]);
    expect(await status.locator("#lookup-differing").count()).toBe(0);
    expectNoMoneroAddress(found);
    expect(found).not.toContain("1.5");
    await shotBoth(status, "lookup-subaddress-deposit", federation().root);

    // A txid no guardian knows: not found (no deposit made up).
    await lookUp(status, "ab".repeat(32));
    await expect.poll(resultText(status), { timeout: 30_000 }).toContain("Not found");
  }, 180_000);

  it("withdraw: XMR paid to the user's Monero address, stages shown, the tx key proves it with check_tx_key; the status page's pending-payouts row shows it until paid, each guardian's wallet row its share", async () => {
    // The status page's figure table, as each guardian's GET reserves says, before the withdrawal.
    await status.goto(`${federation().apiUrl(2)}/#/reserves`);
    await expect.poll(() => figuresMatchApi("wallet"), { timeout: 60_000, interval: 1_000 }).toBe("match");
    expect((await reservesOf(0)).pendingPayouts.count).toBe(0);
    await expect
      .poll(() => figuresMatchApi("pending-payouts"), { timeout: 60_000, interval: 1_000 })
      .toBe("match");
    await page.evaluate('location.hash = "#/withdraw"');
    await page.locator("#withdraw-address").fill(federation().userAddress);
    await page.locator("#withdraw-amount").fill("0.5");
    await page.getByRole("button", { name: "Withdraw", exact: true }).click();
    await expect.poll(() => page.locator("#withdraw-progress").count(), { timeout: 60_000 }).toBe(1);
    await shotBoth(page, "wallet-withdraw", federation().root);
    // Pending: at least t guardians report the payout (0.5 XMR and its fee) and the page shows what each says.
    await expect
      .poll(
        async () => {
          const pending = (await Promise.all([0, 1, 2, 3].map(reservesOf))).filter(
            (r) => r.pendingPayouts.count === 1 && BigInt(r.pendingPayouts.amount) >= parseXmr("0.5"),
          ).length;
          return pending >= 3 ? await figuresMatchApi("pending-payouts") : `${pending} guardians report it`;
        },
        { timeout: 120_000, interval: 500 },
      )
      .toBe("match");
    const agreedPending = await status
      .locator('#owed tr[data-row="pending-payouts"] td[data-agreed]')
      .innerText();
    expect(agreedPending).toMatch(/^yes: 0\.5\d* XMR$/);
    await shotBoth(status, "reserves-monero-payout-pending", federation().root);
    await expect.poll(() => page.locator("#withdraw-done").count(), { timeout: 300_000 }).toBe(1);
    const txid = await page.locator("#withdraw-txid").innerText();
    const txKey = await page.locator("#withdraw-txkey").innerText();
    const proof = await federation().user.checkTxKey({ txid, txKey, address: federation().userAddress });
    expect(proof.received).toBe(parseXmr("0.5"));
    // Paid: no payout pending at any guardian, and the page says so; each wallet row its share's balance.
    await expect
      .poll(
        async () => {
          const counts = (await Promise.all([0, 1, 2, 3].map(reservesOf))).map((r) => r.pendingPayouts.count);
          return counts.every((c) => c === 0)
            ? await figuresMatchApi("pending-payouts")
            : `pending ${counts.join(",")}`;
        },
        { timeout: 120_000, interval: 1_000 },
      )
      .toBe("match");
    await expect.poll(() => figuresMatchApi("wallet"), { timeout: 120_000, interval: 1_000 }).toBe("match");
    const balances = await Promise.all([0, 1, 2, 3].map(async (i) => (await reservesOf(i)).wallet?.balance));
    expect(balances.every((b) => b !== undefined && BigInt(b) > 0n)).toBe(true);
    await page.evaluate('location.hash = "#/balance"');
    const left = await balanceOf(page);
    // 1.5 XMR minus 0.5 and the Monero network fee (the mint charges none here).
    expect(left).toMatch(/^0\.9\d+ XMR$/);
    expect(pageErrors.filter((e) => !/status of 429 \(Too Many Requests\)/.test(e))).toEqual([]);
    expect(statusErrors.filter((e) => !/status of 404 \(Not Found\)/.test(e))).toEqual([]);
  }, 420_000);
});
