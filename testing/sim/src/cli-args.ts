// The simulator CLI's arguments (`npm run sim -- ...`), parsed by node:util's parseArgs (strict:
// an unknown flag, a missing value or a stray positional is refused). What parseArgs does not do
// is ours: integer ranges, the deliberate bugs' names, and the world a run simulates (SimMode),
// one per run: flags that name two worlds are refused instead of one silently winning.
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { NODES_MAX, NODES_MIN, SAFETY_MS_MAX, SIM_BUGS } from "./simulator.js";
import type { SimBug } from "./simulator.js";
import type { SimMode } from "./run-seed.js";

export const USAGE = `usage: npm run sim -- [options]
  --seeds K         run K seeds (default 100), starting at --from (default 1)
  --from S          first seed of a --seeds run
  --seed S          run one seed (replays a failure)
  --nodes N         guardians per run (default: drawn per seed from ${NODES_MIN}..${NODES_MAX})
  --byzantine B     Byzantine guardians per run (default: f = floor((N-1)/3))
  --quorum-delta D  deliberate bug: engines use a quorum of t + D (the checkers must catch it)
  --bug NAME        deliberate bug in every engine, repeatable: ${SIM_BUGS.join(", ")}
  --safety-ms MS    length of the safety phase in simulated ms, up to ${SAFETY_MS_MAX} (default: drawn per seed)
  --jobs J          processes running seeds in parallel (default: one per CPU)
  --progress FILE   a long run in pieces: FILE records the commit, the options, the seed ranges done,
                    the violations and the figures; the same command with the same FILE continues
                    where it stopped (refused if the commit or the options differ; progress.ts)
  --verbose         print every run and, for one seed, its fault timeline and full result
The world (at most one; default: the whole federation with the dummy and mint modules):
  --consensus-only  run the consensus engines alone (no processor, modules, wallets or money checkers)
  --monero          the federation with the monero module on a simulated Monero chain
  --monero-classic  --monero without the Byzantine payout participants and the holder (older seeds replay)
  --monero-notes    --monero with XMR note users: subaddress deposits into e-cash notes (xmr-notes.ts)
  --monero-garbage  --monero with a garbage last signer drawn for Byzantine guardians that are no payout participant
  --monero-deep-reorg  --monero with reorgs deeper than the confirmation depth: a credited deposit
                    double-spent on a fork, a mined payout taken out of the chain (monero-deep-reorg.ts)
  --monero-deep-reorg-spent  --monero-deep-reorg, the deposit taken one whose output a mined payout spent
  --monero-lying-node  --monero-notes with one honest guardian whose monerod and wallet-rpc lie (a head
                    far ahead or stuck, false fees, phantom and inflated deposits by proof and by
                    subaddress, false reserves, garbage or refused payout steps, payouts falsely mined
                    or gone), when --byzantine leaves room below f (monero-liar.ts)
  --monero-deep-reorg-detach  --monero with a deep reorg that only detaches a payout's input's source while
                    the payout is in flight, censors it 10-30 s, then releases it (monero-deep-reorg.ts)
  --monero-deep-reorg-signing  --monero-deep-reorg, the deposit taken one whose output the batch in
                    flight names while it is signed (no txid agreed yet)
  --evm             the federation with the bridge module on a simulated EVM chain; with --monero both:
                    mints funded by XMR deposits, burns to a Monero address paid from the multisig wallet
  --evm-monero-refund  --evm --monero with users minting from a deposit with a Monero refund address
                    (0x03) who never use the mint or race a late use against the refund (refund-users.ts)
  --evm-deep-reorg  --evm --monero with EVM reorgs deeper than the watchers' depth: a mint and an
                    accepted burn (paid in Monero if one is) left out of a fork (evm-deep-reorg.ts)
  --evm-deep-reorg-notes  --evm-deep-reorg with the notes bridge users, the deep reorgs aimed at
                    their notes-funded mints and burns claimed into notes first
  --evm-lying-node  --evm with one honest guardian whose EVM node lies (phantom and inflated burns, a
                    false supply, flipped deposit statuses, a head far ahead or stuck), when
                    --byzantine leaves room below f (evm-liar.ts)`;

export class UsageError extends Error {}

export interface CliArgs {
  seeds: number;
  from: number;
  /** --seed S: one seed, replayed (its fault timeline and result with --verbose). */
  single: boolean;
  nodes?: number;
  byzantine?: number;
  quorumDelta?: number;
  bugs: SimBug[];
  safetyMs?: number;
  jobs: number;
  verbose: boolean;
  progress?: string;
  mode: SimMode;
  help: boolean;
}

/** The world flags, each naming one SimMode; `--evm --monero` together name "evm-monero". */
const WORLD_FLAGS = {
  "consensus-only": "consensus",
  monero: "monero",
  "monero-classic": "monero-classic",
  "monero-notes": "monero-notes",
  "monero-garbage": "monero-garbage",
  "monero-deep-reorg": "monero-deep-reorg",
  "monero-deep-reorg-spent": "monero-deep-reorg-spent",
  "monero-lying-node": "monero-lying-node",
  "monero-deep-reorg-detach": "monero-deep-reorg-detach",
  "monero-deep-reorg-signing": "monero-deep-reorg-signing",
  evm: "evm",
  "evm-monero-refund": "evm-monero-refund",
  "evm-deep-reorg": "evm-deep-reorg",
  "evm-deep-reorg-notes": "evm-deep-reorg-notes",
  "evm-lying-node": "evm-lying-node",
} as const satisfies Record<string, SimMode>;

type WorldFlag = keyof typeof WORLD_FLAGS;

/** The flags that replay a seed of `mode` (appended to simulator.ts replayCommand's). */
export function modeFlags(mode: SimMode): string {
  if (mode === "federation") return "";
  if (mode === "evm-monero") return " --evm --monero";
  const flag = (Object.keys(WORLD_FLAGS) as WorldFlag[]).find((f) => WORLD_FLAGS[f] === mode);
  if (flag === undefined) throw new Error(`no flag names the world ${mode}`);
  return ` --${flag}`;
}

function integer(flag: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value)) throw new UsageError(`--${flag} needs an integer`);
  const v = Number(value);
  if (!Number.isSafeInteger(v) || v < min || v > max)
    throw new UsageError(`--${flag} must be in ${min}..${max}`);
  return v;
}

function worldOf(flags: readonly WorldFlag[]): SimMode {
  const named = new Set(flags);
  // --evm --monero is one world, the two modules together.
  if (named.has("evm") && named.has("monero")) {
    named.delete("evm");
    named.delete("monero");
    if (named.size > 0) {
      throw new UsageError(`--evm --monero is a world of its own: not with --${[...named][0]}`);
    }
    return "evm-monero";
  }
  if (named.size > 1) {
    const [a, b] = [...named];
    throw new UsageError(`--${a} and --${b} name two worlds: a run simulates one`);
  }
  const [only] = [...named];
  return only === undefined ? "federation" : WORLD_FLAGS[only];
}

/** Integer options that take a negative value (parseArgs refuses `--flag -1` as ambiguous). */
const SIGNED_OPTIONS = new Set(["--quorum-delta"]);

export function parseSimArgs(argv: readonly string[]): CliArgs {
  // `--quorum-delta -1` (as the docs and replay lines write it) becomes `--quorum-delta=-1`.
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    if (SIGNED_OPTIONS.has(a) && next !== undefined && /^-\d+$/.test(next)) {
      joined.push(`${a}=${next}`);
      i++;
    } else joined.push(a);
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: joined,
      strict: true,
      allowPositionals: false,
      options: {
        seeds: { type: "string" },
        from: { type: "string" },
        seed: { type: "string" },
        nodes: { type: "string" },
        byzantine: { type: "string" },
        "quorum-delta": { type: "string" },
        bug: { type: "string", multiple: true },
        "safety-ms": { type: "string" },
        jobs: { type: "string" },
        progress: { type: "string" },
        verbose: { type: "boolean" },
        help: { type: "boolean", short: "h" },
        ...Object.fromEntries(Object.keys(WORLD_FLAGS).map((f) => [f, { type: "boolean" as const }])),
      },
    });
  } catch (e) {
    // parseArgs' own errors (ERR_PARSE_ARGS_*) name the flag; they are the user's, not ours.
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  const v = parsed.values as Record<string, string | string[] | boolean | undefined>;
  const text = (flag: string): string | undefined => v[flag] as string | undefined;
  const seed = integer("seed", text("seed"), 0, Number.MAX_SAFE_INTEGER);
  if (seed !== undefined && (text("seeds") !== undefined || text("from") !== undefined)) {
    throw new UsageError("--seed runs one seed: not with --seeds or --from");
  }
  const bugs: SimBug[] = [];
  for (const name of (v["bug"] as string[] | undefined) ?? []) {
    const bug = SIM_BUGS.find((b) => b === name);
    if (bug === undefined) throw new UsageError(`--bug needs one of ${SIM_BUGS.join(", ")}`);
    if (!bugs.includes(bug)) bugs.push(bug);
  }
  const optional = <K extends string, T>(key: K, value: T | undefined): { [P in K]?: T } =>
    (value === undefined ? {} : { [key]: value }) as { [P in K]?: T };
  const progress = text("progress");
  const args: CliArgs = {
    seeds: seed !== undefined ? 1 : (integer("seeds", text("seeds"), 1, 1e9) ?? 100),
    from: seed ?? integer("from", text("from"), 0, Number.MAX_SAFE_INTEGER - 1e9) ?? 1,
    single: seed !== undefined,
    ...optional("nodes", integer("nodes", text("nodes"), NODES_MIN, 64)),
    ...optional("byzantine", integer("byzantine", text("byzantine"), 0, 63)),
    ...optional("quorumDelta", integer("quorum-delta", text("quorum-delta"), -64, 64)),
    bugs,
    ...optional("safetyMs", integer("safety-ms", text("safety-ms"), 0, SAFETY_MS_MAX)),
    jobs: integer("jobs", text("jobs"), 1, 256) ?? availableParallelism(),
    verbose: v["verbose"] === true,
    ...optional("progress", progress),
    mode: worldOf((Object.keys(WORLD_FLAGS) as WorldFlag[]).filter((f) => v[f] === true)),
    help: v["help"] === true,
  };
  if (progress !== undefined && (progress === "" || progress.startsWith("--"))) {
    throw new UsageError("--progress needs a file");
  }
  if (args.progress !== undefined && args.single) {
    throw new UsageError("--progress is for --seeds runs, not --seed");
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
