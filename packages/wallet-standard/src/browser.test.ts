// The browser entry (index.ts) in a real browser: Debian's Chromium, driven by playwright-core, loads
// the entry bundled by esbuild for the browser from a local HTTP server. First the IndexedDB client
// database on the browser's own IndexedDB (the checks of db.test.ts, plus atomicity and persistence
// across reloads and browser restarts), then `browserWallets()` against four real guardian processes,
// handing notes to and from a Node wallet.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { Metafile } from "esbuild";
import { chromium } from "playwright-core";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeInvite, federationId, toHex } from "@conclave/core-common";
import type { openSealed, sealTo } from "@conclave/core-common";
import { claimProof } from "@conclave/module-monero/browser";
import { ed25519 } from "@noble/curves/ed25519.js";
import type { FederationConfig } from "@conclave/core-common";
import { sha256 } from "@noble/hashes/sha2.js";
import {
  DEV_MODULES,
  startGuardian,
  stopGuardian,
  waitConnected,
  writeLocalFederation,
} from "../../../apps/guardiand/src/index.js";
import type { GuardianProcess } from "../../../apps/guardiand/src/index.js";
import type * as WalletLib from "./index.js";
import { nodeWallets } from "./node.js";
import type { Wallet } from "./wallet.js";

const here = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(here, "../../..");
const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"];

/** What the test page puts on globalThis: the browser entry's exports and the wallet in use. */
interface PageGlobals {
  conclave?: typeof WalletLib;
  wallet?: Wallet;
  seal?: { sealTo: typeof sealTo; openSealed: typeof openSealed };
  claim?: { claimProof: typeof claimProof };
}

/**
 * The one external import the bundle may hold: @hpke/common's fallback `await import("crypto")` for
 * Node <= 18, reached only where globalThis.crypto is missing (never in a browser; the seal test
 * below runs HPKE in Chromium). Anything else external fails the test.
 */
const HPKE_NODE18_FALLBACK = (i: { path: string; kind: string; external?: boolean }) =>
  i.path === "crypto" && i.kind === "dynamic-import" && i.external === true;

const U = 1n << 20n; // the smallest note
// As in wallet.test.ts but few notes per operation: noble in the browser is ~20x slower than blst.
const MINT_PARAMS = {
  denominationsLog2: Array.from({ length: 11 }, (_, i) => 20 + i),
  feePerInput: U.toString(),
  notesPerTxMax: 12,
};

/**
 * Makes sure Chromium is installed, by running scripts/ensure-system-packages.mjs (it installs the
 * Debian package when root). Throws with its message otherwise.
 */
function ensureChromiumInstalled(): void {
  const script = join(REPO_ROOT, "scripts", "ensure-system-packages.mjs");
  const r = spawnSync(process.execPath, [script, "chromium"], {
    stdio: ["ignore", "inherit", "pipe"],
    encoding: "utf8",
  });
  if (r.status !== 0) {
    throw new Error(
      `Chromium is not installed and could not be installed (${script} exited ${r.status ?? r.signal}):\n${r.stderr}`,
    );
  }
}

function inviteOf(config: FederationConfig): string {
  return encodeInvite({
    federationId: toHex(federationId(config, sha256)),
    name: config.name,
    guardians: config.guardians.map((g) => ({ name: g.name, api: g.api?.url ?? "" })),
  });
}

/** The browser entry as one ES module that puts its exports on globalThis.conclave. */
async function bundlePage(outdir: string): Promise<Metafile> {
  const result = await build({
    stdin: {
      // The seal primitives too (sealClaim's HPKE from @hpke/*) and the claim proof (OutProofV2 from
      // the tx key), to show they run in the browser.
      contents:
        'import * as conclave from "./index.js";\nimport { sealTo, openSealed } from "@conclave/core-common";\n' +
        'import { claimProof } from "@conclave/module-monero/browser";\n' +
        "Object.assign(globalThis, { conclave, seal: { sealTo, openSealed }, claim: { claimProof } });\n",
      resolveDir: here,
      sourcefile: "browser-page.ts",
      loader: "ts",
    },
    bundle: true,
    platform: "browser",
    format: "esm",
    target: "es2022",
    outfile: join(outdir, "page.js"),
    metafile: true,
    logLevel: "silent",
  });
  expect(result.warnings).toEqual([]);
  writeFileSync(
    join(outdir, "index.html"),
    '<!doctype html>\n<meta charset="utf-8">\n<title>conclave wallet</title>\n<script type="module" src="/page.js"></script>\n',
  );
  return result.metafile;
}

/** Serves index.html and page.js from `dir` on 127.0.0.1 (a real origin, which IndexedDB needs). */
async function serve(dir: string): Promise<{ server: Server; url: string }> {
  const files: Record<string, [string, string]> = {
    "/": ["index.html", "text/html; charset=utf-8"],
    "/page.js": ["page.js", "text/javascript; charset=utf-8"],
  };
  const server = createServer((req, res) => {
    const file = files[req.url ?? ""];
    if (file === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": file[1], "cache-control": "no-store" });
    res.end(readFileSync(join(dir, file[0])));
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/` };
}

let tmp: string;
let metafile: Metafile;
let server: Server | undefined;
let pageUrl: string;
let context: BrowserContext | undefined;
let page: Page;
const pageErrors: string[] = [];

const guardians: GuardianProcess[] = [];
let federation: Promise<string> | undefined;
const nodeOpen: Wallet[] = [];

/** Four guardians (dummy faucet + mint); resolves with the invite code once they are all linked. */
async function startFederation(dir: string): Promise<string> {
  const files = await writeLocalFederation(dir, 4, { heightsPerSession: 16 }, [
    ...DEV_MODULES,
    { instanceId: 1, kind: "mint", config: MINT_PARAMS },
  ]);
  const started = await Promise.allSettled([0, 1, 2, 3].map((i) => startGuardian(files, i)));
  for (const s of started) if (s.status === "fulfilled") guardians.push(s.value);
  const failed = started.find((s) => s.status === "rejected");
  if (failed) throw failed.reason;
  await waitConnected(guardians);
  return inviteOf(files.config);
}

/** A browser with its profile on disk (in `tmp`), so that a restart finds the same IndexedDB. */
async function launchBrowser(): Promise<void> {
  context = await chromium.launchPersistentContext(join(tmp, "profile"), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on("pageerror", (e) => pageErrors.push(e.message));
  await loadPage();
}

/** (Re)loads the test page and waits until the bundle has run. */
async function loadPage(): Promise<void> {
  if (page.url() === pageUrl) await page.reload();
  else await page.goto(pageUrl);
  await page.waitForFunction(() => (globalThis as PageGlobals).conclave !== undefined);
}

beforeAll(async () => {
  ensureChromiumInstalled();
  tmp = mkdtempSync(join(tmpdir(), "conclave-browser-"));
  // The guardians start while the browser tests run; the wallet tests wait for them.
  federation = startFederation(join(tmp, "federation"));
  federation.catch(() => undefined); // reported by the wallet tests that await it
  const dist = join(tmp, "dist");
  mkdirSync(dist);
  metafile = await bundlePage(dist);
  const served = await serve(dist);
  server = served.server;
  pageUrl = served.url;
  await launchBrowser();
});

afterAll(async () => {
  for (const w of nodeOpen) await w.close().catch(() => undefined);
  await context?.close();
  if (server) {
    server.closeAllConnections();
    await new Promise<void>((ok) => server!.close(() => ok()));
  }
  await federation?.catch(() => undefined);
  await Promise.all(guardians.map((g) => stopGuardian(g, "SIGKILL")));
  rmSync(tmp, { recursive: true, force: true });
});

describe("the browser bundle", () => {
  it("holds no node: import, no external import and no Node-only file or native package", () => {
    const inputs = Object.keys(metafile.inputs);
    expect(inputs).toContain("packages/wallet/src/indexeddb-db.ts");
    expect(inputs.filter((p) => p.startsWith("node:") || /lmdb|blst|tbs-native|node-crypto/.test(p))).toEqual(
      [],
    );
    const imports = Object.entries(metafile.inputs).flatMap(([file, i]) =>
      i.imports.map((imp) => ({ ...imp, file })),
    );
    const external = imports.filter((i) => i.external === true || i.path.startsWith("node:"));
    expect(external.filter((i) => !HPKE_NODE18_FALLBACK(i))).toEqual([]);
    for (const i of external) expect(i.file).toMatch(/node_modules\/@hpke\/common\/esm\/src\//);
    for (const out of Object.values(metafile.outputs))
      expect(out.imports.filter((i) => !HPKE_NODE18_FALLBACK(i))).toEqual([]);
  });

  it("seals and opens an HPKE message in Chromium (the code of sealClaim and the guardian's unseal)", async () => {
    const seed = new Uint8Array(32).fill(5);
    const publicKey = ed25519.getPublicKey(seed);
    const opened = await page.evaluate(
      async ({ seed, publicKey }) => {
        const s = (globalThis as PageGlobals).seal!;
        const target = { federationId: new Uint8Array(32).fill(1), instanceId: 2, guardian: 1 };
        const sealed = await s.sealTo(
          Uint8Array.from(publicKey),
          target,
          "monero/claim",
          Uint8Array.of(1, 2, 3),
        );
        const back = await s.openSealed(Uint8Array.from(seed), sealed, "monero/claim");
        const refused = await s.openSealed(new Uint8Array(32).fill(6), sealed, "monero/claim").then(
          () => "opened",
          (e: { code?: string }) => e.code ?? "no code",
        );
        return { back: Array.from(back), refused };
      },
      { seed: Array.from(seed), publicKey: Array.from(publicKey) },
    );
    expect(opened).toEqual({ back: [1, 2, 3], refused: "unsealable" });
  });

  it("makes a deposit claim's payment proof in Chromium, the same bytes as in Node (the tx key stays in the page)", async () => {
    const args = {
      // The Monero general fund's address (a standard mainnet address).
      federationAddress:
        "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A",
      txid: Array.from(new Uint8Array(32).fill(0xab)),
      // Two tx key parts (a main key and an additional one): canonical scalars.
      txKey: [...new Uint8Array(31).fill(0x42), 0x01, ...new Uint8Array(31).fill(0x43), 0x02],
      claimKey: Array.from(ed25519.getPublicKey(new Uint8Array(32).fill(9))),
    };
    const inPage = await page.evaluate(
      (a) =>
        Array.from(
          (globalThis as PageGlobals).claim!.claimProof({
            federationAddress: a.federationAddress,
            txid: Uint8Array.from(a.txid),
            txKey: Uint8Array.from(a.txKey),
            claimKey: Uint8Array.from(a.claimKey),
          }),
        ),
      args,
    );
    const inNode = claimProof({
      federationAddress: args.federationAddress,
      txid: Uint8Array.from(args.txid),
      txKey: Uint8Array.from(args.txKey),
      claimKey: Uint8Array.from(args.claimKey),
    });
    expect(inPage).toHaveLength(2 * 96);
    expect(inPage).toEqual(Array.from(inNode));
  });
});

describe("IndexedDbClientDb in Chromium", () => {
  it("gets what was put, nothing after a delete, and hands out copies", async () => {
    const r = await page.evaluate(async () => {
      const { IndexedDbClientDb } = (globalThis as PageGlobals).conclave!;
      const text = (v: Uint8Array | undefined) => (v ? new TextDecoder().decode(v) : undefined);
      const db = await IndexedDbClientDb.open("basic");
      await db.write([{ type: "put", key: "a", value: new TextEncoder().encode("1") }]);
      const a = text(await db.get("a"));
      const b = await db.get("b");
      await db.write([{ type: "put", key: "k", value: Uint8Array.of(1, 2, 3) }]);
      const v = (await db.get("k"))!;
      v[0] = 9;
      const k = [...(await db.get("k"))!];
      await db.write([{ type: "del", key: "a" }]);
      const afterDelete = await db.get("a");
      await db.close();
      return { a, b: b === undefined, k, afterDelete: afterDelete === undefined };
    });
    expect(r).toEqual({ a: "1", b: true, k: [1, 2, 3], afterDelete: true });
  });

  it("scans a key range in ascending order, end excluded, and by prefix", async () => {
    const keys = ["note/21/bb", "note/20/ff", "note/20/aa", "notf", "note/", "op/1"];
    const r = await page.evaluate(async (keys) => {
      const { IndexedDbClientDb, scanPrefix } = (globalThis as PageGlobals).conclave!;
      const db = await IndexedDbClientDb.open("range");
      await db.write(keys.map((key) => ({ type: "put", key, value: new TextEncoder().encode(key) })));
      const range = (await db.range("note/20/", "note/21/")).map(([k]) => k);
      const prefix = (await scanPrefix(db, "note/")).map(([k, v]) => `${k}=${new TextDecoder().decode(v)}`);
      const all = (await scanPrefix(db, "")).map(([k]) => k);
      await db.close();
      return { range, prefix, all };
    }, keys);
    expect(r.range).toEqual(["note/20/aa", "note/20/ff"]);
    expect(r.prefix).toEqual([
      "note/=note/",
      "note/20/aa=note/20/aa",
      "note/20/ff=note/20/ff",
      "note/21/bb=note/21/bb",
    ]);
    expect(r.all).toEqual([...keys].sort());
  });

  it("applies a write batch as a whole: puts and deletes together, and nothing of a failing batch", async () => {
    const r = await page.evaluate(async () => {
      const { IndexedDbClientDb, scanPrefix } = (globalThis as PageGlobals).conclave!;
      const enc = (s: string) => new TextEncoder().encode(s);
      const dump = async () =>
        (await scanPrefix(db, "")).map(([k, v]) => `${k}=${new TextDecoder().decode(v)}`);
      const db = await IndexedDbClientDb.open("batch");
      await db.write([
        { type: "put", key: "x", value: enc("old") },
        { type: "put", key: "y", value: enc("y") },
      ]);
      await db.write([
        { type: "del", key: "x" },
        { type: "put", key: "z", value: enc("z") },
        { type: "put", key: "y", value: enc("y2") },
      ]);
      const together = await dump();
      // A value whose buffer was transferred away (e.g. posted to a worker) cannot be stored: the
      // batch fails at its third op, after two ops were already handed to IndexedDB.
      const detached = enc("gone");
      structuredClone(detached.buffer, { transfer: [detached.buffer] });
      let error = "";
      try {
        await db.write([
          { type: "del", key: "y" },
          { type: "put", key: "w", value: enc("w") },
          { type: "put", key: "v", value: detached },
        ]);
      } catch (e) {
        error = e instanceof Error ? e.name : String(e);
      }
      const afterFailure = await dump();
      // The database still takes writes after a failed batch.
      await db.write([{ type: "put", key: "after", value: enc("1") }]);
      const later = await dump();
      await db.close();
      return { together, error, afterFailure, later };
    });
    expect(r.together).toEqual(["y=y2", "z=z"]);
    expect(r.error).toBe("TypeError");
    expect(r.afterFailure).toEqual(["y=y2", "z=z"]);
    expect(r.later).toEqual(["after=1", "y=y2", "z=z"]);
  });

  it("keeps every acknowledged write across close and reopen, a page reload and a browser restart", async () => {
    const written = await page.evaluate(async () => {
      const { IndexedDbClientDb } = (globalThis as PageGlobals).conclave!;
      const enc = (s: string) => new TextEncoder().encode(s);
      const db = await IndexedDbClientDb.open("durable");
      await db.write(
        Array.from({ length: 500 }, (_, i) => ({
          type: "put" as const,
          key: `note/${String(i).padStart(4, "0")}`,
          value: enc(`v${i}`),
        })),
      );
      await db.write([
        { type: "del", key: "note/0007" },
        { type: "put", key: "counter", value: enc("500") },
      ]);
      await db.close();
      const refusals: string[] = [];
      const calls = [
        () => db.get("counter"),
        () => db.range("", "~"),
        () => db.write([{ type: "del", key: "counter" }]),
      ];
      for (const call of calls) {
        let p: Promise<unknown>;
        try {
          p = call();
        } catch {
          refusals.push("threw instead of rejecting");
          continue;
        }
        await p.then(
          () => refusals.push("resolved"),
          (e: unknown) => refusals.push(e instanceof Error ? e.name : String(e)),
        );
      }
      return refusals;
    });
    // A closed database refuses further use with a rejected promise (it does not reopen itself).
    expect(written).toEqual(["InvalidStateError", "InvalidStateError", "InvalidStateError"]);

    const readBack = () =>
      page.evaluate(async () => {
        const { IndexedDbClientDb, scanPrefix } = (globalThis as PageGlobals).conclave!;
        const db = await IndexedDbClientDb.open("durable");
        const counter = await db.get("counter");
        const result = {
          counter: counter && new TextDecoder().decode(counter),
          deleted: (await db.get("note/0007")) === undefined,
          notes: (await scanPrefix(db, "note/")).length,
          last: new TextDecoder().decode(await db.get("note/0499")),
        };
        await db.close();
        return result;
      });
    const expected = { counter: "500", deleted: true, notes: 499, last: "v499" };
    expect(await readBack()).toEqual(expected); // same page, reopened database
    await loadPage();
    expect(await readBack()).toEqual(expected); // after a reload
    await context!.close();
    context = undefined;
    await launchBrowser();
    expect(await readBack()).toEqual(expected); // after a browser restart on the same profile
  });

  it("keeps two databases by name apart", async () => {
    const r = await page.evaluate(async () => {
      const { IndexedDbClientDb, scanPrefix } = (globalThis as PageGlobals).conclave!;
      const enc = (s: string) => new TextEncoder().encode(s);
      const dump = async (db: WalletLib.ClientDb) =>
        (await scanPrefix(db, "")).map(([k, v]) => `${k}=${new TextDecoder().decode(v)}`);
      const a = await IndexedDbClientDb.open("wallet-a");
      const b = await IndexedDbClientDb.open("wallet-b");
      await a.write([
        { type: "put", key: "k", value: enc("a") },
        { type: "put", key: "only-a", value: enc("1") },
      ]);
      await b.write([{ type: "put", key: "k", value: enc("b") }]);
      await b.write([{ type: "del", key: "only-a" }]);
      const result = { a: await dump(a), b: await dump(b) };
      await a.close();
      await b.close();
      return result;
    });
    expect(r).toEqual({ a: ["k=a", "only-a=1"], b: ["k=b"] });
  });
});

describe("browserWallets() in Chromium against four real guardians", () => {
  let invite: string;
  let firstSpend: string;

  beforeAll(async () => {
    invite = await federation!;
  });

  it("joins, takes faucet money and spends it to a note string that a Node wallet reissues", async () => {
    const r = await page.evaluate(
      async ({ invite, faucet, spend }) => {
        const g = globalThis as PageGlobals;
        const { wallet } = await g
          .conclave!.browserWallets({ awaitTimeoutMs: 30_000 })
          .joinWallet("alice", invite);
        g.wallet = wallet;
        const funded = await wallet.devFaucet(faucet);
        const spent = await wallet.spend(spend);
        const info = await wallet.info();
        return { funded, spent, info };
      },
      { invite, faucet: 100n * U, spend: 36n * U },
    );
    expect(r.funded).toMatchObject({ amount: 100n * U, fee: 0n, notesIssued: 3 }); // 64 + 32 + 4
    expect(r.spent.amount).toBe(36n * U); // 32 + 4: exact, no change needed
    expect(r.info.balance).toBe(64n * U);
    expect(r.info.outgoing.map((o) => o.id)).toEqual([r.spent.id]);
    expect(r.info.pendingOperations).toBe(0);
    firstSpend = r.spent.notes;

    const { wallet: bob } = await nodeWallets({ awaitTimeoutMs: 30_000 }).joinWallet(
      join(tmp, "bob"),
      invite,
    );
    nodeOpen.push(bob);
    const received = await bob.reissue(firstSpend);
    expect(received).toMatchObject({ amount: 34n * U, fee: 2n * U }); // two notes, one U each
    expect((await bob.info()).balance).toBe(34n * U);
  });

  it("receives notes a Node wallet spent, and validates online which notes are spent", async () => {
    const bob = nodeOpen[0]!;
    const fromBob = await bob.spend(2n * U);
    const r = await page.evaluate(
      async ({ fromBob, firstSpend }) => {
        const wallet = (globalThis as PageGlobals).wallet!;
        const before = await wallet.validate(fromBob, { online: true });
        const received = await wallet.reissue(fromBob);
        const after = await wallet.validate(fromBob, { online: true });
        const own = await wallet.validate(firstSpend, { online: true });
        const info = await wallet.info();
        return { before, received, after, own, balance: info.balance };
      },
      { fromBob: fromBob.notes, firstSpend },
    );
    expect(r.before.amount).toBe(2n * U);
    expect(r.before.notes.map((n) => n.valid)).toEqual([true]);
    expect(r.before.spent).toEqual([false]);
    expect(r.received).toMatchObject({ amount: U, fee: U, notesIssued: 1 });
    expect(r.after.spent).toEqual([true]);
    // The page's own spend, which the Node wallet redeemed: both notes valid and spent.
    expect(r.own.amount).toBe(36n * U);
    expect(r.own.notes.map((n) => n.valid)).toEqual([true, true]);
    expect(r.own.spent).toEqual([true, true]);
    expect(r.balance).toBe(65n * U);
    expect((await bob.info()).balance).toBe(32n * U);
  });

  it("finds the same wallet and balance in IndexedDB after a page reload", async () => {
    await loadPage();
    const r = await page.evaluate(async () => {
      const g = globalThis as PageGlobals;
      const wallet = await g.conclave!.browserWallets().openWallet("alice");
      const info = await wallet.info();
      await wallet.close();
      return info;
    });
    expect(r.balance).toBe(65n * U);
    expect(r.notes.map((h) => [h.denominationLog2, h.count])).toEqual([
      [20, 1],
      [26, 1],
    ]);
    expect(r.pendingOperations).toBe(0);
    expect(pageErrors).toEqual([]);
  });
});
