// E-cash notes -> wXMR, written out from the modules' own functions (dev tools and the bridge bench;
// a wallet's `conclave bridge-mint` is the client half's): the notes of a note string are spent in
// one federation transaction whose single output is "wXMR to <EVM address>"; each guardian answers
// GET /v1/modules/bridge/mints/:txid/0 with its EIP-712 signature once the output is accepted in its
// state; t good ones (each checked against the guardian's address in the config), sorted by signer,
// make the contract's `mint` arguments, which anyone may submit.
import { buildTransaction, encodeTransaction, txidHex } from "@conclave/core-common";
import { NodeSigner, sha256 } from "@conclave/core-server";
import type { FederationClient } from "@conclave/core-client";
import { collectMintSignatures, encodeMintOutput } from "@conclave/module-bridge";
import type { BridgeConfig, EvmAddress, MintSignatureView } from "@conclave/module-bridge";
import { noteInput, noteSigner } from "@conclave/module-mint";
import { decodeNoteString } from "@conclave/module-mint/client";
import type { MintMessage } from "@conclave/evm";

export interface NotesToWxmr {
  readonly txid: string;
  readonly amount: bigint;
  /** The contract's `mint(m, signatures)` arguments. */
  readonly message: MintMessage;
  readonly signatures: `0x${string}`[];
  /** performance.now() when the first, and the t-th, guardian answered with its signature. */
  readonly firstSignatureAt: number;
  readonly thresholdSignatureAt: number;
}

async function getJson<T>(url: string): Promise<T | undefined> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    return r.ok ? ((await r.json()) as T) : undefined;
  } catch {
    return undefined;
  }
}

/** Spends the note string's notes into wXMR to `recipient` and gathers t guardian signatures. */
export async function notesToWxmr(options: {
  readonly client: FederationClient;
  readonly noteString: string;
  readonly recipient: EvmAddress;
  readonly mintInstance: number;
  readonly bridgeInstance: number;
  readonly bridge: BridgeConfig;
  readonly timeoutMs?: number;
}): Promise<NotesToWxmr> {
  const { client, bridge } = options;
  const notes = decodeNoteString(options.noteString).notes.map((n) => ({
    ...n,
    spendKey: new NodeSigner(n.spendSeed).publicKey,
  }));
  const inputs = notes.map((n) => noteInput(options.mintInstance, n));
  const amount = inputs.reduce((sum, i) => sum + i.amount, 0n);
  const tx = buildTransaction(
    inputs,
    [{ module: options.bridgeInstance, amount, payload: encodeMintOutput(options.recipient) }],
    notes.map(noteSigner),
    sha256,
  );
  const txid = txidHex(tx, sha256);
  await client.submitTransaction(encodeTransaction(tx));
  // Each guardian's outcome carries its own signature, so the answers are gathered per guardian
  // (not as "t equal outcomes"); a guardian that never answers or answers with a bad signature is
  // left out by collectMintSignatures.
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  const answered: { at: number; view: MintSignatureView }[] = [];
  await Promise.all(
    client.config.guardians.map(async (g) => {
      while (Date.now() < deadline && answered.length < bridge.threshold) {
        const view = await getJson<MintSignatureView>(`${g.api!.url}/v1/modules/bridge/mints/${txid}/0`);
        if (view?.signature) {
          answered.push({ at: performance.now(), view });
          return;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    }),
  );
  if (answered.length < bridge.threshold)
    throw new Error(
      `only ${answered.length} of the ${bridge.threshold} guardian signatures needed for transaction ${txid} came in time`,
    );
  const v = answered[0]!.view;
  const message: MintMessage = {
    recipient: options.recipient,
    amount: BigInt(v.amount),
    depositId: v.depositId as `0x${string}`,
    deadline: BigInt(v.deadline),
    setIndex: v.setIndex,
  };
  const collected = await collectMintSignatures(
    { chainId: bridge.chainId, contract: bridge.contract },
    message,
    bridge.guardians,
    bridge.threshold,
    answered.map((a) => ({ guardian: a.view.guardian, signature: a.view.signature as `0x${string}` })),
  );
  if (collected.signatures.length < bridge.threshold)
    throw new Error(`guardians ${collected.bad.join(", ")} answered with bad signatures`);
  const times = answered.map((a) => a.at).sort((a, b) => a - b);
  return {
    txid,
    amount,
    message,
    signatures: collected.signatures,
    firstSignatureAt: times[0]!,
    thresholdSignatureAt: times[bridge.threshold - 1]!,
  };
}
