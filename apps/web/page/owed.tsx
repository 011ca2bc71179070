// What the federation owes, figure by figure, as each guardian reports it, beside what each guardian's
// share of the multisig wallet sees: every figure in its own row with every guardian's value and
// whether t of them agree (a guardian that reports another figure is marked as a disagreement). The
// wXMR supply is also read from the chain through the user's own EVM wallet when the browser has one.
import { useEffect, useState } from "preact/hooks";
import { formatXmr } from "./format.js";
import type { FederationInfo, GuardianView } from "./guardians.js";
import { agreedBridge } from "./mint.js";
import { chainIdOf, injectedProvider, providerErrorText, totalSupply } from "./wxmr.js";
import type { BridgeInfo } from "./wxmr.js";

const DECIMAL = /^-?[0-9]{1,78}$/;
const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** A guardian's GET /v1/modules/bridge/supply (the bridge API's SupplyViewSchema), as the page reads it. */
export interface BridgeSupply {
  readonly signed: string;
  readonly burned: string;
  readonly unsettled: string;
  readonly returnable: string;
  readonly outstanding: string;
  readonly chain?: { readonly block: string; readonly totalSupply: string };
  readonly unsubmitted?: string;
}

export function parseSupply(v: unknown): BridgeSupply | undefined {
  if (!isRecord(v)) return undefined;
  const fields = ["signed", "burned", "unsettled", "returnable", "outstanding"] as const;
  if (!fields.every((f) => typeof v[f] === "string" && DECIMAL.test(v[f]))) return undefined;
  const chain = v["chain"];
  const okChain =
    isRecord(chain) &&
    typeof chain["block"] === "string" &&
    DECIMAL.test(chain["block"]) &&
    typeof chain["totalSupply"] === "string" &&
    DECIMAL.test(chain["totalSupply"]) &&
    typeof v["unsubmitted"] === "string" &&
    DECIMAL.test(v["unsubmitted"]);
  return {
    signed: String(v["signed"]),
    burned: String(v["burned"]),
    unsettled: String(v["unsettled"]),
    returnable: String(v["returnable"]),
    outstanding: String(v["outstanding"]),
    ...(okChain
      ? {
          chain: { block: String(chain["block"]), totalSupply: String(chain["totalSupply"]) },
          unsubmitted: String(v["unsubmitted"]),
        }
      : {}),
  };
}

/** What one guardian reports, as the rows below read it (amounts are decimal piconero strings). */
export interface OwedSource {
  readonly modules?: readonly { kind: string; liabilities: string }[];
  readonly credited?: string;
  readonly pendingPayouts?: { count: number; amount: string; summed: number };
  readonly walletBalance?: string;
  readonly supply?: BridgeSupply;
}

interface Row {
  readonly id: string;
  readonly label: string;
  readonly value: (s: OwedSource) => bigint | undefined;
  readonly note?: (s: OwedSource) => string | undefined;
}

const sumKind = (s: OwedSource, pick: (kind: string) => boolean): bigint | undefined => {
  const ms = s.modules?.filter((m) => pick(m.kind));
  return ms && ms.length > 0 ? ms.reduce((a, m) => a + BigInt(m.liabilities), 0n) : undefined;
};
const big = (v: string | undefined): bigint | undefined => (v === undefined ? undefined : BigInt(v));

const OWED_ROWS: readonly Row[] = [
  {
    id: "ecash",
    label: "E-cash outstanding (notes not yet spent)",
    value: (s) => sumKind(s, (k) => k === "mint"),
  },
  {
    id: "other",
    label: "Other modules' liabilities",
    value: (s) => sumKind(s, (k) => k !== "mint" && k !== "bridge" && k !== "monero"),
  },
  {
    id: "wxmr-supply",
    label: "wXMR supply on the EVM chain (the guardian's node, at its depth block)",
    value: (s) => big(s.supply?.chain?.totalSupply),
    note: (s) => (s.supply?.chain ? `block ${s.supply.chain.block}` : undefined),
  },
  {
    id: "wxmr-unsubmitted",
    label: "wXMR mints signed, not on the chain (signed − burned − supply)",
    value: (s) => big(s.supply?.unsubmitted),
  },
  {
    id: "wxmr-owed",
    label: "wXMR burns owed as e-cash, and expired mints to refund",
    value: (s) => (s.supply ? BigInt(s.supply.unsettled) + BigInt(s.supply.returnable) : undefined),
  },
  { id: "credited", label: "Monero deposits credited, not yet e-cash", value: (s) => big(s.credited) },
  {
    id: "pending-payouts",
    label: "Payouts pending (Monero withdrawals and burns: queued, signing, submitted)",
    value: (s) => big(s.pendingPayouts?.amount),
    note: (s) =>
      s.pendingPayouts
        ? `${s.pendingPayouts.count} payout${s.pendingPayouts.count === 1 ? "" : "s"}${s.pendingPayouts.summed < s.pendingPayouts.count ? `, the oldest ${s.pendingPayouts.summed} summed` : ""}`
        : undefined,
  },
];

/** Σ of the rows a guardian reports (a row it does not report counts nothing). */
const totalOwed = (s: OwedSource): bigint => OWED_ROWS.reduce((a, r) => a + (r.value(s) ?? 0n), 0n);

const ALL_ROWS: readonly Row[] = [
  ...OWED_ROWS,
  { id: "total", label: "Total owed", value: (s) => (s.modules ? totalOwed(s) : undefined) },
  {
    id: "wallet",
    label: "Multisig wallet balance (the guardian's own share of the wallet sees)",
    value: (s) => big(s.walletBalance),
  },
  {
    id: "surplus",
    label: "Wallet − total owed",
    value: (s) =>
      s.walletBalance !== undefined && s.modules ? BigInt(s.walletBalance) - totalOwed(s) : undefined,
  },
];

/** The value at least t guardians report, or undefined; and the guardians that report another one. */
function agreement(
  values: readonly (bigint | undefined)[],
  t: number,
): { agreed?: bigint; differing: number[]; top: number } {
  const counts = new Map<bigint, number>();
  for (const v of values) if (v !== undefined) counts.set(v, (counts.get(v) ?? 0) + 1);
  const [best, n] = [...counts].sort((a, b) => b[1] - a[1])[0] ?? [undefined, 0];
  const agreed = n >= t ? best : undefined;
  const differing = values.flatMap((v, i) =>
    v !== undefined && counts.size > 1 && v !== (agreed ?? best) ? [i] : [],
  );
  return { ...(agreed !== undefined ? { agreed } : {}), differing, top: n };
}

const xmr = (v: bigint) => formatXmr(v);

type Read = { kind: "none"; why: string } | { kind: "read"; supply: bigint; bridge: BridgeInfo };

/** The wXMR supply read through the user's injected EVM wallet, at its latest block. */
function useWalletSupply(
  fed: FederationInfo,
  hasBridge: boolean,
  height: number | undefined,
): Read | undefined {
  const [read, setRead] = useState<Read | undefined>(undefined);
  useEffect(() => {
    if (!hasBridge) return;
    let live = true;
    void (async (): Promise<Read> => {
      const p = injectedProvider();
      if (!p) return { kind: "none", why: "no EVM wallet in this browser" };
      const bridge = await agreedBridge(fed);
      if (typeof bridge === "string") return { kind: "none", why: bridge };
      try {
        const id = await chainIdOf(p);
        if (id !== bridge.chainId)
          return {
            kind: "none",
            why: `the EVM wallet is on chain ${id}, the contract on chain ${bridge.chainId}`,
          };
        return { kind: "read", supply: await totalSupply(p, bridge.contract), bridge };
      } catch (e) {
        return { kind: "none", why: providerErrorText(e) };
      }
    })().then((r) => live && setRead(r));
    return () => {
      live = false;
    };
  }, [fed, hasBridge, height]);
  return read;
}

export function OwedView({
  fed,
  views,
  sources,
  height,
}: {
  fed: FederationInfo;
  views: readonly GuardianView[];
  sources: readonly (OwedSource | undefined)[];
  height: number | undefined;
}) {
  const t = fed.threshold;
  const hasBridge = sources.some((s) => s?.supply);
  const wallet = useWalletSupply(fed, hasBridge, height);
  const rows = ALL_ROWS.filter((r) => sources.some((s) => s && r.value(s) !== undefined));
  const problems: string[] = [];
  const table = rows.map((r) => {
    const values = views.map((v) => {
      const s = sources[v.index];
      return s ? r.value(s) : undefined;
    });
    const a = agreement(values, t);
    for (const i of a.differing)
      problems.push(
        `${r.label}: ${views[i]!.name} reports ${xmr(values[i]!)}${a.agreed !== undefined ? `, ${a.top} others ${xmr(a.agreed)}` : ""}`,
      );
    return { r, values, a };
  });
  const supplyAgreed = table.find((x) => x.r.id === "wxmr-supply")?.a.agreed;
  return (
    <>
      <h3>What the federation owes, figure by figure</h3>
      <p class="muted">
        Each guardian asked separately; a figure counts when at least {t} guardians report the same. The wXMR
        supply is each guardian's own reading of the chain at its depth block, so guardians may differ for a
        block or two.
      </p>
      {problems.length > 0 ? (
        <div class="alert" role="alert" id="owed-disagreements">
          <strong>Guardians report different figures:</strong>
          <ul>
            {problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        </div>
      ) : null}
      <div class="scroll" tabIndex={0} role="region" aria-label="What the federation owes per guardian">
        <table id="owed">
          <caption>
            GET /v1/audit, /v1/modules/monero/reserves and /v1/modules/bridge/supply at each guardian
          </caption>
          <thead>
            <tr>
              <th scope="col">Figure</th>
              {views.map((v) => (
                <th scope="col" key={v.index}>
                  {v.name}
                </th>
              ))}
              <th scope="col">{t} agree?</th>
            </tr>
          </thead>
          <tbody>
            {table.map(({ r, values, a }) => (
              <tr key={r.id} data-row={r.id}>
                <th scope="row">{r.label}</th>
                {views.map((v, i) => {
                  const s = sources[v.index];
                  const value = values[i];
                  const differs = a.differing.includes(i);
                  const note = s && r.note ? r.note(s) : undefined;
                  return (
                    <td
                      key={v.index}
                      data-guardian={v.index}
                      class={differs ? "bad" : undefined}
                      {...(differs ? { "data-differs": "" } : {})}
                    >
                      {value === undefined ? (
                        <span class="muted">—</span>
                      ) : (
                        <span title={`${value} piconero`}>{xmr(value)}</span>
                      )}
                      {note ? <div class="muted small">{note}</div> : null}
                      {differs ? <div class="small">differs</div> : null}
                    </td>
                  );
                })}
                <td data-agreed class={a.agreed !== undefined ? "ok" : "bad"}>
                  {a.agreed !== undefined ? `yes: ${xmr(a.agreed)}` : `no (at most ${a.top} agree)`}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {hasBridge ? (
        <p id="wallet-supply" class={wallet?.kind === "read" ? undefined : "muted"}>
          {wallet === undefined
            ? "Reading the wXMR supply through your EVM wallet…"
            : wallet.kind === "none"
              ? `The wXMR supply read by your own EVM wallet: not read (${wallet.why}).`
              : `The wXMR supply read by your own EVM wallet (its latest block): ${xmr(wallet.supply)}${
                  supplyAgreed === undefined
                    ? "."
                    : wallet.supply === supplyAgreed
                      ? `, the same as ${t} guardians report.`
                      : `; ${t} guardians report ${xmr(supplyAgreed)} at their depth block (a mint or burn in the blocks between moves it).`
                }`}
        </p>
      ) : null}
    </>
  );
}
