// The simulated federation's modules: the real dummy and mint server modules, configured the way a
// dev federation's config would configure them, with the mint's threshold keys from a
// deterministic trusted dealer (one polynomial per denomination, from a fixed seed per federation
// size). The key ceremony (DKG) is tested on its own (core-common threshold/dkg.test.ts); a dealer
// gives the same shape of keys (t-of-n Shamir shares and their G2 commitments) at a fraction of the
// cost, and the mint never sees the difference.
import { Writer, fromHex, toHex, utf8 } from "@conclave/core-common";
import type { TbsBackend } from "@conclave/core-common/tbs";
import {
  commitPolynomial,
  encodeG2,
  evaluatePolynomial,
  quorumThreshold,
  publicKeyShare,
  randomPolynomial,
} from "@conclave/core-common/threshold";
import type { Rng } from "@conclave/core-common/threshold";
import { DummyServerModule } from "@conclave/module-dummy";
import type { TxInput, TxOutput } from "@conclave/core-common";
import type { InputMeta, ModuleResult, OutPoint, OutputMeta, WriteTx } from "@conclave/core-server";
import { MintServerModule, decodeMintInput, mintModuleSetup, parseMintConfig } from "@conclave/module-mint";
import type { MintConfig } from "@conclave/module-mint";
import { blstTbs, hashNoteBytes } from "@conclave/tbs-native";
import { sha256 } from "../consensus.js";

export const DUMMY_ID = 0;
export const MINT_ID = 1;
/** The monero module's instance id, when the simulation runs it (federation/monero.ts). */
export const MONERO_ID = 2;
/** The bridge module's instance id, when the simulation runs it (federation/bridge.ts). */
export const BRIDGE_ID = 3;
/** How often a guardian's bridge watcher polls its EVM node (the module's pollMs in the simulation). */
export const BRIDGE_POLL_MS = 1_000;
/** Denominations 2^0 .. 2^12 base units. */
export const DENOMINATIONS_LOG2: readonly number[] = Array.from({ length: 13 }, (_, i) => i);
export const MINT_FEE_PER_INPUT = 1n;
export const DUMMY_FEE_PER_INPUT = 2n;
/**
 * A refundable (0x02) wXMR mint's minimum and the fee it pays the federation (threat-model 12w), at
 * the sim's scale (its mints are 500..7,990 piconero; the module's defaults are 10⁹ and 10⁸).
 */
export const REFUNDABLE_MINT_MIN_SIM = 500n;
export const REFUNDABLE_MINT_FEE_SIM = 20n;
export const FAUCET_AMOUNT_MAX = 8_000n;
/** Notes one transaction may spend or issue; small enough that a transaction fits a simulator item. */
export const NOTES_PER_TX_MAX = 4;

/** sha256 in counter mode: the dealer's and the clients' reproducible randomness. */
export function seededBytes(label: string): Rng {
  let counter = 0;
  const prefix = utf8.encode(label);
  return (bytes: number) => {
    const out = new Uint8Array(bytes);
    for (let offset = 0; offset < bytes; offset += 32) {
      const block = sha256(new Writer().raw(prefix).u32(counter++).finish());
      out.set(block.subarray(0, Math.min(32, bytes - offset)), offset);
    }
    return out;
  };
}

export interface MintKeys {
  readonly threshold: number;
  readonly config: MintConfig;
  /** secretShares[g][i]: guardian g's share of denomination DENOMINATIONS_LOG2[i]'s key. */
  readonly secretShares: readonly (readonly bigint[])[];
}

const dealt = new Map<number, MintKeys>();

/** The dealer's keys for a federation of n (cached: the same for every seed at this size). */
export function mintKeys(n: number): MintKeys {
  let keys = dealt.get(n);
  if (keys !== undefined) return keys;
  const t = quorumThreshold(n);
  const rng = seededBytes(`sim-mint-dealer-${n}`);
  const polys = DENOMINATIONS_LOG2.map(() => randomPolynomial(t, rng));
  const keysHex = polys.map((poly) => {
    const commitments = commitPolynomial(poly);
    return {
      publicKey: toHex(encodeG2(commitments[0]!)),
      publicKeyShares: Array.from({ length: n }, (_, i) => toHex(encodeG2(publicKeyShare(commitments, i)))),
    };
  });
  const config = mintModuleSetup.finish(
    {
      denominationsLog2: [...DENOMINATIONS_LOG2],
      feePerInput: MINT_FEE_PER_INPUT.toString(),
      notesPerTxMax: NOTES_PER_TX_MAX,
    },
    keysHex,
  );
  keys = {
    threshold: t,
    config: parseMintConfig(config),
    secretShares: Array.from({ length: n }, (_, g) => polys.map((poly) => evaluatePolynomial(poly, g))),
  };
  // The dealer knows every secret: the memoized backend checks signatures under these keys by
  // computing the valid one (memoTbs).
  for (const [i, key] of keys.config.keys.entries()) {
    simTbs.knowSecret(key.publicKey, polys[i]![0]!);
    for (const [g, share] of key.publicKeyShares.entries())
      simTbs.knowSecret(share, keys.secretShares[g]![i]!);
    simTbs.knowDealing(
      polys[i]![0]!,
      keys.secretShares.map((shares) => shares[i]!),
    );
  }
  dealt.set(n, keys);
  return keys;
}

/** Guardian g's EVM signing key for the bridge (fixed per federation size: the simulated key ceremony). */
export function evmKey(n: number, g: number): Uint8Array {
  return sha256(utf8.encode(`sim-evm-guardian-${n}-${g}`));
}

/** Entries a memo cache keeps before it starts over (bounds memory on long runs). */
const MEMO_ENTRIES_MAX = 100_000;

function memo<T>(cache: Map<string, T>, key: string, compute: () => T): T {
  const known = cache.get(key);
  if (known !== undefined) return known;
  const value = compute();
  if (cache.size >= MEMO_ENTRIES_MAX) cache.clear();
  cache.set(key, value);
  return value;
}

/**
 * The native blst backend with its pure functions memoized across the simulated guardians, as the
 * simulator's MemoVerifier does for Ed25519: N guardians in one process would otherwise check the
 * same notes N times. Every answer is still a real computation on exactly those bytes. The batch
 * check draws random coefficients; its answer for a valid batch is always true and for an invalid
 * one false except with probability 2^-64, so remembering it changes nothing.
 *
 * Checks of signatures whose secret the simulated dealer knows (`knowSecret`, from `mintKeys`) are
 * answered by computing the one valid signature instead of two pairings: BLS signatures are unique,
 * so a blind share verifies under a key share exactly when it is that share's secret times the
 * blinded message, and a note exactly when it is the key's secret times the nonce hashed to G1, in
 * canonical encoding (the real check decodes the signature and requires it in the subgroup and
 * canonically encoded, so it is true for those bytes and false for any other: a Byzantine
 * guardian's garbage, a share for another message, a combination with a bad share). A key's
 * secret is trusted once the real check agreed on a valid signature under it (`probed`).
 */
export function memoTbs(inner: TbsBackend = blstTbs): TbsBackend & {
  readonly calls: { misses: number; shortcuts: number };
  knowSecret(publicKey: Uint8Array, secret: bigint): void;
  knowDealing(keySecret: bigint, shareSecrets: readonly bigint[]): void;
} {
  const points = new Map<string, ReturnType<TbsBackend["checkG1Point"]>>();
  const shares = new Map<string, ReturnType<TbsBackend["signBlindShare"]>>();
  const shareChecks = new Map<string, boolean>();
  const notes = new Map<string, boolean>();
  const secrets = new Map<string, { readonly secret: bigint; probed: boolean }>();
  /** A dealer's key: its secret, and whether blst's combine and unblind agreed once under it. */
  interface Dealing {
    readonly keySecret: bigint;
    combineProbed: boolean;
    unblindProbed: boolean;
  }
  /** Share secret (hex) -> its dealing and guardian index. */
  const shareSecrets = new Map<string, { readonly dealing: Dealing; readonly guardian: number }>();
  /** Bytes signBlindShare computed under a dealt share secret -> (secret, message): s_g·M. */
  const shareOrigins = new Map<string, { readonly secret: bigint; readonly message: string }>();
  /** Bytes combineBlindShares computed by the shortcut -> (dealing, message): s·M. */
  const combinedOrigins = new Map<string, { readonly dealing: Dealing; readonly message: string }>();
  /** Blinded messages blind() made -> (nonce, blinding key): r·H(nonce). */
  const blindOrigins = new Map<string, { readonly nonce: Uint8Array; readonly blindingKey: bigint }>();
  /** s·H(nonce) by (s, nonce): the one valid note signature, shared by unblind and verifyNote. */
  const noteSignatures = new Map<string, ReturnType<TbsBackend["signBlindShare"]>>();
  const calls = { misses: 0, shortcuts: 0 };
  const miss =
    <T>(f: () => T) =>
    () => {
      calls.misses++;
      return f();
    };
  const remember = <T>(cache: Map<string, T>, key: string, value: T): void => {
    if (cache.size >= MEMO_ENTRIES_MAX) cache.clear();
    cache.set(key, value);
  };
  const signBlindShare = (secret: bigint, message: Uint8Array): ReturnType<TbsBackend["signBlindShare"]> =>
    memo(
      shares,
      `${secret.toString(16)}:${toHex(message)}`,
      miss(() => {
        const r = inner.signBlindShare(secret, message);
        if (r.ok && shareSecrets.has(secret.toString(16)))
          remember(shareOrigins, toHex(r.value), { secret, message: toHex(message) });
        return r;
      }),
    );
  const noteSignature = (secret: bigint, nonce: Uint8Array): ReturnType<TbsBackend["signBlindShare"]> =>
    memo(noteSignatures, `${secret.toString(16)}:${toHex(nonce)}`, () =>
      inner.signBlindShare(secret, hashNoteBytes(nonce)),
    );
  /**
   * combineBlindShares of exactly t shares that signBlindShare computed, under the dealt shares of
   * one key at the guardians' own indices, for one message M: Lagrange interpolation at 0 of the
   * dealer's polynomial gives the key's secret s, so the combination is s·M (one scalar
   * multiplication instead of t decodes and t). Anything else, undefined: blst combines.
   */
  const combineByDealing = (
    threshold: number,
    given: readonly { guardian: number; share: Uint8Array }[],
  ): { dealing: Dealing; message: string } | undefined => {
    if (given.length !== threshold || threshold < 1) return undefined;
    let dealing: Dealing | undefined;
    let message: string | undefined;
    const seen = new Set<number>();
    for (const { guardian, share } of given) {
      if (seen.has(guardian)) return undefined;
      seen.add(guardian);
      const origin = shareOrigins.get(toHex(share));
      if (origin === undefined) return undefined;
      const dealt = shareSecrets.get(origin.secret.toString(16));
      if (dealt === undefined || dealt.guardian !== guardian) return undefined;
      if (dealing !== undefined && (dealt.dealing !== dealing || origin.message !== message))
        return undefined;
      dealing = dealt.dealing;
      message = origin.message;
    }
    return dealing === undefined || message === undefined ? undefined : { dealing, message };
  };
  /**
   * The check of `signature` under `publicKey` by comparing it with `expected`, the one valid
   * signature, when the dealer's secret for the key is known; else `real()`. The first check under
   * a key also runs `real()` and requires the same answer (so the secret is the key's).
   */
  const checkBySecret = (
    publicKey: Uint8Array,
    signature: Uint8Array,
    expected: (secret: bigint) => ReturnType<TbsBackend["signBlindShare"]>,
    real: () => boolean,
  ): boolean => {
    const known = secrets.get(toHex(publicKey));
    if (known === undefined) return real();
    const valid = expected(known.secret);
    const ok = valid.ok && bytesEqual(valid.value, signature);
    if (!known.probed) {
      if (real() !== ok)
        throw new Error(`memoTbs: the dealer's secret for ${toHex(publicKey)} is not the key's`);
      // A match proves the secret is the key's: e(s·M, G2) = e(M, PK) means PK = s·G2.
      known.probed = ok;
    }
    return ok;
  };
  return {
    ...inner,
    name: `memo-${inner.name}`,
    calls,
    knowSecret: (publicKey, secret) => {
      if (!secrets.has(toHex(publicKey))) secrets.set(toHex(publicKey), { secret, probed: false });
    },
    knowDealing: (keySecret, dealtShares) => {
      const dealing: Dealing = { keySecret, combineProbed: false, unblindProbed: false };
      for (const [guardian, secret] of dealtShares.entries())
        if (!shareSecrets.has(secret.toString(16)))
          shareSecrets.set(secret.toString(16), { dealing, guardian });
    },
    blind: (nonce, rng) => {
      const b = inner.blind(nonce, rng);
      remember(blindOrigins, toHex(b.blindedMessage), { nonce: nonce.slice(), blindingKey: b.blindingKey });
      return b;
    },
    combineBlindShares: (threshold, given) => {
      const known = combineByDealing(threshold, given);
      if (known === undefined) return inner.combineBlindShares(threshold, given);
      calls.shortcuts++;
      const r = signBlindShare(known.dealing.keySecret, fromHex(known.message));
      if (!known.dealing.combineProbed) {
        // The first combination under a key is also blst's, and must be the same bytes.
        const real = inner.combineBlindShares(threshold, given);
        if (!real.ok || !r.ok || !bytesEqual(real.value, r.value))
          throw new Error("memoTbs: the dealer's combination differs from blst's");
        known.dealing.combineProbed = true;
      }
      if (r.ok) remember(combinedOrigins, toHex(r.value), known);
      return r;
    },
    unblind: (blindSignature, blindingKey) => {
      // s·M with M = r·H(nonce), unblinded by that r: s·H(nonce), the note's one valid signature.
      const combined = combinedOrigins.get(toHex(blindSignature));
      const blinded = combined === undefined ? undefined : blindOrigins.get(combined.message);
      if (combined === undefined || blinded === undefined || blinded.blindingKey !== blindingKey)
        return inner.unblind(blindSignature, blindingKey);
      calls.shortcuts++;
      const r = noteSignature(combined.dealing.keySecret, blinded.nonce);
      if (!combined.dealing.unblindProbed) {
        const real = inner.unblind(blindSignature, blindingKey);
        if (!real.ok || !r.ok || !bytesEqual(real.value, r.value))
          throw new Error("memoTbs: the dealer's unblinded signature differs from blst's");
        combined.dealing.unblindProbed = true;
      }
      return r;
    },
    checkG1Point: (what, bytes) =>
      memo(
        points,
        `${what}:${toHex(bytes)}`,
        miss(() => inner.checkG1Point(what, bytes)),
      ),
    signBlindShare,
    verifyBlindShare: (pk, message, share) =>
      memo(
        shareChecks,
        `${toHex(pk)}:${toHex(message)}:${toHex(share)}`,
        miss(() =>
          checkBySecret(
            pk,
            share,
            (secret) => signBlindShare(secret, message),
            () => inner.verifyBlindShare(pk, message, share),
          ),
        ),
      ),
    verifyNote: (pk, nonce, signature) =>
      memo(
        notes,
        `1:${toHex(pk)}:${toHex(nonce)}:${toHex(signature)}`,
        miss(() =>
          checkBySecret(
            pk,
            signature,
            (secret) => noteSignature(secret, nonce),
            () => inner.verifyNote(pk, nonce, signature),
          ),
        ),
      ),
    verifyKeyedNotesBatch: (batch, rng) =>
      memo(
        notes,
        `n:${batch.map((b) => `${toHex(b.publicKey)}:${toHex(b.nonce)}:${toHex(b.signature)}`).join(",")}`,
        miss(() => inner.verifyKeyedNotesBatch(batch, rng)),
      ),
  };
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** One process-wide backend: its caches serve every run (the functions are pure). */
export const simTbs = memoTbs();

/**
 * Deliberate bugs, for the tests that prove the money checkers catch them. They live here, in the
 * simulator's wrappers around the real modules, and only the test harness turns them on:
 *   mint-forgets-spent   the mint accepts a note whose nonce it already marked spent;
 *   mint-uncounted-note  the mint issues a transaction's second note without counting it.
 */
export type ModuleBug = "mint-forgets-spent" | "mint-uncounted-note";

class BuggyMint extends MintServerModule {
  constructor(
    private readonly bug: ModuleBug,
    ...args: ConstructorParameters<typeof MintServerModule>
  ) {
    super(...args);
  }

  override processInput(db: WriteTx, input: TxInput): ModuleResult<InputMeta> {
    if (this.bug === "mint-forgets-spent") {
      try {
        db.delete(Uint8Array.of(0x02, ...decodeMintInput(input.payload).spendKey));
      } catch {
        // Undecodable: the real check refuses it below.
      }
    }
    return super.processInput(db, input);
  }

  override processOutput(db: WriteTx, output: TxOutput, outPoint: OutPoint): ModuleResult<OutputMeta> {
    const r = super.processOutput(db, output, outPoint);
    if (this.bug === "mint-uncounted-note" && r.ok && outPoint.index === 1) {
      const log2 = output.payload[0]!;
      const key = Uint8Array.of(0x04, log2);
      const v = db.get(key)!;
      const issued = new DataView(v.buffer, v.byteOffset).getBigUint64(0);
      const out = v.slice();
      new DataView(out.buffer).setBigUint64(0, issued - 1n);
      db.put(key, out);
    }
    return r;
  }
}

/** The modules one guardian runs, built fresh at each (re)start, as the daemon does. */
export function guardianModules(
  n: number,
  g: number,
  bug?: ModuleBug,
): { dummy: DummyServerModule; mint: MintServerModule } {
  const keys = mintKeys(n);
  // No background precomputation of shares: a share is computed when a client asks for it.
  const args = [MINT_ID, keys.config, keys.secretShares[g]!, simTbs, () => {}] as const;
  return {
    dummy: new DummyServerModule(DUMMY_ID, {
      faucetAmountMax: FAUCET_AMOUNT_MAX,
      feePerInput: DUMMY_FEE_PER_INPUT,
    }),
    mint: bug === undefined ? new MintServerModule(...args) : new BuggyMint(bug, ...args),
  };
}
