// The look-up's bridge forms without a position (GET /v1/modules/bridge/lookup/…, lookup.ts in the
// module): a federation txid alone (its mint outputs), a deposit id, an EVM burn tx hash without
// `:logIndex` (its burns), an EVM address (what the chain shows for it: mints on chain and burns,
// each with the federation's state). Every guardian is asked; what t of them answer the same is
// shown, or that they differ. Answers are read field by field (no zod in the status page's bundle).
import { formatXmr, shortHex } from "./format.js";
import type { FederationInfo } from "./guardians.js";

type Answer = { ok: true; value: Record<string, unknown> } | { ok: false; status: number; message: string };

export interface BridgeStep {
  readonly label: string;
  readonly state: "done" | "current" | "todo" | "failed";
  readonly detail?: string;
}

export interface BridgeFinding {
  readonly what: string;
  readonly agreeing: number;
  readonly answered: number;
  readonly steps: readonly BridgeStep[];
  readonly facts: readonly [string, string][];
}

/** What a bridge look-up found: findings, ids to look up next (TXID:OUTPUT, 0xHASH:LOG), or a note. */
export interface BridgeLookup {
  readonly findings: BridgeFinding[];
  readonly ids: string[];
  readonly note?: string;
  /** A single mint output found (by deposit id, or the only one of a transaction): shown in full. */
  readonly mint?: { readonly txid: string; readonly index: number };
  /** Guardians answered, but fewer than t the same. */
  readonly differ?: boolean;
  /** Guardians (indexes) whose answer differs from the one t agree on, with what was asked. */
  readonly differing?: readonly { readonly guardian: number; readonly what: string }[];
}

/** Piconero as wXMR ("0.25 wXMR"). */
const wxmr = (piconero: string): string => formatXmr(piconero).replace(/ XMR$/, " wXMR");
const num = (v: unknown): number => (typeof v === "number" ? v : 0);
const str = (v: unknown): string => (typeof v === "string" ? v : "");
const rec = (v: unknown): Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const list = (v: unknown): Record<string, unknown>[] => (Array.isArray(v) ? v.map(rec) : []);

/**
 * The answer t guardians give alike, compared on `pick` (per-guardian fields left out), and the
 * guardians (indexes into `answers`, which are asked in guardian order) that answered otherwise.
 */
export function agreedAnswer(
  answers: readonly Answer[],
  pick: (v: Record<string, unknown>) => unknown,
  t: number,
): { value: Record<string, unknown>; count: number; differing: number[] } | undefined {
  const groups = new Map<string, { value: Record<string, unknown>; count: number; who: number[] }>();
  for (const [i, a] of answers.entries()) {
    if (!a.ok) continue;
    const key = JSON.stringify(pick(a.value));
    const g = groups.get(key);
    if (g) {
      g.count++;
      g.who.push(i);
    } else groups.set(key, { value: a.value, count: 1, who: [i] });
  }
  const best = [...groups.values()].sort((a, b) => b.count - a.count)[0];
  if (!best || best.count < t) return undefined;
  const differing = answers.flatMap((a, i) => (a.ok && !best.who.includes(i) ? [i] : []));
  return { value: best.value, count: best.count, differing };
}

const answeredOk = (answers: readonly Answer[]): number => answers.filter((a) => a.ok).length;
const differ = (answers: readonly Answer[]): boolean => answeredOk(answers) > 0;

/** A mint view without the fields that differ per guardian (its index, key, signature). */
const mintCore = (m: unknown) => ({
  ...rec(m),
  guardian: undefined,
  signer: undefined,
  signature: undefined,
});
/** A burn view without the re-mint's per-guardian fields. */
const burnCore = (b: unknown) => {
  const v = rec(b);
  return { ...v, remint: v["remint"] === undefined ? undefined : mintCore(v["remint"]) };
};

const SETTLEMENT: Record<string, string> = {
  payout_pending: "Monero payout pending",
  payout: "paid out in Monero",
  claimable: "claimable as e-cash",
  claimed: "claimed as e-cash",
  reminted: "re-minted to the burner",
};

/** One burn's life cycle (GET burns view). */
export function burnSteps(b: Record<string, unknown>): BridgeStep[] {
  const state = str(b["state"]);
  const settlement = str(b["settlement"]);
  const payout = rec(b["payout"]);
  return [
    { label: "Burned on the EVM chain", state: "done" },
    {
      label: "Seen by the guardians at their depth",
      state: state === "accepted" ? "done" : "current",
      detail: `${num(b["votes"])} of ${num(b["votesRequired"])} votes`,
    },
    {
      label: "Settled",
      state:
        settlement === "claimed" || str(payout["state"]) === "confirmed"
          ? "done"
          : settlement === "reminted"
            ? "failed"
            : state === "accepted"
              ? "current"
              : "todo",
      detail: [SETTLEMENT[settlement] ?? "", str(payout["state"]), str(b["reason"])]
        .filter((s) => s)
        .join(", "),
    },
  ];
}

/** lookup/tx/:txid at every guardian: the transaction's mint outputs. */
export async function lookUpTxMints(
  fed: FederationInfo,
  ask: (url: string, path: string) => Promise<Answer>,
  txid: string,
): Promise<BridgeLookup | undefined> {
  const answers = await Promise.all(
    fed.guardians.map((g) => ask(g.url, `/v1/modules/bridge/lookup/tx/${txid}`)),
  );
  const a = agreedAnswer(
    answers,
    (v) => list(v["mints"]).map((m) => ({ ...m, mint: mintCore(m["mint"]) })),
    fed.threshold,
  );
  if (!a) return differ(answers) ? { findings: [], ids: [], differ: true } : undefined;
  const mints = list(a.value["mints"]);
  const differing = a.differing.map((guardian) => ({ guardian, what: "the wXMR mint outputs" }));
  if (mints.length === 1)
    return { findings: [], ids: [], differing, mint: { txid, index: num(mints[0]!["index"]) } };
  return {
    differing,
    findings: [
      {
        what: `wXMR mint outputs of this federation transaction (${mints.length}${a.value["next"] ? " shown, more follow" : ""})`,
        agreeing: a.count,
        answered: answeredOk(answers),
        steps: mints.map((m) => {
          const v = rec(m["mint"]);
          return {
            label: `Output ${num(m["index"])}: ${wxmr(str(v["amount"]))}`,
            state: "done" as const,
            detail: `deposit id ${shortHex(str(v["depositId"]))}`,
          };
        }),
        facts: [],
      },
    ],
    ids: mints.map((m) => `${txid}:${num(m["index"])}`),
  };
}

/**
 * A 0x + 64 hex id without a log index: the burns of that EVM transaction, and the mint with that
 * deposit id (the same form: both are asked).
 */
export async function lookUpHash(
  fed: FederationInfo,
  ask: (url: string, path: string) => Promise<Answer>,
  hash: string,
): Promise<BridgeLookup> {
  const [burnAnswers, depositAnswers] = await Promise.all([
    Promise.all(fed.guardians.map((g) => ask(g.url, `/v1/modules/bridge/lookup/burns/${hash}`))),
    Promise.all(fed.guardians.map((g) => ask(g.url, `/v1/modules/bridge/lookup/deposit/${hash}`))),
  ]);
  const t = fed.threshold;
  const findings: BridgeFinding[] = [];
  const ids: string[] = [];
  const burns = agreedAnswer(burnAnswers, (v) => list(v["burns"]).map(burnCore), t);
  if (burns)
    for (const b of list(burns.value["burns"])) {
      findings.push({
        what: `wXMR burn, log ${num(b["logIndex"])}`,
        agreeing: burns.count,
        answered: answeredOk(burnAnswers),
        steps: burnSteps(b),
        facts: [
          ["State", str(b["state"])],
          ...(b["amount"] === undefined
            ? []
            : ([["Amount", `${wxmr(str(b["amount"]))}`]] as [string, string][])),
        ],
      });
      ids.push(`${hash}:${num(b["logIndex"])}`);
    }
  const deposit = agreedAnswer(
    depositAnswers,
    (v) => ({ ...v, mint: mintCore(v["mint"]), burn: burnCore(v["burn"]) }),
    t,
  );
  let mint: BridgeLookup["mint"];
  if (deposit) {
    const ref = rec(deposit.value["ref"]);
    if (str(ref["kind"]) === "output") mint = { txid: str(ref["txid"]), index: num(ref["index"]) };
    else {
      const b = rec(deposit.value["burn"]);
      findings.push({
        what: "wXMR re-mint of a burn (by its deposit id)",
        agreeing: deposit.count,
        answered: answeredOk(depositAnswers),
        steps: burnSteps(b),
        facts: [["Burn", `${str(ref["txHash"])}:${num(ref["logIndex"])}`]],
      });
    }
  }
  const nothing = findings.length === 0 && mint === undefined;
  return {
    findings,
    ids,
    ...(mint ? { mint } : {}),
    ...(nothing && (differ(burnAnswers) || differ(depositAnswers)) ? { differ: true } : {}),
  };
}

const CHAIN: Record<string, string> = {
  minted: "Minted",
  delayed: "Mint delayed (above the single-mint cap)",
  cancelled: "Delayed mint cancelled",
};

/** lookup/address/:address at every guardian: what the chain shows for it. */
export async function lookUpAddress(
  fed: FederationInfo,
  ask: (url: string, path: string) => Promise<Answer>,
  address: string,
): Promise<BridgeLookup> {
  const answers = await Promise.all(
    fed.guardians.map((g) => ask(g.url, `/v1/modules/bridge/lookup/address/${address}`)),
  );
  const a = agreedAnswer(answers, (v) => ({ mints: v["mints"], burns: v["burns"] }), fed.threshold);
  if (!a) return { findings: [], ids: [], ...(differ(answers) ? { differ: true } : {}) };
  const mints = list(a.value["mints"]);
  const burns = list(a.value["burns"]);
  const steps: BridgeStep[] = [
    ...mints.map((m): BridgeStep => {
      const ref = rec(m["ref"]);
      const kind = str(ref["kind"]);
      return {
        label: `${CHAIN[str(m["chain"])] ?? str(m["chain"])}: ${wxmr(str(m["amount"]))} in EVM block ${str(m["block"])}`,
        state: kind === "" ? "failed" : "done",
        detail:
          kind === "output"
            ? `the federation's mint output ${shortHex(str(ref["txid"]))}:${num(ref["index"])}`
            : kind === "remint"
              ? `re-mint of burn ${shortHex(str(ref["txHash"]))}:${num(ref["logIndex"])}`
              : "no mint the federation signed has this deposit id",
      };
    }),
    ...burns.map((b): BridgeStep => ({
      label: `Burned ${wxmr(str(b["amount"]))} (burn ${str(b["burnId"])})`,
      state: str(b["settlement"]) === "reminted" ? "failed" : "done",
      detail: SETTLEMENT[str(b["settlement"])] ?? str(b["settlement"]),
    })),
  ];
  const incomplete = answers.filter((x) => x.ok && x.value["mintsComplete"] !== true).length;
  const ids = [
    ...mints.flatMap((m) => {
      const ref = rec(m["ref"]);
      return str(ref["kind"]) === "output" ? [`${str(ref["txid"])}:${num(ref["index"])}`] : [];
    }),
    ...burns.map((b) => `${str(b["txHash"])}:${num(b["logIndex"])}`),
  ];
  return {
    findings: [
      {
        what: "EVM address: what the chain shows",
        agreeing: a.count,
        answered: answeredOk(answers),
        steps,
        facts: [
          ["Mints on chain", String(mints.length)],
          ["Burns accepted", String(burns.length)],
          ...(incomplete > 0
            ? ([["Guardians still reading the chain", String(incomplete)]] as [string, string][])
            : []),
          ...(a.value["next"] ? ([["More", "further pages not shown"]] as [string, string][]) : []),
        ],
      },
    ],
    ids,
    note: "Signed mints not yet submitted are not listed here: their amount tied to this address is not public until someone submits them. Look them up by their federation transaction id.",
  };
}
