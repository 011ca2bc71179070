// The pages with Monero on both sides, in Debian's Chromium against real parts: monerod regtest with
// a 3-of-4 multisig wallet (testing-monero's startMultisigRegtest), anvil with the WrappedMonero
// contract, four guardian processes running the mint, monero and bridge modules
// (bridge-federation-fixture.ts with `monero`), each serving the pages. Blocks are mined one a second
// (testing-monero's BlockMiner), as deposit-mint-regtest.test.ts does.
//   1. The status page's look-up of a Monero deposit txid minted straight to wXMR
//      (bridgeMintFromDeposit): the deposit, the federation transaction that spent it (the monero
//      module's `spentIn`), its mint output with t signatures, submitted from the page with an
//      injected EIP-1193 wallet; the SDK's bridgeLookupMoneroDeposit says the same.
//   2. The same look-up with guardian 3 lying behind a proxy in the test (not a flag in the
//      guardian): it names a made-up federation transaction as the deposit's spender and adds a
//      made-up mint output. The page shows what the three others agree on, names guardian 3 as
//      differing, and never shows the lie.
//   3. The wallet page's burn to a Monero address with the injected EVM wallet, followed to the
//      payout confirmed on monerod (t guardians report it), with its Monero txid and tx key; the
//      user's Monero wallet received it (check_tx_key).
// Screenshots: docs/web/lookup-monero-deposit-*, lookup-disagreement-*, wallet-wxmr-payout-*
// (with CONCLAVE_WEB_SCREENSHOTS=1).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FederationClient } from "@conclave/core-client";
import { wrappedMoneroAbi } from "@conclave/evm/abi";
import { MoneroTimeoutError, formatXmr, parseXmr, payStallSafe } from "@conclave/monero";
import {
  BlockMiner,
  OUTPUT_UNLOCK_BLOCKS,
  ensureMoneroInstalled,
  startMultisigRegtest,
} from "@conclave/testing-monero";
import type { MultisigRegtest } from "@conclave/testing-monero";
import { nodeWallets } from "@conclave/wallet-standard/node";
import type { Wallet } from "@conclave/wallet-standard/node";
import type { Hex } from "viem";
import { bridgeLookupMoneroDeposit } from "../../../modules/bridge/src/client/lookup.js";
import { startBridgeFederation } from "../../../modules/bridge/src/client/bridge-federation-fixture.js";
import type { BridgeFederation } from "../../../modules/bridge/src/client/bridge-federation-fixture.js";
import { REFUNDABLE_MINT_FEE_PICONERO_DEFAULT } from "../../../modules/bridge/src/common.js";
import { installAnvilWallet } from "./evm-wallet-harness.js";
import { ensureChromiumInstalled, launchChromium, serveFile } from "./harness.js";
import { DESKTOP, createInPage, shotBoth } from "./wallet-harness.js";

const ACCOUNT = 1;
const DEPOSIT = parseXmr("0.6");
const BURN = parseXmr("0.25");
/** A federation transaction id no guardian knows: what the lying guardian names as the spender. */
const MADE_UP_TXID = "ee".repeat(32);

let tmp: string;
let ms: MultisigRegtest | undefined;
let fed: BridgeFederation | undefined;
let blocks: BlockMiner | undefined;
let browser: Browser | undefined;
let node: Wallet | undefined;
const servers: Server[] = [];
const pageErrors: string[] = [];
/** The Monero deposit and the federation transaction that minted it (test 1, read by 2). */
let moneroTxid = "";
let fedTxid = "";
let output = 0;

beforeAll(async () => {
  ensureChromiumInstalled();
  ensureMoneroInstalled();
  tmp = mkdtempSync(join(tmpdir(), "conclave-web-monero-"));
  [ms, browser] = await Promise.all([startMultisigRegtest({ threshold: 3, total: 4 }), launchChromium()]);
  fed = await startBridgeFederation("web-monero-", { monero: ms });
  // As deposit-mint-regtest: blocks to the user's wallet, 60 first (decoys for the payments), then
  // one a second.
  blocks = new BlockMiner(ms.net.daemon.rpc, ms.userAddress);
  await mineTolerant(60);
  blocks.start(1000);
  node = (await nodeWallets({ awaitTimeoutMs: 60_000 }).joinWallet(join(tmp, "node-wallet"), fed.invite))
    .wallet;
}, 900_000);

afterAll(async () => {
  for (const s of servers) s.close();
  await node?.close().catch(() => undefined);
  await browser?.close();
  await blocks?.stop();
  await fed?.stop();
  await ms?.net.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const F = () => fed!;

/**
 * `count` blocks in calls of 5, as bench/bridge-monero.ts: a call that gets no answer within the
 * client's 60 s (a call of 10 here at load 28) may still complete; the chain's height says how many
 * are left.
 */
async function mineTolerant(count: number): Promise<void> {
  const daemon = ms!.net.daemon.rpc;
  const target = (await daemon.getHeight()).height + count;
  for (let tries = 0; (await daemon.getHeight()).height < target; tries++) {
    if (tries > 40) throw new Error(`${count} blocks not mined in 40 calls`);
    await blocks!.mine(5).catch((e: unknown) => {
      if (!(e instanceof MoneroTimeoutError)) throw e;
    });
  }
}
const resultText = (page: Page) => () =>
  page
    .locator("#lookup-result")
    .innerText()
    .catch(() => "");
const text = (page: Page, selector: string) => () =>
  page
    .locator(selector)
    .innerText()
    .catch(() => "");

/** An attribute of every element a locator matches. */
async function attributes(list: Locator, name: string): Promise<(string | null)[]> {
  return Promise.all((await list.all()).map((e) => e.getAttribute(name)));
}

async function lookUp(page: Page, id: string): Promise<void> {
  await page.getByLabel(/Monero deposit txid/).fill(id);
  await page.getByRole("button", { name: "Look up" }).click();
}

const wxmrOf = (address: Hex) =>
  F().anvil.publicClient.readContract({
    address: F().contract,
    abi: wrappedMoneroAbi,
    functionName: "balanceOf",
    args: [address],
  });

/** No Monero address in a text: neither the federation's, the user's, nor anything shaped like one. */
function expectNoMoneroAddress(s: string): void {
  expect(s).not.toContain(ms!.multisigAddress);
  expect(s).not.toContain(ms!.userAddress);
  expect(s).not.toMatch(/[1-9A-HJ-NP-Za-km-z]{95}/);
}

describe("the pages with Monero (monerod regtest, anvil, four guardian processes)", () => {
  it("a Monero deposit txid minted straight to wXMR: the look-up leads to the mint (t signatures) and the page submits it", async () => {
    const account = F().anvil.accounts[ACCOUNT]!.address;
    const paid = await blocks!.paused(() => payStallSafe(ms!.miner, ms!.multisigAddress, [DEPOSIT]));
    moneroTxid = paid.txid;
    // Signed, not submitted: the page's EVM wallet submits it.
    const minted = await node!.bridgeMintFromDeposit(account, { txid: paid.txid, txKey: paid.txKey });
    fedTxid = minted.txid;
    output = minted.output;
    expect(minted.call.amount).toBe(DEPOSIT - REFUNDABLE_MINT_FEE_PICONERO_DEFAULT);

    // Every guardian's deposit view names the spender; the SDK takes t equal answers.
    for (const url of F().guardianUrls) {
      const view = (await (await fetch(`${url}/v1/modules/monero/deposits/${moneroTxid}`)).json()) as {
        state: string;
        spentIn?: string;
      };
      expect([view.state, view.spentIn]).toEqual(["spent", fedTxid]);
    }
    const client = await FederationClient.join(F().invite);
    const sdk = await bridgeLookupMoneroDeposit(client, moneroTxid);
    expect(sdk.deposit.agreedBy.length).toBeGreaterThanOrEqual(3);
    expect(sdk.deposit.value).toMatchObject({ state: "spent", spentIn: fedTxid });
    expect(sdk.mints?.value.mints.map((m) => [m.index, m.mint.amount])).toEqual([
      [output, String(DEPOSIT - REFUNDABLE_MINT_FEE_PICONERO_DEFAULT)],
    ]);

    const context = await browser!.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
    await installAnvilWallet(page, F(), ACCOUNT);
    await page.goto(`${F().guardianUrls[1]!}/#/lookup/`);
    await lookUp(page, moneroTxid);
    await expect.poll(text(page, "#mint-state"), { timeout: 60_000 }).toBe("signed");
    const found = await resultText(page)();
    expect(found).toContain("Monero deposit");
    expect(found).toContain("Minted as wXMR by a federation transaction");
    expect(found).toContain(fedTxid);
    expect(found).toContain("Federation transaction that spent the deposit");
    expect(found).toContain("4 of 4 answering guardians agree");
    expect(await page.locator("#mint-finding").innerText()).toContain("4 good signatures (3 needed)");
    expect(await page.locator("#lookup-differing").count()).toBe(0);
    await shotBoth(page, "lookup-monero-deposit", tmp);
    await page.getByRole("button", { name: "Submit with your EVM wallet" }).click();
    await expect.poll(text(page, "#mint-state"), { timeout: 60_000 }).toBe("minted");
    expect(await wxmrOf(account)).toBe(DEPOSIT - REFUNDABLE_MINT_FEE_PICONERO_DEFAULT);
    expectNoMoneroAddress(await resultText(page)());
    expectNoMoneroAddress(JSON.stringify(sdk));
    await context.close();
  }, 300_000);

  it("a guardian lying in look-up answers (a made-up spender, a made-up mint output): the page shows what 3 agree on and names the liar", async () => {
    expect(fedTxid).not.toBe("");
    // Guardian 3 behind a proxy in this test that rewrites its answers (its config names the proxy
    // as guardian 3's URL: URLs are outside the federation id). The page opens as a static copy.
    const real3 = F().guardianUrls[3]!;
    let proxyUrl = "";
    const rewritten: string[] = [];
    const proxy = createServer((req, res) => {
      void (async () => {
        const path = req.url ?? "/";
        const upstream = await fetch(`${real3}${path}`);
        let body = await upstream.text();
        let status = upstream.status;
        if (path === "/v1/federation") {
          const v = JSON.parse(body) as { config: { guardians: { api: { url: string } }[] } };
          v.config.guardians[3]!.api.url = proxyUrl;
          body = JSON.stringify(v);
        } else if (path === `/v1/modules/monero/deposits/${moneroTxid}`) {
          body = JSON.stringify({ ...(JSON.parse(body) as object), spentIn: MADE_UP_TXID });
          rewritten.push(path);
        } else if (path === `/v1/modules/bridge/lookup/tx/${fedTxid}`) {
          const v = JSON.parse(body) as { mints: { index: number; mint: { amount: string } }[] };
          v.mints.push({ ...v.mints[0]!, index: 7, mint: { ...v.mints[0]!.mint, amount: "4200000000000" } });
          body = JSON.stringify(v);
          rewritten.push(path);
        } else if (path === `/v1/transactions/${MADE_UP_TXID}`) {
          body = JSON.stringify({ txid: MADE_UP_TXID, state: "accepted", height: 1 });
          status = 200;
          rewritten.push(path);
        }
        res.writeHead(status, {
          "content-type": upstream.headers.get("content-type") ?? "application/json",
          "access-control-allow-origin": "*",
        });
        res.end(body);
      })().catch(() => res.writeHead(502).end());
    });
    await new Promise<void>((ok) => proxy.listen(0, "127.0.0.1", ok));
    servers.push(proxy);
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const file = join(tmp, "page-lookup.html");
    writeFileSync(file, Buffer.from(await (await fetch(`${F().guardianUrls[0]!}/`)).arrayBuffer()));
    const host = await serveFile(file);
    servers.push(host.server);

    const page = await (await browser!.newContext({ viewport: DESKTOP })).newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
    // An EVM wallet to read the chain through (the mint's state on chain).
    await installAnvilWallet(page, F(), ACCOUNT);
    await page.goto(`${host.url}?guardians=${encodeURIComponent(proxyUrl)}#/lookup/`);
    await lookUp(page, moneroTxid);
    await expect.poll(text(page, "#mint-state"), { timeout: 60_000 }).toBe("minted");
    const differing = page.locator("#lookup-differing");
    await expect
      .poll(() => differing.innerText().catch(() => ""), { timeout: 30_000 })
      .toContain("differs on the Monero deposit");
    expect(rewritten).toContain(`/v1/modules/monero/deposits/${moneroTxid}`);
    expect(await differing.innerText()).toContain("differs on the wXMR mint outputs");
    const marked = await attributes(differing.locator("li"), "data-guardian");
    expect(new Set(marked)).toEqual(new Set(["3"]));
    const found = await resultText(page)();
    // What the three honest guardians say, never the lie.
    expect(found).toContain(fedTxid);
    expect(found).not.toContain(MADE_UP_TXID);
    expect(found).not.toContain("4.2");
    expect(found).toContain("3 of 4 answering guardians agree");
    expect(await page.getByRole("button", { name: `Look up ${fedTxid}:7` }).count()).toBe(0);
    await shotBoth(page, "lookup-disagreement", tmp);
    await page.context().close();
  }, 120_000);

  it("the wallet page's burn to a Monero address, followed to the payout confirmed on monerod (check_tx_key)", async () => {
    const account = F().anvil.accounts[ACCOUNT]!.address;
    const before = await wxmrOf(account);
    expect(before).toBeGreaterThanOrEqual(BURN);
    // The deposit's output unlocked in the multisig wallet (the payout spends it).
    await blocks!.paused(() => mineTolerant(OUTPUT_UNLOCK_BLOCKS));
    const context = await browser!.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
    await installAnvilWallet(page, F(), ACCOUNT);
    await page.goto(`${F().guardianUrls[2]!}/wallet`);
    await expect.poll(() => page.locator("#invite").inputValue(), { timeout: 15_000 }).toBe(F().invite);
    await createInPage(page);
    await page.evaluate('location.hash = "#/wxmr"');
    await page.getByRole("button", { name: "Connect your EVM wallet" }).click();
    await expect.poll(text(page, "#wxmr-balance"), { timeout: 15_000 }).toMatch(/wXMR$/);
    await page.getByLabel("A Monero address").check();
    await page.getByLabel("Monero address", { exact: true }).fill(ms!.userAddress);
    await page.getByLabel("Amount to burn").fill("0.25");
    await page.getByRole("button", { name: "Burn wXMR" }).click();
    await expect.poll(text(page, "#burn-tx"), { timeout: 60_000 }).toMatch(/^0x[0-9a-f]{64}$/);
    expect(await wxmrOf(account)).toBe(before - BURN);
    // Voted at depth, accepted, paid out by the multisig wallet, confirmed: followed on the page.
    await expect
      .poll(text(page, "#burn-done"), { timeout: 420_000, interval: 2_000 })
      .toMatch(/^Done: .* paid out in Monero \(fee .*\), confirmed on the Monero chain/);
    const moneroPayout = await page.locator("#burn-payout-txid").innerText();
    const txKey = await page.locator("#burn-payout-txkey").innerText();
    expect(moneroPayout).toMatch(/^[0-9a-f]{64}$/);
    const steps = await attributes(page.locator("#burn-progress li"), "class");
    expect(steps).toEqual(["done", "done", "done", "done", "done"]);
    // The user's Monero wallet received what the page says, proven with the tx key.
    const check = await ms!.user.checkTxKey({ txid: moneroPayout, txKey, address: ms!.userAddress });
    expect(check.inPool).toBe(false);
    expect(check.confirmations).toBeGreaterThanOrEqual(1);
    expect(check.received).toBeGreaterThan(0n);
    expect(check.received).toBeLessThan(BURN);
    expect(await page.locator("#burn-done").innerText()).toContain(
      `Done: ${formatXmr(check.received)} XMR paid out`,
    );
    await shotBoth(page, "wallet-wxmr-payout", tmp);
    await context.close();
    expect(pageErrors).toEqual([]);
  }, 600_000);
});
