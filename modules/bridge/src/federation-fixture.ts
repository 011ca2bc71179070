// Test fixture (not shipped): N guardians' processors in memory, each with its own database and its
// own bridge module (the real module code, with its own EVM key), all processing the same ordered
// blocks, as the monero module's server.test.ts does. `round()` plays consensus: every guardian's
// proposal (or what a test says a Byzantine guardian proposes) goes into one block that all process.
// `anvilFederation()`: the same federation, each guardian's watcher reading a real anvil (stopped by
// PID in `stop()`) with the WrappedMonero contract deployed for its set.
import { randomBytes } from "node:crypto";
import { encodeConsensusItem, quorumThreshold } from "@conclave/core-common";
import type { Transaction } from "@conclave/core-common";
import { FederationProcessor, MemoryKv, NodeVerifier, sha256 } from "@conclave/core-server";
import type { BlockOutcome, ReadTx } from "@conclave/core-server";
import { toHex } from "@conclave/core-common";
import {
  commitPolynomial,
  encodeG2,
  evaluatePolynomial,
  publicKeyShare,
  randomPolynomial,
} from "@conclave/core-common/threshold";
import { DummyServerModule } from "@conclave/module-dummy";
import { mintModuleFactory, mintModuleSetup, parseMintConfig } from "@conclave/module-mint";
import type { MintConfig, MintServerModule } from "@conclave/module-mint";
import {
  MoneroServerModule,
  PayoutStore,
  encodeMoneroItem,
  parseMoneroConfig,
} from "@conclave/module-monero";
import type { MoneroConfig } from "@conclave/module-monero";
import { encodeAddress } from "@conclave/monero";
import { ed25519 } from "@noble/curves/ed25519.js";
import { expect } from "vitest";
import { deployWrappedMonero, startAnvil } from "@conclave/evm";
import type { Anvil, WxmrLimits } from "@conclave/evm";
import type { MintSignatureView } from "./api.js";
import { parseBridgeConfig } from "./common.js";
import type { BridgeConfig, EvmAddress } from "./common.js";
import { asHex, collectMintSignatures, evmAddressOfKey } from "./eip712-mint.js";
import type { MintMessage } from "./eip712-mint.js";
import { BridgeServerModule } from "./server.js";
import { ViemEvmSource } from "./watcher.js";
import type { EvmSource } from "./watcher.js";

export const DUMMY = 0;
export const MINT = 1;
export const MONERO = 2;
export const BRIDGE = 3;

/** The fixture federation's Monero address (its multisig wallet's, in a real federation). */
export const FEDERATION_MONERO_ADDRESS = encodeAddress({
  network: "mainnet",
  kind: "standard",
  publicSpendKey: ed25519.getPublicKey(new Uint8Array(32).fill(0x51)),
  publicViewKey: ed25519.getPublicKey(new Uint8Array(32).fill(0x52)),
});

/** The fixture's monero module (payouts of burns): minimum 1,000 piconero, fee floor 100. */
export function testMoneroConfig(n: number, over: Partial<Record<string, unknown>> = {}): MoneroConfig {
  return parseMoneroConfig({
    network: "mainnet",
    address: FEDERATION_MONERO_ADDRESS,
    guardians: n,
    payoutMinPiconero: "1000",
    payoutFeeBytes: 3000,
    payoutFeeMinPiconero: "100",
    ...over,
  });
}
/** The e-cash denominations of the fixture's mint: 2^38..2^41 piconero (0.27 to 2.2 XMR). */
export const MINT_DENOMINATIONS = [38, 39, 40, 41];

/**
 * The fixture's mint keys from a trusted dealer (a test stands in for the DKG, as the mint's own
 * server.test.ts does): one degree t-1 polynomial per denomination.
 */
function dealtMint(
  n: number,
  t: number,
): { config: MintConfig; raw: Record<string, unknown>; shares: (g: number) => bigint[] } {
  const rng = (k: number): Uint8Array => new Uint8Array(randomBytes(k));
  const polys = MINT_DENOMINATIONS.map(() => randomPolynomial(t, rng));
  const keys = polys.map((poly) => {
    const commitments = commitPolynomial(poly);
    return {
      publicKey: toHex(encodeG2(commitments[0]!)),
      publicKeyShares: Array.from({ length: n }, (_, i) => toHex(encodeG2(publicKeyShare(commitments, i)))),
    };
  });
  const raw = mintModuleSetup.finish(
    { denominationsLog2: MINT_DENOMINATIONS, feePerInput: "0", notesPerTxMax: 8 },
    keys,
  );
  return {
    config: parseMintConfig(raw),
    raw,
    shares: (g) => polys.map((poly) => evaluatePolynomial(poly, g)),
  };
}
export const FEDERATION_ID = new Uint8Array(32).fill(0xfe);

/** Guardian i's EVM key: fixed test bytes. */
export const evmKeyOf = (i: number): Uint8Array => new Uint8Array(32).fill(0x21 + i);

export function testConfig(n: number, over: Partial<Record<string, unknown>> = {}): BridgeConfig {
  const guardians: EvmAddress[] = Array.from({ length: n }, (_, i) => evmAddressOfKey(evmKeyOf(i)));
  return parseBridgeConfig({
    chainId: 31337,
    contract: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    guardians,
    threshold: quorumThreshold(n),
    confirmations: 3,
    mintDeadlineSeconds: 3600,
    moneroNetwork: "mainnet",
    // The tests here build their transactions by hand, input = output; the refundable mint's fee
    // (the config's default otherwise) is tested with it set: expiry-attacks.test.ts.
    refundableMintFeePiconero: "0",
    ...over,
  });
}

export interface FixtureGuardian {
  readonly db: MemoryKv;
  readonly p: FederationProcessor;
  readonly bridge: BridgeServerModule;
  readonly mint: MintServerModule;
  readonly monero: MoneroServerModule;
  readonly logs: { event: string; fields: Record<string, unknown> }[];
  /** Reasons the module asked the guardian to halt for. */
  readonly halts: string[];
}

export function federation(
  config: BridgeConfig,
  options: { sources?: (i: number) => EvmSource | undefined; monero?: MoneroConfig } = {},
) {
  const n = config.guardians.length;
  const mint = dealtMint(n, config.threshold);
  const guardians: FixtureGuardian[] = Array.from({ length: n }, (_, i) => {
    const source = options.sources?.(i);
    const bridge = new BridgeServerModule(BRIDGE, config, {
      evmKey: evmKeyOf(i),
      ...(source ? { source } : {}),
      pollMs: 1000,
      autoPoll: false,
    });
    const dummy = new DummyServerModule(DUMMY, { faucetAmountMax: 10n ** 15n, feePerInput: 0n });
    const notes = mintModuleFactory(MINT, mint.raw, mint.shares(i));
    const monero = new MoneroServerModule(MONERO, options.monero ?? testMoneroConfig(n));
    const p = new FederationProcessor([dummy, notes, monero, bridge], {
      verifier: new NodeVerifier(),
      hash: sha256,
    });
    const logs: FixtureGuardian["logs"] = [];
    const halts: string[] = [];
    const db = new MemoryKv();
    bridge.start({
      log: (event, fields) => logs.push({ event, fields }),
      wake: () => {},
      self: i,
      federationId: FEDERATION_ID,
      halt: (reason) => halts.push(reason),
      readState: () => p.moduleReadDb(db, BRIDGE),
    });
    return { db, p, bridge, mint: notes, monero, logs, halts };
  });
  let height = 0;

  /** One block: module items from their proposers and transactions (from guardian 0). */
  const block = (
    items: readonly { from: number; payload: Uint8Array; module?: number }[],
    txs: Transaction[] = [],
  ): BlockOutcome => {
    const bundles = Array.from({ length: n }, (_, origin) => ({
      origin,
      items: items
        .filter((i) => i.from === origin)
        .map((i) => encodeConsensusItem({ kind: "module", module: i.module ?? BRIDGE, payload: i.payload })),
    }));
    bundles[0]!.items.push(...txs.map((tx) => encodeConsensusItem({ kind: "transaction", tx })));
    const results = guardians.map((g) => g.p.processBlock(g.db, height, bundles));
    height++;
    // As the guardian does after each commit (guardian.ts deliverEvents): watches re-read.
    for (const g of guardians) g.bridge.committed();
    for (const r of results) expect(r.auditFailure).toBeUndefined();
    for (const r of results.slice(1)) {
      expect(r.events.map((e) => `${e.txid}:${e.status.state}`)).toEqual(
        results[0]!.events.map((e) => `${e.txid}:${e.status.state}`),
      );
      expect(r.moduleItemErrors).toBe(results[0]!.moduleItemErrors);
    }
    return results[0]!;
  };

  const mdb = (i = 0): ReadTx => guardians[i]!.p.moduleReadDb(guardians[i]!.db, BRIDGE);
  const moneroDb = (i = 0): ReadTx => guardians[i]!.p.moduleReadDb(guardians[i]!.db, MONERO);

  /** Every guardian reports Monero fee rate `perByte` (piconero per byte): the monero module agrees it. */
  const agreeFeeRate = (perByte: number): BlockOutcome =>
    block(
      guardians.map((_, from) => ({
        from,
        module: MONERO,
        payload: encodeMoneroItem({ kind: "fee_rate", perByte }),
      })),
    );

  /**
   * A consensus round: each guardian's own proposal (guardians in `silent` propose nothing,
   * `extra` adds what a test makes a guardian propose), in one block.
   */
  const round = (
    options: {
      silent?: readonly number[];
      extra?: { from: number; payload: Uint8Array }[];
      txs?: Transaction[];
    } = {},
  ): BlockOutcome => {
    const items: { from: number; payload: Uint8Array }[] = [];
    guardians.forEach((g, i) => {
      if (options.silent?.includes(i)) return;
      for (const payload of g.bridge.consensusProposal(mdb(i))) items.push({ from: i, payload });
    });
    items.push(...(options.extra ?? []));
    return block(items, options.txs ?? []);
  };

  /** The federation's audit, the same at every guardian. */
  const audit = () => {
    const all = guardians.map((g) => g.p.audit(g.db));
    for (const a of all.slice(1)) expect(a).toEqual(all[0]);
    return all[0]!;
  };

  return { guardians, block, round, mdb, moneroDb, agreeFeeRate, audit, n, mintConfig: mint.config };
}

export type Federation = ReturnType<typeof federation>;

/** The federation's audit in figures (the same at every guardian): totals and the bridge's and monero's own. */
export function auditFigures(fed: Federation) {
  const a = fed.audit();
  const of = (id: number) => a.modules.find((m) => m.instanceId === id)!.audit;
  return { assets: a.assets, liabilities: a.liabilities, bridge: of(BRIDGE), monero: of(MONERO) };
}

/** The monero module's payout counters and records, checked to be the same at every guardian. */
export function moneroPayouts(fed: Federation) {
  const all = fed.guardians.map((_, g) => {
    const store = new PayoutStore(fed.moneroDb(g));
    const c = store.counters();
    return {
      counters: c,
      records: Array.from({ length: c.nextSeq }, (_, s) => store.payout(s)!),
    };
  });
  for (const p of all.slice(1)) expect(p).toEqual(all[0]);
  return all[0]!;
}
export type RoundOptions = Parameters<Federation["round"]>[0];

/** A signed Mint as a client holds it: the message and t signatures sorted by signer. */
export interface SignedMint {
  readonly message: MintMessage;
  readonly signatures: `0x${string}`[];
}

export interface AnvilFederation {
  readonly anvil: Anvil;
  readonly config: BridgeConfig;
  readonly f: Federation;
  /** Every guardian's watcher polls anvil, then a consensus round; `rounds` times. */
  settle(rounds?: number, options?: RoundOptions): Promise<void>;
  /** The chain's latest block timestamp. */
  blockTime(): Promise<bigint>;
  /** What a client does with every guardian's view of one mint: the message t agree on, t good signatures. */
  collect(views: readonly MintSignatureView[]): Promise<SignedMint>;
  stop(): Promise<void>;
}

/**
 * N guardians (t = n − f, confirmations 3, deadline 3,600 s) in memory, each watcher on its own
 * ViemEvmSource to one anvil with the contract deployed for their set (`limits`: the contract's,
 * DEV_LIMITS by default); 5 blocks mined and 3 rounds played, so the EVM time is agreed.
 */
export async function anvilFederation(
  options: { n?: number; limits?: WxmrLimits } = {},
): Promise<AnvilFederation> {
  const n = options.n ?? 4;
  const anvil = await startAnvil({ accounts: 3 });
  try {
    const guardians = testConfig(n).guardians;
    const deployed = await deployWrappedMonero(anvil, {
      guardians,
      threshold: quorumThreshold(n),
      ...(options.limits ? { limits: options.limits } : {}),
    });
    const config = testConfig(n, { contract: deployed.address, chainId: anvil.chain.id, confirmations: 3 });
    const f = federation(config, { sources: () => new ViemEvmSource(anvil.rpcUrl, config.contract, 5_000) });
    const settle = async (rounds = 3, round: RoundOptions = {}): Promise<void> => {
      for (let i = 0; i < rounds; i++) {
        await Promise.all(f.guardians.map((g) => g.bridge.burnWatcher!.poll()));
        f.round(round);
      }
    };
    await anvil.testClient.mine({ blocks: 5 });
    await settle();
    return {
      anvil,
      config,
      f,
      settle,
      blockTime: async () => (await anvil.publicClient.getBlock()).timestamp,
      collect: async (views) => {
        const v = views[0]!;
        const message: MintMessage = {
          recipient: asHex(v.recipient),
          amount: BigInt(v.amount),
          depositId: asHex(v.depositId),
          deadline: BigInt(v.deadline),
          setIndex: v.setIndex,
        };
        const collected = await collectMintSignatures(
          { chainId: config.chainId, contract: config.contract },
          message,
          config.guardians,
          config.threshold,
          views.flatMap((x) =>
            x.signature === undefined ? [] : [{ guardian: x.guardian, signature: x.signature }],
          ),
        );
        return { message, signatures: collected.signatures };
      },
      stop: () => anvil.stop(),
    };
  } catch (e) {
    await anvil.stop();
    throw e;
  }
}
