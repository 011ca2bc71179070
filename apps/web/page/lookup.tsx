// Look-up by id: asks every guardian, shows what t of them agree on, as a life cycle. Shows only
// what anyone holding the id may see and a stranger learns nothing personal from: states, heights,
// confirmations, signature counts; never amounts, claim keys, addresses or tx keys.
import { useState } from "preact/hooks";
import { shortHex } from "./format.js";
import { getJson, HttpError } from "./guardians.js";
import type { FederationInfo } from "./guardians.js";
import { MintFinding, lookUpMint } from "./mint.js";
import type { MintLookup } from "./mint.js";
import { agreedAnswer, lookUpAddress, lookUpHash, lookUpTxMints } from "./lookup-bridge.js";
import type { BridgeLookup } from "./lookup-bridge.js";

type Answer = { ok: true; value: Record<string, unknown> } | { ok: false; status: number; message: string };

interface Step {
  readonly label: string;
  readonly state: "done" | "current" | "todo" | "failed";
  readonly detail?: string;
}

export interface Finding {
  readonly what: string;
  readonly agreeing: number;
  readonly answered: number;
  readonly steps: readonly Step[];
  readonly facts: readonly [string, string][];
}

async function ask(url: string, path: string): Promise<Answer> {
  try {
    const v = await getJson(url, path);
    return typeof v === "object" && v !== null && !Array.isArray(v)
      ? { ok: true, value: v as Record<string, unknown> }
      : { ok: false, status: 0, message: "not an object" };
  } catch (e) {
    return e instanceof HttpError
      ? { ok: false, status: e.status, message: e.message }
      : { ok: false, status: 0, message: e instanceof Error ? e.message : String(e) };
  }
}

/** The public fields an answer is compared on (per-guardian fields such as `guardian` left out). */
const agreed = agreedAnswer;

const num = (v: unknown): number => (typeof v === "number" ? v : 0);
const str = (v: unknown): string => (typeof v === "string" ? v : "");

function depositFinding(
  a: { value: Record<string, unknown>; count: number },
  answered: number,
  spender?: { readonly mints: boolean },
): Finding | undefined {
  const d = a.value;
  const state = str(d["state"]);
  if (state === "unclaimed") return undefined;
  const atts: unknown[] = Array.isArray(d["attestations"]) ? (d["attestations"] as unknown[]) : [];
  const valid = atts.filter(
    (x) => typeof x === "object" && x !== null && (x as Record<string, unknown>)["verdict"] === "valid",
  ).length;
  const required = num(d["attestationsRequired"]);
  const conf = num(d["confirmations"]);
  const confReq = num(d["confirmationsRequired"]);
  const failed = state === "rejected" || state === "expired";
  const credited = state === "credited" || state === "spent";
  const spentIn = str(d["spentIn"]);
  const steps: Step[] = [
    { label: "Claimed", state: "done", detail: `claim round ${num(d["round"])}` },
    {
      label: "Checked by the guardians against their own Monero nodes",
      state: credited ? "done" : failed ? "failed" : "current",
      detail: `${valid} of ${required} needed found it valid`,
    },
    {
      label: "Confirmed on the Monero chain",
      state: !credited ? "todo" : conf >= confReq ? "done" : "current",
      detail: `${Math.min(conf, confReq)} of ${confReq} confirmations`,
    },
    {
      label: spender?.mints ? "Minted as wXMR by a federation transaction" : "Turned into e-cash",
      state: state === "spent" ? "done" : credited && d["spendable"] === true ? "current" : "todo",
      ...(spentIn ? { detail: `federation transaction ${shortHex(spentIn, 16)}` } : {}),
    },
  ];
  if (failed)
    steps.push({
      label: state === "rejected" ? "Rejected" : "Expired",
      state: "failed",
      detail: str(d["closedReason"]),
    });
  return {
    what: "Monero deposit",
    agreeing: a.count,
    answered,
    steps,
    facts: [
      ["State", state],
      ["Agreed Monero height", String(num(d["agreedHeight"]))],
      ...(typeof d["txHeight"] === "number"
        ? ([["In Monero block", String(d["txHeight"])]] as [string, string][])
        : []),
      ...(spentIn ? ([["Spent by federation transaction", spentIn]] as [string, string][]) : []),
    ],
  };
}

const recOf = (v: unknown): Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const listOf = (v: unknown): Record<string, unknown>[] => (Array.isArray(v) ? v.map(recOf) : []);

/** A subaddress-deposits answer without what moves with each guardian (its height, its own wallet). */
const subaddressCore = (v: Record<string, unknown>) => ({
  txid: v["txid"],
  more: v["more"],
  deposits: listOf(v["deposits"]).map((d) => ({
    state: d["state"],
    txHeight: d["txHeight"],
    spentIn: d["spentIn"],
  })),
});

/**
 * The life cycle of a Monero transaction's deposits to the federation's per-user subaddresses (the
 * wallet page's "Deposit XMR"): seen in the pool and on the chain by each guardian's own wallet
 * (progress), credited when t guardians attested it, then spent. What t agree on: states, blocks,
 * spenders; confirmations are those at least t of the agreeing guardians reach. Never the
 * subaddress, its index, the claim key or the amount (the answer has none of them).
 */
function subaddressFindings(
  answers: readonly Answer[],
  a: { value: Record<string, unknown>; count: number; differing: number[] },
  t: number,
  spender?: { readonly mints: boolean },
): Finding[] {
  const answered = answers.filter((x) => x.ok).length;
  const agreeing = answers.flatMap((x, i) => (x.ok && !a.differing.includes(i) ? [x.value] : []));
  const tth = (values: number[]) => values.sort((x, y) => y - x)[t - 1] ?? 0;
  const seen = answers.flatMap((x) =>
    x.ok && x.value["seen"] !== undefined ? [recOf(x.value["seen"])] : [],
  );
  const onChain = seen.filter((x) => typeof x["txHeight"] === "number").length;
  const seenConf = tth(seen.map((x) => num(x["confirmations"])));
  const deposits = listOf(a.value["deposits"]);
  const required = num(a.value["attestationsRequired"]);
  const confReq = num(a.value["confirmationsRequired"]);
  const agreedHeight = tth(agreeing.map((v) => num(v["agreedHeight"])));
  // Nothing agreed yet: what the guardians' wallets see (in the pool or shallow), if any.
  const rows: (Record<string, unknown> | undefined)[] =
    deposits.length > 0 ? deposits : seen.length > 0 ? [undefined] : [];
  return rows.map((d, i) => {
    const state = d ? str(d["state"]) : "seen";
    const credited = state === "credited" || state === "spent";
    const conf = credited
      ? tth(agreeing.map((v) => num(listOf(v["deposits"])[i]?.["confirmations"])))
      : seenConf;
    const attestations = d ? (credited ? required : num(d["attestations"])) : 0;
    const spentIn = d ? str(d["spentIn"]) : "";
    const steps: Step[] = [
      {
        label: "Seen by the guardians' Monero wallets",
        state: credited || seen.length > 0 ? "done" : "current",
        detail:
          seen.length > 0
            ? `${seen.length} of ${answered} guardians' wallets see it now${onChain < seen.length ? ` (${seen.length - onChain} in the pool)` : ""}`
            : credited
              ? "credited: past the guardians' recent transfers"
              : "not yet seen by the guardians' wallets",
      },
      {
        label: "Confirmed on the Monero chain",
        state: conf >= confReq ? "done" : "current",
        detail: `${Math.min(conf, confReq)} of ${confReq} confirmations${credited ? "" : " (on the guardians' own nodes)"}`,
      },
      {
        label: "Credited: the guardians attested it",
        state: credited ? "done" : "current",
        detail: `${attestations} of ${required} needed attested it`,
      },
      {
        label: spender?.mints ? "Minted as wXMR by a federation transaction" : "Turned into e-cash",
        state: state === "spent" ? "done" : credited && conf >= confReq ? "current" : "todo",
        ...(spentIn ? { detail: `federation transaction ${shortHex(spentIn, 16)}` } : {}),
      },
    ];
    return {
      what:
        rows.length > 1
          ? `Monero deposit to a subaddress (output ${i + 1} of ${rows.length})`
          : "Monero deposit to a subaddress",
      agreeing: a.count,
      answered,
      steps,
      facts: [
        ["State", state],
        ["Agreed Monero height", String(agreedHeight)],
        ...(d && typeof d["txHeight"] === "number"
          ? ([["In Monero block", String(d["txHeight"])]] as [string, string][])
          : []),
        ...(spentIn ? ([["Spent by federation transaction", spentIn]] as [string, string][]) : []),
      ],
    };
  });
}

/**
 * An agreed deposit view with the confirmations and agreed height at least t of the agreeing
 * guardians reached (their t-th highest), and whether it is spendable at those.
 */
function withConfirmations(
  answers: readonly Answer[],
  a: { value: Record<string, unknown>; count: number; differing: number[] } | undefined,
  t: number,
): { value: Record<string, unknown>; count: number; differing: number[] } | undefined {
  if (!a) return undefined;
  const mine = answers.flatMap((x, i) => (x.ok && !a.differing.includes(i) ? [x.value] : []));
  const tth = (k: string) => mine.map((v) => num(v[k])).sort((x, y) => y - x)[t - 1] ?? 0;
  const confirmations = tth("confirmations");
  const spendable =
    str(a.value["state"]) === "credited" && confirmations >= num(a.value["confirmationsRequired"]);
  return { ...a, value: { ...a.value, confirmations, agreedHeight: tth("agreedHeight"), spendable } };
}

function txFinding(a: { value: Record<string, unknown>; count: number }, answered: number): Finding {
  const s = a.value;
  const state = str(s["state"]);
  const err =
    typeof s["error"] === "object" && s["error"] !== null ? (s["error"] as Record<string, unknown>) : {};
  return {
    what: "Federation transaction",
    agreeing: a.count,
    answered,
    steps: [
      { label: "Submitted and proposed to consensus", state: "done" },
      state === "rejected"
        ? { label: "Rejected", state: "failed", detail: `${str(err["code"])}: ${str(err["message"])}` }
        : { label: "Accepted in a block", state: state === "accepted" ? "done" : "current" },
    ],
    facts: [
      ["State", state],
      ...(typeof s["height"] === "number"
        ? ([["Block height", String(s["height"])]] as [string, string][])
        : []),
    ],
  };
}

function burnFinding(
  a: { value: Record<string, unknown>; count: number },
  answered: number,
): Finding | undefined {
  const b = a.value;
  const state = str(b["state"]);
  if (state === "unknown") return undefined;
  const settlement = str(b["settlement"]);
  const failed = settlement === "reminted";
  return {
    what: "wXMR burn",
    agreeing: a.count,
    answered,
    steps: [
      { label: "Burned on the EVM chain", state: "done" },
      {
        label: "Seen by the guardians",
        state: state === "accepted" ? "done" : "current",
        detail: `${num(b["votes"])} of ${num(b["votesRequired"])} votes`,
      },
      {
        label: "Monero payout",
        state:
          settlement === "claimed" ? "done" : failed ? "failed" : state === "accepted" ? "current" : "todo",
        detail: settlement === "" ? "" : settlement.replace("_", " "),
      },
      ...(failed
        ? [{ label: "Refunded as a new wXMR mint", state: "done" as const, detail: str(b["reason"]) }]
        : []),
    ],
    facts: [["State", state]],
  };
}

export interface LookupResult {
  readonly findings: Finding[];
  readonly note?: string;
  /** A wXMR mint (TXID:OUTPUT), with its own view and submit button. */
  readonly mint?: MintLookup;
  /** Ids to look up next (a transaction's outputs, an address's mints and burns). */
  readonly ids?: readonly string[];
  /** The mint is the end of the findings' life cycle (a Monero deposit's): shown after them. */
  readonly mintLast?: boolean;
  /** Guardians whose answer differs from the one t agree on (not shown), and about what. */
  readonly differing?: readonly { readonly guardian: number; readonly what: string }[];
}

/** A bridge look-up's result, with its single mint (if any) looked up in full. */
async function withMint(fed: FederationInfo, b: BridgeLookup, t: number): Promise<LookupResult> {
  const notes = b.note ? [b.note] : [];
  if (b.differ)
    notes.unshift(
      `Not trusted: fewer than ${t} guardians give the same answer (the guardians' answers differ).`,
    );
  let mint: MintLookup | undefined;
  if (b.mint) {
    const m = await lookUpMint(fed, b.mint.txid, b.mint.index);
    if (typeof m === "string") notes.push(m);
    else mint = m;
  }
  return {
    findings: b.findings,
    ids: b.ids,
    ...(b.differing && b.differing.length > 0 ? { differing: b.differing } : {}),
    ...(mint ? { mint } : {}),
    ...(notes.length > 0 ? { note: notes.join(" ") } : {}),
  };
}

/** Asks every guardian about `id` and returns what t of them agree on. */
export async function lookUp(fed: FederationInfo, raw: string): Promise<LookupResult> {
  const id = raw.trim();
  const urls = fed.guardians.map((g) => g.url);
  const t = fed.threshold;
  const bridgeRuns = fed.modules === undefined || fed.modules.includes("bridge");
  if (/^0x[0-9a-fA-F]{40}$/.test(id)) {
    if (!bridgeRuns) return { findings: [], note: "This federation runs no bridge: it has no wXMR." };
    const r = await withMint(fed, await lookUpAddress(fed, ask, id.toLowerCase()), t);
    return r.findings.length > 0 || r.note ? r : { ...r, note: notFound([], t) };
  }
  const burn = /^(0x[0-9a-fA-F]{64})(?::(\d{1,6}))?$/.exec(id);
  if (burn) {
    if (fed.modules !== undefined && !fed.modules.includes("bridge"))
      return { findings: [], note: "This federation runs no bridge: it has no wXMR burns." };
    if (burn[2] === undefined) {
      const r = await withMint(fed, await lookUpHash(fed, ask, burn[1]!.toLowerCase()), t);
      return r.findings.length > 0 || r.mint || r.note
        ? r
        : {
            ...r,
            note: "Not found: no burn in this EVM transaction and no mint with this deposit id is known to the guardians (yet).",
          };
    }
    const path = `/v1/modules/bridge/burns/${burn[1]!.toLowerCase()}/${burn[2] ?? "0"}`;
    const answers = await Promise.all(urls.map((u) => ask(u, path)));
    const a = agreed(answers, (v) => ({ ...v, remint: undefined }), t);
    const f = a ? burnFinding(a, answers.filter((x) => x.ok).length) : undefined;
    return f ? { findings: [f] } : { findings: [], note: notFound(answers, t) };
  }
  const mint = /^([0-9a-fA-F]{64}):(\d{1,5})$/.exec(id);
  if (mint) {
    if (fed.modules !== undefined && !fed.modules.includes("bridge"))
      return { findings: [], note: "This federation runs no bridge: it has no wXMR mints." };
    const m = await lookUpMint(fed, mint[1]!.toLowerCase(), Number(mint[2]));
    return typeof m === "string" ? { findings: [], note: m } : { findings: [], mint: m };
  }
  if (!/^[0-9a-fA-F]{64}$/.test(id))
    return {
      findings: [],
      note: "Enter a Monero deposit txid or federation transaction id (64 hex), a wXMR mint (transaction id:output), an EVM burn tx hash (0x + 64 hex, optionally :logIndex) or an EVM address (0x + 40 hex).",
    };
  const hex = id.toLowerCase();
  const runs = (kind: string) => fed.modules === undefined || fed.modules.includes(kind);
  const none: Answer[] = [];
  const [txAnswers, depositAnswers, subAnswers, txMints] = await Promise.all([
    Promise.all(urls.map((u) => ask(u, `/v1/transactions/${hex}`))),
    runs("monero") ? Promise.all(urls.map((u) => ask(u, `/v1/modules/monero/deposits/${hex}`))) : none,
    runs("monero")
      ? Promise.all(urls.map((u) => ask(u, `/v1/modules/monero/subaddress-deposits/${hex}`)))
      : none,
    runs("bridge") ? lookUpTxMints(fed, ask, hex) : undefined,
  ]);
  const findings: Finding[] = [];
  const differing: { guardian: number; what: string }[] = [];
  const txPick = (v: Record<string, unknown>) => ({
    state: v["state"],
    height: v["height"],
    error: v["error"],
  });
  const tx = agreed(txAnswers, txPick, t);
  if (tx) {
    findings.push(txFinding(tx, txAnswers.filter((x) => x.ok).length));
    differing.push(...tx.differing.map((guardian) => ({ guardian, what: "the federation transaction" })));
  }
  // Compared without what moves with each guardian's agreed Monero height (one a block behind is
  // not a disagreement); the confirmations shown are those at least t of the agreeing ones report.
  const dep = withConfirmations(
    depositAnswers,
    agreed(
      depositAnswers,
      (v) => ({
        ...v,
        attestations: undefined,
        refusedClaims: undefined,
        agreedHeight: undefined,
        confirmations: undefined,
        spendable: undefined,
      }),
      t,
    ),
    t,
  );
  // Deposits of this txid to per-user subaddresses (t agreeing on their states and spenders).
  const sub = agreed(subAnswers, subaddressCore, t);
  const subSpentIn = sub
    ? (listOf(sub.value["deposits"])
        .map((d) => str(d["spentIn"]))
        .find((x) => /^[0-9a-f]{64}$/.test(x)) ?? "")
    : "";
  // A deposit spent by a federation transaction (its id, t agreeing): that transaction and its wXMR
  // mint outputs (a deposit minted straight to wXMR), as if its id had been looked up.
  const spentIn =
    dep && /^[0-9a-f]{64}$/.test(str(dep.value["spentIn"])) ? str(dep.value["spentIn"]) : subSpentIn;
  let spender: { finding?: Finding; mints?: BridgeLookup } | undefined;
  if (spentIn) {
    const [answers, m] = await Promise.all([
      Promise.all(urls.map((u) => ask(u, `/v1/transactions/${spentIn}`))),
      runs("bridge") ? lookUpTxMints(fed, ask, spentIn) : undefined,
    ]);
    const a = agreed(answers, txPick, t);
    spender = {
      ...(a
        ? {
            finding: {
              ...txFinding(a, answers.filter((x) => x.ok).length),
              what: "Federation transaction that spent the deposit",
            },
          }
        : {}),
      ...(m ? { mints: m } : {}),
    };
    if (a)
      differing.push(
        ...a.differing.map((guardian) => ({ guardian, what: "the transaction that spent the deposit" })),
      );
  }
  const spentMints = spender?.mints !== undefined && !spender.mints.differ;
  const df = dep
    ? depositFinding(dep, depositAnswers.filter((x) => x.ok).length, { mints: spentMints })
    : undefined;
  if (df) findings.push(df);
  const sfs = sub ? subaddressFindings(subAnswers, sub, t, { mints: spentMints }) : [];
  findings.push(...sfs);
  if (sub)
    differing.push(
      ...sub.differing
        .filter(
          (i) =>
            sfs.length > 0 ||
            listOf(recOf(subAnswers[i]?.ok ? subAnswers[i].value : {})["deposits"]).length > 0,
        )
        .map((guardian) => ({ guardian, what: "the Monero deposit to a subaddress" })),
    );
  // No deposit with this id (t say "unclaimed"): only a guardian claiming one is marked.
  const claimsOne = (i: number) => {
    const a = depositAnswers[i];
    return a?.ok === true && str(a.value["state"]) !== "unclaimed";
  };
  if (dep)
    differing.push(
      ...dep.differing
        .filter((i) => df !== undefined || claimsOne(i))
        .map((guardian) => ({ guardian, what: "the Monero deposit" })),
    );
  if (spender?.finding) findings.push(spender.finding);
  const bridgeFound = txMints ?? spender?.mints;
  const mints = bridgeFound ? await withMint(fed, bridgeFound, t) : undefined;
  if (mints) {
    findings.push(...mints.findings);
    differing.push(...(mints.differing ?? []));
  }
  const result: LookupResult = {
    findings,
    ...(mints?.mint ? { mint: mints.mint } : {}),
    ...(mints?.ids && mints.ids.length > 0 ? { ids: mints.ids } : {}),
    ...(mints?.note ? { note: mints.note } : {}),
    ...(differing.length > 0 ? { differing } : {}),
    ...(txMints === undefined && spender?.mints !== undefined ? { mintLast: true } : {}),
  };
  return findings.length > 0 || result.mint
    ? result
    : { findings: [], note: notFound([...txAnswers, ...depositAnswers, ...subAnswers], t) };
}

function notFound(answers: readonly Answer[], t: number): string {
  const ok = answers.filter((a) => a.ok).length;
  const nf = answers.filter((a) => !a.ok && a.status === 404).length;
  if (ok === 0 && nf === 0) return "No guardian answered; see the guardians' states on the status page.";
  return `Not found: no ${t} guardians agree on anything with this id (they may not know it yet, or the answers differ).`;
}

export function LookupView({ fed, initial }: { fed: FederationInfo; initial: string }) {
  const [query, setQuery] = useState(initial);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<LookupResult | undefined>(undefined);
  const run = (q: string) => {
    setBusy(true);
    history.replaceState(null, "", `#/lookup/${encodeURIComponent(q.trim())}`);
    void lookUp(fed, q).then((r) => {
      setResult(r);
      setBusy(false);
    });
  };
  const submit = (e: Event) => {
    e.preventDefault();
    run(query);
  };
  return (
    <section aria-labelledby="lookup-h">
      <h2 id="lookup-h">Look up</h2>
      <form onSubmit={submit} class="lookup">
        <label for="lookup-id">
          Monero deposit txid, federation transaction id, deposit id, EVM burn tx hash or EVM address
        </label>
        <div class="row">
          <input
            id="lookup-id"
            name="id"
            autocomplete="off"
            spellcheck={false}
            value={query}
            onInput={(e) => setQuery(e.currentTarget.value)}
          />
          <button type="submit" disabled={busy}>
            {busy ? "Asking…" : "Look up"}
          </button>
        </div>
      </form>
      <div id="lookup-result" aria-live="polite">
        {result?.note ? <p class="muted">{result.note}</p> : null}
        {result?.differing ? (
          <div id="lookup-differing" role="alert" class="bad">
            <p>
              Disagreement:{" "}
              {new Set(result.differing.map((d) => d.guardian)).size === 1 ? "a guardian" : "guardians"}{" "}
              answered otherwise than the {fed.threshold} or more whose answer is shown here. Their answers
              are not shown (a guardian behind the others answers an older state; a wrong one is never taken).
            </p>
            <ul>
              {result.differing.map((d) => (
                <li key={`${d.guardian}:${d.what}`} data-guardian={d.guardian}>
                  {fed.guardians[d.guardian]?.name ?? `guardian ${d.guardian}`} (guardian {d.guardian})
                  differs on {d.what}
                </li>
              ))}
            </ul>
          </div>
        ) : null}
        {result?.mint && !result.mintLast ? (
          <MintFinding key={`${result.mint.txid}:${result.mint.index}`} fed={fed} m={result.mint} />
        ) : null}
        {result?.findings.map((f) => (
          <article key={f.what} class="finding">
            <h3>{f.what}</h3>
            <p class="muted">
              {f.agreeing} of {f.answered} answering guardians agree (at least {fed.threshold} needed).
            </p>
            <ol class="steps">
              {f.steps.map((s) => (
                <li key={s.label} class={s.state} data-state={s.state}>
                  <span class="visually-hidden">{s.state}: </span>
                  {s.label}
                  {s.detail ? <span class="muted"> — {s.detail}</span> : null}
                </li>
              ))}
            </ol>
            <dl>
              {f.facts.map(([k, v]) => (
                <div key={k}>
                  <dt>{k}</dt>
                  <dd>{v}</dd>
                </div>
              ))}
            </dl>
          </article>
        ))}
        {result?.mint && result.mintLast ? (
          <MintFinding key={`${result.mint.txid}:${result.mint.index}`} fed={fed} m={result.mint} />
        ) : null}
        {result?.ids && result.ids.length > 0 ? (
          <ul class="lookup-ids" aria-label="Look up next">
            {result.ids.map((next) => (
              <li key={next}>
                <button
                  type="button"
                  class="link"
                  onClick={() => {
                    setQuery(next);
                    run(next);
                  }}
                >
                  Look up {next}
                </button>
              </li>
            ))}
          </ul>
        ) : null}
      </div>
    </section>
  );
}
