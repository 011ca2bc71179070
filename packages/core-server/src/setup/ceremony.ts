// The key ceremony: guardians that have exchanged setup codes out of band set up a federation
// with no trusted dealer.
//
//   1. Every code is checked (format, same software version, no duplicate key or name) and the
//      setup id is computed from all codes and the federation parameters. The links between the
//      guardians use the setup id as their federation id, so a guardian with other codes or other
//      parameters cannot even connect: peers are checked BEFORE any key is made.
//   2. Once every peer is connected, the DKG (packages/core-common/src/threshold/dkg.ts) runs over
//      the links: the federation's threshold key plus the keys modules ask for.
//   3. Once the DKG has succeeded, modules whose setup needs rounds of messages among the guardians'
//      own external systems (a Monero multisig wallet each) run them over the same links
//      (exchange.ts); every guardian must reach the same result, which enters the module's config.
//      They run after the DKG, not beside it: their external steps cannot be undone (a wallet that
//      ran make_multisig is spent), so they start only once every peer has proved it is the peer it
//      claims and runs a working ceremony; the DKG takes seconds, the ceremony is run by people.
//   4. Each guardian writes the federation config (identical everywhere: a function of the codes,
//      the parameters, the DKG's agreed transcript and the exchanges' agreed results) and its secret
//      file, and stays until every peer has reported it finished, so a peer restarted late can
//      still complete.
//
// A guardian restarted in the middle resumes from its DKG snapshot and its exchange record (both
// persisted before each send) and gets the messages it missed when its links reconnect.
import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { canonicalJson, fromHex, toHex, utf8 } from "@conclave/core-common";
import type { FederationConfig, SetupCode } from "@conclave/core-common";
import { Dkg, encodeDkgMessage, quorumThreshold } from "@conclave/core-common/threshold";
import type { DkgOutput, DkgResult } from "@conclave/core-common/threshold";
import { ed25519PublicKeyOf, sha256 } from "../node-crypto.js";
import { PeerLinks } from "../p2p/index.js";
import { CeremonyExchanges, FRAME_EXCHANGE, FRAME_EXCHANGE_RESULT } from "./exchange.js";
import type { ExchangeParticipant, ModuleExchange } from "./exchange.js";

export const SOFTWARE_VERSION = "0.1.0";
const FRAME_DKG = 1;
const FRAME_DONE = 2;

export interface CeremonyParams {
  readonly federationName: string;
  readonly environment: "production" | "dev";
  readonly heightsPerSession: number;
  readonly modules: FederationConfig["modules"];
}

/**
 * A module's part in the ceremony: how many threshold keys it needs from the DKG (e.g. one per
 * e-cash denomination), and how their public halves enter its config. The secret shares go to the
 * guardian's secret file (`moduleShares`), never into the config.
 */
export interface ModuleSetup {
  keyCount(config: Record<string, unknown>): number;
  /** `config` includes the exchange's result when the module has an exchange. */
  finish(
    config: Record<string, unknown>,
    keys: readonly { publicKey: string; publicKeyShares: readonly string[] }[],
  ): Record<string, unknown>;
  /** Rounds of messages among the guardians' own external systems (exchange.ts), after the DKG. */
  readonly exchange?: ModuleExchange;
}

/** This guardian's own settings per module instance: the format of guardian.local.json. */
export interface CeremonyLocal {
  readonly modules: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/** The DKG makes key 0 for the federation, then each module's keys in module order. */
export function moduleKeyRanges(
  modules: CeremonyParams["modules"],
  setups: Readonly<Record<string, ModuleSetup>>,
): { instanceId: number; first: number; count: number }[] {
  let next = 1;
  return modules.map((m) => {
    const count = setups[m.kind]?.keyCount(m.config) ?? 0;
    const range = { instanceId: m.instanceId, first: next, count };
    next += count;
    return range;
  });
}

export interface CeremonyOptions {
  readonly dataDir: string;
  readonly secretSeed: Uint8Array;
  /** Setup steps of the module kinds this guardian knows (kinds without one need no keys). */
  readonly moduleSetups?: Readonly<Record<string, ModuleSetup>>;
  /** Every guardian's setup code, this guardian's own included. */
  readonly codes: readonly SetupCode[];
  readonly params: CeremonyParams;
  readonly log?: (event: string, fields: Record<string, unknown>) => void;
  /** Give up waiting for peers after this long. */
  readonly timeoutMs?: number;
  /** This guardian's own settings for the modules' exchanges (e.g. its Monero wallet-rpc). */
  readonly local?: CeremonyLocal;
  /** Stops the ceremony (rejects with CeremonyError); what was recorded stays, for a later resume. */
  readonly signal?: AbortSignal;
}

export interface GuardianSecret {
  readonly secretSeed: string;
  /** This guardian's share of the federation threshold key (scalar, hex). */
  readonly thresholdShare: string;
  /** Per module instance id, this guardian's secret shares of the module's keys (hex scalars). */
  readonly moduleShares: Readonly<Record<string, readonly string[]>>;
}

export interface CeremonyResult {
  readonly config: FederationConfig;
  readonly secret: GuardianSecret;
  readonly self: number;
}

export class CeremonyError extends Error {
  override readonly name = "CeremonyError";
}

/** Sorted by public key: every guardian derives the same indices from the same set of codes. */
export function orderCodes(codes: readonly SetupCode[]): SetupCode[] {
  const sorted = [...codes].sort((a, b) =>
    a.publicKey < b.publicKey ? -1 : a.publicKey > b.publicKey ? 1 : 0,
  );
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.publicKey === sorted[i - 1]!.publicKey)
      throw new CeremonyError(`two setup codes share the key of "${sorted[i]!.name}"`);
  }
  const names = new Set(sorted.map((c) => c.name));
  if (names.size !== sorted.length) throw new CeremonyError("two setup codes share a guardian name");
  for (const c of sorted) {
    if (c.software !== SOFTWARE_VERSION) {
      throw new CeremonyError(
        `guardian "${c.name}" runs software ${c.software}, this guardian ${SOFTWARE_VERSION}: all must match`,
      );
    }
  }
  return sorted;
}

export function setupId(codes: readonly SetupCode[], params: CeremonyParams): Uint8Array {
  return sha256(utf8.encode(`conclave/setup/v1|${canonicalJson({ codes: orderCodes(codes), params })}`));
}

function writeFileDurably(path: string, text: string, mode: number): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, "w", mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export function ceremonyFiles(dataDir: string): {
  config: string;
  secret: string;
  snapshot: string;
  exchange: string;
} {
  return {
    config: join(dataDir, "federation.json"),
    secret: join(dataDir, "guardian.secret.json"),
    snapshot: join(dataDir, "ceremony-dkg.json"),
    exchange: join(dataDir, "ceremony-exchange.json"),
  };
}

const scalarHex = (x: bigint): string => x.toString(16).padStart(64, "0");

export function buildFederationConfig(
  codes: readonly SetupCode[],
  params: CeremonyParams,
  dkg: DkgResult,
  setups: Readonly<Record<string, ModuleSetup>> = {},
  exchangeResults: ReadonlyMap<number, Record<string, unknown>> = new Map(),
): FederationConfig {
  const key = dkg.keys[0]!;
  const ranges = moduleKeyRanges(params.modules, setups);
  return {
    version: 1,
    name: params.federationName,
    environment: params.environment,
    guardians: orderCodes(codes).map((c) => ({
      name: c.name,
      publicKey: c.publicKey,
      p2p: c.p2p,
      api: { url: c.api },
    })),
    consensus: { heightsPerSession: params.heightsPerSession },
    modules: params.modules.map((m, i) => {
      const setup = setups[m.kind];
      const r = ranges[i]!;
      if (!setup) return m;
      const keys = dkg.keys.slice(r.first, r.first + r.count).map((k) => ({
        publicKey: toHex(k.publicKey),
        publicKeyShares: k.publicKeyShares.map(toHex),
      }));
      const patch = exchangeResults.get(m.instanceId);
      return { ...m, config: setup.finish(patch ? { ...m.config, ...patch } : m.config, keys) };
    }),
    threshold: { publicKey: toHex(key.publicKey), publicKeyShares: key.publicKeyShares.map(toHex) },
  };
}

function exchangeParticipants(
  modules: CeremonyParams["modules"],
  setups: Readonly<Record<string, ModuleSetup>>,
): ExchangeParticipant[] {
  return modules.flatMap((m) => {
    const exchange = setups[m.kind]?.exchange;
    return exchange ? [{ instanceId: m.instanceId, kind: m.kind, config: m.config, exchange }] : [];
  });
}

/** Runs (or resumes) the ceremony; resolves once the files are written and every peer finished. */
export async function runCeremony(options: CeremonyOptions): Promise<CeremonyResult> {
  const log = options.log ?? (() => {});
  const files = ceremonyFiles(options.dataDir);
  mkdirSync(options.dataDir, { recursive: true });
  const codes = orderCodes(options.codes);
  const n = codes.length;
  const setups = options.moduleSetups ?? {};
  const ownKey = toHex(ed25519PublicKeyOf(options.secretSeed));
  const self = codes.findIndex((c) => c.publicKey === ownKey);
  if (self < 0) throw new CeremonyError("this guardian's own setup code is not among the codes given");
  const id = setupId(codes, options.params);

  const snapshotText = existsSync(files.snapshot) ? readFileSync(files.snapshot, "utf8") : undefined;
  if (!snapshotText && existsSync(files.config) && existsSync(files.secret)) {
    // Finished earlier, and every peer confirmed (the snapshot is deleted only then).
    const config = JSON.parse(readFileSync(files.config, "utf8")) as FederationConfig;
    const secret = JSON.parse(readFileSync(files.secret, "utf8")) as GuardianSecret;
    rmSync(files.exchange, { force: true });
    log("ceremony.already-finished", { self });
    return { config, secret, self };
  }
  const dkg = snapshotText
    ? Dkg.restore(JSON.parse(snapshotText), (k) => new Uint8Array(randomBytes(k)))
    : new Dkg({
        n,
        t: quorumThreshold(n),
        self,
        keyCount: 1 + moduleKeyRanges(options.params.modules, setups).reduce((a, r) => a + r.count, 0),
        rng: (k) => new Uint8Array(randomBytes(k)),
      });
  log("ceremony.start", { self, guardians: n, setupId: toHex(id), resumed: snapshotText !== undefined });

  const links = new PeerLinks({
    selfIndex: self,
    secretSeed: options.secretSeed,
    federationId: id,
    peers: codes.map((c, index) => ({
      index,
      publicKey: fromHex(c.publicKey),
      host: c.p2p.host,
      port: c.p2p.port,
    })),
    log,
  });
  const doneFrom = new Set<number>();
  let result: DkgResult | undefined;
  let finished: (() => void) | undefined;
  let failed: ((e: Error) => void) | undefined;
  const completion = new Promise<void>((resolve, reject) => {
    finished = resolve;
    failed = reject;
  });

  const exchanges = new CeremonyExchanges(
    {
      statePath: files.exchange,
      self,
      threshold: quorumThreshold(n),
      names: codes.map((c) => c.name),
      local: options.local?.modules ?? {},
      send: (to, bytes) => (to === "all" ? links.broadcast(bytes) : void links.send(to, bytes)),
      persist: (path, text) => writeFileDurably(path, text, 0o600),
      fail: (message) => failed?.(new CeremonyError(`key ceremony failed: ${message}`)),
      settled: () => {
        if (dkgDone) finish(dkgDone);
      },
      log,
    },
    exchangeParticipants(options.params.modules, setups),
  );
  let dkgDone: DkgResult | undefined;

  const writeResult = (r: DkgResult): void => {
    const config = buildFederationConfig(
      codes,
      options.params,
      r,
      setups,
      exchanges.empty ? new Map() : exchanges.results(),
    );
    const moduleShares: Record<string, string[]> = {};
    for (const range of moduleKeyRanges(options.params.modules, setups)) {
      if (range.count === 0) continue;
      moduleShares[String(range.instanceId)] = r.keys
        .slice(range.first, range.first + range.count)
        .map((k) => scalarHex(k.secretShare));
    }
    const secret: GuardianSecret = {
      secretSeed: toHex(options.secretSeed),
      thresholdShare: scalarHex(r.keys[0]!.secretShare),
      moduleShares,
    };
    writeFileDurably(files.secret, JSON.stringify(secret), 0o600);
    writeFileDurably(files.config, JSON.stringify(config, null, 2), 0o644);
  };
  const frame = (type: number, body: Uint8Array): Uint8Array => {
    const out = new Uint8Array(body.length + 1);
    out[0] = type;
    out.set(body, 1);
    return out;
  };
  const handle = (out: DkgOutput, onlyTo?: number): void => {
    // Persist before sending: a restart must re-send exactly these messages, not new random ones.
    writeFileDurably(files.snapshot, JSON.stringify(dkg.snapshot()), 0o600);
    for (const s of out.send) {
      const bytes = frame(FRAME_DKG, encodeDkgMessage(s.message));
      if (s.to === "all") {
        if (onlyTo === undefined) links.broadcast(bytes);
        else links.send(onlyTo, bytes);
      } else if (onlyTo === undefined || s.to === onlyTo) {
        links.send(s.to, bytes);
      }
    }
    if (out.failed) {
      failed?.(
        new CeremonyError(
          `key ceremony failed (${out.failed.code}): ${out.failed.message}; suspects: ${out.failed.guardians.join(", ")}`,
        ),
      );
    } else if (out.done && !dkgDone) {
      dkgDone = out.done;
      log("ceremony.dkg-done", { qualified: out.done.qualified, transcript: toHex(out.done.transcript) });
      if (exchanges.empty) finish(out.done);
      else exchanges.begin(); // calls finish once every exchange has its agreed result
    }
  };
  const finish = (r: DkgResult): void => {
    if (result) return;
    result = r;
    writeResult(r);
    doneFrom.add(self);
    links.broadcast(frame(FRAME_DONE, new Uint8Array()));
    if (doneFrom.size === n) finished?.();
  };

  links.onFrame((peer, bytes) => {
    if (bytes.length === 0) return;
    if (bytes[0] === FRAME_DONE) {
      doneFrom.add(peer);
      if (result && doneFrom.size === n) finished?.();
      return;
    }
    if (bytes[0] === FRAME_EXCHANGE || bytes[0] === FRAME_EXCHANGE_RESULT) {
      exchanges.receive(peer, bytes);
      return;
    }
    if (bytes[0] !== FRAME_DKG) return;
    // Undecodable input becomes a typed failure naming the peer (the ceremony then aborts).
    handle(dkg.receiveBytes(peer, bytes.subarray(1)));
  });
  links.onPeerConnected((peer) => {
    // A peer that (re)connects may have lost what we sent: send it everything again.
    handle(dkg.start(), peer);
    exchanges.resendTo(peer);
    if (result) links.send(peer, frame(FRAME_DONE, new Uint8Array()));
  });

  const timeoutMs = options.timeoutMs ?? 10 * 60_000;
  const timer = setTimeout(() => {
    const missing = codes.map((c, i) => (i === self || doneFrom.has(i) ? undefined : c.name)).filter(Boolean);
    if (result) {
      // Our files are written; a peer never confirmed. Its operator will see its own failure.
      log("ceremony.unconfirmed", { missing });
      finished?.();
      return;
    }
    failed?.(
      new CeremonyError(`key ceremony timed out after ${timeoutMs} ms waiting for: ${missing.join(", ")}`),
    );
  }, timeoutMs);
  const onAbort = (): void => failed?.(new CeremonyError("key ceremony aborted"));
  options.signal?.addEventListener("abort", onAbort);
  try {
    if (options.signal?.aborted) throw new CeremonyError("key ceremony aborted");
    await links.start();
    handle(dkg.start());
    await completion;
  } finally {
    exchanges.stop();
    options.signal?.removeEventListener("abort", onAbort);
    clearTimeout(timer);
    await links.close();
  }
  if (!result) throw new CeremonyError("ceremony ended without a result (bug)");
  // Every peer has its result: the snapshot (it holds polynomial secrets) is no longer needed. It
  // goes first: while it exists a restart resumes, and needs the exchange record to do so.
  rmSync(files.snapshot, { force: true });
  rmSync(files.exchange, { force: true });
  const config = JSON.parse(readFileSync(files.config, "utf8")) as FederationConfig;
  const secret = JSON.parse(readFileSync(files.secret, "utf8")) as GuardianSecret;
  log("ceremony.finished", { self, federation: config.name });
  return { config, secret, self };
}
