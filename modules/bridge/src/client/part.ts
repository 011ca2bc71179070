// The bridge half's shared context (database, core, config, the mint half it pays and issues
// through) and what its parts share: records by key, the guardians' mint answers checked one by one.
import { NoQuorumError, json, parseJson, put, sleep } from "@conclave/core-client";
import type { ClientContext, ClientDb, ClientModuleInit, FederationClient } from "@conclave/core-client";
import { fromHex } from "@conclave/core-common";
import type { MintClient } from "@conclave/module-mint/client";
import { getAddress, isAddress } from "viem";
import type { z } from "zod";
import { BurnViewSchema, MintSignatureSchema } from "../api.js";
import type { MintSignatureView } from "../api.js";
import { parseBridgeConfig } from "../common.js";
import type { BridgeConfig } from "../common.js";
import { collectMintSignatures, outputDepositId, reissueDepositId, remintDepositId } from "../eip712-mint.js";
import {
  SIGNATURES_WAIT_MS_DEFAULT,
  bridgeError,
  burnPath,
  errorText,
  mintPath,
  refundSeed,
} from "./config.js";
import type { BridgeCrypto, BurnRecord, MintCall, MintRecord } from "./config.js";

type Hex = `0x${string}`;

export abstract class BridgePart {
  protected readonly db: ClientDb;
  protected readonly ctx: ClientContext;
  readonly instanceId: number;
  readonly config: BridgeConfig;
  protected readonly federationIdBytes: Uint8Array;
  protected readonly secret: Uint8Array;
  private readonly prefix: string;

  constructor(
    init: ClientModuleInit,
    protected readonly crypto: BridgeCrypto,
  ) {
    this.db = init.db;
    this.ctx = init.context;
    this.instanceId = init.instanceId;
    this.config = parseBridgeConfig({ ...init.config });
    this.federationIdBytes = fromHex(init.federationId);
    this.secret = init.secret;
    this.prefix = init.keyPrefix;
  }

  protected mintHalf(): MintClient {
    const mint = this.ctx.module<MintClient>("mint");
    if (!mint) throw new Error("the bridge half needs the mint half (the federation runs no mint)");
    return mint;
  }

  protected key(kind: "mint" | "burn" | "claim-counter" | "refund-counter", id = ""): string {
    return `${this.prefix}${kind}${id === "" ? "" : `/${id}`}`;
  }

  async mintRecord(txid: string): Promise<MintRecord | undefined> {
    const raw = await this.db.get(this.key("mint", txid));
    return raw ? parseJson<MintRecord>(raw) : undefined;
  }

  /** The Ed25519 public key of the wallet's j-th refund key. */
  protected refundKey(index: number): Uint8Array {
    return this.crypto.ed25519PublicKey(refundSeed(this.secret, index));
  }

  /** Reserves the next refund-key index (written before the key is used anywhere). */
  protected reserveRefundIndex(): Promise<number> {
    return this.ctx.run(async () => {
      const raw = await this.db.get(this.key("refund-counter"));
      const next = raw ? parseJson<{ next: number }>(raw).next : 0;
      await this.db.write([put(this.key("refund-counter"), json({ next: next + 1 }))]);
      return next;
    });
  }

  protected putMint(r: MintRecord) {
    return put(this.key("mint", r.txid), json(r));
  }

  async burnRecord(txHash: string): Promise<BurnRecord | undefined> {
    const raw = await this.db.get(this.key("burn", txHash.toLowerCase()));
    return raw ? parseJson<BurnRecord>(raw) : undefined;
  }

  protected putBurn(r: BurnRecord) {
    return put(this.key("burn", r.txHash.toLowerCase()), json(r));
  }

  /** A value t guardians agree on at `path`, or undefined while they do not (one is a block behind). */
  protected async agreed<T>(
    client: FederationClient,
    path: string,
    schema: z.ZodType<T>,
    equal?: (a: T, b: T) => boolean,
  ): Promise<T | undefined> {
    try {
      return (await client.queryConsensus(path, schema, equal)).value;
    } catch (e) {
      if (e instanceof NoQuorumError) return undefined;
      throw e;
    }
  }

  /**
   * The signed mint call of output `output` of transaction `txid` (mintSource): collectSignedCall.
   */
  protected collectCall(
    txid: string,
    output: number,
    recipient: Hex,
    amount: bigint,
    waitMs = SIGNATURES_WAIT_MS_DEFAULT,
  ): Promise<MintCall> {
    return this.collectSignedCall(this.outputSource(txid, output), recipient, amount, waitMs);
  }

  /** Where the guardians serve the mint of output `output` of `txid`, and its first deposit id. */
  protected outputSource(txid: string, output: number): MintSource {
    return {
      name: `${txid}:${output}`,
      first: outputDepositId(this.federationIdBytes, fromHex(txid), output),
      fetch: async (client) =>
        (await client.getEach(mintPath(txid, output), MintSignatureSchema)).map((a) => ({
          guardian: a.guardian,
          ...(a.ok ? { view: a.value } : { error: a.error.message }),
        })),
      retry: `\`resume\` or \`bridge-status ${txid}:${output}\` asks again`,
    };
  }

  /** Where the guardians serve the re-mint of burn `txHash`:`logIndex` (its burn view's `remint`). */
  protected remintSource(txHash: string, logIndex: number): MintSource {
    return {
      name: `re-mint of burn ${txHash}:${logIndex}`,
      first: remintDepositId(this.federationIdBytes, fromHex(txHash.slice(2)), logIndex),
      fetch: async (client) =>
        (await client.getEach(burnPath(txHash, logIndex), BurnViewSchema)).map((a) => ({
          guardian: a.guardian,
          ...(a.ok
            ? a.value.remint
              ? { view: a.value.remint }
              : {
                  error: `no re-mint (${a.value.state}${a.value.settlement ? `, ${a.value.settlement}` : ""})`,
                }
            : { error: a.error.message }),
        })),
      retry: `\`bridge-status ${txHash}:${logIndex}\` asks again`,
    };
  }

  /**
   * The signed mint call of `source`: every guardian's answer, each checked here. Recipient and
   * amount must be those asked for; the attempt (0: the first issue; k: the k-th re-issue of an
   * expired mint without refund key, docs/bridge.md "Re-issue"), deadline and set index those of at
   * least t answers; the deposit id is never taken from a guardian: each answer's must be
   * reissueDepositId(first, its attempt), computed here from the first id (itself computed here);
   * each signature must recover to that guardian's config address over that message
   * (collectMintSignatures). An answer naming another attempt, a made-up deposit id or another
   * guardian's index is skipped (outvoted). Asked again while fewer than t are good (a guardian a
   * block behind), up to `waitMs`; then a `signatures_missing` error naming them.
   */
  protected async collectSignedCall(
    source: MintSource,
    recipient: Hex,
    amount: bigint,
    waitMs = SIGNATURES_WAIT_MS_DEFAULT,
  ): Promise<MintCall> {
    const client = await this.ctx.client();
    const domain = { chainId: this.config.chainId, contract: this.config.contract };
    const deadline = this.ctx.now() + waitMs;
    let lastError = "";
    for (;;) {
      const answers = await source.fetch(client);
      const views = answers.flatMap((a) => (a.view && a.view.guardian === a.guardian ? [a.view] : []));
      const bad = new Set<number>(
        answers.flatMap((a) => (a.view && a.view.guardian !== a.guardian ? [a.guardian] : [])),
      );
      const message = agreedMessage(views, this.config.threshold, (v) => {
        const attempt = attemptOf(v);
        const ok =
          attempt !== undefined &&
          v.chainId === this.config.chainId &&
          v.contract.toLowerCase() === this.config.contract.toLowerCase() &&
          v.recipient.toLowerCase() === recipient.toLowerCase() &&
          v.amount === amount.toString() &&
          (v.reissue === undefined ||
            v.reissue.firstDepositId.toLowerCase() === source.first.toLowerCase()) &&
          v.depositId.toLowerCase() === reissueDepositId(source.first, attempt).toLowerCase();
        if (!ok) bad.add(v.guardian);
        return ok;
      });
      if (message) {
        const depositId = reissueDepositId(source.first, message.attempt);
        const signed = views.filter(
          (v) =>
            !bad.has(v.guardian) &&
            attemptOf(v) === message.attempt &&
            v.deadline === message.deadline.toString() &&
            v.setIndex === message.setIndex &&
            v.signature !== undefined,
        );
        for (const v of views) if (!signed.includes(v)) bad.add(v.guardian);
        try {
          const c = await collectMintSignatures(
            domain,
            {
              recipient: getAddress(recipient),
              amount,
              depositId,
              deadline: message.deadline,
              setIndex: message.setIndex,
            },
            this.config.guardians,
            this.config.threshold,
            signed.map((v) => ({ guardian: v.guardian, signature: v.signature! })),
          );
          const badGuardians = [...new Set([...bad, ...c.bad])].sort((a, b) => a - b);
          for (const g of badGuardians)
            this.ctx.warn(
              `guardian ${g} gave no valid signature of the wXMR mint of ${source.name}; skipped`,
            );
          return {
            chainId: this.config.chainId,
            contract: this.config.contract,
            recipient: getAddress(recipient),
            amount,
            depositId,
            deadline: message.deadline,
            setIndex: message.setIndex,
            signatures: c.signatures,
            signers: c.signers,
            badGuardians,
            ...(message.attempt > 0 ? { attempt: message.attempt, firstDepositId: source.first } : {}),
          };
        } catch (e) {
          lastError = errorText(e);
        }
      } else lastError = `no ${this.config.threshold} guardians answered with the same mint`;
      if (this.ctx.now() >= deadline)
        throw bridgeError(
          "signatures_missing",
          `the wXMR mint of ${source.name} is accepted, but ${lastError}; ` +
            `answers: ${answers.map((a) => `guardian ${a.guardian}: ${a.view ? `signed${attemptOf(a.view) ? ` attempt ${attemptOf(a.view)}` : ""}` : a.error}`).join("; ")}. ` +
            source.retry,
          { name: source.name },
        );
      await sleep(300);
    }
  }
}

/** One guardian's answer about a mint: its view of the mint, or why there is none. */
export interface MintAnswer {
  readonly guardian: number;
  readonly view?: MintSignatureView;
  readonly error?: string;
}

/** A mint the guardians sign: its name in messages, attempt 0's deposit id, every guardian's answer. */
export interface MintSource {
  readonly name: string;
  readonly first: Hex;
  fetch(client: FederationClient): Promise<readonly MintAnswer[]>;
  /** What to do when t good signatures are not in hand yet. */
  readonly retry: string;
}

/**
 * The attempt an answer names: `reissue.attempt` (0 without it); undefined for a nonsense one (not
 * an integer below 2^32, or a re-issue named on a refundable mint, which is never re-issued).
 */
function attemptOf(v: MintSignatureView): number | undefined {
  if (v.reissue === undefined) return 0;
  const a = v.reissue.attempt;
  if (v.expiry !== undefined || !Number.isInteger(a) || a < 0 || a >= 2 ** 32) return undefined;
  return a;
}

/** The (attempt, deadline, setIndex) at least t of the answers that pass `valid` carry. */
function agreedMessage(
  views: readonly MintSignatureView[],
  t: number,
  valid: (v: MintSignatureView) => boolean,
): { attempt: number; deadline: bigint; setIndex: number } | undefined {
  const counts = new Map<string, number>();
  for (const v of views) {
    if (!valid(v)) continue;
    const key = `${attemptOf(v)}/${v.deadline}/${v.setIndex}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  for (const [key, count] of counts)
    if (count >= t) {
      const [attempt, deadline, setIndex] = key.split("/");
      return { attempt: Number(attempt), deadline: BigInt(deadline!), setIndex: Number(setIndex) };
    }
  return undefined;
}

/**
 * An EVM address a user typed: 0x and 40 hex digits, its EIP-55 checksum right when it has mixed
 * case, not the zero address, not the contract itself (tokens sent there are lost). Checked before
 * anything is spent.
 */
export function parseEvmAddress(text: string, contract: Hex): Hex {
  const a = text.trim();
  if (!/^0x[0-9a-fA-F]{40}$/.test(a))
    throw bridgeError(
      "invalid_evm_address",
      `not an EVM address (0x and 40 hex digits): "${a.length > 50 ? `${a.slice(0, 50)}…` : a}"; nothing was spent`,
    );
  if (!isAddress(a, { strict: true }))
    throw bridgeError(
      "invalid_evm_address",
      `${a} has a wrong EIP-55 checksum (mixed case that is not ${getAddress(a)}): a typo? nothing was spent`,
    );
  const address = getAddress(a);
  if (BigInt(address) === 0n)
    throw bridgeError("invalid_evm_address", "the zero address cannot receive wXMR; nothing was spent");
  if (address.toLowerCase() === contract.toLowerCase())
    throw bridgeError(
      "invalid_evm_address",
      "that is the wXMR contract itself: tokens sent there are lost; nothing was spent",
    );
  return address;
}
