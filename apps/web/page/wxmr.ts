// The page's side of the wXMR contract: the part of its ABI the page uses, the EIP-712 Mint the
// guardians sign, the checks on what they send (each signature must recover to that guardian's
// address in the bridge config t guardians agree on), and the user's EVM wallet as an injected
// EIP-1193 provider (window.ethereum). viem does the ABI encoding and the signature recovery; the
// JSON-RPC calls go straight to the provider (viem's clients would add about 280 KB to the page).
import {
  decodeErrorResult,
  decodeFunctionResult,
  encodeAbiParameters,
  encodeFunctionData,
  getAddress,
  hexToBigInt,
  keccak256,
  numberToHex,
  recoverAddress,
} from "viem";
import type { Address, Hex } from "viem";
import { hashMint, wxmrDomain } from "@conclave/evm/typed-data";
import { wxmrAbi } from "./wxmr-abi.js";

export { wxmrAbi };

/** The bridge module's config as the federation config states it (what t guardians agree on). */
export interface BridgeInfo {
  readonly chainId: number;
  readonly contract: Address;
  readonly guardians: readonly Address[];
  readonly threshold: number;
}

function rec(v: unknown): Record<string, unknown> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

const isAddress = (v: unknown): v is Address => typeof v === "string" && /^0x[0-9a-fA-F]{40}$/.test(v);

/** The bridge entry of a federation config (GET /v1/federation's `config`), if it has one. */
export function bridgeFromConfig(config: unknown): BridgeInfo | undefined {
  const modules = rec(config)?.["modules"];
  if (!Array.isArray(modules)) return undefined;
  const entry = modules.map(rec).find((m) => m?.["kind"] === "bridge");
  const c = rec(entry?.["config"]);
  if (!c) return undefined;
  const { chainId, contract, guardians, threshold } = c;
  if (
    typeof chainId !== "number" ||
    !isAddress(contract) ||
    !Array.isArray(guardians) ||
    !guardians.every(isAddress) ||
    typeof threshold !== "number"
  )
    return undefined;
  return {
    chainId,
    contract: getAddress(contract),
    guardians: guardians.map((g) => getAddress(g)),
    threshold,
  };
}

/** A guardian's GET mints/:txid/:index (the bridge API's MintSignatureSchema), as far as the page reads it. */
export interface MintView {
  readonly chainId: number;
  readonly contract: Address;
  readonly recipient: Address;
  readonly amount: bigint;
  readonly depositId: Hex;
  readonly deadline: bigint;
  readonly setIndex: number;
  readonly guardian: number;
  readonly signature?: Hex;
  /**
   * A refundable (0x02) mint's return as this guardian's state has it (the bridge API's
   * MintExpirySchema): open, due (past the deadline, being voted), returnable, refunded or minted.
   */
  readonly expiry?: string;
  /** The re-issue attempt this guardian signs (bridge API `reissue.attempt`; absent: 0). */
  readonly reissueAttempt?: number;
}

export function parseMintView(v: unknown): MintView | undefined {
  const r = rec(v);
  if (!r) return undefined;
  const { chainId, contract, recipient, amount, depositId, deadline, setIndex, guardian, signature } = r;
  const expiry = rec(r["expiry"])?.["state"];
  const attempt = rec(r["reissue"])?.["attempt"];
  if (
    typeof chainId !== "number" ||
    !isAddress(contract) ||
    !isAddress(recipient) ||
    typeof amount !== "string" ||
    !/^\d{1,78}$/.test(amount) ||
    typeof depositId !== "string" ||
    !/^0x[0-9a-fA-F]{64}$/.test(depositId) ||
    typeof deadline !== "string" ||
    !/^\d{1,20}$/.test(deadline) ||
    typeof setIndex !== "number" ||
    typeof guardian !== "number"
  )
    return undefined;
  return {
    chainId,
    contract: getAddress(contract),
    recipient: getAddress(recipient),
    amount: BigInt(amount),
    depositId: depositId.toLowerCase() as Hex,
    deadline: BigInt(deadline),
    setIndex,
    guardian,
    ...(typeof signature === "string" && /^0x[0-9a-fA-F]{130}$/.test(signature)
      ? { signature: signature as Hex }
      : {}),
    ...(typeof expiry === "string" ? { expiry } : {}),
    ...(typeof attempt === "number" && Number.isInteger(attempt) && attempt > 0 && attempt < 2 ** 32
      ? { reissueAttempt: attempt }
      : {}),
  };
}

/**
 * The deposit id of federation output (txid, index): the same keccak256 as the bridge module's
 * outputDepositId (modules/bridge/src/eip712-mint.ts), computed here so that the page does not take
 * the guardians' word for which mint it is submitting.
 */
export function outputDepositId(federationId: string, txid: string, index: number): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: "string" }, { type: "bytes32" }, { type: "bytes32" }, { type: "uint32" }],
      ["conclave/bridge/mint/v1", `0x${federationId}`, `0x${txid}`, index],
    ),
  );
}

/**
 * The deposit id of re-issue `attempt` of a mint whose first deposit id is `first`: the same
 * keccak256 as the bridge module's reissueDepositId (eip712-mint.ts); attempt 0 is `first`.
 */
export function reissueDepositId(first: Hex, attempt: number): Hex {
  if (attempt === 0) return first;
  return keccak256(
    encodeAbiParameters(
      [{ type: "string" }, { type: "bytes32" }, { type: "uint32" }],
      ["conclave/bridge/reissue/v1", first, attempt],
    ),
  );
}

export interface MintCall {
  readonly recipient: Address;
  readonly amount: bigint;
  readonly depositId: Hex;
  readonly deadline: bigint;
  readonly setIndex: number;
  /** t signatures, in ascending signer order (as the contract takes them). */
  readonly signatures: readonly Hex[];
  readonly signers: readonly Address[];
  /** Guardians whose signature is there and recovers to another address than theirs. */
  readonly bad: readonly number[];
  /** Good signatures found (may exceed t). */
  readonly good: number;
}

/**
 * What t guardians agree the mint is, and the good signatures among the answers. The mint itself
 * (recipient, amount, deposit id, deadline, set index) must be the same in at least t answers and
 * its deposit id the one computed here; a signature counts only when it recovers to the address the
 * agreed bridge config gives that guardian. Returns undefined when no t answers agree.
 */
export async function mintCallOf(
  bridge: BridgeInfo,
  depositId: Hex,
  views: readonly (MintView | undefined)[],
): Promise<{ call: MintCall; agreeing: number } | { disagree: string } | undefined> {
  const key = (v: MintView) => `${v.recipient}/${v.amount}/${v.depositId}/${v.deadline}/${v.setIndex}`;
  const groups = new Map<string, MintView[]>();
  for (const v of views)
    if (v && v.chainId === bridge.chainId && v.contract === bridge.contract)
      groups.set(key(v), [...(groups.get(key(v)) ?? []), v]);
  const best = [...groups.values()].sort((a, b) => b.length - a.length)[0];
  if (!best) return undefined;
  if (best.length < bridge.threshold)
    return groups.size > 1
      ? {
          disagree: `the guardians' answers differ (${[...groups.values()].map((g) => g.length).join(" / ")})`,
        }
      : undefined;
  const m = best[0]!;
  if (m.depositId !== depositId.toLowerCase())
    return {
      disagree: `${best.length} guardians name deposit id ${m.depositId}, this page computes ${depositId}`,
    };
  const digest = mintDigest(bridge, m);
  const good = new Map<Address, Hex>();
  const bad: number[] = [];
  for (const v of views) {
    if (!v?.signature) continue;
    const expected = bridge.guardians[v.guardian];
    const signer = await recoverAddress({ hash: digest, signature: v.signature }).catch(() => undefined);
    if (expected && signer === expected) good.set(expected, v.signature);
    else bad.push(v.guardian);
  }
  const signers = [...good.keys()]
    .sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))
    .slice(0, bridge.threshold);
  return {
    agreeing: best.length,
    call: {
      recipient: m.recipient,
      amount: m.amount,
      depositId: m.depositId,
      deadline: m.deadline,
      setIndex: m.setIndex,
      signatures: signers.map((s) => good.get(s)!),
      signers,
      bad,
      good: good.size,
    },
  };
}

/**
 * The EIP-712 digest the guardians sign for a mint: @conclave/evm's hashMint (domain "Conclave wXMR"
 * v1, the bridge's chain and contract; the Mint struct of WrappedMonero.sol), the one definition the
 * guardians (modules/bridge/src/eip712-mint.ts) and the contract's tests use. viem only: nothing of
 * Node comes with it (wxmr-abi.test.ts compares the digest with the bridge module's).
 */
export function mintDigest(
  bridge: BridgeInfo,
  m: {
    readonly recipient: Address;
    readonly amount: bigint;
    readonly depositId: Hex;
    readonly deadline: bigint;
    readonly setIndex: number;
  },
): Hex {
  return hashMint(wxmrDomain(bridge.chainId, bridge.contract), {
    recipient: m.recipient,
    amount: m.amount,
    depositId: m.depositId,
    deadline: m.deadline,
    setIndex: m.setIndex,
  });
}

export function mintCalldata(call: MintCall): Hex {
  return encodeFunctionData({
    abi: wxmrAbi,
    functionName: "mint",
    args: [
      {
        recipient: call.recipient,
        amount: call.amount,
        depositId: call.depositId,
        deadline: call.deadline,
        setIndex: call.setIndex,
      },
      [...call.signatures],
    ],
  });
}

// ---- The user's EVM wallet (EIP-1193) ----

export interface Eip1193Provider {
  request(args: { method: string; params?: readonly unknown[] }): Promise<unknown>;
}

export function injectedProvider(): Eip1193Provider | undefined {
  // globalThis, not window: this file is also type-checked without the DOM (the Node tests import it).
  const eth: unknown = Reflect.get(globalThis, "ethereum");
  return typeof eth === "object" && eth !== null && "request" in eth && typeof eth.request === "function"
    ? (eth as Eip1193Provider)
    : undefined;
}

/** An error from the provider, with the contract's error name when its revert data decodes. */
export function providerErrorText(e: unknown): string {
  const data = revertData(e);
  if (data) {
    try {
      const d = decodeErrorResult({ abi: wxmrAbi, data });
      return `the contract refuses it: ${d.errorName}${d.args && d.args.length > 0 ? `(${d.args.map(String).join(", ")})` : ""}`;
    } catch {
      // not one of the contract's errors: fall through to the message
    }
  }
  const r = rec(e);
  if (r && typeof r["message"] === "string") return r["message"];
  return e instanceof Error ? e.message : String(e);
}

function revertData(e: unknown): Hex | undefined {
  // Wallets put revert bytes in error.data, error.data.data or error.data.originalError.data.
  let r = rec(e);
  for (let depth = 0; r && depth < 4; depth++) {
    const d = r["data"];
    if (typeof d === "string" && /^0x[0-9a-fA-F]{8,}$/.test(d)) return d as Hex;
    r = rec(d) ?? rec(r["originalError"]) ?? rec(r["cause"]);
  }
  return undefined;
}

async function call(p: Eip1193Provider, to: Address, data: Hex): Promise<Hex> {
  const r = await p.request({ method: "eth_call", params: [{ to, data }, "latest"] });
  if (typeof r !== "string") throw new Error("eth_call: not hex");
  return r as Hex;
}

export async function chainIdOf(p: Eip1193Provider): Promise<number> {
  const r = await p.request({ method: "eth_chainId" });
  if (typeof r !== "string") throw new Error("eth_chainId: not hex");
  return Number(hexToBigInt(r as Hex));
}

export async function depositUsed(p: Eip1193Provider, contract: Address, depositId: Hex): Promise<boolean> {
  const data = encodeFunctionData({ abi: wxmrAbi, functionName: "depositUsed", args: [depositId] });
  return decodeFunctionResult({
    abi: wxmrAbi,
    functionName: "depositUsed",
    data: await call(p, contract, data),
  });
}

export async function totalSupply(p: Eip1193Provider, contract: Address): Promise<bigint> {
  const data = encodeFunctionData({ abi: wxmrAbi, functionName: "totalSupply" });
  return decodeFunctionResult({
    abi: wxmrAbi,
    functionName: "totalSupply",
    data: await call(p, contract, data),
  });
}

export async function latestTimestamp(p: Eip1193Provider): Promise<bigint> {
  const block = rec(await p.request({ method: "eth_getBlockByNumber", params: ["latest", false] }));
  const ts = block?.["timestamp"];
  if (typeof ts !== "string") throw new Error("eth_getBlockByNumber: no timestamp");
  return hexToBigInt(ts as Hex);
}

/**
 * The wallet's first account, once it is on the federation's chain (asks the user to connect).
 * Throws when the wallet gives no account or is on another chain than the bridge config says.
 */
export async function connectedAccount(p: Eip1193Provider, bridge: BridgeInfo): Promise<Address> {
  const accounts = await p.request({ method: "eth_requestAccounts" });
  const from: unknown = Array.isArray(accounts) ? (accounts as unknown[])[0] : undefined;
  if (!isAddress(from)) throw new Error("the EVM wallet gave no account");
  const chainId = await chainIdOf(p);
  if (chainId !== bridge.chainId)
    throw new Error(
      `the EVM wallet is on chain ${chainId}; the federation's contract is on chain ${bridge.chainId}`,
    );
  return getAddress(from);
}

/**
 * Sends `data` to the contract from the wallet's first account: checks the chain, estimates (a call
 * the contract would refuse fails here, with its error name, and costs nothing), and sends with the
 * estimate + 50 % as gas limit (the bridge client's margin: a recipient slot emptied between the
 * estimate and the block costs up to 38 % more; unused gas is not charged).
 */
export async function sendCall(p: Eip1193Provider, bridge: BridgeInfo, data: Hex): Promise<Hex> {
  const from = await connectedAccount(p, bridge);
  const tx = { from, to: bridge.contract, data };
  const estimate = await p.request({ method: "eth_estimateGas", params: [tx] });
  if (typeof estimate !== "string") throw new Error("eth_estimateGas: not hex");
  const gas = (hexToBigInt(estimate as Hex) * 3n) / 2n;
  const hash = await p.request({ method: "eth_sendTransaction", params: [{ ...tx, gas: numberToHex(gas) }] });
  if (typeof hash !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(hash))
    throw new Error("the EVM wallet returned no transaction hash");
  return hash as Hex;
}

/** Sends the mint from the wallet's first account (sendCall). */
export function sendMint(p: Eip1193Provider, bridge: BridgeInfo, mint: MintCall): Promise<Hex> {
  return sendCall(p, bridge, mintCalldata(mint));
}

/** The transaction's receipt status once mined: true (success) or false (reverted); polls every second. */
export async function waitMined(
  p: Eip1193Provider,
  hash: Hex,
  stop: () => boolean,
): Promise<{ ok: boolean; block: bigint } | undefined> {
  while (!stop()) {
    const r = rec(await p.request({ method: "eth_getTransactionReceipt", params: [hash] }));
    if (r && typeof r["status"] === "string" && typeof r["blockNumber"] === "string")
      return { ok: r["status"] === "0x1", block: hexToBigInt(r["blockNumber"] as Hex) };
    await new Promise((ok) => setTimeout(ok, 1000));
  }
  return undefined;
}
