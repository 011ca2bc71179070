// The wallet page's wXMR view in Debian's Chromium against real parts: anvil with the WrappedMonero
// contract, four guardian processes running the bridge module (bridge-federation-fixture.ts) that
// serve the page, and an injected EIP-1193 wallet backed by an anvil account (evm-wallet-harness.ts).
// The page's wallet (IndexedDB) gets its notes from a Node wallet of the SDK, received as text.
// One test per flow: mint (notes -> wXMR, submitted with the EVM wallet), burn back to e-cash, burn
// to a Monero address (accepted by t guardians; this federation has no Monero module, so the
// guardians settle it by re-minting to the burner: the payout itself is covered on monerod by
// burn-payout-regtest.test.ts), and the refund of a mint left unsubmitted past its deadline.
// Screenshots: docs/web/wallet-wxmr-* (with CONCLAVE_WEB_SCREENSHOTS=1).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ed25519 } from "@noble/curves/ed25519.js";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { wrappedMoneroAbi } from "@conclave/evm/abi";
import { encodeAddress } from "@conclave/monero";
import { nodeWallets } from "@conclave/wallet-standard/node";
import type { Wallet } from "@conclave/wallet-standard/node";
import { parseEventLogs } from "viem";
import type { Hex } from "viem";
import { startBridgeFederation } from "../../../modules/bridge/src/client/bridge-federation-fixture.js";
import type { BridgeFederation } from "../../../modules/bridge/src/client/bridge-federation-fixture.js";
import { installAnvilWallet } from "./evm-wallet-harness.js";
import { ensureChromiumInstalled, launchChromium } from "./harness.js";
import { DESKTOP, balanceOf, createInPage, shotBoth } from "./wallet-harness.js";

const XMR = 1_000_000_000_000n;
const ACCOUNT = 1;

let tmp: string;
let fed: BridgeFederation;
let browser: Browser;
let node: Wallet;
let page: Page;
let notesText: string;
const pageErrors: string[] = [];

const wxmrOf = (address: Hex) =>
  fed.anvil.publicClient.readContract({
    address: fed.contract,
    abi: wrappedMoneroAbi,
    functionName: "balanceOf",
    args: [address],
  });

const text = (selector: string) => () =>
  page
    .locator(selector)
    .innerText()
    .catch(() => "");

/** The burn's life-cycle steps as the page marks them (done, current, failed, todo). */
async function stepClasses(): Promise<(string | null)[]> {
  const items = await page.locator("#burn-progress li").all();
  return Promise.all(items.map((li) => li.getAttribute("class")));
}

/** Opens the wXMR view and connects the EVM wallet by keyboard (Tab to the button, Enter). */
async function openWxmr(): Promise<void> {
  // From another view: the panel mounts afresh (its EVM connection is per visit). The panel is gone
  // before the next hash is set: two hash changes handled in one go would not remount it.
  await page.evaluate('location.hash = "#/balance"');
  await expect.poll(() => page.locator("#wxmr-h").count()).toBe(0);
  await page.evaluate('location.hash = "#/wxmr"');
  // The view's heading takes the focus in the render that shows it (wallet.tsx), before this.
  const connect = page.getByRole("button", { name: "Connect your EVM wallet" });
  await connect.focus();
  await page.keyboard.press("Enter");
  await expect.poll(text("#wxmr-balance"), { timeout: 15_000 }).toMatch(/wXMR$/);
}

beforeAll(async () => {
  ensureChromiumInstalled();
  tmp = mkdtempSync(join(tmpdir(), "conclave-wallet-wxmr-"));
  [fed, browser] = await Promise.all([startBridgeFederation("wallet-wxmr-"), launchChromium()]);
  node = (await nodeWallets({ awaitTimeoutMs: 30_000 }).joinWallet(join(tmp, "node-wallet"), fed.invite))
    .wallet;
  await node.devFaucet(10n * XMR);
  const notes = await node.spend(4n * XMR);

  const context = await browser.newContext({ viewport: DESKTOP });
  page = await context.newPage();
  page.on("pageerror", (e) => pageErrors.push(e.message));
  await installAnvilWallet(page, fed, ACCOUNT);
  await page.goto(`${fed.guardianUrls[0]!}/wallet`);
  notesText = notes.notes;
}, 240_000);

afterAll(async () => {
  await page?.context().close();
  await node?.close();
  await browser?.close();
  await fed?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("the wallet page's wXMR (anvil, four guardian processes, an injected EVM wallet)", () => {
  const account = () => fed.anvil.accounts[ACCOUNT]!.address;

  it("mint: notes -> wXMR to the connected account, t signatures checked in the page, submitted with the EVM wallet, the balance read from the chain", async () => {
    // The page's own wallet, made in the page, with notes received as text from the Node wallet.
    await expect.poll(() => page.locator("#invite").inputValue(), { timeout: 15_000 }).toBe(fed.invite);
    await createInPage(page);
    await page.evaluate('location.hash = "#/receive"');
    await page.getByLabel("Notes (text)").fill(notesText);
    await page.getByRole("button", { name: "Receive" }).click();
    await expect.poll(text("#received"), { timeout: 30_000 }).toContain("Received 4 XMR");

    await openWxmr();
    expect(await page.locator("#evm-account").innerText()).toContain(account());
    expect(await page.locator("#wxmr-balance").innerText()).toBe("0 wXMR");
    await page.getByLabel("Amount to mint").fill("1.25");
    await page.getByLabel("Amount to mint").press("Enter");
    await expect.poll(text("#mint-made"), { timeout: 60_000 }).toContain("1.25 wXMR signed by 3 guardians");
    // The federation's fee for the refundable (0x02) output (its config's default), shown and paid.
    expect(await text("#mint-made")()).toContain("paid to the federation for a refundable mint 0.0001 XMR");
    const row = page.locator("#mints li").first();
    await expect.poll(() => row.getAttribute("data-state"), { timeout: 30_000 }).toBe("signed");
    expect(await row.innerText()).toContain("Signed: ready to submit with your EVM wallet");
    await page.getByRole("button", { name: "Submit with your EVM wallet" }).click();
    await expect.poll(() => row.innerText(), { timeout: 60_000 }).toMatch(/succeeded in block \d+/);
    expect(await row.innerText()).toContain(
      "3 guardian signatures (the contract needs 3), each recovered in this page to a guardian's EVM address",
    );
    expect(await wxmrOf(account())).toBe(XMR + XMR / 4n);
    await expect.poll(text("#wxmr-balance"), { timeout: 15_000 }).toBe("1.25 wXMR");
    await expect.poll(() => row.getAttribute("data-state"), { timeout: 15_000 }).toBe("minted");
    expect(await page.locator("#mints button").count()).toBe(0);
    await shotBoth(page, "wallet-wxmr-minted", tmp);
    await page.evaluate('location.hash = "#/balance"');
    await expect.poll(() => balanceOf(page), { timeout: 15_000 }).toBe("2.7499 XMR");
  });

  it("burn to e-cash: burnToClaim from the EVM wallet with a claim key of this wallet; voted, accepted, redeemed into notes", async () => {
    await openWxmr();
    expect(await page.getByLabel("E-cash in this wallet").isChecked()).toBe(true);
    await page.getByLabel("Amount to burn").fill("0.5");
    await page.getByRole("button", { name: "Burn wXMR" }).click();
    await expect.poll(text("#burn-done"), { timeout: 120_000 }).toMatch(/^Done: 0\.5 XMR in \d+ notes/);
    expect(await stepClasses()).toEqual(["done", "done", "done", "done", "done"]);
    expect(await page.locator("#burn-tx").innerText()).toMatch(/^0x[0-9a-f]{64}$/);
    expect(await wxmrOf(account())).toBe(XMR / 2n + XMR / 4n);
    await expect.poll(text("#wxmr-balance"), { timeout: 15_000 }).toBe("0.75 wXMR");
    await shotBoth(page, "wallet-wxmr-burned", tmp);
    await page.evaluate('location.hash = "#/balance"');
    await expect.poll(() => balanceOf(page), { timeout: 15_000 }).toBe("3.2499 XMR");
  });

  it("burn to a Monero address: a malformed address is refused at its field and burns nothing; a valid one is burned and accepted by t guardians at their depth", async () => {
    await openWxmr();
    await page.getByLabel("A Monero address").check();
    await page.getByLabel("Monero address", { exact: true }).fill("4".repeat(94));
    await page.getByLabel("Amount to burn").fill("0.25");
    await page.getByRole("button", { name: "Burn wXMR" }).click();
    // The address field (MoneroAddressField) names the problem and blocks the form: no call is built.
    await expect
      .poll(
        () =>
          page
            .locator("#burn-address-problem")
            .innerText()
            .catch(() => ""),
        { timeout: 15_000 },
      )
      .toBe("Not a Monero address: 94 characters (a Monero address has 95, or 106 if integrated).");
    expect(await page.locator("#burn-progress").count()).toBe(0);
    expect(await wxmrOf(account())).toBe(XMR / 2n + XMR / 4n);

    const address = encodeAddress({
      network: "mainnet",
      kind: "standard",
      publicSpendKey: ed25519.getPublicKey(new Uint8Array(32).fill(7)),
      publicViewKey: ed25519.getPublicKey(new Uint8Array(32).fill(8)),
    });
    await page.getByLabel("Monero address", { exact: true }).fill(address);
    await page.getByRole("button", { name: "Burn wXMR" }).click();
    await expect.poll(text("#burn-done"), { timeout: 120_000 }).not.toBe("");
    expect(await wxmrOf(account())).toBe(XMR / 2n);
    const hash = (await page.locator("#burn-tx").innerText()) as Hex;
    // The guardians accepted it at their depth: every one of them says so through its API.
    const receipt = await fed.anvil.publicClient.getTransactionReceipt({ hash });
    const burned = parseEventLogs({ abi: wrappedMoneroAbi, logs: receipt.logs, eventName: "Burned" });
    expect(burned).toHaveLength(1);
    const logIndex = burned[0]!.logIndex;
    // (each guardian follows consensus: one a session behind says so a moment later).
    type BurnView = { state: string; votes: number; votesRequired: number; settlement?: string };
    for (const url of fed.guardianUrls) {
      const view = () =>
        fetch(`${url}/v1/modules/bridge/burns/${hash}/${logIndex}`).then(
          (r) => r.json() as Promise<BurnView>,
        );
      await expect.poll(async () => (await view()).state, { timeout: 30_000 }).toBe("accepted");
      const accepted = await view();
      expect(accepted.votesRequired).toBe(3);
      expect(accepted.votes).toBeGreaterThanOrEqual(3);
      // No Monero module in this federation: settled by re-minting to the burner, and the page says so.
      expect(accepted.settlement).toBe("reminted");
    }
    expect(await page.locator("#burn-done").innerText()).toMatch(
      /^Not paid: re-minted to the burner: .*no module that pays Monero/,
    );
    expect(await stepClasses()).toEqual(["done", "done", "done", "done", "failed"]);
    await shotBoth(page, "wallet-wxmr-burn-monero", tmp);
  });

  it("refund: a mint left unsubmitted past its deadline shows 'expired, refundable' and its button takes it back into e-cash", async () => {
    await page.evaluate('location.hash = "#/balance"');
    await expect.poll(() => balanceOf(page), { timeout: 15_000 }).toBe("3.2499 XMR");
    await openWxmr();
    await page.getByLabel("Amount to mint").fill("0.125");
    await page.getByRole("button", { name: "Mint wXMR" }).click();
    await expect.poll(text("#mint-made"), { timeout: 60_000 }).toContain("0.125 wXMR signed by 3 guardians");
    // An hour and two minutes later on the chain (the fixture's mints have a 3,600 s deadline).
    await fed.anvil.testClient.increaseTime({ seconds: 3_720 });
    await fed.anvil.testClient.mine({ blocks: 1 });
    await openWxmr();
    const row = page.locator("#mints li").first();
    await expect.poll(() => row.innerText(), { timeout: 30_000 }).toMatch(/Expired, refundable/);
    expect(await row.getByRole("button", { name: "Submit with your EVM wallet" }).count()).toBe(0);
    await shotBoth(page, "wallet-wxmr-expired", tmp);
    await row.getByRole("button", { name: "Refund 0.125 XMR into e-cash" }).click();
    await expect
      .poll(() => row.innerText(), { timeout: 180_000 })
      .toContain("Refunded: 0.125 XMR back in your notes");
    await expect.poll(() => row.getAttribute("data-state"), { timeout: 15_000 }).toBe("refunded");
    expect(await wxmrOf(account())).toBe(XMR / 2n);
    await page.evaluate('location.hash = "#/balance"');
    // The amount came back; the federation's fee for the refundable mint did not.
    await expect.poll(() => balanceOf(page), { timeout: 15_000 }).toBe("3.2498 XMR");
    expect(pageErrors).toEqual([]);
  });

  it("an EVM wallet on another chain is refused: no account taken, nothing to mint or burn, the chains named", async () => {
    // Another guardian's copy of the page (another origin: a wallet of its own), with an injected
    // wallet that states chain 1 while the bridge's contract is on anvil's chain.
    const context = await browser.newContext({ viewport: DESKTOP });
    const other = await context.newPage();
    other.on("pageerror", (e) => pageErrors.push(e.message));
    await installAnvilWallet(other, fed, ACCOUNT, { chainId: 1 });
    await other.goto(`${fed.guardianUrls[1]!}/wallet`);
    await expect.poll(() => other.locator("#invite").inputValue(), { timeout: 15_000 }).toBe(fed.invite);
    await createInPage(other);
    await other.evaluate('location.hash = "#/wxmr"');
    await other.getByRole("button", { name: "Connect your EVM wallet" }).click();
    const alert = other.getByRole("alert");
    await expect
      .poll(() => alert.allInnerTexts().then((t) => t.join(" ")), { timeout: 15_000 })
      .toContain(`the EVM wallet is on chain 1; the federation's contract is on chain ${fed.anvil.chain.id}`);
    expect(await other.locator("#evm-account").count()).toBe(0);
    expect(await other.getByLabel("Amount to mint").count()).toBe(0);
    expect(await other.getByLabel("Amount to burn").count()).toBe(0);
    expect(await other.getByRole("button", { name: "Connect your EVM wallet" }).count()).toBe(1);
    await shotBoth(other, "wallet-wxmr-wrong-chain", tmp);
    await context.close();
    expect(pageErrors).toEqual([]);
  });
});
