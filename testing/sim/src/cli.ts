// npm run sim -- [--seeds K [--from S] | --seed S] [--nodes N] [--byzantine B] [--quorum-delta D]
//                [--bug NAME]... [--safety-ms MS] [--jobs J] [--consensus-only] [--monero] [--monero-classic] [--monero-notes] [--monero-garbage] [--monero-deep-reorg] [--monero-deep-reorg-spent] [--evm] [--progress FILE] [--verbose]
// Runs the deterministic simulator over many seeds (or one), prints a line now and then, every
// violation with the command that replays it, and a summary. Exit code 1 on any violation. By
// default every run is the whole federation (processor, modules, wallets, money checkers; see
// federation/); --consensus-only runs the engines alone, as the simulator did before.
// Wall-clock time is read here only, to report the simulator's speed; never inside a run.
import { availableParallelism } from "node:os";
import { faultTolerance } from "./consensus.js";
import { federationApplication } from "./federation/app.js";
import {
  LIVENESS_BOUND_MS,
  NODES_MAX,
  SIM_BUGS,
  NODES_MIN,
  SAFETY_MS_MAX,
  nodesForSeed,
  replayCommand,
} from "./simulator.js";
import type { SimBug, SimOptions, SimResult } from "./simulator.js";
import { runParallel } from "./parallel.js";
import { cpuMsOf, runSeed } from "./run-seed.js";
import type { SimMode } from "./run-seed.js";
import { ProgressError, ProgressFile, currentCommit, emptyFigures, seedsDone } from "./progress.js";
import type { ProgressOptions, ProgressViolation } from "./progress.js";

const USAGE = `usage: npm run sim -- [options]
  --seeds K         run K seeds (default 100), starting at --from (default 1)
  --from S          first seed of a --seeds run
  --seed S          run one seed (replays a failure)
  --nodes N         guardians per run (default: drawn per seed from ${NODES_MIN}..${NODES_MAX})
  --byzantine B     Byzantine guardians per run (default: f = floor((N-1)/3))
  --quorum-delta D  deliberate bug: engines use a quorum of t + D (the checkers must catch it)
  --bug NAME        deliberate bug in every engine, repeatable: ${SIM_BUGS.join(", ")}
  --safety-ms MS    length of the safety phase in simulated ms, up to ${SAFETY_MS_MAX} (default: drawn per seed)
  --jobs J          processes running seeds in parallel (default: one per CPU)
  --consensus-only  run the consensus engines alone (no processor, modules, wallets or money checkers)
  --monero          the federation with the monero module on a simulated Monero chain
  --monero-classic  --monero without the Byzantine payout participants and the holder (older seeds replay)
  --monero-notes    --monero with XMR note users: subaddress deposits into e-cash notes (xmr-notes.ts)
  --monero-garbage  --monero with a garbage last signer drawn for Byzantine guardians that are no payout participant
  --monero-deep-reorg  --monero with reorgs deeper than the confirmation depth: a credited deposit
                    double-spent on a fork, a mined payout taken out of the chain (monero-deep-reorg.ts)
  --monero-deep-reorg-spent  --monero-deep-reorg, the deposit taken one whose output a mined payout spent
  --evm             the federation with the bridge module on a simulated EVM chain; with --monero both:
                    mints funded by XMR deposits, burns to a Monero address paid from the multisig wallet
  --progress FILE   a long run in pieces: FILE records the commit, the options, the seed ranges done,
                    the violations and the figures; the same command with the same FILE continues
                    where it stopped (refused if the commit or the options differ; progress.ts)
  --evm-deep-reorg  --evm --monero with EVM reorgs deeper than the watchers' depth: a mint and an
                    accepted burn (paid in Monero if one is) left out of a fork (evm-deep-reorg.ts)
  --verbose         print every run and, for one seed, its fault timeline and full result`;

interface CliArgs {
  seeds: number;
  from: number;
  single: boolean;
  nodes?: number;
  byzantine?: number;
  quorumDelta?: number;
  bugs: SimBug[];
  safetyMs?: number;
  jobs: number;
  verbose: boolean;
  consensusOnly: boolean;
  monero: boolean;
  moneroClassic: boolean;
  moneroNotes: boolean;
  moneroGarbage: boolean;
  moneroDeepReorg: boolean;
  moneroDeepReorgSpent: boolean;
  evm: boolean;
  progress?: string;
  evmDeepReorg: boolean;
}

class UsageError extends Error {}

function parseArgs(argv: readonly string[]): CliArgs {
  const args: CliArgs = {
    seeds: 100,
    from: 1,
    single: false,
    jobs: availableParallelism(),
    verbose: false,
    consensusOnly: false,
    monero: false,
    moneroClassic: false,
    moneroNotes: false,
    moneroGarbage: false,
    moneroDeepReorg: false,
    moneroDeepReorgSpent: false,
    evm: false,
    evmDeepReorg: false,
    bugs: [],
  };
  const integer = (flag: string, value: string | undefined, min: number, max: number): number => {
    if (value === undefined || !/^-?\d+$/.test(value)) throw new UsageError(`${flag} needs an integer`);
    const v = Number(value);
    if (!Number.isSafeInteger(v) || v < min || v > max)
      throw new UsageError(`${flag} must be in ${min}..${max}`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    switch (flag) {
      case "--seeds":
        args.seeds = integer(flag, value, 1, 1e9);
        i++;
        break;
      case "--from":
        args.from = integer(flag, value, 0, Number.MAX_SAFE_INTEGER - 1e9);
        i++;
        break;
      case "--seed":
        args.from = integer(flag, value, 0, Number.MAX_SAFE_INTEGER);
        args.seeds = 1;
        args.single = true;
        i++;
        break;
      case "--nodes":
        args.nodes = integer(flag, value, NODES_MIN, 64);
        i++;
        break;
      case "--byzantine":
        args.byzantine = integer(flag, value, 0, 63);
        i++;
        break;
      case "--quorum-delta":
        args.quorumDelta = integer(flag, value, -64, 64);
        i++;
        break;
      case "--bug": {
        const bug = SIM_BUGS.find((b) => b === value);
        if (bug === undefined) throw new UsageError(`--bug needs one of ${SIM_BUGS.join(", ")}`);
        if (!args.bugs.includes(bug)) args.bugs.push(bug);
        i++;
        break;
      }
      case "--safety-ms":
        args.safetyMs = integer(flag, value, 0, SAFETY_MS_MAX);
        i++;
        break;
      case "--jobs":
        args.jobs = integer(flag, value, 1, 256);
        i++;
        break;
      case "--verbose":
        args.verbose = true;
        break;
      case "--consensus-only":
        args.consensusOnly = true;
        break;
      case "--monero-classic":
        args.moneroClassic = true;
        args.monero = true;
        break;
      case "--monero":
        args.monero = true;
        break;
      case "--monero-notes":
        args.monero = true;
        args.moneroNotes = true;
        break;
      case "--monero-garbage":
        args.monero = true;
        args.moneroGarbage = true;
        break;
      case "--monero-deep-reorg":
        args.monero = true;
        args.moneroDeepReorg = true;
        break;
      case "--monero-deep-reorg-spent":
        args.monero = true;
        args.moneroDeepReorg = true;
        args.moneroDeepReorgSpent = true;
        break;
      case "--evm":
        args.evm = true;
        break;
      case "--progress":
        if (value === undefined || value.startsWith("--")) throw new UsageError("--progress needs a file");
        args.progress = value;
        i++;
        break;
      case "--evm-deep-reorg":
        args.evm = true;
        args.monero = true;
        args.evmDeepReorg = true;
        break;
      case "--help":
      case "-h":
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        throw new UsageError(`unknown argument ${flag}`);
    }
  }
  if (args.evm && args.consensusOnly) {
    throw new UsageError("--evm runs the federation with the bridge: not with --consensus-only");
  }
  if (args.evm && (args.moneroClassic || args.moneroNotes || args.moneroGarbage || args.moneroDeepReorg)) {
    throw new UsageError("--evm goes with --monero only, not with another monero world (yet)");
  }
  if (args.progress !== undefined && args.single) {
    throw new UsageError("--progress is for --seeds runs, not --seed");
  }
  if (args.monero && args.consensusOnly) {
    throw new UsageError("--monero runs the federation: not with --consensus-only");
  }
  if (args.nodes !== undefined && args.byzantine !== undefined && args.byzantine >= args.nodes) {
    throw new UsageError("--byzantine must be below --nodes");
  }
  if (args.nodes === undefined && args.byzantine !== undefined && 3 * args.byzantine + 1 > NODES_MAX) {
    throw new UsageError(
      `--byzantine ${args.byzantine} needs --nodes (no N up to ${NODES_MAX} tolerates it)`,
    );
  }
  return args;
}

function optionsFor(seed: number, args: CliArgs): SimOptions {
  const nodes = args.nodes ?? nodesForSeed(seed, args.byzantine ?? 0);
  return {
    seed,
    nodes,
    byzantine: args.byzantine ?? faultTolerance(nodes),
    ...(args.quorumDelta !== undefined ? { quorumDelta: args.quorumDelta } : {}),
    ...(args.bugs.length > 0 ? { bugs: args.bugs } : {}),
    ...(args.safetyMs !== undefined ? { safetyMs: args.safetyMs } : {}),
  };
}

function summaryLine(r: SimResult): string {
  const converged =
    r.convergedAfterMs === null ? "never converged" : `converged ${r.convergedAfterMs} ms after heal`;
  return (
    `seed ${r.seed} n=${r.nodes} b=${r.byzantine} k=${r.heightsPerSession}: ${r.heights} heights, ` +
    `${r.rounds} rounds, ${r.items.submitted} items, ${r.faults.crashes} crashes, ` +
    `${r.faults.partitions} partitions, loss ${(r.faults.links.lossRate * 100).toFixed(0)}%, ${converged}` +
    (r.application["opsDone"] !== undefined
      ? `; federation: ${r.application["accepted"]} transactions accepted, ${r.application["opsDone"]} wallet operations, ` +
        `${r.application["notesIssued"]} notes issued, ${r.application["doubleSpends"]} double spends`
      : "") +
    (r.violations.length > 0 ? `, ${r.violations.length} VIOLATIONS` : "")
  );
}

async function main(): Promise<number> {
  let args: CliArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`sim: ${e.message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  if (
    args.nodes !== undefined &&
    args.byzantine !== undefined &&
    args.byzantine > faultTolerance(args.nodes)
  ) {
    console.log(
      `note: ${args.byzantine} Byzantine of ${args.nodes} is above f = ${faultTolerance(args.nodes)}: no guarantee holds`,
    );
  }
  // Many seeds: exceptions without stack traces (the workload's undecodable items throw thousands
  // per seed, and capturing each stack cost about 3% of a seed's CPU; nothing reads them). A
  // failing seed's replay (--seed S) keeps them.
  if (!args.single) Error.stackTraceLimit = 0;
  const every = args.verbose ? 1 : Math.max(1, Math.round(args.seeds / 20));
  const started = performance.now();
  let lastPrint = started;
  const mode = modeOf(args);
  let progress: ProgressFile | undefined;
  let stopHandler: ((signal: NodeJS.Signals) => void) | undefined;
  if (args.progress !== undefined) {
    try {
      progress = ProgressFile.open(args.progress, currentCommit(), progressOptions(args, mode));
    } catch (e) {
      if (e instanceof ProgressError) {
        console.error(`sim: refused: ${e.message}`);
        return 2;
      }
      throw e;
    }
  }
  // With --progress the figures go on from the pieces before (cpuMs and wallMs included).
  const totals = progress === undefined ? emptyFigures() : { ...progress.state.figures };
  const wallBefore = totals.wallMs;
  const pieceRuns = { runs: 0, cpuMs: 0 };
  const saveProgress = (): void => {
    totals.wallMs = wallBefore + (performance.now() - started);
    progress?.save(totals);
  };
  if (progress !== undefined) {
    console.log(
      `progress: ${args.progress} at commit ${progress.state.commit}, piece ${progress.state.pieces}: ` +
        `${progress.resumedSeeds} of ${args.seeds} seeds done before, ${progress.state.violations.length} failing`,
    );
    const stop = (signal: NodeJS.Signals): void => {
      saveProgress();
      console.log(
        `progress: stopped by ${signal}; ${seedsDone(progress.state.done)} seeds recorded in ${args.progress}`,
      );
      process.exit(signal === "SIGINT" ? 130 : 143);
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    stopHandler = stop;
  }

  const report = (options: SimOptions, r: SimResult | Error, index: number): void => {
    totals.runs++;
    pieceRuns.runs++;
    if (r instanceof Error) {
      totals.failing++;
      totals.violations++;
      console.log(
        `seed ${options.seed}: THE SIMULATOR THREW (a bug in the simulator, not the engine)\n${r.message}`,
      );
      const app = args.consensusOnly ? {} : { application: federationApplication() };
      const replay = `${replayCommand({ ...options, ...app })}${args.evmDeepReorg ? " --evm-deep-reorg" : args.evm && args.monero ? " --evm --monero" : args.monero ? (args.moneroClassic ? " --monero-classic" : args.moneroNotes ? " --monero-notes" : args.moneroGarbage ? " --monero-garbage" : args.moneroDeepReorgSpent ? " --monero-deep-reorg-spent" : args.moneroDeepReorg ? " --monero-deep-reorg" : " --monero") : args.evm ? " --evm" : ""}`;
      console.log(`  replay: ${replay}`);
      totals.wallMs = wallBefore + (performance.now() - started);
      progress?.record(options.seed, totals, {
        seed: options.seed,
        lines: [`THE SIMULATOR THREW: ${r.message}`],
        replay,
      });
      return;
    }
    totals.heights += r.heights;
    totals.rounds += r.rounds;
    totals.simulatedMs += r.simulatedMs;
    totals.worst = Math.max(totals.worst, r.convergedAfterMs ?? 0);
    totals.worstWaitHeights = Math.max(totals.worstWaitHeights, r.bounds.worstWaitHeights);
    totals.censorshipBound = Math.max(totals.censorshipBound, r.bounds.censorshipBoundHeights);
    totals.futureBytesPerPeer = Math.max(totals.futureBytesPerPeer, r.bounds.memoryPeak.futureBytesPerPeer);
    const now = performance.now();
    let violation: ProgressViolation | undefined;
    if (r.violations.length > 0) {
      totals.failing++;
      totals.violations += r.violations.length;
      console.log(summaryLine(r));
      for (const v of r.violations) console.log(`  VIOLATION ${v}`);
      console.log(`  replay: ${r.replay}`);
      violation = { seed: r.seed, lines: r.violations, replay: r.replay };
    } else if (args.single || (index + 1) % every === 0 || now - lastPrint > 10_000) {
      console.log(summaryLine(r));
      lastPrint = now;
    }
    totals.wallMs = wallBefore + (now - started);
    progress?.record(options.seed, totals, violation);
  };

  const requests = Array.from({ length: args.seeds }, (_, i) => optionsFor(args.from + i, args)).filter(
    (o) => progress === undefined || !progress.isDone(o.seed),
  );
  const jobs = Math.max(1, Math.min(args.jobs, requests.length));
  // One seed (a replay, with its log) runs here; more run in worker processes even with --jobs 1,
  // so that a worker whose heap grew is replaced (parallel.ts WORKER_HEAP_RECYCLE_BYTES).
  if (args.single) {
    for (const [i, options] of requests.entries()) {
      const log = args.single && args.verbose ? (line: string) => console.log(`  ${line}`) : undefined;
      const { value: r, cpuMs } = await cpuMsOf(() => runSeed(options, mode, log));
      totals.cpuMs += cpuMs;
      pieceRuns.cpuMs += cpuMs;
      report(options, r, i);
      if (args.single && args.verbose) console.log(JSON.stringify(r, null, 2));
      // A seed runs without yielding to the event loop: let a SIGINT or SIGTERM in between seeds.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } else {
    // Print in seed order, whatever order the workers finish in.
    const done = new Map<number, SimResult | Error>();
    let printed = 0;
    await runParallel(requests, mode, jobs, (options, r, cpuMs) => {
      totals.cpuMs += cpuMs;
      pieceRuns.cpuMs += cpuMs;
      done.set(options.seed, r);
      for (let o = requests[printed]; o !== undefined && done.has(o.seed); o = requests[printed]) {
        report(o, done.get(o.seed)!, printed);
        done.delete(o.seed);
        printed++;
      }
    });
  }
  saveProgress();
  if (stopHandler !== undefined) {
    process.off("SIGINT", stopHandler);
    process.off("SIGTERM", stopHandler);
  }

  const wallS = (performance.now() - started) / 1000;
  const last = args.from + args.seeds - 1;
  if (progress === undefined) {
    console.log(`seeds run: ${totals.runs} (${args.from}..${last}), ${jobs} jobs`);
  } else {
    console.log(
      `seeds run: ${totals.runs} of ${args.from}..${last} over ${progress.state.pieces} pieces ` +
        `(this piece ${pieceRuns.runs}, ${jobs} jobs; ranges done ${progress.state.done.map(([a, b]) => `${a}..${b}`).join(", ") || "none"})`,
    );
    for (const v of progress.state.violations) console.log(`  failing seed ${v.seed}: ${v.replay}`);
  }
  console.log(`violations: ${totals.violations} in ${totals.failing} seeds`);
  console.log(
    `simulated heights: ${totals.heights}, simulated rounds: ${totals.rounds}, ` +
      `simulated time: ${(totals.simulatedMs / 1000).toFixed(0)} s, ` +
      `worst convergence after heal: ${totals.worst} ms (bound ${LIVENESS_BOUND_MS} ms)`,
  );
  console.log(
    `heights per seed: ${(totals.heights / Math.max(1, totals.runs)).toFixed(1)}, ` +
      `worst censorship wait: ${totals.worstWaitHeights} heights (bound ${totals.censorshipBound}), ` +
      `largest future buffer of one peer: ${totals.futureBytesPerPeer} bytes`,
  );
  console.log(
    `speed: ${(pieceRuns.runs / wallS).toFixed(2)} seeds/s, ` +
      `${(totals.rounds / (totals.wallMs / 1000)).toFixed(0)} simulated rounds per wall-clock second, ` +
      `${(totals.simulatedMs / totals.wallMs).toFixed(1)} simulated s per wall-clock second, ` +
      `${(totals.heights / Math.max(1, totals.runs)).toFixed(1)} heights per seed`,
  );
  console.log(
    `wall time: ${(totals.wallMs / 1000).toFixed(1)} s; CPU time in the runs: ${(totals.cpuMs / 1000).toFixed(1)} s, ` +
      `${(totals.cpuMs / Math.max(1, totals.runs)).toFixed(0)} ms per seed, ` +
      `${(totals.simulatedMs / Math.max(1, totals.cpuMs)).toFixed(1)} simulated s per CPU s`,
  );
  return totals.failing > 0 ? 1 : 0;
}

/** What decides every seed's run, for --progress (never --jobs or --verbose: they change nothing). */
function progressOptions(args: CliArgs, mode: SimMode): ProgressOptions {
  return {
    mode,
    from: args.from,
    seeds: args.seeds,
    nodes: args.nodes ?? null,
    byzantine: args.byzantine ?? null,
    quorumDelta: args.quorumDelta ?? null,
    bugs: [...args.bugs],
    safetyMs: args.safetyMs ?? null,
  };
}

function modeOf(args: CliArgs): SimMode {
  if (args.evmDeepReorg) return "evm-deep-reorg";
  return args.evm && args.monero
    ? "evm-monero"
    : args.moneroClassic
      ? "monero-classic"
      : args.moneroNotes
        ? "monero-notes"
        : args.moneroGarbage
          ? "monero-garbage"
          : args.moneroDeepReorgSpent
            ? "monero-deep-reorg-spent"
            : args.moneroDeepReorg
              ? "monero-deep-reorg"
              : args.monero
                ? "monero"
                : args.evm
                  ? "evm"
                  : args.consensusOnly
                    ? "consensus"
                    : "federation";
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  },
);
