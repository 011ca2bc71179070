// A long run in pieces (`npm run sim -- ... --progress FILE`): the file records the commit the run
// is at, the options that decide what each seed does, the seed ranges done, every violation (with
// its replay command) and the running figures. A rerun with the same FILE skips the seeds done and
// adds to the figures; it refuses if the commit or the options differ, so that every seed of the
// run was judged by one simulator. The file is rewritten atomically (a temporary file renamed over
// it), at most once a second and when the run stops (end, SIGINT, SIGTERM): a stop loses at most
// the seeds of the last second, which the rerun runs again (a seed is a function of its options).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { z } from "zod";

export const PROGRESS_VERSION = 1;

/** The figures the CLI sums over seeds; cpuMs and wallMs over every piece of the run. */
export interface ProgressFigures {
  runs: number;
  failing: number;
  violations: number;
  heights: number;
  rounds: number;
  simulatedMs: number;
  worst: number;
  worstWaitHeights: number;
  censorshipBound: number;
  futureBytesPerPeer: number;
  cpuMs: number;
  wallMs: number;
}

export function emptyFigures(): ProgressFigures {
  return {
    runs: 0,
    failing: 0,
    violations: 0,
    heights: 0,
    rounds: 0,
    simulatedMs: 0,
    worst: 0,
    worstWaitHeights: 0,
    censorshipBound: 0,
    futureBytesPerPeer: 0,
    cpuMs: 0,
    wallMs: 0,
  };
}

/** A failing seed as the CLI printed it: its violation lines and the command that replays it. */
export interface ProgressViolation {
  readonly seed: number;
  readonly lines: readonly string[];
  readonly replay: string;
}

/** What decides the seeds' runs (a JSON object of the CLI's options; never --jobs or --verbose). */
export type ProgressOptions = Readonly<Record<string, string | number | boolean | readonly string[] | null>>;

export interface ProgressState {
  readonly version: number;
  readonly commit: string;
  readonly options: ProgressOptions;
  /** Disjoint, sorted, inclusive seed ranges [first, last] that were run and counted. */
  done: [number, number][];
  violations: ProgressViolation[];
  figures: ProgressFigures;
  /** How many times the run was started with this file (1 for a run in one piece). */
  pieces: number;
}

const figuresSchema = z.object({
  runs: z.number(),
  failing: z.number(),
  violations: z.number(),
  heights: z.number(),
  rounds: z.number(),
  simulatedMs: z.number(),
  worst: z.number(),
  worstWaitHeights: z.number(),
  censorshipBound: z.number(),
  futureBytesPerPeer: z.number(),
  cpuMs: z.number(),
  wallMs: z.number(),
});

const stateSchema = z.object({
  version: z.literal(PROGRESS_VERSION),
  commit: z.string(),
  options: z.record(
    z.string(),
    z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.string())]),
  ),
  done: z.array(z.tuple([z.number().int(), z.number().int()])),
  violations: z.array(z.object({ seed: z.number().int(), lines: z.array(z.string()), replay: z.string() })),
  figures: figuresSchema,
  pieces: z.number().int(),
});

export class ProgressError extends Error {}

/**
 * The commit the simulator runs at: `git rev-parse HEAD`, with "+dirty" when tracked files other
 * than Markdown differ from it (the run then depends on uncommitted changes, so a resume at another
 * state of them cannot be told apart; run long runs at a clean commit). Edited Markdown (the figures
 * of the run going into docs/) changes no seed. "unknown" outside a git checkout.
 */
export function currentCommit(cwd: string = process.cwd()): string {
  try {
    const head = execFileSync("git", ["rev-parse", "HEAD"], { cwd, encoding: "utf8" }).trim();
    const dirty = execFileSync(
      "git",
      ["status", "--porcelain", "--untracked-files=no", "--", ":/", ":(top,exclude,glob)**/*.md"],
      { cwd, encoding: "utf8" },
    ).trim();
    return dirty === "" ? head : `${head}+dirty`;
  } catch {
    return "unknown";
  }
}

function sameOptions(a: ProgressOptions, b: ProgressOptions): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

function sortKeys(o: ProgressOptions): ProgressOptions {
  return Object.fromEntries(Object.entries(o).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
}

/** Adds seed s to sorted disjoint ranges, merging neighbours. */
export function addSeed(ranges: [number, number][], s: number): void {
  let i = 0;
  while (i < ranges.length && ranges[i]![1] < s - 1) i++;
  const r = ranges[i];
  if (r === undefined || r[0] > s + 1) {
    ranges.splice(i, 0, [s, s]);
    return;
  }
  if (s >= r[0] && s <= r[1]) return;
  if (s === r[0] - 1) r[0] = s;
  else r[1] = Math.max(r[1], s);
  const next = ranges[i + 1];
  if (next !== undefined && next[0] <= r[1] + 1) {
    r[1] = Math.max(r[1], next[1]);
    ranges.splice(i + 1, 1);
  }
}

export function isDone(ranges: readonly (readonly [number, number])[], s: number): boolean {
  return ranges.some(([a, b]) => s >= a && s <= b);
}

export function seedsDone(ranges: readonly (readonly [number, number])[]): number {
  return ranges.reduce((n, [a, b]) => n + (b - a + 1), 0);
}

/** One run's progress file: open (or create) it, record seeds, save. */
export class ProgressFile {
  private lastSave = 0;

  private constructor(
    readonly path: string,
    readonly state: ProgressState,
    /** Seeds already done when this piece started. */
    readonly resumedSeeds: number,
  ) {}

  /**
   * Opens FILE for a run at `commit` with `options`: a new state if the file does not exist, else
   * the recorded one, refused (ProgressError) if its commit or options differ or it does not parse.
   */
  static open(path: string, commit: string, options: ProgressOptions): ProgressFile {
    if (!existsSync(path)) {
      const state: ProgressState = {
        version: PROGRESS_VERSION,
        commit,
        options,
        done: [],
        violations: [],
        figures: emptyFigures(),
        pieces: 1,
      };
      const file = new ProgressFile(path, state, 0);
      file.save();
      return file;
    }
    let parsed: ProgressState;
    try {
      parsed = stateSchema.parse(JSON.parse(readFileSync(path, "utf8")));
    } catch (e) {
      throw new ProgressError(
        `${path} is no progress file of this simulator (${e instanceof Error ? e.message.split("\n")[0] : String(e)})`,
      );
    }
    if (parsed.commit !== commit) {
      throw new ProgressError(
        `${path} was recorded at commit ${parsed.commit}, this checkout is at ${commit}: ` +
          `a run in pieces must run every piece at one commit (check that commit out, or use another file)`,
      );
    }
    if (!sameOptions(parsed.options, options)) {
      throw new ProgressError(
        `${path} was recorded with other options: ${JSON.stringify(sortKeys(parsed.options))}, ` +
          `now ${JSON.stringify(sortKeys(options))} (rerun with the recorded options, or use another file)`,
      );
    }
    parsed.pieces++;
    const file = new ProgressFile(path, parsed, seedsDone(parsed.done));
    file.save();
    return file;
  }

  isDone(seed: number): boolean {
    return isDone(this.state.done, seed);
  }

  /** Records seed as done with its violation (if any); the figures are the caller's running totals. */
  record(seed: number, figures: ProgressFigures, violation?: ProgressViolation): void {
    addSeed(this.state.done, seed);
    if (violation !== undefined) this.state.violations.push(violation);
    this.state.figures = { ...figures };
    const now = Date.now();
    if (now - this.lastSave >= 1_000) this.save();
  }

  /** Writes the state: a temporary file renamed over FILE, so a stop mid-write keeps the last one. */
  save(figures?: ProgressFigures): void {
    if (figures !== undefined) this.state.figures = { ...figures };
    const tmp = `${this.path}.tmp-${process.pid}`;
    writeFileSync(tmp, `${JSON.stringify(this.state, null, 1)}\n`);
    renameSync(tmp, this.path);
    this.lastSave = Date.now();
  }
}
