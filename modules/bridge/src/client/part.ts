// The bridge half's shared context (database, core, config, the mint half it pays and issues
// through) and what its parts share: records by key, the guardians' mint answers checked one by one.
import { NoQuorumError, json, parseJson, put, sleep } from "@conclave/core-client";
import type { ClientContext, ClientDb, ClientModuleInit, FederationClient } from "@conclave/core-client";
import { fromHex } from "@conclave/core-common";
import type { MintClient } from "@conclave/module-mint/client";
import { getAddress, isAddress } from "viem";
import type { z } from "zod";
import { MintSignatureSchema } from "../api.js";
import type { MintSignatureView } from "../api.js";
import { parseBridgeConfig } from "../common.js";
import type { BridgeConfig } from "../common.js";
import { collectMintSignatures, outputDepositId } from "../eip712-mint.js";
import { SIGNATURES_WAIT_MS_DEFAULT, bridgeError, errorText, mintPath, refundSeed } from "./config.js";
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
   * The signed mint call of output `output` of transaction `txid`: every guardian's answer, each
   * checked here (the deposit id is computed locally, recipient and amount must be those asked for,
   * the deadline and set index those of at least t answers, each signature must recover to that
   * guardian's config address: collectMintSignatures). Asked again while fewer than t are good (a
   * guardian a block behind), up to `waitMs`; then a `signatures_missing` error naming them.
   */
  protected async collectCall(
    txid: string,
    output: number,
    recipient: Hex,
    amount: bigint,
    waitMs = SIGNATURES_WAIT_MS_DEFAULT,
  ): Promise<MintCall> {
    const client = await this.ctx.client();
    const depositId = outputDepositId(this.federationIdBytes, fromHex(txid), output);
    const domain = { chainId: this.config.chainId, contract: this.config.contract };
    const deadline = this.ctx.now() + waitMs;
    let lastError = "";
    for (;;) {
      const answers = await client.getEach(mintPath(txid, output), MintSignatureSchema);
      const views = answers.flatMap((a) => (a.ok ? [a.value] : []));
      const bad = new Set<number>();
      const message = agreedMessage(views, this.config.threshold, (v) => {
        const ok =
          v.chainId === this.config.chainId &&
          v.contract.toLowerCase() === this.config.contract.toLowerCase() &&
          v.recipient.toLowerCase() === recipient.toLowerCase() &&
          v.amount === amount.toString() &&
          v.depositId.toLowerCase() === depositId.toLowerCase();
        if (!ok) bad.add(v.guardian);
        return ok;
      });
      if (message) {
        const signed = views.filter(
          (v) =>
            !bad.has(v.guardian) &&
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
              `guardian ${g} gave no valid signature of the wXMR mint of ${txid}:${output}; skipped`,
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
          };
        } catch (e) {
          lastError = errorText(e);
        }
      } else lastError = `no ${this.config.threshold} guardians answered with the same mint`;
      if (this.ctx.now() >= deadline)
        throw bridgeError(
          "signatures_missing",
          `the wXMR mint of ${txid}:${output} is accepted, but ${lastError}; ` +
            `answers: ${answers.map((a) => `guardian ${a.guardian}: ${a.ok ? "signed" : a.error.message}`).join("; ")}. ` +
            "`resume` or `bridge-status` asks again",
          { txid, output },
        );
      await sleep(300);
    }
  }
}

/** The (deadline, setIndex) at least t of the answers that pass `valid` carry. */
function agreedMessage(
  views: readonly MintSignatureView[],
  t: number,
  valid: (v: MintSignatureView) => boolean,
): { deadline: bigint; setIndex: number } | undefined {
  const counts = new Map<string, number>();
  for (const v of views) {
    if (!valid(v)) continue;
    const key = `${v.deadline}/${v.setIndex}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  for (const [key, count] of counts)
    if (count >= t) {
      const [deadline, setIndex] = key.split("/");
      return { deadline: BigInt(deadline!), setIndex: Number(setIndex) };
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
