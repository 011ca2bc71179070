// The commands of the client halves this wallet is built with, for a command-line front end
// (apps/cli builds its command table and help from these; docs/client-architecture.md). Each half
// declares what its commands need of the wallet; the Wallet facade (WalletApi) provides all of it.
import type { ClientCommand } from "@conclave/core-client";
import { bridgeCommands } from "@conclave/module-bridge/client";
import { dummyCommands } from "@conclave/module-dummy/client";
import { mintCommands } from "@conclave/module-mint/client";
import { moneroCommands } from "@conclave/module-monero/client";
import { relayCommands } from "@conclave/module-relay/client";
import { relayWatchCommands } from "@conclave/module-relay/client";
import type { WalletApi } from "./types.js";

export type {
  ClientCommand,
  CommandArgs,
  CommandContext,
  CommandEvent,
  CommandEventOf,
  CommandInput,
  CommandInputNames,
  CommandOptionSpec,
  CommandParsers,
  CommandResult,
  CommandSpec,
  CommandValues,
  ProgressEvent,
} from "@conclave/core-client";
export { CommandUsageError, clientCommand } from "@conclave/core-client";

/** A command that runs against the wallet facade. */
export type WalletCommand = ClientCommand<WalletApi>;

/**
 * The built-in halves' commands (dummy, mint, monero, bridge, relay with its watch), each with its own types (a tuple: a front end
 * can type its rendering of each command by name).
 */
export const walletCommands = [
  ...dummyCommands,
  ...mintCommands,
  ...moneroCommands,
  ...bridgeCommands,
  ...relayCommands,
  ...relayWatchCommands,
] as const satisfies readonly WalletCommand[];
