// Look-up by id: asks every guardian, shows what t of them agree on, as a life cycle. Shows only
// what anyone holding the id may see and a stranger learns nothing personal from: states, heights,
// confirmations, signature counts; never amounts, claim keys, addresses or tx keys.
import { useState } from "preact/hooks";
import { getJson, HttpError } from "./guardians.js";
import type { FederationInfo } from "./guardians.js";
import { MintFinding, lookUpMint } from "./mint.js";
import type { MintLookup } from "./mint.js";

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
function agreed(
  answers: readonly Answer[],
  pick: (v: Record<string, unknown>) => unknown,
  t: number,
): { value: Record<string, unknown>; count: number } | undefined {
  const groups = new Map<string, { value: Record<string, unknown>; count: number }>();
  for (const a of answers) {
    if (!a.ok) continue;
    const key = JSON.stringify(pick(a.value));
    const g = groups.get(key);
    if (g) g.count++;
    else groups.set(key, { value: a.value, count: 1 });
  }
  const best = [...groups.values()].sort((a, b) => b.count - a.count)[0];
  return best && best.count >= t ? best : undefined;
}

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
}

/** Asks every guardian about `id` and returns what t of them agree on. */
export async function lookUp(fed: FederationInfo, raw: string): Promise<LookupResult> {
  const id = raw.trim();
  const urls = fed.guardians.map((g) => g.url);
  const t = fed.threshold;
  if (/^0x[0-9a-fA-F]{40}$/.test(id))
    return {
      findings: [],
      note: "Guardians keep no index by EVM address (it would tie a person's mints together for anyone to see). Look up the burn's EVM transaction hash, or the federation transaction id of your mint.",
    };
  const burn = /^(0x[0-9a-fA-F]{64})(?::(\d{1,6}))?$/.exec(id);
  if (burn) {
    if (fed.modules !== undefined && !fed.modules.includes("bridge"))
      return { findings: [], note: "This federation runs no bridge: it has no wXMR burns." };
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
  const [txAnswers, depositAnswers] = await Promise.all([
    Promise.all(urls.map((u) => ask(u, `/v1/transactions/${hex}`))),
    runs("monero") ? Promise.all(urls.map((u) => ask(u, `/v1/modules/monero/deposits/${hex}`))) : none,
  ]);
  const findings: Finding[] = [];
  const tx = agreed(txAnswers, (v) => ({ state: v["state"], height: v["height"], error: v["error"] }), t);
  if (tx) findings.push(txFinding(tx, txAnswers.filter((x) => x.ok).length));
  const dep = agreed(depositAnswers, (v) => ({ ...v, attestations: undefined, refusedClaims: undefined }), t);
  const df = dep ? depositFinding(dep, depositAnswers.filter((x) => x.ok).length) : undefined;
  if (df) findings.push(df);
  return findings.length > 0
    ? { findings }
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
  const submit = (e: Event) => {
    e.preventDefault();
    setBusy(true);
    history.replaceState(null, "", `#/lookup/${encodeURIComponent(query.trim())}`);
    void lookUp(fed, query).then((r) => {
      setResult(r);
      setBusy(false);
    });
  };
  return (
    <section aria-labelledby="lookup-h">
      <h2 id="lookup-h">Look up</h2>
      <form onSubmit={submit} class="lookup">
        <label for="lookup-id">
          Monero deposit txid, federation transaction id, EVM burn tx hash or EVM address
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
        {result?.mint ? <MintFinding fed={fed} m={result.mint} /> : null}
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
      </div>
    </section>
  );
}
