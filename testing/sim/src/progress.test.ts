// `npm run sim -- --progress FILE`: a long run in pieces. The ranges and the refusals on their own,
// then the CLI itself: a run stopped by SIGTERM and run again with the same file ends with the same
// figures as the run in one piece, and a rerun with other options or at another commit is refused.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { ProgressError, ProgressFile, addSeed, currentCommit, isDone, seedsDone } from "./progress.js";
import type { ProgressState } from "./progress.js";

const CLI = fileURLToPath(new URL("./cli.ts", import.meta.url));
const REPO = fileURLToPath(new URL("../../..", import.meta.url));
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const dir = mkdtempSync(join(tmpdir(), "sim-progress-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface CliRun {
  code: number | null;
  out: string;
}

/** Runs the CLI; `stopWhen` is polled every 100 ms and, once true, the CLI gets SIGTERM. */
function cli(args: readonly string[], stopWhen?: () => boolean): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", TSX_LOADER, CLI, ...args], {
      cwd: REPO,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const poll =
      stopWhen === undefined
        ? undefined
        : setInterval(() => {
            if (stopWhen()) {
              clearInterval(poll);
              child.kill("SIGTERM");
            }
          }, 100);
    child.on("error", reject);
    child.on("close", (code) => {
      if (poll !== undefined) clearInterval(poll);
      resolve({ code, out });
    });
  });
}

function read(file: string): ProgressState | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as ProgressState;
  } catch {
    return undefined;
  }
}

const OPTIONS = { mode: "consensus", from: 1, seeds: 40, nodes: 4, byzantine: 1 };

describe("progress ranges and refusals", () => {
  it("merges seeds into sorted disjoint ranges", () => {
    const r: [number, number][] = [];
    for (const s of [5, 1, 3, 2, 9, 4, 7]) addSeed(r, s);
    expect(r).toEqual([
      [1, 5],
      [7, 7],
      [9, 9],
    ]);
    addSeed(r, 8);
    addSeed(r, 8);
    expect(r).toEqual([
      [1, 5],
      [7, 9],
    ]);
    expect(seedsDone(r)).toBe(8);
    expect(isDone(r, 6)).toBe(false);
    expect(isDone(r, 7)).toBe(true);
  });

  it("resumes at the same commit and options, refuses other ones and a file it did not write", () => {
    const file = join(dir, "unit.json");
    const first = ProgressFile.open(file, "abc", OPTIONS);
    first.record(1, { ...first.state.figures, runs: 1, heights: 7 });
    first.record(
      2,
      { ...first.state.figures, runs: 2, heights: 9, failing: 1, violations: 1 },
      {
        seed: 2,
        lines: ["fork"],
        replay: "npm run sim -- --seed 2",
      },
    );
    first.save();
    const again = ProgressFile.open(file, "abc", { ...OPTIONS });
    expect(again.resumedSeeds).toBe(2);
    expect(again.state.pieces).toBe(2);
    expect(again.state.figures.heights).toBe(9);
    expect(again.state.violations.map((v) => v.seed)).toEqual([2]);
    expect(again.isDone(2)).toBe(true);
    expect(again.isDone(3)).toBe(false);
    expect(() => ProgressFile.open(file, "def", OPTIONS)).toThrow(/commit abc/);
    expect(() => ProgressFile.open(file, "abc", { ...OPTIONS, nodes: 5 })).toThrow(ProgressError);
    const junk = join(dir, "junk.json");
    writeFileSync(junk, '{"not": "progress"}');
    expect(() => ProgressFile.open(junk, "abc", OPTIONS)).toThrow(/no progress file/);
  });
});

describe("currentCommit", () => {
  it("is HEAD, with +dirty for changed tracked files other than Markdown", () => {
    const repo = mkdtempSync(join(dir, "repo-"));
    const git = (...a: string[]): string => execFileSync("git", a, { cwd: repo, encoding: "utf8" }).trim();
    git("init", "-q");
    writeFileSync(join(repo, "a.ts"), "1\n");
    mkdirSync(join(repo, "docs"));
    writeFileSync(join(repo, "docs", "b.md"), "1\n");
    git("add", ".");
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one");
    const head = git("rev-parse", "HEAD");
    expect(currentCommit(repo)).toBe(head);
    writeFileSync(join(repo, "docs", "b.md"), "2\n");
    expect(currentCommit(repo)).toBe(head);
    writeFileSync(join(repo, "a.ts"), "2\n");
    expect(currentCommit(repo)).toBe(`${head}+dirty`);
    expect(currentCommit(tmpdir())).toMatch(/^(unknown|[0-9a-f]{40}(\+dirty)?)$/);
  });
});

describe("npm run sim -- --progress FILE", () => {
  it("a run stopped and run again with the same file ends as the run in one piece", async () => {
    const args = ["--seeds", "40", "--nodes", "4", "--byzantine", "1", "--consensus-only", "--jobs", "1"];
    const whole = join(dir, "whole.json");
    const pieces = join(dir, "pieces.json");

    const one = await cli([...args, "--progress", whole]);
    expect(one.code, one.out).toBe(0);
    const wholeState = read(whole)!;
    expect(wholeState.done).toEqual([[1, 40]]);

    // Stopped as soon as the file records a seed: SIGTERM saves the seeds done and exits. On two
    // worker processes (--jobs changes no seed): a worker busy with a seed when the parent goes
    // away exits quietly (it threw EPIPE before).
    const stopped = await cli(
      [...args.slice(0, -1), "2", "--progress", pieces],
      () => (read(pieces)?.figures.runs ?? 0) > 0,
    );
    expect(stopped.code, stopped.out).toBe(143);
    expect(stopped.out).toMatch(/progress: stopped by SIGTERM/);
    // The workers write to the same pipes, which close after the last of them exits.
    expect(stopped.out).not.toMatch(/EPIPE|Unhandled/);
    const partial = read(pieces)!;
    const doneBefore = seedsDone(partial.done);
    expect(doneBefore).toBeGreaterThan(0);
    expect(doneBefore).toBeLessThan(40);
    expect(partial.done[0]![0]).toBe(1);

    // Other options, or another commit, are refused and leave the file as it was.
    const other = await cli([...args.map((a) => (a === "4" ? "5" : a)), "--progress", pieces]);
    expect(other.code, other.out).toBe(2);
    expect(other.out).toMatch(/refused: .* other options/);
    const atOtherCommit = join(dir, "other-commit.json");
    writeFileSync(atOtherCommit, JSON.stringify({ ...partial, commit: "0".repeat(40) }));
    const moved = await cli([...args, "--progress", atOtherCommit]);
    expect(moved.code, moved.out).toBe(2);
    expect(moved.out).toMatch(/refused: .* recorded at commit 0{40}/);
    expect(read(pieces)).toEqual(partial);

    // The same command continues: only the seeds not done run, and the figures are the whole run's.
    const resumed = await cli([...args, "--progress", pieces]);
    expect(resumed.code, resumed.out).toBe(0);
    expect(resumed.out).toMatch(new RegExp(`piece 2: ${doneBefore} of 40 seeds done before`));
    expect(resumed.out).toMatch(new RegExp(`this piece ${40 - doneBefore},`));
    const final = read(pieces)!;
    expect(final.done).toEqual([[1, 40]]);
    expect(final.pieces).toBe(2);
    const { cpuMs: _c1, wallMs: _w1, ...figures } = final.figures;
    const { cpuMs: _c2, wallMs: _w2, ...wholeFigures } = wholeState.figures;
    expect(figures).toEqual(wholeFigures);
    expect(figures.runs).toBe(40);
    expect(figures.heights).toBeGreaterThan(40);
    expect(existsSync(`${pieces}.tmp-${process.pid}`)).toBe(false);
  }, 600_000);
});
