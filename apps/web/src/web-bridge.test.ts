// The page's bridge views in Debian's Chromium against real parts: anvil with the WrappedMonero
// contract and four guardian processes running the bridge module (bridge-federation-fixture.ts),
// each serving the page. A wallet (LMDB, the real client) spends e-cash into a wXMR mint output; the
// page looks the mint up, checks the guardians' signatures and submits it through an injected
// EIP-1193 provider backed by an anvil account (it signs locally with that account's key and sends
// the raw transaction to anvil, as a browser wallet does).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeWallets } from "@conclave/wallet-standard/node";
import type { WalletApi } from "@conclave/wallet-standard";
import { wrappedMoneroAbi } from "@conclave/evm/abi";
import type { Hex } from "viem";
import { encodeTransaction } from "@conclave/core-common";
import type { Transaction } from "@conclave/core-common";
import { sha256 } from "@conclave/core-server";
import { buildTransaction, faucetInput } from "@conclave/module-dummy";
import { encodeMintOutput } from "../../../modules/bridge/src/common.js";
import {
  BRIDGE_INSTANCE,
  startBridgeFederation,
} from "../../../modules/bridge/src/client/bridge-federation-fixture.js";
import type { BridgeFederation } from "../../../modules/bridge/src/client/bridge-federation-fixture.js";
import { REPO_ROOT } from "../../guardiand/src/npm-start-harness.js";
import { installAnvilWallet } from "./evm-wallet-harness.js";
import { ensureChromiumInstalled, launchChromium, serveFile } from "./harness.js";

const XMR = 1_000_000_000_000n;

/** Piconero as the page writes it ("1.75 XMR"; every digit kept). */
function xmr(v: bigint): string {
  const frac = (v % XMR).toString().padStart(12, "0").replace(/0+$/, "");
  return `${v / XMR}${frac === "" ? "" : `.${frac}`} XMR`;
}
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
const SHOTS_TO_DOCS = process.env["CONCLAVE_WEB_SCREENSHOTS"] === "1";
const LOOKUP_LABEL = /Monero deposit txid/;

let tmp: string;
let fed: BridgeFederation;
let browser: Browser;
let wallet: WalletApi;
const pageErrors: string[] = [];
const staticHosts: Server[] = [];
const wallets = nodeWallets({ awaitTimeoutMs: 30_000 });

beforeAll(async () => {
  ensureChromiumInstalled();
  tmp = mkdtempSync(join(tmpdir(), "conclave-web-bridge-"));
  [fed, browser] = await Promise.all([startBridgeFederation("web-bridge-"), launchChromium()]);
  wallet = (await wallets.joinWallet(join(tmp, "wallet"), fed.invite)).wallet;
  await wallet.devFaucet(10n * XMR);
}, 180_000);

afterAll(async () => {
  for (const s of staticHosts) s.close();
  await wallet?.close().catch(() => undefined);
  await browser?.close();
  await fed?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/**
 * A page with window.ethereum: an EIP-1193 provider backed by anvil account `account`
 * (evm-wallet-harness.ts installAnvilWallet).
 */
async function openWithWallet(url: string, account: number | undefined, viewport = DESKTOP): Promise<Page> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.on("pageerror", (e) => pageErrors.push(e.message));
  if (account !== undefined) await installAnvilWallet(page, fed, account);
  await page.goto(url);
  return page;
}

async function shot(page: Page, name: string): Promise<void> {
  const dir = SHOTS_TO_DOCS ? join(REPO_ROOT, "docs", "web") : join(tmp, "screenshots");
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

async function lookUp(page: Page, id: string): Promise<void> {
  await page.getByLabel(LOOKUP_LABEL).fill(id);
  await page.getByRole("button", { name: "Look up" }).click();
}

const mintState = (page: Page) =>
  page
    .locator("#mint-state")
    .innerText()
    .catch(() => "");

const balanceOf = (address: Hex) =>
  fed.anvil.publicClient.readContract({
    address: fed.contract,
    abi: wrappedMoneroAbi,
    functionName: "balanceOf",
    args: [address],
  });

describe("the page's bridge views (anvil, four guardian processes)", () => {
  it("a mint signed by t guardians is submitted with the user's EVM wallet (EIP-1193) and minted on anvil", async () => {
    const recipient = fed.anvil.accounts[1]!.address;
    const amount = XMR + XMR / 4n;
    const minted = await wallet.bridgeMint(recipient, amount);
    const id = `${minted.txid}:${minted.output}`;

    // Without an EVM wallet: the signatures and what to run, no button.
    const bare = await openWithWallet(`${fed.guardianUrls[0]!}/#/lookup/`, undefined);
    await lookUp(bare, id);
    await expect.poll(() => mintState(bare), { timeout: 20_000 }).toBe("signed");
    const bareText = await bare.locator("#mint-finding").innerText();
    expect(bareText).toContain("4 good signatures (3 needed)");
    expect(bareText).toContain("no EVM wallet in this browser");
    expect(bareText).toContain(`cast call ${fed.contract} "depositUsed(bytes32)(bool)"`);
    expect(await bare.locator("#mint-submit").count()).toBe(0);
    expect(await bare.locator("#federation-verified").innerText()).toBe(
      "4 of 4 guardians serve a config that hashes to this id",
    );
    await bare.context().close();

    const page = await openWithWallet(`${fed.guardianUrls[2]!}/#/lookup/`, 1);
    await lookUp(page, id);
    await expect.poll(() => mintState(page), { timeout: 20_000 }).toBe("signed");
    const finding = page.locator("#mint-finding");
    expect(await finding.innerText()).toContain(`Submitting mints 1.25 wXMR to ${recipient}`);
    await shot(page, "mint-signed-desktop");
    const before = await balanceOf(recipient);
    await page.getByRole("button", { name: "Submit with your EVM wallet" }).click();
    await expect
      .poll(
        () =>
          page
            .locator("#mint-tx")
            .innerText()
            .catch(() => ""),
        { timeout: 30_000 },
      )
      .toContain("succeeded");
    expect(await balanceOf(recipient)).toBe(before + amount);
    await expect.poll(() => mintState(page), { timeout: 10_000 }).toBe("minted");
    expect(await finding.locator('li[data-state="done"]').count()).toBe(4);
    expect(await page.locator("#mint-submit").count()).toBe(0);
    await shot(page, "mint-minted-desktop");
    await page.setViewportSize(PHONE);
    await shot(page, "mint-minted-phone");
    await page.context().close();

    // Looked up again later: minted, read from the chain through the wallet; nothing to submit.
    const again = await openWithWallet(`${fed.guardianUrls[3]!}/#/lookup/`, 2);
    await lookUp(again, id);
    await expect.poll(() => mintState(again), { timeout: 20_000 }).toBe("minted");
    expect(await again.locator("#mint-submit").count()).toBe(0);
    await again.context().close();
  });

  it("a mint transaction that reverts on chain is shown as failed", async () => {
    const recipient = fed.anvil.accounts[2]!.address;
    const minted = await wallet.bridgeMint(recipient, XMR / 2n);
    const id = `${minted.txid}:${minted.output}`;
    const page = await openWithWallet(`${fed.guardianUrls[1]!}/#/lookup/`, 1);
    await lookUp(page, id);
    await expect.poll(() => mintState(page), { timeout: 20_000 }).toBe("signed");
    // The page's transaction waits in anvil's pool; the same mint sent by someone else with a
    // higher tip goes first in that block, so the page's one reverts (DepositUsed).
    await fed.anvil.testClient.setAutomine(false);
    try {
      await page.getByRole("button", { name: "Submit with your EVM wallet" }).click();
      await expect
        .poll(
          () =>
            page
              .locator("#mint-tx")
              .innerText()
              .catch(() => ""),
          { timeout: 30_000 },
        )
        .toContain("waiting to be mined");
      const r = await fetchCall(minted.txid, minted.output);
      await fed.anvil.walletClient.writeContract({
        account: fed.anvil.accounts[3]!,
        chain: fed.anvil.chain,
        address: fed.contract,
        abi: wrappedMoneroAbi,
        functionName: "mint",
        args: [r.message, r.signatures],
        gas: 300_000n,
        maxPriorityFeePerGas: 50_000_000_000n,
        maxFeePerGas: 100_000_000_000n,
      });
      await fed.anvil.testClient.mine({ blocks: 1 });
    } finally {
      await fed.anvil.testClient.setAutomine(true);
    }
    await expect
      .poll(
        () =>
          page
            .locator("#mint-tx")
            .innerText()
            .catch(() => ""),
        { timeout: 30_000 },
      )
      .toContain("failed (reverted)");
    // The mint itself happened (by the other transaction): the page says both.
    await expect.poll(() => mintState(page), { timeout: 10_000 }).toBe("minted");
    expect(await balanceOf(recipient)).toBe(XMR / 2n);
    await shot(page, "mint-failed-desktop");
    await page.context().close();
  });

  it("a guardian whose config does not hash to the federation id it states is refused", async () => {
    // A server that answers like guardian 0 but states another wXMR contract under the same id.
    const real = (await (await fetch(`${fed.guardianUrls[0]!}/v1/federation`)).json()) as {
      federationId: string;
      config: { modules: { kind: string; config: Record<string, unknown> }[] };
    };
    const lie = structuredClone(real);
    lie.config.modules.find((m) => m.kind === "bridge")!.config["contract"] = "0x" + "66".repeat(20);
    const server = createServer((req, res) => {
      res.writeHead(200, { "content-type": "application/json", "access-control-allow-origin": "*" });
      res.end(JSON.stringify(req.url === "/v1/federation" ? lie : {}));
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    try {
      const liar = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      // The page as a static host serves it (a guardian's copy may connect only to its own
      // federation's guardians: its connect-src header would refuse the liar before its answer).
      const file = join(tmp, "page.html");
      writeFileSync(file, Buffer.from(await (await fetch(`${fed.guardianUrls[0]!}/`)).arrayBuffer()));
      const host = await serveFile(file);
      staticHosts.push(host.server);
      const page = await openWithWallet(`${host.url}?guardians=${encodeURIComponent(liar)}`, undefined);
      await expect
        .poll(
          () =>
            page
              .getByRole("alert")
              .innerText()
              .catch(() => ""),
          { timeout: 15_000 },
        )
        .toContain("not to the federation id it states");
      expect(await page.locator("#federation-line").count()).toBe(0);
      await page.context().close();
    } finally {
      server.close();
    }
  });

  it("a plain mint not submitted by its deadline is shown re-issued under a fresh deposit id, with its button; a refundable one as refundable once t guardians vote it unminted, then refunded", async () => {
    // The wallet's mint output is the refundable (0x02) form, its refund key kept by the wallet.
    const minted = await wallet.bridgeMint(fed.anvil.accounts[3]!.address, XMR / 4n);
    const refundable = `${minted.txid}:${minted.output}`;
    // A plain (0x01) mint output, without a refund key, paid by the dev faucet: once t guardians see
    // it unminted past its deadline they re-issue it (docs/bridge.md "Re-issue").
    const plain = await submitTransaction(
      buildTransaction(
        [faucetInput(0, XMR / 8n)],
        [
          {
            module: BRIDGE_INSTANCE,
            amount: XMR / 8n,
            payload: encodeMintOutput(fed.anvil.accounts[3]!.address),
          },
        ],
        [],
        sha256,
      ),
    );
    // An hour and a minute later on the chain (the fixture's mints have a 3,600 s deadline).
    await fed.anvil.testClient.increaseTime({ seconds: 3_660 });
    await fed.anvil.testClient.mine({ blocks: 1 });
    const reissued = async () =>
      (
        await Promise.all(
          fed.guardianUrls.map(async (u) => {
            const r = await fetch(`${u}/v1/modules/bridge/mints/${plain}/0`);
            return r.ok
              ? ((await r.json()) as { reissue?: { attempt: number } }).reissue?.attempt
              : undefined;
          }),
        )
      ).filter((a) => a === 1).length;
    await expect
      .poll(
        async () => {
          await fed.anvil.testClient.mine({ blocks: 1 });
          return reissued();
        },
        { timeout: 60_000, interval: 1_000 },
      )
      .toBeGreaterThanOrEqual(3);
    const page = await openWithWallet(`${fed.guardianUrls[0]!}/#/lookup/`, 1);
    await lookUp(page, `${plain}:0`);
    // The page computes attempt 1's deposit id itself and checks each signature against it.
    await expect.poll(() => mintState(page), { timeout: 20_000 }).toBe("signed");
    expect(await page.locator("#mint-reissued").innerText()).toContain("attempt 1");
    await expect.poll(() => page.locator("#mint-submit").count(), { timeout: 20_000 }).toBe(1);
    await shot(page, "mint-reissued-desktop");
    // Left unsubmitted here (reissue.test.ts mints a re-issued mint on anvil): the reserves test
    // below counts it as still owed.

    // The refundable one: the guardians read depositUsed at their depth block past the deadline
    // and vote; t equal "unused" votes make it returnable (more blocks so that depth passes it).
    await fed.anvil.testClient.mine({ blocks: 3 });
    const expiryStates = async () =>
      Promise.all(
        fed.guardianUrls.map(async (u) => {
          const r = await fetch(`${u}/v1/modules/bridge/mints/${minted.txid}/${minted.output}`);
          return r.ok ? ((await r.json()) as { expiry?: { state: string } }).expiry?.state : undefined;
        }),
      );
    await expect
      .poll(async () => (await expiryStates()).filter((x) => x === "returnable").length, { timeout: 60_000 })
      .toBeGreaterThanOrEqual(3);
    await lookUp(page, refundable);
    await expect.poll(() => mintState(page), { timeout: 20_000 }).toBe("expired, refundable");
    expect(await page.locator("#mint-submit").count()).toBe(0);
    const text = await page.locator("#mint-finding").innerText();
    expect(text).toContain("Refundable");
    expect(text).toContain("the wallet holding its refund key takes the value back as e-cash");
    await shot(page, "mint-refundable-desktop");

    // The wallet takes it back as e-cash: the look-up shows it refunded.
    await wallet.bridgeRefund(minted.txid);
    await expect
      .poll(async () => (await expiryStates()).filter((x) => x === "refunded").length, { timeout: 60_000 })
      .toBeGreaterThanOrEqual(3);
    await lookUp(page, refundable);
    await expect.poll(() => mintState(page), { timeout: 20_000 }).toBe("expired, refunded");
    expect(await page.locator('#mint-finding li[data-state="done"]').last().innerText()).toContain(
      "Refunded as e-cash",
    );
    await page.context().close();
    expect(pageErrors).toEqual([]);
  });
  it("reserves: every figure per guardian and whether t agree, the wXMR supply read by the user's EVM wallet; a guardian reporting another supply is shown as a disagreement", async () => {
    // Past the depth of every block: each guardian's depth block sees the same supply.
    await fed.anvil.testClient.mine({ blocks: 4 });
    const supply = await fed.anvil.publicClient.readContract({
      address: fed.contract,
      abi: wrappedMoneroAbi,
      functionName: "totalSupply",
    });
    const views = async () =>
      Promise.all(
        fed.guardianUrls.map(
          async (u) =>
            (await (await fetch(`${u}/v1/modules/bridge/supply`)).json()) as {
              chain?: { totalSupply: string };
              unsubmitted?: string;
            },
        ),
      );
    await expect
      .poll(async () => (await views()).filter((v) => v.chain?.totalSupply === String(supply)).length, {
        timeout: 60_000,
      })
      .toBe(4);
    const unsubmitted = BigInt((await views())[0]!.unsubmitted!);
    // The plain mint of the expiry test, re-issued and never submitted: it is still owed.
    expect(unsubmitted).toBeGreaterThanOrEqual(XMR / 8n);

    const page = await openWithWallet(`${fed.guardianUrls[1]!}/#/reserves`, 1);
    const agreedCell = (row: string) =>
      page
        .locator(`#owed tr[data-row="${row}"] td[data-agreed]`)
        .innerText()
        .catch(() => "");
    await expect.poll(() => agreedCell("wxmr-supply"), { timeout: 30_000 }).toBe(`yes: ${xmr(supply)}`);
    expect(await agreedCell("wxmr-unsubmitted")).toBe(`yes: ${xmr(unsubmitted)}`);
    expect(await agreedCell("ecash")).toMatch(/^yes: /);
    expect(await page.locator("#owed td[data-differs]").count()).toBe(0);
    await expect
      .poll(() => page.locator("#wallet-supply").innerText(), { timeout: 20_000 })
      .toBe(
        `The wXMR supply read by your own EVM wallet (its latest block): ${xmr(supply)}, the same as 3 guardians report.`,
      );
    expect(await page.getByText("cast call").first().innerText()).toContain('"totalSupply()(uint256)"');
    await shot(page, "reserves-bridge-desktop");
    await page.setViewportSize(PHONE);
    await shot(page, "reserves-bridge-phone");
    await page.context().close();

    // Guardian 3 as a proxy that adds 1 XMR to the supply it reports (its config names the proxy as
    // guardian 3's URL: URLs are outside the federation id). The page opens as a static copy.
    const real3 = fed.guardianUrls[3]!;
    let proxyUrl = "";
    const proxy = createServer((req, res) => {
      void (async () => {
        const upstream = await fetch(`${real3}${req.url ?? "/"}`);
        let body = await upstream.text();
        if (req.url === "/v1/federation") {
          const v = JSON.parse(body) as { config: { guardians: { api: { url: string } }[] } };
          v.config.guardians[3]!.api.url = proxyUrl;
          body = JSON.stringify(v);
        } else if (req.url === "/v1/modules/bridge/supply") {
          const v = JSON.parse(body) as { chain: { totalSupply: string }; unsubmitted: string };
          v.chain.totalSupply = String(BigInt(v.chain.totalSupply) + XMR);
          v.unsubmitted = String(BigInt(v.unsubmitted) - XMR);
          body = JSON.stringify(v);
        }
        res.writeHead(upstream.status, {
          "content-type": upstream.headers.get("content-type") ?? "application/json",
          "access-control-allow-origin": "*",
        });
        res.end(body);
      })().catch(() => res.writeHead(502).end());
    });
    await new Promise<void>((ok) => proxy.listen(0, "127.0.0.1", ok));
    staticHosts.push(proxy);
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const file = join(tmp, "page-reserves.html");
    writeFileSync(file, Buffer.from(await (await fetch(`${fed.guardianUrls[0]!}/`)).arrayBuffer()));
    const host = await serveFile(file);
    staticHosts.push(host.server);
    const odd = await openWithWallet(`${host.url}?guardians=${encodeURIComponent(proxyUrl)}#/reserves`, 1);
    const alert = odd.locator("#owed-disagreements");
    await expect.poll(() => alert.innerText().catch(() => ""), { timeout: 30_000 }).toContain("wXMR supply");
    expect(await alert.innerText()).toContain(`reports ${xmr(supply + XMR)}, 3 others ${xmr(supply)}`);
    const differing = odd.locator("#owed td[data-differs]");
    const differingGuardians = await Promise.all(
      Array.from({ length: await differing.count() }, (_, k) =>
        differing.nth(k).getAttribute("data-guardian"),
      ),
    );
    // Its supply and, with it, its signed-but-unsubmitted figure; its total is unchanged.
    expect(differingGuardians).toEqual(["3", "3"]);
    // Three still agree: the figure stands, the odd one is named.
    await expect
      .poll(() => odd.locator('#owed tr[data-row="wxmr-supply"] td[data-agreed]').innerText())
      .toBe(`yes: ${xmr(supply)}`);
    await shot(odd, "reserves-disagreement-desktop");
    await odd.context().close();
    expect(pageErrors).toEqual([]);
  });
});

/** Submits a federation transaction at guardian 0; resolves with its txid once accepted. */
async function submitTransaction(tx: Transaction): Promise<string> {
  const url = fed.guardianUrls[0]!;
  const r = await fetch(`${url}/v1/transactions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ transaction: Buffer.from(encodeTransaction(tx)).toString("hex") }),
  });
  const body = (await r.json()) as { txid: string };
  if (r.status >= 300) throw new Error(`refused: ${JSON.stringify(body)}`);
  const done = (await (await fetch(`${url}/v1/transactions/${body.txid}?wait=20000`)).json()) as {
    state: string;
  };
  if (done.state !== "accepted") throw new Error(`transaction ${body.txid} is ${done.state}`);
  return body.txid;
}

/** The mint call as the guardians sign it: t signatures from their API, sorted by signer (as the contract takes them). */
async function fetchCall(txid: string, output: number) {
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
  return {
    message: {
      recipient: v.recipient,
      amount: BigInt(v.amount),
      depositId: v.depositId,
      deadline: BigInt(v.deadline),
      setIndex: v.setIndex,
    },
    signatures: sorted.map((s) => s.signature),
  };
}
