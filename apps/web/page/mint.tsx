// A wXMR mint looked up by its federation output (txid:index): what t guardians agree it is, the
// guardian signatures gathered (each checked against that guardian's address), its state on the
// EVM chain (through the user's injected EVM wallet when it has one), and, when t good signatures
// are there and it is neither minted nor expired, a button that submits it with that wallet.
import { useEffect, useState } from "preact/hooks";
import { formatXmr, shortHex } from "./format.js";
import { getJson } from "./guardians.js";
import type { FederationInfo } from "./guardians.js";
import {
  bridgeFromConfig,
  chainIdOf,
  depositUsed,
  injectedProvider,
  latestTimestamp,
  mintCallOf,
  outputDepositId,
  parseMintView,
  providerErrorText,
  reissueDepositId,
  sendMint,
  waitMined,
} from "./wxmr.js";
import type { BridgeInfo, MintCall } from "./wxmr.js";
import type { Hex } from "viem";

export interface MintLookup {
  readonly txid: string;
  readonly index: number;
  readonly bridge: BridgeInfo;
  readonly depositId: Hex;
  readonly answered: number;
  readonly agreeing: number;
  readonly call: MintCall;
  /** The EVM time at least t guardians have passed (their agreed block's timestamp), if known. */
  readonly guardianTime?: bigint;
  /** A refundable mint's return state that at least t guardians report (returnable, refunded, …). */
  readonly expiry?: string;
  /** The re-issue attempt t guardians sign (0: the first issue; docs/bridge.md "Re-issue"). */
  readonly attempt: number;
}

const settle = <T,>(p: Promise<T>): Promise<T | undefined> => p.catch(() => undefined);

/** The bridge config at least t guardians serve (GET /v1/federation at each), or why there is none. */
export async function agreedBridge(fed: FederationInfo): Promise<BridgeInfo | string> {
  const answers = await Promise.all(fed.guardians.map((g) => settle(getJson(g.url, "/v1/federation"))));
  const counts = new Map<string, { b: BridgeInfo; n: number }>();
  for (const a of answers) {
    const r = typeof a === "object" && a !== null ? (a as Record<string, unknown>) : undefined;
    if (r?.["federationId"] !== fed.federationId) continue;
    const b = bridgeFromConfig(r["config"]);
    if (!b) continue;
    const k = JSON.stringify(b);
    counts.set(k, { b, n: (counts.get(k)?.n ?? 0) + 1 });
  }
  const best = [...counts.values()].sort((x, y) => y.n - x.n)[0];
  if (!best) return "no guardian of this federation states a bridge config: it runs no bridge";
  if (best.n < fed.threshold)
    return `only ${best.n} guardians agree on the bridge config (${fed.threshold} needed)`;
  return best.b;
}

export async function lookUpMint(
  fed: FederationInfo,
  txid: string,
  index: number,
): Promise<MintLookup | string> {
  const bridge = await agreedBridge(fed);
  if (typeof bridge === "string") return bridge;
  const path = `/v1/modules/bridge/mints/${txid}/${index}`;
  const [answers, chains] = await Promise.all([
    Promise.all(fed.guardians.map((g) => settle(getJson(g.url, path)))),
    Promise.all(fed.guardians.map((g) => settle(getJson(g.url, "/v1/modules/bridge/chain")))),
  ]);
  const all = answers.map((a, i) => {
    const v = parseMintView(a);
    // An answer counts as the guardian's own only under its own index.
    return v && v.guardian === i ? v : undefined;
  });
  // An expired mint without refund key is re-issued under a fresh deposit id (the page computes it
  // from the output's and the attempt): the attempt t guardians sign, and only their answers.
  const attempts = new Map<number, number>();
  for (const v of all)
    if (v) attempts.set(v.reissueAttempt ?? 0, (attempts.get(v.reissueAttempt ?? 0) ?? 0) + 1);
  const attempt = [...attempts].sort((a, b) => b[1] - a[1] || b[0] - a[0])[0]?.[0] ?? 0;
  const views = all.map((v) => (v && (v.reissueAttempt ?? 0) === attempt ? v : undefined));
  const depositId = reissueDepositId(outputDepositId(fed.federationId, txid, index), attempt);
  const found = await mintCallOf(bridge, depositId, views);
  const answered = all.filter((v) => v).length;
  if (!found)
    return answered === 0
      ? "No guardian knows a wXMR mint at this output (not accepted yet, or not a mint output)."
      : `Only ${answered} guardians know this mint (${fed.threshold} needed).`;
  if ("disagree" in found) return `Not trusted: ${found.disagree}.`;
  const times = chains
    .map((c) =>
      typeof c === "object" && c !== null ? (c as Record<string, unknown>)["agreedTimestamp"] : undefined,
    )
    .filter((t): t is string => typeof t === "string" && /^\d{1,20}$/.test(t))
    .map(BigInt)
    .sort((a, b) => (a < b ? 1 : -1));
  const guardianTime = times.length >= fed.threshold ? times[fed.threshold - 1] : undefined;
  const expiryCounts = new Map<string, number>();
  for (const v of views) if (v?.expiry) expiryCounts.set(v.expiry, (expiryCounts.get(v.expiry) ?? 0) + 1);
  const expiry = [...expiryCounts].find(([, n]) => n >= fed.threshold)?.[0];
  return {
    txid,
    index,
    bridge,
    depositId,
    answered,
    agreeing: found.agreeing,
    call: found.call,
    attempt,
    ...(guardianTime !== undefined ? { guardianTime } : {}),
    ...(expiry !== undefined ? { expiry } : {}),
  };
}

type Chain = { kind: "none"; why: string } | { kind: "read"; used: boolean; time: bigint };

type Sending =
  | { kind: "idle" }
  | { kind: "busy"; what: string }
  | { kind: "sent"; hash: Hex }
  | { kind: "mined"; hash: Hex; ok: boolean; block: bigint }
  | { kind: "error"; message: string };

async function readChain(bridge: BridgeInfo, depositId: Hex): Promise<Chain> {
  const p = injectedProvider();
  if (!p) return { kind: "none", why: "no EVM wallet in this browser" };
  try {
    const id = await chainIdOf(p);
    if (id !== bridge.chainId)
      return {
        kind: "none",
        why: `the EVM wallet is on chain ${id}, the contract on chain ${bridge.chainId}`,
      };
    const [used, time] = await Promise.all([depositUsed(p, bridge.contract, depositId), latestTimestamp(p)]);
    return { kind: "read", used, time };
  } catch (e) {
    return { kind: "none", why: providerErrorText(e) };
  }
}

const when = (seconds: bigint) => new Date(Number(seconds) * 1000).toISOString().replace(".000", "");

export function MintFinding({ fed, m }: { fed: FederationInfo; m: MintLookup }) {
  const [chain, setChain] = useState<Chain | undefined>(undefined);
  const [sending, setSending] = useState<Sending>({ kind: "idle" });
  useEffect(() => {
    let live = true;
    void readChain(m.bridge, m.depositId).then((c) => live && setChain(c));
    return () => {
      live = false;
    };
  }, [m, sending.kind === "mined"]);

  const t = m.bridge.threshold;
  const signed = m.call.signatures.length >= t;
  const minted = chain?.kind === "read" && chain.used;
  const now = chain?.kind === "read" ? chain.time : m.guardianTime;
  const expired = !minted && now !== undefined && now > m.call.deadline;
  const failed = sending.kind === "mined" && !sending.ok;
  const submitted = sending.kind === "sent" || sending.kind === "mined" || minted;
  // A refundable mint the guardians decided was never minted: its value goes back as e-cash.
  const returned = m.expiry === "returnable" || m.expiry === "refunded" || m.expiry === "paid_out";
  const state = returned
    ? m.expiry === "refunded"
      ? "expired, refunded"
      : m.expiry === "paid_out"
        ? "expired, paid back in Monero"
        : "expired, refundable"
    : minted
      ? "minted"
      : failed
        ? "failed"
        : expired
          ? chain?.kind === "read"
            ? "expired"
            : "past its deadline"
          : submitted
            ? "submitted"
            : signed
              ? "signed"
              : "signing";

  const submit = () => {
    const p = injectedProvider();
    if (!p) return;
    setSending({ kind: "busy", what: "Waiting for your EVM wallet…" });
    let stopped = false;
    sendMint(p, m.bridge, m.call)
      .then(async (hash) => {
        setSending({ kind: "sent", hash });
        const r = await waitMined(p, hash, () => stopped);
        if (r) setSending({ kind: "mined", hash, ok: r.ok, block: r.block });
      })
      .catch((e: unknown) => {
        stopped = true;
        setSending({ kind: "error", message: providerErrorText(e) });
      });
  };

  const steps: { label: string; state: "done" | "current" | "todo" | "failed"; detail?: string }[] = [
    {
      label: "Accepted by the federation",
      state: "done",
      detail: `output ${m.index} of transaction ${shortHex(m.txid, 12)}`,
    },
    {
      label: "Signed by the guardians",
      state: signed || returned ? "done" : "current",
      detail: returned
        ? "the guardians withdraw their signatures once it is returned"
        : `${m.call.good} good signatures (${t} needed)${m.call.bad.length > 0 ? `; bad: ${m.call.bad.map((g) => fed.guardians[g]?.name ?? g).join(", ")}` : ""}`,
    },
    {
      label: "Submitted to the EVM chain",
      state: submitted ? "done" : expired ? "failed" : signed ? "current" : "todo",
      ...(sending.kind === "sent" || sending.kind === "mined"
        ? { detail: `your transaction ${shortHex(sending.hash, 18)}` }
        : {}),
    },
    {
      label: minted ? "Minted" : failed ? "Failed" : expired ? "Expired" : "Minted",
      state: minted ? "done" : failed || expired ? "failed" : "todo",
      ...(minted
        ? {
            detail: failed
              ? "the contract has used this deposit id: another transaction minted it"
              : "the contract has used this deposit id",
          }
        : failed
          ? {
              detail: `transaction ${sending.kind === "mined" ? sending.hash : ""} reverted in block ${sending.kind === "mined" ? sending.block : ""}`,
            }
          : expired
            ? {
                detail: `not minted by its deadline ${when(m.call.deadline)}; the contract refuses it from now on`,
              }
            : {}),
    },
  ];
  if (m.expiry === "paid_out")
    steps.push({
      label: "Paid back in Monero",
      state: "done",
      detail: `${fed.threshold} guardians read on chain that it was never minted and paid its value back to the Monero refund address given with the deposit (not shown here), less the Monero fee`,
    });
  else if (returned)
    steps.push({
      label: m.expiry === "refunded" ? "Refunded as e-cash" : "Refundable",
      state: m.expiry === "refunded" ? "done" : "current",
      detail: `${fed.threshold} guardians read on chain that it was never minted; the wallet holding its refund key takes the value back as e-cash`,
    });
  const canSubmit =
    !returned &&
    signed &&
    !minted &&
    !expired &&
    chain?.kind === "read" &&
    (sending.kind === "idle" || sending.kind === "error" || failed);
  return (
    <article class="finding" id="mint-finding" data-mint-state={state}>
      <h3>wXMR mint</h3>
      <p class="muted">
        {m.agreeing} of {m.answered} answering guardians agree on this mint (at least {fed.threshold} needed);
        each signature is checked against that guardian's EVM address.
      </p>
      <ol class="steps">
        {steps.map((s) => (
          <li key={s.label} class={s.state} data-state={s.state}>
            <span class="visually-hidden">{s.state}: </span>
            {s.label}
            {s.detail ? <span class="muted"> — {s.detail}</span> : null}
          </li>
        ))}
      </ol>
      <dl>
        <div>
          <dt>State</dt>
          <dd id="mint-state">{state}</dd>
        </div>
        <div>
          <dt>Deadline</dt>
          <dd>{when(m.call.deadline)}</dd>
        </div>
        {m.attempt > 0 && (
          <div>
            <dt>Re-issued</dt>
            <dd id="mint-reissued">
              attempt {m.attempt}: the earlier signatures expired unminted, so the guardians signed it again
              under a new deposit id and deadline
            </dd>
          </div>
        )}
        <div>
          <dt>Deposit id</dt>
          <dd>
            <code>{m.depositId}</code>
          </dd>
        </div>
        <div>
          <dt>Contract</dt>
          <dd>
            <code>{m.bridge.contract}</code> (chain {m.bridge.chainId})
          </dd>
        </div>
      </dl>
      {chain?.kind === "none" && !minted ? (
        <p class="muted" id="mint-chain-note">
          The page reads the chain through your EVM wallet ({chain.why}). Check it yourself:{" "}
          <code>
            cast call {m.bridge.contract} "depositUsed(bytes32)(bool)" {m.depositId} --rpc-url YOUR_NODE
          </code>
        </p>
      ) : null}
      {signed && !minted && !expired ? (
        <div class="submit" aria-live="polite">
          <p>
            Submitting mints {formatXmr(m.call.amount).replace(/ XMR$/, "")} wXMR to{" "}
            <code>{m.call.recipient}</code> (your EVM wallet shows the same before you confirm; any account
            may pay the gas).
          </p>
          {canSubmit ? (
            <button type="button" onClick={submit} id="mint-submit">
              Submit with your EVM wallet
            </button>
          ) : null}
          {sending.kind === "busy" ? <p class="muted">{sending.what}</p> : null}
          {sending.kind === "sent" ? (
            <p id="mint-tx">
              Sent: <code>{sending.hash}</code>, waiting to be mined…
            </p>
          ) : null}
          {sending.kind === "error" ? (
            <p class="bad" role="alert" id="mint-error">
              {sending.message}
            </p>
          ) : null}
        </div>
      ) : null}
      {sending.kind === "mined" ? (
        <p id="mint-tx" class={sending.ok ? "ok" : "bad"} role="status">
          Transaction <code>{sending.hash}</code> {sending.ok ? "succeeded" : "failed (reverted)"} in block{" "}
          {String(sending.block)}.
        </p>
      ) : null}
    </article>
  );
}
