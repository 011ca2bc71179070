// The M-of-N multisig protocol of monero-wallet-rpc 0.18, cut into explicit steps. Each step is what
// one participant does with its own wallet-rpc, given the other participants' messages of the
// previous step, and returns the message it sends them. A guardian will run each step when the
// consensus has ordered the previous step's messages; `setupMultisig` and `spendMultisig` run all
// steps in one process for tests and the dev federation.
//
// Setup: prepare_multisig -> make_multisig(threshold) -> exchange_multisig_keys, repeated until
// is_multisig says ready: N - M + 1 exchange rounds (measured: 2-of-3: 2, 3-of-4: 2, 2-of-4: 3).
// Spend: every participant exports its multisig info, each signer imports the others' (a fresh round
// before every spend: a spend after an old import fails with -16, a second tx from one round with -35
// "stale data"); one signer builds the transaction, M - 1 others check and sign it in turn; the last
// one submits. Needs enable-multisig-experimental in every wallet: multisigPrepare turns it on
// (prepare_multisig's flag); wallet-cli.ts sets it in a wallet that is already half-way.
import type { Destination } from "./wallet-rpc.js";
import type { TransferDescription, WalletRpc } from "./wallet-rpc.js";
import { MoneroMultisigError } from "./errors.js";

/** A key exchange message is well under 1 KiB per participant for 16 participants. */
export const KEX_MESSAGE_CHARS_MAX = 256 * 1024;
/** An export carries a partial key image and nonces per output: it grows with the wallet's outputs. */
export const EXPORT_INFO_CHARS_MAX = 32 * 1024 * 1024;
/** A multisig transaction set (hex) with its inputs' ring data. */
export const TXSET_CHARS_MAX = 32 * 1024 * 1024;
/** Monero's multisig key exchange supports up to 16 participants. */
export const PARTICIPANTS_MAX = 16;

export interface MultisigParams {
  /** M: signatures needed to spend. */
  readonly threshold: number;
  /** N: participants. */
  readonly total: number;
  /** The wallets' password (wallet-rpc re-encrypts the keys file at each round). */
  readonly password: string;
}

export interface KexStepResult {
  /** What this participant sends the others for the next round; undefined when it has nothing more to send. */
  readonly message: string | undefined;
  /** The multisig wallet's address once it is known (all participants must report the same one). */
  readonly address: string | undefined;
  /** is_multisig ready: the wallet can receive and, with M - 1 others, spend. */
  readonly ready: boolean;
}

/** How many exchange_multisig_keys rounds follow make_multisig for M-of-N (measured: N - M + 1). */
export function multisigExchangeRounds(threshold: number, total: number): number {
  checkParams({ threshold, total, password: "" });
  return total - threshold + 1;
}

/** The messages of everyone but participant `self`, in participant order. */
export function othersOf<T>(messages: readonly T[], self: number): T[] {
  if (!Number.isInteger(self) || self < 0 || self >= messages.length) {
    throw new RangeError(`participant ${self} out of 0..${messages.length - 1}`);
  }
  return messages.filter((_, i) => i !== self);
}

function checkParams(p: MultisigParams): void {
  if (
    !Number.isInteger(p.threshold) ||
    !Number.isInteger(p.total) ||
    p.total < 2 ||
    p.total > PARTICIPANTS_MAX ||
    p.threshold < 2 ||
    p.threshold > p.total
  ) {
    throw new MoneroMultisigError(
      `unsupported multisig ${p.threshold}-of-${p.total} (need 2 <= M <= N <= ${PARTICIPANTS_MAX})`,
      { threshold: p.threshold, total: p.total },
    );
  }
}

/** Checks what the others sent before it reaches the wallet: one message each, non-empty, bounded, distinct. */
function checkPeerMessages(
  what: string,
  messages: readonly string[],
  expected: number,
  charsMax: number,
): void {
  if (messages.length !== expected) {
    throw new MoneroMultisigError(
      `${what}: expected ${expected} messages from the others, got ${messages.length}`,
    );
  }
  for (const [i, m] of messages.entries()) {
    if (m.length === 0 || m.length > charsMax) {
      throw new MoneroMultisigError(`${what}: message ${i} has ${m.length} characters (1..${charsMax})`);
    }
  }
  if (new Set(messages).size !== messages.length) {
    throw new MoneroMultisigError(`${what}: two participants sent the same message`);
  }
}

// -- setup --------------------------------------------------------------------------------------

/**
 * Setup step 0 (each participant): this wallet's first key exchange message. It also turns on
 * enable-multisig-experimental in the wallet (prepare_multisig's own flag, wallet-rpc 0.18), unless
 * `enableMultisigExperimental` is false: no monero-wallet-cli run, no close and reopen (each of
 * those generates a 4096-bit RSA key, docs/monero.md "Traps").
 */
export async function multisigPrepare(
  wallet: WalletRpc,
  options: { enableMultisigExperimental?: boolean } = {},
): Promise<string> {
  const status = await wallet.isMultisig();
  if (status.multisig) throw new MoneroMultisigError(`${wallet.url}: the wallet is already multisig`);
  return wallet.prepareMultisig({ enableMultisigExperimental: options.enableMultisigExperimental ?? true });
}

/** Setup step 1 (each participant): make_multisig with the others' prepare messages. */
export async function multisigMake(
  wallet: WalletRpc,
  params: MultisigParams,
  othersMessages: readonly string[],
): Promise<KexStepResult> {
  checkParams(params);
  checkPeerMessages("make_multisig", othersMessages, params.total - 1, KEX_MESSAGE_CHARS_MAX);
  const r = await wallet.makeMultisig({
    multisigInfo: othersMessages,
    threshold: params.threshold,
    password: params.password,
  });
  return { message: r.multisigInfo, address: r.address, ready: (await wallet.isMultisig()).ready };
}

/** Setup steps 2.. (each participant): exchange_multisig_keys with the others' previous messages. */
export async function multisigExchange(
  wallet: WalletRpc,
  params: MultisigParams,
  othersMessages: readonly string[],
): Promise<KexStepResult> {
  checkParams(params);
  checkPeerMessages("exchange_multisig_keys", othersMessages, params.total - 1, KEX_MESSAGE_CHARS_MAX);
  const r = await wallet.exchangeMultisigKeys({ multisigInfo: othersMessages, password: params.password });
  const status = await wallet.isMultisig();
  if (status.ready && (status.threshold !== params.threshold || status.total !== params.total)) {
    throw new MoneroMultisigError(
      `${wallet.url}: the wallet became ${status.threshold}-of-${status.total}, expected ${params.threshold}-of-${params.total}`,
    );
  }
  return { message: r.multisigInfo, address: r.address, ready: status.ready };
}

/**
 * Runs the whole setup over `wallets` (participant i = wallets[i], each with a fresh wallet open).
 * Returns the shared address and the number of exchange rounds.
 */
export async function setupMultisig(
  wallets: readonly WalletRpc[],
  params: Omit<MultisigParams, "total">,
): Promise<{ address: string; exchangeRounds: number }> {
  const full: MultisigParams = { ...params, total: wallets.length };
  checkParams(full);
  const prepared = await Promise.all(wallets.map((w) => multisigPrepare(w)));
  let results = await Promise.all(wallets.map((w, i) => multisigMake(w, full, othersOf(prepared, i))));
  const roundsMax = multisigExchangeRounds(full.threshold, full.total) + 1;
  let rounds = 0;
  while (!results.every((r) => r.ready)) {
    if (rounds >= roundsMax) {
      throw new MoneroMultisigError(`multisig setup not ready after ${rounds} exchange rounds`, { rounds });
    }
    const messages = results.map((r, i) => {
      if (r.message === undefined)
        throw new MoneroMultisigError(`participant ${i} has no message for round ${rounds + 1}`);
      return r.message;
    });
    results = await Promise.all(wallets.map((w, i) => multisigExchange(w, full, othersOf(messages, i))));
    rounds++;
  }
  const addresses = await Promise.all(wallets.map(async (w) => (await w.getAddress()).address));
  if (new Set(addresses).size !== 1 || addresses[0] === undefined) {
    throw new MoneroMultisigError("participants disagree on the multisig address", { addresses });
  }
  return { address: addresses[0], exchangeRounds: rounds };
}

// -- spending -----------------------------------------------------------------------------------

/** Spend step 1 (each participant): its multisig info (partial key images, nonces) for the others. */
export async function multisigExportInfo(wallet: WalletRpc): Promise<string> {
  return wallet.exportMultisigInfo();
}

/**
 * Spend step 2 (each signer): import the others' exports. At least M - 1 are needed; a fresh set
 * before every spend. Returns the number of outputs the wallet can now spend.
 */
export async function multisigImportInfo(
  wallet: WalletRpc,
  params: Pick<MultisigParams, "threshold" | "total">,
  othersInfos: readonly string[],
): Promise<number> {
  if (othersInfos.length < params.threshold - 1 || othersInfos.length > params.total - 1) {
    throw new MoneroMultisigError(
      `import_multisig_info needs ${params.threshold - 1}..${params.total - 1} others' exports, got ${othersInfos.length}`,
    );
  }
  checkPeerMessages("import_multisig_info", othersInfos, othersInfos.length, EXPORT_INFO_CHARS_MAX);
  return wallet.importMultisigInfo(othersInfos);
}

/** Spend step 3 (the first signer): builds the transaction and signs its share. One transaction. */
export async function multisigCreateTransfer(
  wallet: WalletRpc,
  destinations: readonly Destination[],
): Promise<{ txset: string; amount: bigint; fee: bigint; keyImages: string[] }> {
  if (destinations.length === 0) throw new MoneroMultisigError("a transfer needs at least one destination");
  const r = await wallet.transfer({ destinations });
  if (r.multisigTxset === undefined) {
    throw new MoneroMultisigError(
      `${wallet.url}: transfer returned no multisig_txset: is this a multisig wallet?`,
    );
  }
  return { txset: r.multisigTxset, amount: r.amount, fee: r.fee, keyImages: r.spentKeyImages };
}

/**
 * Before signing, a signer checks that the transaction set pays exactly `destinations` (same
 * addresses and amounts, in any order), sends any change back to `changeAddress`, and pays at most
 * `feeMax`. Returns the description; throws MoneroMultisigError on any difference.
 */
export async function multisigCheckTransfer(
  wallet: WalletRpc,
  txset: string,
  expected: { destinations: readonly Destination[]; changeAddress: string; feeMax: bigint },
): Promise<TransferDescription> {
  if (txset.length === 0 || txset.length > TXSET_CHARS_MAX) {
    throw new MoneroMultisigError(`transaction set of ${txset.length} characters (1..${TXSET_CHARS_MAX})`);
  }
  const descriptions = await wallet.describeTransfer({ multisigTxset: txset });
  const [d] = descriptions;
  if (d === undefined || descriptions.length !== 1) {
    throw new MoneroMultisigError(`expected one transaction in the set, found ${descriptions.length}`);
  }
  const key = (x: { address: string; amount: bigint }): string => `${x.address}:${x.amount}`;
  const want = expected.destinations.map(key).sort();
  const got = d.recipients.map(key).sort();
  if (want.length !== got.length || want.some((w, i) => w !== got[i])) {
    throw new MoneroMultisigError("the transaction does not pay what was agreed", { want, got });
  }
  if (d.changeAmount > 0n && d.changeAddress !== expected.changeAddress) {
    throw new MoneroMultisigError("the transaction sends change elsewhere", {
      changeAddress: d.changeAddress,
    });
  }
  if (d.fee > expected.feeMax) {
    throw new MoneroMultisigError(`fee ${d.fee} exceeds ${expected.feeMax}`, { fee: String(d.fee) });
  }
  return d;
}

/** Spend step 4 (each further signer, in turn): adds its signature. */
export async function multisigSign(
  wallet: WalletRpc,
  txset: string,
): Promise<{ txset: string; txids: string[] }> {
  if (txset.length === 0 || txset.length > TXSET_CHARS_MAX) {
    throw new MoneroMultisigError(`transaction set of ${txset.length} characters (1..${TXSET_CHARS_MAX})`);
  }
  const r = await wallet.signMultisig(txset);
  return { txset: r.txDataHex, txids: r.txids };
}

/** Spend step 5 (any participant, once M have signed): relays the transaction. */
export async function multisigSubmit(wallet: WalletRpc, txset: string): Promise<string[]> {
  const txids = await wallet.submitMultisig(txset);
  if (txids.length !== 1)
    throw new MoneroMultisigError(`expected one transaction, submitted ${txids.length}`);
  return txids;
}

/**
 * Runs a whole spend: refresh and export at every participant in `all`, import at each of the
 * `signers` (M of them, the first builds the transaction), check and sign in turn, submit at the
 * last. Returns the transaction id and fee.
 */
export async function spendMultisig(args: {
  all: readonly WalletRpc[];
  signers: readonly WalletRpc[];
  threshold: number;
  multisigAddress: string;
  destinations: readonly Destination[];
  feeMax: bigint;
}): Promise<{ txid: string; fee: bigint }> {
  const { all, signers, threshold } = args;
  const [creator, ...others] = signers;
  if (creator === undefined || signers.length !== threshold || signers.some((s) => !all.includes(s))) {
    throw new MoneroMultisigError(`a spend needs exactly ${threshold} signers among the participants`);
  }
  await Promise.all(all.map((w) => w.refresh()));
  const exports = await Promise.all(all.map((w) => multisigExportInfo(w)));
  await Promise.all(
    signers.map((w) =>
      multisigImportInfo(w, { threshold, total: all.length }, othersOf(exports, all.indexOf(w))),
    ),
  );
  const created = await multisigCreateTransfer(creator, args.destinations);
  let txset = created.txset;
  let txids: string[] = [];
  for (const signer of others) {
    await multisigCheckTransfer(signer, txset, {
      destinations: args.destinations,
      changeAddress: args.multisigAddress,
      feeMax: args.feeMax,
    });
    ({ txset, txids } = await multisigSign(signer, txset));
  }
  const last = others.at(-1) ?? creator;
  const submitted = await multisigSubmit(last, txset);
  const txid = submitted[0];
  if (txid === undefined || (txids.length > 0 && !txids.includes(txid))) {
    throw new MoneroMultisigError("submitted transaction id differs from the signed one", {
      txids,
      submitted,
    });
  }
  return { txid, fee: created.fee };
}
