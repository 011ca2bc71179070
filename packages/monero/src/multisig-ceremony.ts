// The Monero multisig setup as a module exchange of the key ceremony (core-server's
// setup/exchange.ts): each guardian drives its own monero-wallet-rpc through the setup steps of
// multisig.ts, and the ceremony carries the messages between guardians over its TLS links.
//
//   round 0: open the wallet, check it is not multisig yet, prepare_multisig with
//            enable_multisig_experimental (0.18 refuses exchange_multisig_keys otherwise: -48) -> message 0
//   round 0 complete: prepare_multisig's flag again (a wallet-rpc or guardian restarted since round 0
//            reopened the wallet from its file, without the setting), make_multisig(t, others'
//            messages 0), which writes the setting into the keys file -> message 1
//   round r >= 1 complete: exchange_multisig_keys(others' messages r) -> message r + 1, until
//            is_multisig says ready (N - M + 1 exchange rounds): the result { address, guardians }
//
// The threshold is the federation's t = N - f. The ceremony records each message before sending it
// and never repeats a finished call; a call interrupted by a restart is repeated with `retry`, and
// then the wallet's own state decides (is_multisig): make_multisig that already ran cannot be done
// again (its message is lost with the process: the wallet must be replaced, said plainly), a final
// exchange that already ran is not repeated (the address is read back), prepare is harmless.
//
// This file does not import core-server (packages/monero stays a leaf library): the object below
// matches core-server's ModuleExchange interface structurally.
import { isAbsolute } from "node:path";
import { z } from "zod";
import { parseAddress } from "./address.js";
import type { MoneroNetwork } from "./address.js";
import { MoneroMultisigError } from "./errors.js";
import {
  KEX_MESSAGE_CHARS_MAX,
  multisigExchange,
  multisigExchangeRounds,
  multisigMake,
  multisigPrepare,
  othersOf,
} from "./multisig.js";
import type { KexStepResult, MultisigParams } from "./multisig.js";
import { WalletRpc } from "./wallet-rpc.js";

/** This guardian's settings for the ceremony (`setup run --local FILE`, under the module's instance id). */
export const moneroSetupLocalSchema = z.strictObject({
  /** This guardian's own monero-wallet-rpc (http://127.0.0.1:port; no RPC login yet). */
  walletRpcUrl: z.url({ protocol: /^https?$/ }),
  /** A fresh wallet in that wallet-rpc's --wallet-dir: it becomes the guardian's multisig wallet. */
  walletName: z
    .string()
    .min(1)
    .max(255)
    .regex(/^[^/\\\0]+$/, "a file name inside the wallet directory, without a path"),
  walletPassword: z
    .string()
    .max(1024)
    .regex(/^[^\r\n]*$/, "no line breaks (monero-wallet-cli reads it from stdin)"),
  /**
   * Accepted and not used any more: the wallet-rpc's --wallet-dir, where monero-wallet-cli used to
   * open the wallet file to set enable-multisig-experimental (prepare_multisig's flag does it now).
   * Kept so that local files written for earlier versions still load.
   */
  walletDir: z.string().min(1).refine(isAbsolute, "an absolute path").optional(),
  /** Accepted and not used any more (see walletDir). */
  walletCliPath: z.string().min(1).optional(),
});
export type MoneroSetupLocal = z.output<typeof moneroSetupLocalSchema>;

/** What the exchange reads of the module's config (the module owns the rest of its schema). */
const configSchema = z.looseObject({ network: z.enum(["mainnet", "stagenet", "testnet"]) });

/** A multisig message: Monero's "Multisig" prefix (then a version tag and base58), bounded. */
const KEX_MESSAGE_PATTERN = /^Multisig[0-9A-Za-z]+$/;

/** What the ceremony passes each call (a structural subset of core-server's ModuleExchangeContext). */
export interface MultisigCeremonyContext {
  readonly config: Readonly<Record<string, unknown>>;
  readonly local: Readonly<Record<string, unknown>> | undefined;
  readonly self: number;
  readonly guardians: number;
  readonly threshold: number;
  readonly retry: boolean;
  readonly log: (event: string, fields: Record<string, unknown>) => void;
}

export type MultisigCeremonyStep =
  { readonly message: string } | { readonly result: { address: string; guardians: number } };

export interface MoneroMultisigExchange {
  readonly messageBytesMax: number;
  start(ctx: MultisigCeremonyContext): Promise<string>;
  step(
    ctx: MultisigCeremonyContext,
    round: number,
    messages: readonly string[],
  ): Promise<MultisigCeremonyStep>;
  checkMessage(round: number, message: string): string | undefined;
}

export function parseMoneroSetupLocal(local: unknown, instanceId?: number): MoneroSetupLocal {
  if (local === undefined) {
    throw new MoneroMultisigError(
      `the Monero module${instanceId === undefined ? "" : ` (instance ${instanceId})`} needs this guardian's wallet: ` +
        `give "setup run" --local FILE with {"modules": {"<instance id>": {walletRpcUrl, walletName, walletPassword}}}`,
    );
  }
  const parsed = moneroSetupLocalSchema.safeParse(local);
  if (!parsed.success) {
    throw new MoneroMultisigError(
      `the Monero module's local settings are invalid: ${parsed.error.issues
        .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`)
        .join("; ")}`,
    );
  }
  return parsed.data;
}

function networkOf(config: Readonly<Record<string, unknown>>): MoneroNetwork {
  const parsed = configSchema.safeParse(config);
  if (!parsed.success) {
    throw new MoneroMultisigError('the Monero module config needs "network": mainnet, stagenet or testnet');
  }
  return parsed.data.network;
}

/** The ceremony step that turns every guardian's fresh wallet into one t-of-N multisig wallet. */
export function moneroMultisigExchange(): MoneroMultisigExchange {
  // Wallets opened by this process: after a restart the wallet-rpc may have another wallet open (or
  // none), so the first call of a process opens ours; later calls trust it (an open costs seconds).
  const opened = new Set<string>();

  const connect = (
    ctx: MultisigCeremonyContext,
  ): { wallet: WalletRpc; local: MoneroSetupLocal; key: string } => {
    const local = parseMoneroSetupLocal(ctx.local);
    return {
      wallet: new WalletRpc(local.walletRpcUrl),
      local,
      key: `${local.walletRpcUrl}|${local.walletName}`,
    };
  };

  const ensureOpen = async (wallet: WalletRpc, local: MoneroSetupLocal, key: string): Promise<void> => {
    if (opened.has(key)) return;
    await wallet.openWallet({ filename: local.walletName, password: local.walletPassword });
    opened.add(key);
  };

  const paramsOf = (ctx: MultisigCeremonyContext, local: MoneroSetupLocal): MultisigParams => ({
    threshold: ctx.threshold,
    total: ctx.guardians,
    password: local.walletPassword,
  });

  const finalResult = async (
    ctx: MultisigCeremonyContext,
    wallet: WalletRpc,
  ): Promise<{ result: { address: string; guardians: number } }> => {
    const status = await wallet.isMultisig();
    if (!status.ready || status.threshold !== ctx.threshold || status.total !== ctx.guardians) {
      throw new MoneroMultisigError(
        `${wallet.url}: the wallet is ${status.ready ? "" : "not ready, "}${status.threshold}-of-${status.total}; expected a ready ${ctx.threshold}-of-${ctx.guardians} multisig wallet`,
      );
    }
    const { address } = await wallet.getAddress();
    parseAddress(address, networkOf(ctx.config), ["standard"]); // throws MoneroAddressError
    ctx.log("monero.multisig-ready", { address, threshold: ctx.threshold, guardians: ctx.guardians });
    return { result: { address, guardians: ctx.guardians } };
  };

  return {
    messageBytesMax: KEX_MESSAGE_CHARS_MAX,

    async start(ctx) {
      networkOf(ctx.config);
      multisigExchangeRounds(ctx.threshold, ctx.guardians); // refuses an unsupported t-of-N early
      const { wallet, local, key } = connect(ctx);
      await ensureOpen(wallet, local, key);
      // Refuses a wallet that is already multisig: the ceremony needs a fresh one per guardian.
      // prepare_multisig's flag turns on enable-multisig-experimental: no monero-wallet-cli run and
      // no close and reopen, each of which cost a 4096-bit RSA key (docs/monero.md "Traps").
      ctx.log("monero.enable-multisig-experimental", { wallet: local.walletName });
      return multisigPrepare(wallet);
    },

    async step(ctx, round, messages) {
      const { wallet, local, key } = connect(ctx);
      if (messages.length !== ctx.guardians) {
        throw new MoneroMultisigError(
          `round ${round}: ${messages.length} messages for ${ctx.guardians} guardians`,
        );
      }
      const exchangeRounds = multisigExchangeRounds(ctx.threshold, ctx.guardians);
      if (round > exchangeRounds) {
        throw new MoneroMultisigError(
          `no multisig step after round ${round} (make + ${exchangeRounds} exchanges)`,
        );
      }
      await ensureOpen(wallet, local, key);
      const others = othersOf(messages, ctx.self);
      let r: KexStepResult;
      if (round === 0) {
        const status = await wallet.isMultisig();
        if (status.multisig) {
          throw new MoneroMultisigError(
            `${wallet.url}: make_multisig already ran in wallet "${local.walletName}"${ctx.retry ? " (this guardian stopped in the middle of it)" : ""}, ` +
              `and its message was not recorded; it cannot be run again: replace the wallet with a fresh one and start the ceremony over`,
          );
        }
        // The setting lives in memory until make_multisig writes the keys file: set it again in case
        // this wallet was reopened since round 0 (one cheap call; prepare changes nothing else).
        await wallet.prepareMultisig({ enableMultisigExperimental: true });
        r = await multisigMake(wallet, paramsOf(ctx, local), others);
      } else {
        // The last exchange of an interrupted run may have happened: the wallet then says ready.
        if (ctx.retry && (await wallet.isMultisig()).ready) return finalResult(ctx, wallet);
        r = await multisigExchange(wallet, paramsOf(ctx, local), others);
      }
      if (r.ready) return finalResult(ctx, wallet);
      if (r.message === undefined || r.message.length === 0) {
        throw new MoneroMultisigError(
          `${wallet.url}: not ready after round ${round} but no message for the next`,
        );
      }
      return { message: r.message };
    },

    checkMessage(_round, message) {
      if (message.length > KEX_MESSAGE_CHARS_MAX) {
        return `${message.length} characters (at most ${KEX_MESSAGE_CHARS_MAX})`;
      }
      if (!KEX_MESSAGE_PATTERN.test(message)) return 'not a Monero multisig message ("Multisig" then base58)';
      return undefined;
    },
  };
}
