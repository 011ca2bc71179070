// The commands of the client halves this wallet is built with, for a command-line front end
// (apps/cli builds its command table and help from these; docs/client-architecture.md). Each half
// declares what its commands need of the wallet; the Wallet facade (WalletApi) provides all of it.
import type { ClientCommand } from "@conclave/core-client";
import { dummyCommands } from "@conclave/module-dummy/client";
import { mintCommands } from "@conclave/module-mint/client";
import { moneroCommands } from "@conclave/module-monero/client";
import type { WalletApi } from "./types.js";

export type {
  ClientCommand,
  CommandContext,
  CommandEvent,
  CommandInput,
  CommandInputNames,
  CommandOptionSpec,
  CommandParsers,
  CommandSpec,
  CommandValues,
} from "@conclave/core-client";
export { CommandUsageError, clientCommand } from "@conclave/core-client";

/** A command that runs against the wallet facade. */
export type WalletCommand = ClientCommand<WalletApi>;

/** The built-in halves' commands, in the order of `walletFactories`' halves (dummy, mint, monero). */
export const walletCommands: readonly WalletCommand[] = [
  ...dummyCommands,
  ...mintCommands,
  ...moneroCommands,
];
