// The README's walkthrough as a newcomer runs it: `npm start` (apps/guardiand/src/dev.ts) as its own
// process — monerod in regtest, a wallet-rpc per guardian and a demo wallet, anvil with the wXMR
// contract deployed for the ceremony's EVM set, the real key ceremony making the 3-of-4 multisig
// address, four guardian processes with the bridge module, a block mined every 2 s — then the
// CLI and `demo:pay` as separate processes: join with the printed invite, deposit to a subaddress
// with no tx key, claim a payment to the federation's address by txid + tx key, withdraw back to
// the demo wallet (check_tx_key proves it), list the withdrawal, read the guardians' reserves. Ctrl-C
// (SIGINT) must stop every process npm start started: none may be left holding the directory.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WalletRpc, parseXmr } from "@conclave/monero";
import { parseFederationConfig } from "@conclave/core-common";
import { wrappedMoneroAbi } from "@conclave/evm";
import { parseBridgeConfig, sortedSigners } from "@conclave/module-bridge";
import type { ChainView } from "@conclave/module-bridge";
import { createPublicClient, http } from "viem";
import { runConclave, runTsScript } from "../../cli/src/cli-test-harness.js";
import type { CliRun } from "../../cli/src/cli-test-harness.js";
import {
  REPO_ROOT,
  SRC,
  demoState as demoStateOf,
  evmState as evmStateOf,
  json,
  killProcessesUsing,
  processesUsing,
  startConclave,
  startDev,
} from "./npm-start-harness.js";
import type { DevFederation } from "./npm-start-harness.js";
import { ensureChromiumInstalled, launchChromium } from "../../web/src/harness.js";

const root = mkdtempSync(join(tmpdir(), "conclave-npm-start-"));
const fedDir = join(root, "fed");
const alice = join(root, "alice");
let dev: DevFederation | undefined;
let out = "";
let invite = "";
let apiUrl = "";
let pageUrl = "";
let walletUrl = "";
/** The payment claimed by txid + tx key, for the web page's look-up. */
let claimedTxid = "";

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  return dev!.waitFor(what, timeoutMs, probe);
}

function tsx(script: string, args: readonly string[], timeoutMs = 120_000): Promise<CliRun> {
  return runTsScript(join(SRC, script), args, { timeoutMs });
}

const demoState = () => demoStateOf(fedDir);

beforeAll(async () => {
  dev = startDev(["--dir", fedDir, "--fresh", "--block-seconds", "2"]);
  // A first start runs the key ceremony (48-101 s on a quiet machine, MEASURED.md); with six
  // helpers' test runs on two cores it took over 300 s (2026-12-06 06:23 and 06:40, load 16-22).
  await dev.ready(600_000);
  out = dev.output();
  invite = /conclave1:\S+/.exec(out)?.[0] ?? "";
  apiUrl = /API (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1] ?? "";
  pageUrl = /Web page [^\n]*\n\s+(http:\S+)/.exec(out)?.[1] ?? "";
  walletUrl = /Wallet page [^\n]*\n\s+(http:\S+)/.exec(out)?.[1] ?? "";
}, 630_000);

afterAll(async () => {
  if (dev && dev.child.exitCode === null) await dev.stop(30_000);
  // Whatever is still there is a failure reported by the last test; don't leave it running.
  killProcessesUsing(root);
  rmSync(root, { recursive: true, force: true });
}, 60_000);

describe("the README walkthrough against `npm start` (separate processes, real monerod)", () => {
  it("npm start printed the invite code, the guardians' API URLs and the multisig deposit address", () => {
    expect(invite).toMatch(/^conclave1:/);
    expect(apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(out).toContain(demoState().federationAddress);
    expect(out).toMatch(/3-of-4 multisig deposit address/);
  });

  it("npm start runs the EVM bridge on anvil: every guardian's bridge module answers and scans, the contract holds the config's set", async () => {
    const evm = evmStateOf(fedDir);
    expect(out).toContain(`EVM bridge (anvil): RPC ${evm.rpcUrl}  chain id 31337`);
    expect(out).toContain(`wXMR contract ${evm.contract}`);
    expect(out).toContain(`address     ${evm.account}`);
    expect(out).toContain(`private key ${evm.privateKey}`);
    const config = parseFederationConfig(
      JSON.parse(readFileSync(join(fedDir, "guardian-0", "federation.json"), "utf8")),
    );
    const bridge = parseBridgeConfig(config.modules.find((m) => m.kind === "bridge")!.config);
    expect(bridge.contract).toBe(evm.contract);
    expect(bridge.chainId).toBe(31337);
    expect(bridge.threshold).toBe(3);
    const chain = createPublicClient({ transport: http(evm.rpcUrl) });
    const read = { address: evm.contract, abi: wrappedMoneroAbi } as const;
    expect(await chain.readContract({ ...read, functionName: "setIndex" })).toBe(bridge.setIndex);
    expect(await chain.readContract({ ...read, functionName: "guardians", args: [bridge.setIndex] })).toEqual(
      sortedSigners(bridge.guardians),
    );
    expect(
      Number(await chain.readContract({ ...read, functionName: "threshold", args: [bridge.setIndex] })),
    ).toBe(3);
    // Each guardian's own API: its bridge module serves, and every guardian's watcher has reported
    // a scanned anvil block into consensus.
    for (const g of config.guardians) {
      const view = await waitFor(
        `${g.name}'s bridge to show every guardian's scanned block`,
        60_000,
        async () => {
          const v = (await (await fetch(`${g.api!.url}/v1/modules/bridge/chain`)).json()) as ChainView;
          return v.scanned.every((s) => s !== null) && BigInt(v.agreedBlock) > 0n ? v : undefined;
        },
      );
      expect(view.chainId).toBe(31337);
      expect(view.contract).toBe(evm.contract);
      expect(view.scanned).toHaveLength(4);
    }
  }, 300_000);

  it("npm start runs the relay at every guardian: each answers a mailbox challenge", async () => {
    expect(out).toContain("Wallet services (relay module");
    const config = parseFederationConfig(
      JSON.parse(readFileSync(join(fedDir, "guardian-0", "federation.json"), "utf8")),
    );
    const relay = config.modules.find((m) => m.kind === "relay");
    expect(relay?.instanceId).toBe(4);
    for (const g of config.guardians) {
      const r = await fetch(`${g.api!.url}/v1/modules/relay/challenge`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      expect(r.status).toBe(200);
      expect(((await r.json()) as { challenge: string }).challenge).toMatch(/^[0-9a-f]{80}$/);
    }
  });

  it("guardian names match their indices (guardian-i is index i of the federation)", () => {
    for (let i = 0; i < 4; i++)
      expect(out).toMatch(new RegExp(`\\n  guardian-${i}: API \\S+ .*\\(index ${i},`));
  });

  it("conclave join, then deposit to a subaddress with no tx key: the payment becomes notes", async () => {
    expect((await runConclave(["--data", alice, "join", invite])).code).toBe(0);
    // `conclave --json deposit` waits: the address, then one progress line per change, on stderr.
    const cli = startConclave(["--json", "--data", alice, "deposit"]);
    const address = await waitFor("the deposit subaddress", 60_000, () =>
      Promise.resolve(/"address":"(8\w+)"/.exec(cli.stderr())?.[1]),
    );
    const paid = await tsx("demo-pay.ts", ["1.5", "--to", address, "--dir", fedDir]);
    expect(paid.code, paid.stderr).toBe(0);
    expect(paid.stdout).toContain("No tx key is needed for a deposit subaddress");
    const timer = setTimeout(() => cli.child.kill("SIGKILL"), 150_000);
    expect(await cli.exited, cli.stderr()).toBe(0);
    clearTimeout(timer);
    const messages = cli
      .stderr()
      .split("\n")
      .filter((l) => l.startsWith('{"progress"'))
      .map((l) => (JSON.parse(l) as { progress: { message: string } }).progress.message);
    expect(messages).toContain("received 1.5 XMR");
    for (const m of messages) expect(m).not.toContain("XMR XMR");
    const balance = BigInt(
      json<{ balance: string }>(await runConclave(["--json", "--data", alice, "balance"])).balance,
    );
    expect(balance).toBe(parseXmr("1.5"));
  }, 210_000);

  it("a payment to the federation's address is claimed with its txid and tx key", async () => {
    // The address given as --to (a standard address): the tx key is printed as without --to.
    const paid = await tsx("demo-pay.ts", ["0.75", "--to", demoState().federationAddress, "--dir", fedDir]);
    expect(paid.code, paid.stderr).toBe(0);
    const txid = /txid\s+([0-9a-f]{64})/.exec(paid.stdout)?.[1];
    const txKey = /tx key\s+([0-9a-f]{64,})/.exec(paid.stdout)?.[1];
    expect(txid).toBeDefined();
    const r = json<{ amount: string }>(
      await runConclave(["--json", "--data", alice, "claim", "--txid", txid!, "--tx-key", txKey!], {
        timeoutMs: 150_000,
      }),
    );
    expect(BigInt(r.amount)).toBe(parseXmr("0.75"));
    const b = BigInt(
      json<{ balance: string }>(await runConclave(["--json", "--data", alice, "balance"])).balance,
    );
    expect(b).toBe(parseXmr("2.25"));
    // Claimed again by the same wallet: refused, saying it is already this wallet's.
    const again = await runConclave(["--data", alice, "claim", "--txid", txid!, "--tx-key", txKey!], {
      timeoutMs: 150_000,
    });
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain("already credited to this wallet");
    expect(again.stderr).not.toContain("another key");
    claimedTxid = txid!;
  }, 300_000);

  it("demo:pay --to a standard address prints the tx key that proves the payment", async () => {
    const demo = new WalletRpc({ url: demoState().demoWalletRpcUrl });
    const own = (await demo.getAddress()).address;
    const paid = await tsx("demo-pay.ts", ["0.1", "--to", own, "--dir", fedDir]);
    expect(paid.code, paid.stderr).toBe(0);
    const txid = /txid\s+([0-9a-f]{64})/.exec(paid.stdout)?.[1];
    const txKey = /tx key\s+([0-9a-f]{64,})/.exec(paid.stdout)?.[1];
    expect(txKey, paid.stdout).toBeDefined();
    expect(paid.stdout).toContain(`check_tx_key ${txid} ${txKey} ${own}`);
  }, 180_000);

  it("a withdrawal to the federation's own address is refused in words, nothing spent", async () => {
    const before = json<{ balance: string }>(
      await runConclave(["--json", "--data", alice, "balance"]),
    ).balance;
    const r = await runConclave(["--data", alice, "withdraw", demoState().federationAddress, "0.25"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("the federation's own deposit address");
    expect(r.stderr).not.toMatch(/output \d+/);
    const after = json<{ balance: string }>(
      await runConclave(["--json", "--data", alice, "balance"]),
    ).balance;
    expect(after).toBe(before);
  }, 120_000);

  it("withdraw back to the demo wallet: confirmed, proven by check_tx_key, listed by `withdrawals`", async () => {
    const demo = new WalletRpc({ url: demoState().demoWalletRpcUrl });
    const demoAddress = (await demo.getAddress()).address;
    const amount = parseXmr("0.25");
    const r = json<{ moneroTxid: string; txKey: string; amount: string }>(
      await runConclave(["--json", "--data", alice, "withdraw", demoAddress, "0.25"], { timeoutMs: 200_000 }),
    );
    expect(BigInt(r.amount)).toBe(amount);
    const proof = await demo.checkTxKey({ txid: r.moneroTxid, txKey: r.txKey, address: demoAddress });
    expect(proof.received).toBe(amount);
    const listed = json<{ withdrawals: { state: string; moneroTxid?: string; txKey?: string }[] }>(
      await runConclave(["--json", "--data", alice, "withdrawals"]),
    ).withdrawals;
    expect(listed).toEqual([
      expect.objectContaining({ state: "confirmed", moneroTxid: r.moneroTxid, txKey: r.txKey }),
    ]);
  }, 240_000);

  it("the guardian's multisig wallet holds at least what the federation owes", async () => {
    const view = await waitFor("the reserves check to judge", 60_000, async () => {
      const v = (await (await fetch(`${apiUrl}/v1/modules/monero/reserves`)).json()) as {
        state: string;
        required: string;
        wallet?: { balance: string };
      };
      return v.state === "ok" || v.state === "short" ? v : undefined;
    });
    expect(view.state).toBe("ok");
    expect(BigInt(view.wallet!.balance)).toBeGreaterThanOrEqual(BigInt(view.required));
  }, 90_000);

  it("the web page at the printed URL: each guardian's view of the multisig wallet, the claimed deposit's life cycle", async () => {
    expect(pageUrl).toBe(`${apiUrl}/`);
    expect(claimedTxid).toMatch(/^[0-9a-f]{64}$/);
    ensureChromiumInstalled();
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(`${pageUrl}#/reserves`);
      // Every guardian's own wallet share reports a balance, and its verdict is ok.
      const wallets = page.locator("#wallets tbody tr");
      await waitFor("the page's wallet table", 60_000, async () =>
        (await wallets.count()) === 4 &&
        (await wallets.allInnerTexts()).every((t) => /XMR[\s\S]*\bok\b/.test(t))
          ? true
          : undefined,
      );
      await page.goto(`${pageUrl}#/lookup/${claimedTxid}`);
      await page.getByRole("button", { name: "Look up" }).click();
      const result = page.locator("#lookup-result");
      await waitFor("the deposit's life cycle", 60_000, async () =>
        (await result.innerText()).includes("Monero deposit") ? true : undefined,
      );
      // The deposit's own steps (since 3861dbb the look-up also follows the federation transaction
      // that spent it, shown as a second finding).
      const deposit = result.locator("article.finding", {
        has: page.locator("h3", { hasText: "Monero deposit" }),
      });
      const done = await deposit.locator('li[data-state="done"]').allInnerTexts();
      expect(done).toEqual([
        expect.stringContaining("Claimed"),
        expect.stringContaining("Checked by the guardians"),
        expect.stringContaining("Confirmed on the Monero chain"),
        expect.stringContaining("Turned into e-cash"),
      ]);
      expect(await deposit.innerText()).toMatch(/Spent by federation transaction\s+[0-9a-f]{64}/);
      await waitFor("the spending transaction", 60_000, async () =>
        (await result.locator("article.finding h3").allInnerTexts()).includes(
          "Federation transaction that spent the deposit",
        )
          ? true
          : undefined,
      );
      // Nothing private: not the amount (0.75 XMR), not the claim key.
      expect(await result.innerText()).not.toMatch(/0\.75|750000000000/);
      // The wallet page at its printed URL: the bytes whose hash the guardian states in /v1/web.
      expect(walletUrl).toBe(`${apiUrl}/wallet`);
      const wallet = await fetch(walletUrl);
      expect(wallet.headers.get("content-type")).toBe("text/html; charset=utf-8");
      const walletBytes = Buffer.from(await wallet.arrayBuffer());
      const stated = (await (await fetch(`${apiUrl}/v1/web`)).json()) as { wallet?: { sha256: string } };
      expect(createHash("sha256").update(walletBytes).digest("hex")).toBe(stated.wallet?.sha256);
    } finally {
      await browser.close();
    }
  }, 180_000);

  it("the README's wXMR walkthrough: cast, a Monero deposit minted straight to wXMR, a burn paid in Monero", async () => {
    const evm = evmStateOf(fedDir);
    const readme = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
    const from = readme.indexOf("### wXMR");
    const section = readme.slice(from, readme.indexOf("`npm start -- --guardians 7`", from));
    const lines = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) =>
      m[1]!.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#")),
    );
    // The values the README hard-codes are what npm start printed (anvil's dev mnemonic, nonce 0).
    const assigned = Object.fromEntries(
      lines.flatMap((l) => {
        const m = /^([A-Z_]+)=(\S+)/.exec(l);
        return m ? [[m[1]!, m[2]!]] : [];
      }),
    );
    expect(assigned["WXMR"]).toBe(evm.contract);
    expect(assigned["ME"]).toBe(evm.account);
    expect(assigned["KEY"]).toBe(evm.privateKey);
    const demo = new WalletRpc({ url: demoState().demoWalletRpcUrl });
    const moneroAddress = (await demo.getAddress()).address;
    const env = {
      ...process.env,
      RPC: evm.rpcUrl,
      WXMR: evm.contract,
      ME: evm.account,
      KEY: evm.privateKey,
      MONERO_ADDRESS: moneroAddress,
    };
    // Each line as the README has it, run by bash from the repository root; only the paths under
    // .tmp/ are this test's, demo:pay is told npm start's directory, and the placeholders the reader
    // copies from earlier output (TXID, TXKEY, BURNTX) are filled from that output.
    const sh = (line: string, timeoutMs = 240_000) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        execFile("bash", ["-c", line], { cwd: REPO_ROOT, env, timeout: timeoutMs }, (error, stdout, stderr) =>
          resolve({
            code: error ? (typeof error.code === "number" ? error.code : 1) : 0,
            out: stdout + stderr,
          }),
        );
      });
    const filled: Record<string, string> = {};
    let ran = 0;
    for (const line of lines) {
      if (/^[A-Z_]+=/.test(line)) continue;
      const expected = /#\s+(\d[^:]*?)(:|$)/.exec(line)?.[1]?.trim();
      let command = line
        .replaceAll(".tmp/alice", alice)
        .replaceAll(".tmp/evm-key.txt", join(root, "evm-key.txt"))
        .replace(/\bTXID\b/, filled["TXID"] ?? "TXID")
        .replace(/\bTXKEY\b/, filled["TXKEY"] ?? "TXKEY")
        .replace(/\bBURNTX\b/, filled["BURNTX"] ?? "BURNTX");
      if (line.startsWith("npm run demo:pay -- "))
        command = `${command.replace(/\s+#.*$/, "")} --dir ${fedDir}`;
      if (line.includes("bridge-status")) {
        // The payout takes the guardians' rounds: the reader runs it again until it is confirmed.
        const status = await waitFor("the burn's Monero payout to be confirmed", 240_000, async () => {
          const r = await sh(command, 60_000);
          expect(r.code, `${line}\n${r.out}`).toBe(0);
          return /payout \(accepted: Monero payout of \d+ piconero \(fee \d+\) confirmed, Monero txid [0-9a-f]{64}/.test(
            r.out,
          )
            ? r.out
            : undefined;
        });
        const moneroTxid = /Monero txid ([0-9a-f]{64})/.exec(status)![1]!;
        const paid = BigInt(/Monero payout of (\d+) piconero/.exec(status)![1]!);
        await demo.refresh();
        expect((await demo.getTransferByTxid(moneroTxid)).map((t) => t.amount)).toEqual([paid]);
        expect(paid).toBeLessThan(parseXmr("0.5"));
        ran++;
        continue;
      }
      const r = await sh(command);
      expect(r.code, `${line}\n${r.out}`).toBe(0);
      ran++;
      if (expected !== undefined) expect(r.out.trim(), line).toBe(expected);
      if (line.includes('"guardians(uint32)(address[])"')) {
        const config = parseFederationConfig(
          JSON.parse(readFileSync(join(fedDir, "guardian-0", "federation.json"), "utf8")),
        );
        const bridge = parseBridgeConfig(config.modules.find((m) => m.kind === "bridge")!.config);
        expect(r.out.trim()).toBe(`[${sortedSigners(bridge.guardians).join(", ")}]`);
      }
      if (line.startsWith("npm run demo:pay")) {
        filled["TXID"] = /txid\s+([0-9a-f]{64})/.exec(r.out)?.[1] ?? "";
        filled["TXKEY"] = /tx key\s+([0-9a-f]{64,})/.exec(r.out)?.[1] ?? "";
        expect(filled["TXKEY"]).not.toBe("");
      }
      if (line.includes("bridge-mint")) {
        expect(r.out).toMatch(/submitted\s+mint sent: 0x[0-9a-f]{64}/);
        // The deposit less the federation's fee for a refundable mint (0.0001 XMR, the default).
        expect(r.out).toContain("wXMR mint of 0.9999 XMR (999900000000p) accepted and signed by 3 guardians");
        expect(r.out).toContain("paid to the federation for a refundable mint 0.0001 XMR");
      }
      if (line.includes("bridge-burn")) filled["BURNTX"] = /burn (0x[0-9a-f]{64})/.exec(r.out)?.[1] ?? "";
    }
    expect(filled["BURNTX"]).toMatch(/^0x/);
    expect(ran).toBe(lines.filter((l) => !/^[A-Z_]+=/.test(l)).length);
  }, 900_000);

  it("Ctrl-C (SIGINT) stops npm start and every process it started", async () => {
    const code = await dev!.stop(60_000);
    expect(code).toBe(0);
    expect(processesUsing(root)).toEqual([]);
  }, 90_000);
});
