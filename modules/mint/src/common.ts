// The e-cash mint (Fedimint's mint module, in Conclave's module contract).
//
// Notes are bearer tokens of fixed denominations 2^k base units. A client issues a note by
// blinding its nonce and submitting the blinded message as an output; each guardian answers with a
// blind signature share under its share of that denomination's threshold key; the client combines
// t shares and unblinds them into the federation's signature on the nonce. Spending a note is an
// input carrying the nonce and the signature.
//
// Nonce/key binding (Fedimint's design): the note nonce IS the note's Ed25519 spend public key. The
// federation signs the key itself, so whoever sees a note in flight (in a mempool-like proposal,
// in a log) cannot spend it into another transaction: the input names the key as its signer, and
// the transaction must carry that key's signature on its txid.
//
// Output payload:  denominationLog2 u8 | blinded message (48-byte compressed G1)
// Input payload:   denominationLog2 u8 | nonce = spend public key (32) | note signature (48, G1)
//
// Fee rule: an absolute fee per input note (`feePerInput` base units, Fedimint's `note_spend_abs`).
// Cashu's ceil(ppk * inputs / 1000) needs the transaction's input count, which the ServerModule
// contract does not give processInput (it sees one input, without the txid); a per-input absolute
// fee is exact, additive, and reported per input as the contract expects. Issuing is free.
import { Reader, Writer, fromHex } from "@conclave/core-common";
import { z } from "zod";

export const MINT_KIND = "mint";
export const BLINDED_MESSAGE_BYTES = 48;
export const NOTE_SIGNATURE_BYTES = 48;
export const SPEND_KEY_BYTES = 32;
/** Largest log2 denomination: 2^62 leaves headroom below the u64 amounts of the core. */
export const DENOMINATION_LOG2_MAX = 62;

export function denominationAmount(log2: number): bigint {
  return 1n << BigInt(log2);
}

export interface MintOutput {
  readonly denominationLog2: number;
  readonly blindedMessage: Uint8Array;
}

export interface MintInput {
  readonly denominationLog2: number;
  /** The note nonce, which is also the Ed25519 key that must sign the spending transaction. */
  readonly spendKey: Uint8Array;
  readonly signature: Uint8Array;
}

export function encodeMintOutput(o: MintOutput): Uint8Array {
  return new Writer().u8(o.denominationLog2).fixed(o.blindedMessage, BLINDED_MESSAGE_BYTES).finish();
}

export function decodeMintOutput(bytes: Uint8Array): MintOutput {
  const r = new Reader(bytes);
  const out = { denominationLog2: r.u8(), blindedMessage: r.fixed(BLINDED_MESSAGE_BYTES) };
  r.end();
  return out;
}

export function encodeMintInput(i: MintInput): Uint8Array {
  return new Writer()
    .u8(i.denominationLog2)
    .fixed(i.spendKey, SPEND_KEY_BYTES)
    .fixed(i.signature, NOTE_SIGNATURE_BYTES)
    .finish();
}

export function decodeMintInput(bytes: Uint8Array): MintInput {
  const r = new Reader(bytes);
  const out = {
    denominationLog2: r.u8(),
    spendKey: r.fixed(SPEND_KEY_BYTES),
    signature: r.fixed(NOTE_SIGNATURE_BYTES),
  };
  r.end();
  return out;
}

const hex = (bytes: number) =>
  z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), `${bytes} bytes as lowercase hex`);

/** One denomination's threshold key, from the ceremony: aggregate key and one share per guardian. */
export const denominationKeySchema = z.strictObject({
  publicKey: hex(96),
  publicKeyShares: z.array(hex(96)).min(1),
});

/** The mint's parameters, chosen before the ceremony (no keys yet). */
export const mintParamsSchema = z.strictObject({
  /** Strictly ascending exponents: denominations are 2^k base units. */
  denominationsLog2: z
    .array(z.number().int().min(0).max(DENOMINATION_LOG2_MAX))
    .min(1)
    .refine((a) => a.every((v, i) => i === 0 || v > a[i - 1]!), "denominations must be strictly ascending"),
  /** Fee per input note, in base units, as a decimal string. */
  feePerInput: z.string().regex(/^\d{1,20}$/, "an amount in base units, as a decimal string"),
  /** Most notes one transaction may issue (mint outputs). */
  notesPerTxMax: z.number().int().min(1).max(10_000),
});

/** The full config after the ceremony: `keys[i]` belongs to `denominationsLog2[i]`. */
export const mintConfigSchema = mintParamsSchema
  .extend({ keys: z.array(denominationKeySchema) })
  .refine((c) => c.keys.length === c.denominationsLog2.length, "one key per denomination")
  .refine(
    (c) => c.keys.every((k) => k.publicKeyShares.length === c.keys[0]!.publicKeyShares.length),
    "every denomination key has one share per guardian",
  );

export type MintConfigJson = z.infer<typeof mintConfigSchema>;

export interface DenominationKey {
  readonly publicKey: Uint8Array;
  readonly publicKeyShares: readonly Uint8Array[];
}

export interface MintConfig {
  readonly denominationsLog2: readonly number[];
  readonly feePerInput: bigint;
  readonly notesPerTxMax: number;
  /** Aligned with denominationsLog2. */
  readonly keys: readonly DenominationKey[];
}

/** The config of a parsed config entry (the guardian's factory and the client half read it alike). */
export function mintConfigOf(c: MintConfigJson): MintConfig {
  return {
    denominationsLog2: c.denominationsLog2,
    feePerInput: BigInt(c.feePerInput),
    notesPerTxMax: c.notesPerTxMax,
    keys: c.keys.map((k) => ({
      publicKey: fromHex(k.publicKey),
      publicKeyShares: k.publicKeyShares.map(fromHex),
    })),
  };
}
