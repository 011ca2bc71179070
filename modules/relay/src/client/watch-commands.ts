// The relay half's `watch` command for a command-line front end (apps/cli): wait for a state over
// WebSocket watches at the guardians the watch is spread to, printing every update as progress.
//   conclave watch tx <txid>            until the transaction is accepted or rejected
//   conclave watch <kind> <key> --first until the first state any guardian knows
import { CommandUsageError, clientCommand } from "@conclave/core-client";
import type { ProgressEvent } from "@conclave/core-client";
import { WatchKeySchema, WatchKindSchema } from "../watch-common.js";
import type { WatchTarget } from "../watch-common.js";
import type { WatchClient, WatchUpdate } from "./watch.js";

export interface WatchOptions {
  /** Guardians per watch (default 1). */
  readonly copies?: number;
  /** Ends the watch at the first update this accepts (default: a final transaction state, else any). */
  readonly done?: (u: WatchUpdate) => boolean;
}

/** What the watch command needs of the wallet (WalletApi provides it). */
export interface WatchCommandApi {
  watchUntil(
    target: WatchTarget,
    options: WatchOptions,
    onUpdate: (u: WatchUpdate) => void,
  ): Promise<WatchUpdate>;
}

/** A transaction's final states; for other kinds any state ends a default watch. */
export function isFinal(u: WatchUpdate): boolean {
  if (u.target.kind !== "tx") return true;
  return u.state["state"] === "accepted" || u.state["state"] === "rejected";
}

/** watchUntil on a WatchClient (the wallet's, or one made for guardians' URLs). */
export function watchUntilWith(
  client: WatchClient,
  target: WatchTarget,
  options: WatchOptions,
  onUpdate: (u: WatchUpdate) => void,
): Promise<WatchUpdate> {
  return client.until(target, options.done ?? isFinal, onUpdate);
}

export type WatchProgress = ProgressEvent<{
  readonly guardian: number;
  readonly kind: string;
  readonly key: string;
  readonly state: Readonly<Record<string, unknown>>;
}>;

export const relayWatchCommands = [
  clientCommand({
    name: "watch",
    args: ["kind", "key"],
    options: {
      first: {
        type: "boolean",
        help: "end at the first state a guardian reports (default for tx: a final state)",
      },
      copies: {
        type: "string",
        value: "n",
        help: "guardians to watch at (default 1: no guardian sees all you watch)",
      },
    },
    summary: "wait for a state: a transaction's outcome (tx TXID), printing every change",
    details: [
      "Watches KIND KEY over WebSocket at the guardian(s) the watch is spread to: the state now first,",
      "then every change; reconnects and watches again if the connection drops. Kinds: tx (a",
      "federation transaction id: ends when it is accepted or rejected). Ctrl-C stops waiting.",
    ],
    examples: ["conclave watch tx 3f1a...", "conclave watch tx 3f1a... --first --copies 2"],
    movesNotes: false,
    parse(positionals, values, parsers) {
      const kind = WatchKindSchema.safeParse(positionals[0]);
      if (!kind.success) throw new CommandUsageError(`KIND: ${kind.error.issues[0]?.message ?? "invalid"}`);
      const key = WatchKeySchema.safeParse(positionals[1]);
      if (!key.success) throw new CommandUsageError(`KEY: ${key.error.issues[0]?.message ?? "invalid"}`);
      if (kind.data === "tx" && !/^[0-9a-f]{64}$/.test(key.data))
        throw new CommandUsageError("KEY of a tx watch is a transaction id: 64 lowercase hex digits");
      const copies = typeof values["copies"] === "string" ? parsers.count(values["copies"]) : 1;
      return { target: { kind: kind.data, key: key.data }, first: values["first"] === true, copies };
    },
    async run(api: WatchCommandApi, args, context: { emit(e: WatchProgress): void }) {
      const u = await api.watchUntil(
        args.target,
        { copies: args.copies, ...(args.first ? { done: () => true } : {}) },
        (update) =>
          context.emit({
            type: "progress",
            value: {
              guardian: update.guardian,
              kind: update.target.kind,
              key: update.target.key,
              state: update.state,
            },
          }),
      );
      return { guardian: u.guardian, kind: u.target.kind, key: u.target.key, state: u.state };
    },
  }),
] as const;
