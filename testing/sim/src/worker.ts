// A child process of the CLI (`--jobs`): runs the seeds it is sent and sends back their results.
// Runs are independent and deterministic, so how seeds are spread over processes changes nothing.
import { federationApplication } from "./federation/app.js";
import { runSimulation } from "./simulator.js";
import type { SimOptions, SimResult } from "./simulator.js";

export interface WorkerRequest {
  readonly options: Omit<SimOptions, "log" | "application">;
  /** Run the whole federation (processor, modules, wallets) on the engine; false: consensus only. */
  readonly federation: boolean;
}

export type WorkerReply =
  { readonly seed: number; readonly result: SimResult } | { readonly seed: number; readonly error: string };

function isRequest(m: unknown): m is WorkerRequest {
  if (typeof m !== "object" || m === null || !("options" in m)) return false;
  const o: unknown = m.options;
  return typeof o === "object" && o !== null && "seed" in o && typeof o.seed === "number";
}

process.on("message", (m: unknown) => {
  if (!isRequest(m)) return;
  let reply: WorkerReply;
  try {
    const options = m.federation ? { ...m.options, application: federationApplication() } : m.options;
    reply = { seed: m.options.seed, result: runSimulation(options) };
  } catch (e) {
    // An exception out of runSimulation is a bug in the simulator itself (the engine's are caught).
    reply = { seed: m.options.seed, error: e instanceof Error ? (e.stack ?? e.message) : String(e) };
  }
  process.send?.(reply);
});
process.on("disconnect", () => process.exit(0));
