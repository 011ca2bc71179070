// The simulated wallets' multisig messages: export infos and transaction sets. Real ones are
// encrypted wallet2 archives; here they are hex of a prefix and JSON (zod-checked on the way in),
// so that a Byzantine guardian in the simulator can read, alter or forge them like bytes, and a
// wallet refuses what does not parse as wallet-rpc does (-30, -34).
import { createHash } from "node:crypto";
import { z } from "zod";

const sha = (s: string): string => createHash("sha256").update(s).digest("hex");
export const hexOf = (s: string): string => Buffer.from(s, "utf8").toString("hex");
const textOf = (hex: string): string | undefined =>
  /^([0-9a-f]{2})*$/.test(hex) ? Buffer.from(hex, "hex").toString("utf8") : undefined;

const EXPORT_PREFIX = "simexport1";
const SET_PREFIX = "simset1";

const digits = z.string().regex(/^[0-9]+$/);
const index = z.number().int().min(0);

const exportSchema = z.strictObject({
  g: index,
  epoch: index,
  /** Key images (short form) of the outputs the exporter held: its partial key images. */
  outs: z.array(z.string()),
});
export type ExportInfo = z.infer<typeof exportSchema>;

const setSchema = z.strictObject({
  creator: index,
  /** Each participant the set can be signed by, with the export epoch its nonces come from. */
  epochs: z.array(z.tuple([index, index])),
  keyImages: z.array(z.string()).min(1),
  amountIn: digits,
  destinations: z.array(z.strictObject({ address: z.string(), amount: digits })),
  change: digits,
  fee: digits,
  /** The tx secret key: in monero 0.18 it sits inside the multisig set (MEASURED.md). */
  txKey: z.string(),
  txPublicKey: z.string(),
  /** (guardian, signature) in signing order. */
  sigs: z.array(z.tuple([index, z.string()])),
});
/** A multisig transaction set, as the simulated wallets write it. */
export type SetBody = z.infer<typeof setSchema>;

function decode<T>(hex: string, prefix: string, schema: z.ZodType<T>): T | undefined {
  const text = textOf(hex);
  if (!text?.startsWith(prefix)) return undefined;
  try {
    const r = schema.safeParse(JSON.parse(text.slice(prefix.length)));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

export function encodeExport(e: ExportInfo): string {
  return hexOf(EXPORT_PREFIX + JSON.stringify(e));
}

export function decodeExport(hex: string): ExportInfo | undefined {
  return decode(hex, EXPORT_PREFIX, exportSchema);
}

export function encodeSet(body: SetBody): string {
  return hexOf(SET_PREFIX + JSON.stringify(body));
}

export function decodeSet(hex: string): SetBody | undefined {
  return decode(hex, SET_PREFIX, setSchema);
}

/** A set's transaction without its signatures: what every completion of it shares. */
export function setCore(body: SetBody): string {
  return sha(JSON.stringify({ ...body, sigs: [] }));
}

/** The short form of a key image that exports carry. */
export const shortKeyImage = (keyImage: string): string => keyImage.slice(0, 16);
