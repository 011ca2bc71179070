// One seed in one of the simulator's three modes; shared by the CLI, its worker processes and the
// tests that spread seeds over processes (parallel.ts).
import { federationApplication } from "./federation/app.js";
import { MONERO_ITEM_BYTES_MAX } from "./federation/monero.js";
import { runSimulation, runSimulationAsync } from "./simulator.js";
import type { SimOptions, SimResult } from "./simulator.js";

/**
 * consensus: the engines alone; federation: the processor, dummy and mint modules, wallets and money
 * checkers on every honest guardian; monero: the federation plus the monero module on a simulated
 * Monero chain (its pollers await simulated nodes: the asynchronous loop); monero-classic: the same
 * without the Byzantine payout participants and the holder (seeds found before them replay exactly);
 * monero-garbage: monero plus a garbage last signer drawn for Byzantine guardians that are no
 * payout participant (monero.ts `garbage: "drawn"`);
 * monero-deep-reorg: monero plus reorgs deeper than the confirmation depth (a credited deposit
 * double-spent on a fork, a mined payout taken out of the chain: federation/monero-deep-reorg.ts);
 * monero-deep-reorg-spent: the same, the deposit taken one whose output a mined payout spent;
 * monero-deep-reorg-detach: monero plus a deep reorg that only detaches a payout's input's source
 * while the payout is in flight (censored, then released; federation/monero-deep-reorg.ts);
 * monero-deep-reorg-signing: the same, the deposit taken one whose output the batch in flight names
 * while it is being signed (no txid agreed yet);
 * monero-notes: monero plus XMR note users (subaddress deposits into e-cash notes, xmr-notes.ts);
 * monero-lying-node: monero-notes plus one honest guardian whose monerod and wallet-rpc lie, when
 * the Byzantine guardians leave room in f (federation/monero-liar.ts);
 * evm: the federation plus the bridge module on a simulated EVM chain (federation/bridge.ts);
 * evm-monero: both worlds in one run (burns paid in Monero, mints funded by XMR deposits);
 * evm-monero-refund: evm-monero plus users minting from a deposit with a Monero refund address (0x03)
 * who never use the mint or race a late use against the refund (federation/refund-users.ts);
 * evm-deep-reorg: evm-monero plus EVM reorgs deeper than the watchers' depth (a mint and an accepted
 * burn left out of a fork: federation/evm-deep-reorg.ts);
 * evm-deep-reorg-notes: evm-deep-reorg with the notes bridge users, the deep reorgs aimed at their
 * notes-funded mints and burns claimed into notes first.
 */
export type SimMode =
  | "consensus"
  | "federation"
  | "monero"
  | "monero-classic"
  | "monero-notes"
  | "monero-garbage"
  | "monero-deep-reorg"
  | "monero-deep-reorg-spent"
  | "monero-lying-node"
  | "monero-deep-reorg-detach"
  | "monero-deep-reorg-signing"
  | "evm"
  | "evm-monero"
  | "evm-monero-refund"
  | "evm-deep-reorg"
  | "evm-deep-reorg-notes"
  | "evm-lying-node";

export const SIM_MODES: readonly SimMode[] = [
  "consensus",
  "federation",
  "monero",
  "monero-classic",
  "monero-notes",
  "monero-garbage",
  "monero-deep-reorg",
  "monero-deep-reorg-spent",
  "monero-lying-node",
  "monero-deep-reorg-detach",
  "monero-deep-reorg-signing",
  "evm",
  "evm-monero",
  "evm-monero-refund",
  "evm-deep-reorg",
  "evm-deep-reorg-notes",
  "evm-lying-node",
];

/** Options a seed is sent with to another process (no functions). */
export type SeedOptions = Omit<SimOptions, "log" | "application">;

export async function runSeed(
  options: SeedOptions,
  mode: SimMode,
  log?: (line: string) => void,
): Promise<SimResult> {
  const withLog = log === undefined ? options : { ...options, log };
  if (mode === "consensus") return runSimulation(withLog);
  if (mode === "federation") return runSimulation({ ...withLog, application: federationApplication() });
  if (mode === "evm") {
    const r = await runSimulationAsync({ ...withLog, application: federationApplication({ evm: true }) });
    return { ...r, replay: `${r.replay} --evm` };
  }
  if (mode === "evm-lying-node") {
    const r = await runSimulationAsync({
      ...withLog,
      application: federationApplication({ evm: true, evmLyingNode: true }),
    });
    return { ...r, replay: `${r.replay} --evm-lying-node` };
  }
  if (mode === "evm-monero") {
    const r = await runSimulationAsync({
      ...withLog,
      itemBytesMax: MONERO_ITEM_BYTES_MAX,
      application: federationApplication({ evm: true, monero: true }),
    });
    return { ...r, replay: `${r.replay} --evm --monero` };
  }
  if (mode === "evm-monero-refund") {
    const r = await runSimulationAsync({
      ...withLog,
      itemBytesMax: MONERO_ITEM_BYTES_MAX,
      application: federationApplication({ evm: true, monero: true, evmRefundUsers: true }),
    });
    return { ...r, replay: `${r.replay} --evm-monero-refund` };
  }
  if (mode === "evm-deep-reorg" || mode === "evm-deep-reorg-notes") {
    const r = await runSimulationAsync({
      ...withLog,
      itemBytesMax: MONERO_ITEM_BYTES_MAX,
      application: federationApplication({
        evm: true,
        monero: true,
        evmDeepReorg: mode === "evm-deep-reorg-notes" ? "notes" : true,
      }),
    });
    return { ...r, replay: `${r.replay} --${mode}` };
  }
  const r = await runSimulationAsync({
    ...withLog,
    itemBytesMax: MONERO_ITEM_BYTES_MAX,
    application: federationApplication({
      monero: true,
      moneroClassic: mode === "monero-classic",
      moneroNotes: mode === "monero-notes" || mode === "monero-lying-node",
      ...(mode === "monero-lying-node" ? { moneroLyingNode: true } : {}),
      ...(mode === "monero-garbage" ? { moneroGarbage: "drawn" as const } : {}),
      ...(mode === "monero-deep-reorg" ? { moneroDeepReorg: true } : {}),
      ...(mode === "monero-deep-reorg-spent" ? { moneroDeepReorg: "spent" as const } : {}),
      ...(mode === "monero-deep-reorg-detach" ? { moneroDeepReorg: "detach" as const } : {}),
      ...(mode === "monero-deep-reorg-signing" ? { moneroDeepReorg: "signing" as const } : {}),
    }),
  });
  return { ...r, replay: `${r.replay} --${mode}` };
}

/** CPU time (user + system, ms) this process spent in `run`: the simulator's cost, whatever the load. */
export async function cpuMsOf<T>(run: () => Promise<T>): Promise<{ value: T; cpuMs: number }> {
  const before = process.cpuUsage();
  const value = await run();
  const used = process.cpuUsage(before);
  return { value, cpuMs: (used.user + used.system) / 1000 };
}
