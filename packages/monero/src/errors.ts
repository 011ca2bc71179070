// Typed errors for everything that can go wrong talking to monerod, monero-wallet-rpc and
// monero-wallet-cli. They extend the project's one error base so a guardian can log, map and report
// them like any other; `status` is what an HTTP API would answer if it passed one through (the
// Monero node is an upstream service of the guardian, hence 502/503/504).
import { ConclaveError } from "@conclave/core-common";

/** Base of every error this package throws. */
export class MoneroError extends ConclaveError {
  override readonly name: string = "MoneroError";
}

/**
 * monero-wallet-rpc error codes (src/wallet/wallet_rpc_server_error_codes.h, 0.18). monerod's
 * JSON-RPC uses its own small set (CORE_RPC_ERROR_CODE_*, -1 .. -19) plus the JSON-RPC ones.
 */
export const WalletRpcErrorCode = {
  UnknownError: -1,
  WrongAddress: -2,
  DaemonIsBusy: -3,
  GenericTransferError: -4,
  WrongPaymentId: -5,
  TransferType: -6,
  Denied: -7,
  WrongTxid: -8,
  WrongSignature: -9,
  WrongKeyImage: -10,
  WrongUri: -11,
  WrongIndex: -12,
  NotOpen: -13,
  AccountIndexOutOfBounds: -14,
  AddressIndexOutOfBounds: -15,
  TxNotPossible: -16,
  NotEnoughMoney: -17,
  TxTooLarge: -18,
  NotEnoughOutsToMix: -19,
  ZeroDestination: -20,
  WalletAlreadyExists: -21,
  InvalidPassword: -22,
  NoWalletDir: -23,
  NoTxKey: -24,
  WrongKey: -25,
  BadHex: -26,
  BadTxMetadata: -27,
  AlreadyMultisig: -28,
  WatchOnly: -29,
  BadMultisigInfo: -30,
  NotMultisig: -31,
  WrongLr: -32,
  ThresholdNotReached: -33,
  BadMultisigTxData: -34,
  MultisigSignature: -35,
  MultisigSubmission: -36,
  NotEnoughUnlockedMoney: -37,
  NoDaemonConnection: -38,
  BadUnsignedTxData: -39,
  BadSignedTxData: -40,
  SignedSubmission: -41,
  SignUnsigned: -42,
  NonDeterministic: -43,
  InvalidLogLevel: -44,
  AttributeNotFound: -45,
  ZeroAmount: -46,
  InvalidSignatureType: -47,
  Disabled: -48,
  ProxyAlreadyDefined: -49,
  Encrypt: -50,
  Decrypt: -51,
  // JSON-RPC 2.0
  MethodNotFound: -32601,
  InvalidParams: -32602,
} as const;
export type WalletRpcErrorCode = (typeof WalletRpcErrorCode)[keyof typeof WalletRpcErrorCode];

const CODE_NAMES = new Map<number, string>(Object.entries(WalletRpcErrorCode).map(([k, v]) => [v, k]));

/** What to do next, for the codes where the server's own message does not say. */
const HINTS = new Map<number, string>([
  [
    WalletRpcErrorCode.Disabled,
    "multisig is experimental in Monero 0.18 and disabled in this wallet: before make_multisig, " +
      "prepare_multisig with enable_multisig_experimental turns it on (multisigPrepare does); after it, close " +
      "the wallet in wallet-rpc, run enableMultisigExperimental() (monero-wallet-cli set " +
      "enable-multisig-experimental 1), open it again",
  ],
  [
    WalletRpcErrorCode.NotOpen,
    "no wallet is open in this monero-wallet-rpc: call openWallet or createWallet first",
  ],
  [
    WalletRpcErrorCode.TxNotPossible,
    "for a multisig wallet: export_multisig_info from the others and import it here before every spend",
  ],
  [
    WalletRpcErrorCode.MultisigSignature,
    "the multisig transaction was built on stale partial key images: run a fresh export/import round",
  ],
  [
    WalletRpcErrorCode.NotEnoughUnlockedMoney,
    "the funds are still locked (coinbase: 60 blocks, other outputs: 10 blocks)",
  ],
]);

/** The RPC server answered with a JSON-RPC error object. `rpcCode` is the server's code. */
export class MoneroRpcError extends MoneroError {
  override readonly name = "MoneroRpcError";
  readonly rpcCode: number;
  readonly rpcMessage: string;
  readonly method: string;
  readonly url: string;

  constructor(args: { url: string; method: string; rpcCode: number; rpcMessage: string }) {
    const codeName = CODE_NAMES.get(args.rpcCode);
    const hint = HINTS.get(args.rpcCode);
    super(
      "monero_rpc_error",
      `${args.method} failed: ${args.rpcMessage} (code ${args.rpcCode}${codeName === undefined ? "" : ` ${codeName}`})` +
        (hint === undefined ? "" : `; ${hint}`),
      { status: 502, details: { ...args, ...(codeName === undefined ? {} : { codeName }) } },
    );
    this.rpcCode = args.rpcCode;
    this.rpcMessage = args.rpcMessage;
    this.method = args.method;
    this.url = args.url;
  }

  /** True when `e` is an RPC error with this code (for example WalletRpcErrorCode.Disabled). */
  static hasCode(e: unknown, rpcCode: number): e is MoneroRpcError {
    return e instanceof MoneroRpcError && e.rpcCode === rpcCode;
  }
}

/** A monerod "other" endpoint (/get_transactions, /send_raw_transaction, ...) answered status != OK. */
export class MoneroStatusError extends MoneroError {
  override readonly name = "MoneroStatusError";
  readonly rpcStatus: string;
  readonly method: string;
  readonly reason: string | undefined;

  constructor(args: { url: string; method: string; rpcStatus: string; reason?: string; flags?: string[] }) {
    const why = args.reason !== undefined && args.reason !== "" ? `: ${args.reason}` : "";
    const flags = args.flags !== undefined && args.flags.length > 0 ? ` [${args.flags.join(", ")}]` : "";
    super("monero_status_error", `${args.method} failed with status "${args.rpcStatus}"${why}${flags}`, {
      status: 502,
      details: { ...args },
    });
    this.rpcStatus = args.rpcStatus;
    this.method = args.method;
    this.reason = args.reason;
  }
}

/** No answer within the time limit. The request may still take effect on the server. */
export class MoneroTimeoutError extends MoneroError {
  override readonly name = "MoneroTimeoutError";
  readonly timeoutMs: number;
  constructor(args: { url: string; method: string; timeoutMs: number }, cause?: unknown) {
    super(
      "monero_timeout",
      `${args.method} at ${args.url}: no answer within ${args.timeoutMs} ms (the call may still complete)`,
      { status: 504, details: { ...args }, cause },
    );
    this.timeoutMs = args.timeoutMs;
  }
}

/** The TCP/HTTP connection failed (refused, reset, DNS): is the process running on that port? */
export class MoneroConnectionError extends MoneroError {
  override readonly name = "MoneroConnectionError";
  readonly url: string;
  readonly errno: string | undefined;
  constructor(args: { url: string; method: string; errno?: string }, cause?: unknown) {
    super(
      "monero_connection_failed",
      `${args.method}: cannot reach ${args.url}${args.errno === undefined ? "" : ` (${args.errno})`}; is the Monero process running?`,
      { status: 503, details: { ...args }, cause },
    );
    this.url = args.url;
    this.errno = args.errno;
  }
}

/** The server answered, but not with what the protocol promises (HTTP error, not JSON, wrong shape). */
export class MoneroResponseError extends MoneroError {
  override readonly name = "MoneroResponseError";
  constructor(
    message: string,
    args: { url: string; method: string; httpStatus?: number; issues?: string[] },
    cause?: unknown,
  ) {
    super("monero_bad_response", `${args.method} at ${args.url}: ${message}`, {
      status: 502,
      details: { ...args },
      cause,
    });
  }
}

/** A Monero address that is malformed or for another network. */
export class MoneroAddressError extends MoneroError {
  override readonly name = "MoneroAddressError";
  constructor(message: string, details: Record<string, unknown> = {}) {
    super("invalid_monero_address", message, { status: 400, details });
  }
}

/** An amount out of range or not in XMR notation. */
export class MoneroAmountError extends MoneroError {
  override readonly name = "MoneroAmountError";
  constructor(message: string) {
    super("invalid_monero_amount", message, { status: 400 });
  }
}

/** The multisig protocol went off its rails (participants disagree, a round did not converge). */
export class MoneroMultisigError extends MoneroError {
  override readonly name = "MoneroMultisigError";
  constructor(message: string, details: Record<string, unknown> = {}) {
    super("monero_multisig_error", message, { status: 500, details });
  }
}

/** monero-wallet-cli failed or said "Error: ..." (it exits 0 on many errors). */
export class MoneroCliError extends MoneroError {
  override readonly name = "MoneroCliError";
  constructor(message: string, details: Record<string, unknown> = {}) {
    super("monero_cli_error", message, { status: 500, details });
  }
}
