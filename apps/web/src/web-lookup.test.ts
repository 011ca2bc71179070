// The status page's look-up by any id in Debian's Chromium against real parts: anvil with the
// WrappedMonero contract and four guardian processes running the bridge module
// (bridge-federation-fixture.ts), each serving the page, as web-bridge.test.ts. Each id form: a
// federation txid alone, a deposit id, an EVM address (its mints on chain from each guardian's
// index of mint logs, its burns; never a signed mint not on chain), a burn's EVM tx hash without a
// log index; malformed ids answered 400 by the guardians' HTTP API; no answer and no page text
// holding a Monero address.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ed25519 } from "@noble/curves/ed25519.js";
import { nodeWallets } from "@conclave/wallet-standard/node";
import type { WalletApi } from "@conclave/wallet-standard";
import { wrappedMoneroAbi } from "@conclave/evm/abi";
import { encodeAddress } from "@conclave/monero";
import { parseEventLogs } from "viem";
import type { Hex } from "viem";
import { FederationClient } from "@conclave/core-client";
import {
  bridgeLookupAddress,
  bridgeLookupBurns,
  bridgeLookupDeposit,
  bridgeLookupTx,
} from "../../../modules/bridge/src/client/lookup.js";
import { startBridgeFederation } from "../../../modules/bridge/src/client/bridge-federation-fixture.js";
import type { BridgeFederation } from "../../../modules/bridge/src/client/bridge-federation-fixture.js";
import { REPO_ROOT } from "../../guardiand/src/npm-start-harness.js";
import { ensureChromiumInstalled, launchChromium } from "./harness.js";

const XMR = 1_000_000_000_000n;
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
const SHOTS_TO_DOCS = process.env["CONCLAVE_WEB_SCREENSHOTS"] === "1";
const MONERO_ADDRESS = encodeAddress({
  network: "mainnet",
  kind: "standard",
  publicSpendKey: ed25519.getPublicKey(new Uint8Array(32).fill(7)),
  publicViewKey: ed25519.getPublicKey(new Uint8Array(32).fill(8)),
});

let tmp: string;
let fed: BridgeFederation;
let browser: Browser;
let wallet: WalletApi;
const pageErrors: string[] = [];
/** Every JSON answer of a lookup/ route the tests read (checked for Monero addresses at the end). */
const answers: string[] = [];
const wallets = nodeWallets({ awaitTimeoutMs: 30_000 });

beforeAll(async () => {
  ensureChromiumInstalled();
  tmp = mkdtempSync(join(tmpdir(), "conclave-web-lookup-"));
  [fed, browser] = await Promise.all([startBridgeFederation("web-lookup-"), launchChromium()]);
  wallet = (await wallets.joinWallet(join(tmp, "wallet"), fed.invite)).wallet;
  await wallet.devFaucet(10n * XMR);
}, 180_000);

afterAll(async () => {
  await wallet?.close().catch(() => undefined);
  await browser?.close();
  await fed?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function open(guardian: number, viewport = DESKTOP): Promise<Page> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.on("pageerror", (e) => pageErrors.push(e.message));
  await page.goto(`${fed.guardianUrls[guardian]!}/#/lookup/`);
  return page;
}

async function lookUp(page: Page, id: string): Promise<void> {
  await page.getByLabel(/Monero deposit txid/).fill(id);
  await page.getByRole("button", { name: "Look up" }).click();
}

const resultText = (page: Page) => () =>
  page
    .locator("#lookup-result")
    .innerText()
    .catch(() => "");

async function shot(page: Page, name: string): Promise<void> {
  const dir = SHOTS_TO_DOCS ? join(REPO_ROOT, "docs", "web") : join(tmp, "screenshots");
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

/** GET a lookup/ route at guardian g: status and JSON (kept for the Monero address check). */
async function api(g: number, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(`${fed.guardianUrls[g]!}/v1/modules/bridge/${path}`);
  const text = await r.text();
  answers.push(text);
  return { status: r.status, body: JSON.parse(text) as Record<string, unknown> };
}

/** The signed call of a mint output, from three guardians' answers (anyone may submit it). */
async function submitMint(txid: string, output: number): Promise<void> {
  const views = await Promise.all(
    fed.guardianUrls.map(
      async (u) =>
        (await (await fetch(`${u}/v1/modules/bridge/mints/${txid}/${output}`)).json()) as {
          recipient: Hex;
          amount: string;
          depositId: Hex;
          deadline: string;
          setIndex: number;
          signer: Hex;
          signature: Hex;
        },
    ),
  );
  const sorted = views.sort((a, b) => (BigInt(a.signer) < BigInt(b.signer) ? -1 : 1)).slice(0, 3);
  const v = sorted[0]!;
  const hash = await fed.anvil.walletClient.writeContract({
    account: fed.anvil.accounts[3]!,
    chain: fed.anvil.chain,
    address: fed.contract,
    abi: wrappedMoneroAbi,
    functionName: "mint",
    args: [
      {
        recipient: v.recipient,
        amount: BigInt(v.amount),
        depositId: v.depositId,
        deadline: BigInt(v.deadline),
        setIndex: v.setIndex,
      },
      sorted.map((s) => s.signature),
    ],
  });
  await fed.anvil.publicClient.waitForTransactionReceipt({ hash });
}

describe("the page's look-up by any id (anvil, four guardian processes)", () => {
  const recipient = () => fed.anvil.accounts[1]!;
  let txid = "";
  let output = 0;
  let depositId = "";
  let burnHash: Hex = "0x";

  it("a federation txid alone and a deposit id each show the mint, with its signatures", async () => {
    const minted = await wallet.bridgeMint(recipient().address, XMR);
    txid = minted.txid;
    output = minted.output;
    const page = await open(0);
    await lookUp(page, txid);
    await expect
      .poll(
        () =>
          page
            .locator("#mint-state")
            .innerText()
            .catch(() => ""),
        { timeout: 30_000 },
      )
      .toBe("signed");
    expect(await page.locator("#mint-finding").innerText()).toContain("4 good signatures (3 needed)");
    const list = await api(1, `lookup/tx/${txid}`);
    expect(list.status).toBe(200);
    const mints = list.body["mints"] as { index: number; mint: { depositId: string; amount: string } }[];
    expect(mints.map((m) => [m.index, m.mint.amount])).toEqual([[minted.output, String(XMR)]]);
    depositId = mints[0]!.mint.depositId;

    // The deposit id (the id in the EIP-712 Mint and the contract's logs), at another guardian's page.
    const byDeposit = await open(2);
    await lookUp(byDeposit, depositId);
    await expect
      .poll(
        () =>
          byDeposit
            .locator("#mint-state")
            .innerText()
            .catch(() => ""),
        { timeout: 30_000 },
      )
      .toBe("signed");
    expect(byDeposit.url()).toContain(`#/lookup/${depositId}`);
    await shot(byDeposit, "lookup-deposit-id-desktop");
    await byDeposit.context().close();
    await page.context().close();
  });

  it("an EVM address shows its mints on chain and its burns, each with the federation's state; not a signed mint not on chain", async () => {
    const who = recipient();
    // Signed, not submitted: its amount tied to this address is not public, and not listed.
    await wallet.bridgeMint(who.address, XMR / 8n);
    await submitMint(txid, output);
    // A burn to a Monero address (this federation pays no Monero: re-minted to the burner).
    burnHash = await fed.anvil.walletClient.writeContract({
      account: who,
      chain: fed.anvil.chain,
      address: fed.contract,
      abi: wrappedMoneroAbi,
      functionName: "burn",
      args: [XMR / 4n, MONERO_ADDRESS],
    });
    await fed.anvil.publicClient.waitForTransactionReceipt({ hash: burnHash });
    for (let g = 0; g < 4; g++)
      await expect
        .poll(
          async () => ((await api(g, `lookup/address/${who.address}`)).body["burns"] as unknown[]).length,
          {
            timeout: 60_000,
          },
        )
        .toBe(1);
    // The same through the SDK: t equal answers.
    const client = await FederationClient.join(fed.invite);
    const sdkAddress = await bridgeLookupAddress(client, who.address);
    expect(sdkAddress.agreedBy.length).toBeGreaterThanOrEqual(3);
    expect(sdkAddress.value.mints.map((m) => [m.chain, m.amount, m.ref])).toEqual([
      ["minted", String(XMR), { kind: "output", txid, index: output }],
    ]);
    expect(sdkAddress.value.burns.map((b) => [b.amount, b.settlement])).toEqual([
      [String(XMR / 4n), "reminted"],
    ]);
    expect((await bridgeLookupTx(client, txid)).value.mints.map((m) => m.index)).toEqual([output]);
    expect((await bridgeLookupDeposit(client, depositId)).value.ref).toEqual({
      kind: "output",
      txid,
      index: output,
    });
    const sdkBurns = await bridgeLookupBurns(client, burnHash);
    expect(sdkBurns.value.burns.map((b) => b.settlement)).toEqual(["reminted"]);
    answers.push(JSON.stringify([sdkAddress.value, sdkBurns.value]));

    const page = await open(1);
    await lookUp(page, who.address);
    await expect.poll(resultText(page), { timeout: 30_000 }).toContain("EVM address: what the chain shows");
    const text = await resultText(page)();
    expect(text).toContain("4 of 4 answering guardians agree");
    expect(text).toMatch(/Minted: 1 wXMR in EVM block \d+/);
    expect(text).toContain("the federation's mint output");
    expect(text).toContain("Burned 0.25 wXMR (burn 1)");
    expect(text).toContain("re-minted to the burner");
    expect(text).not.toContain("0.125");
    expect(await page.locator('#lookup-result li[data-state="done"]').count()).toBe(1);
    expect(await page.locator('#lookup-result li[data-state="failed"]').count()).toBe(1);
    // Each id found is offered as the next look-up; the mint's opens its full view (this browser
    // has no EVM wallet to read the chain through: the page says so and stays at "signed").
    await page.getByRole("button", { name: `Look up ${txid}:${output}` }).click();
    await expect
      .poll(
        () =>
          page
            .locator("#mint-finding")
            .innerText()
            .catch(() => ""),
        { timeout: 30_000 },
      )
      .toContain("no EVM wallet in this browser");
    expect(await page.locator("#mint-state").innerText()).toBe("signed");
    expect(page.url()).toContain(`#/lookup/${txid}%3A${output}`);
    await lookUp(page, who.address);
    await expect.poll(resultText(page), { timeout: 30_000 }).toContain("Burned 0.25 wXMR");
    await shot(page, "lookup-address-desktop");
    await page.setViewportSize(PHONE);
    await shot(page, "lookup-address-phone");
    await page.context().close();
  });

  it("a burn's EVM tx hash without a log index shows every burn of that transaction", async () => {
    const page = await open(3);
    await lookUp(page, burnHash);
    await expect.poll(resultText(page), { timeout: 30_000 }).toContain("wXMR burn, log");
    const text = await resultText(page)();
    expect(text).toContain("re-minted to the burner");
    expect(text).toMatch(/Amount\s+0\.25 wXMR/);
    const receipt = await fed.anvil.publicClient.getTransactionReceipt({ hash: burnHash });
    const [log] = parseEventLogs({ abi: wrappedMoneroAbi, logs: receipt.logs, eventName: "Burned" });
    const burns = (await api(0, `lookup/burns/${burnHash}`)).body["burns"] as { logIndex: number }[];
    expect(burns.map((b) => b.logIndex)).toEqual([log!.logIndex]);
    await page.context().close();
  });

  it("malformed ids are answered 400 by every guardian's API; no answer or page holds a Monero address", async () => {
    for (const [path, message] of [
      ["lookup/address/0x12", /EVM address is 0x and 40 hex/],
      [`lookup/tx/${"AB".repeat(32)}`, /64 lowercase hex/],
      ["lookup/deposit/0x1234", /deposit id is 0x and 64 hex/],
      [`lookup/burns/0x${"ab".repeat(32)}/after/zz`, /cursor/],
    ] as const) {
      const r = await api(2, path);
      expect(r.status, path).toBe(400);
      expect(JSON.stringify(r.body), path).toMatch(message);
    }
    expect(answers.length).toBeGreaterThan(8);
    const all = answers.join("\n");
    expect(all).toContain('"settlement":"reminted"');
    expect(all).not.toContain(MONERO_ADDRESS);
    expect(all).not.toMatch(/[1-9A-HJ-NP-Za-km-z]{95}/);
    expect(pageErrors).toEqual([]);
  });
});
