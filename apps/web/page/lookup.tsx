// Look-up by id: asks every guardian, shows what t of them agree on, as a life cycle. Shows only
// what anyone holding the id may see and a stranger learns nothing personal from: states, heights,
// confirmations, signature counts; never amounts, claim keys, addresses or tx keys.
import { useState } from "preact/hooks";
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
      label: "Turned into e-cash",
      state: state === "spent" ? "done" : credited && d["spendable"] === true ? "current" : "todo",
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
    ],
  };
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
  const [txAnswers, depositAnswers, txMints] = await Promise.all([
    Promise.all(urls.map((u) => ask(u, `/v1/transactions/${hex}`))),
    runs("monero") ? Promise.all(urls.map((u) => ask(u, `/v1/modules/monero/deposits/${hex}`))) : none,
    runs("bridge") ? lookUpTxMints(fed, ask, hex) : undefined,
  ]);
  const findings: Finding[] = [];
  const tx = agreed(txAnswers, (v) => ({ state: v["state"], height: v["height"], error: v["error"] }), t);
  if (tx) findings.push(txFinding(tx, txAnswers.filter((x) => x.ok).length));
  const dep = agreed(depositAnswers, (v) => ({ ...v, attestations: undefined, refusedClaims: undefined }), t);
  const df = dep ? depositFinding(dep, depositAnswers.filter((x) => x.ok).length) : undefined;
  if (df) findings.push(df);
  const mints = txMints ? await withMint(fed, txMints, t) : undefined;
  if (mints) findings.push(...mints.findings);
  const result: LookupResult = {
    findings,
    ...(mints?.mint ? { mint: mints.mint } : {}),
    ...(mints?.ids && mints.ids.length > 0 ? { ids: mints.ids } : {}),
    ...(mints?.note ? { note: mints.note } : {}),
  };
  return findings.length > 0 || result.mint
    ? result
    : { findings: [], note: notFound([...txAnswers, ...depositAnswers], t) };
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
        {result?.mint ? (
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
