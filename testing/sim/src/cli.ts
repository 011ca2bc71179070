// npm run sim -- [--seeds K [--from S] | --seed S] [--nodes N] [--byzantine B] [--quorum-delta D]
//                [--bug NAME]... [--safety-ms MS] [--jobs J] [--consensus-only] [--monero] [--monero-classic] [--monero-notes] [--monero-garbage] [--monero-deep-reorg] [--monero-deep-reorg-spent] [--monero-deep-reorg-detach] [--monero-deep-reorg-signing] [--evm] [--progress FILE] [--verbose]
// Runs the deterministic simulator over many seeds (or one), prints a line now and then, every
// violation with the command that replays it, and a summary. Exit code 1 on any violation. By
// default every run is the whole federation (processor, modules, wallets, money checkers; see
// federation/); --consensus-only runs the engines alone, as the simulator did before.
// Wall-clock time is read here only, to report the simulator's speed; never inside a run.
import { faultTolerance } from "./consensus.js";
import { federationApplication } from "./federation/app.js";
import { LIVENESS_BOUND_MS, nodesForSeed, replayCommand } from "./simulator.js";
import type { SimOptions, SimResult } from "./simulator.js";
import { USAGE, UsageError, modeFlags, parseSimArgs } from "./cli-args.js";
import type { CliArgs } from "./cli-args.js";
import { runParallel } from "./parallel.js";
import { cpuMsOf, runSeed } from "./run-seed.js";
import type { SimMode } from "./run-seed.js";
import { ProgressError, ProgressFile, currentCommit, emptyFigures, seedsDone } from "./progress.js";
import type { ProgressOptions, ProgressViolation } from "./progress.js";

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
    args = parseSimArgs(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`sim: ${e.message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
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
  const mode = args.mode;
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
      const app = mode === "consensus" ? {} : { application: federationApplication() };
      const replay = `${replayCommand({ ...options, ...app })}${modeFlags(mode)}`;
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

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  },
);
