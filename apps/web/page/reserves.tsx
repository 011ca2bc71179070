// Proof of reserves: what the federation owes beside what backs it, as each guardian's own state
// has it (GET /v1/audit), and what each guardian's share of the multisig wallet sees
// (GET /v1/modules/monero/reserves), with the commands that check the same with one's own tools.
import { useEffect, useState } from "preact/hooks";
import { formatXmr } from "./format.js";
import { getJson, groupBy } from "./guardians.js";
import type { FederationInfo, GuardianView } from "./guardians.js";
import { OwedView, parseSupply } from "./owed.js";
import type { BridgeSupply, OwedSource } from "./owed.js";

interface AuditModule {
  instanceId: number;
  kind: string;
  assets: string;
  liabilities: string;
}
interface Audit {
  modules: AuditModule[];
  assets: string;
  liabilities: string;
}
interface MoneroReserves {
  state: string;
  detail: string;
  required: string;
  ecashBacking: string;
  credited: string;
  agreedHeight: number;
  pendingPayouts?: { count: number; amount: string; summed: number };
  wallet?: { balance: string; unlocked: string; locked: string; height: number; checkedAt: string };
  agreed: { state: string; detail: string; required: string; balance?: string };
}
interface BridgeChain {
  chainId: number;
  contract: string;
  agreedBlock: string;
}
interface GuardianReserves {
  audit?: Audit;
  monero?: MoneroReserves;
  bridge?: BridgeChain;
  supply?: BridgeSupply;
  error?: string;
}

const REFRESH_MIN_MS = 5_000;

const DECIMAL = /^-?[0-9]{1,30}$/;
const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const decimalOrAbsent = (v: unknown) => v === undefined || (typeof v === "string" && DECIMAL.test(v));

/**
 * Checks the fields the page computes with (amounts go through BigInt): a guardian's malformed
 * answer becomes that guardian's error in its column instead of breaking the page.
 */
function isAudit(v: unknown): v is Audit {
  return (
    isRecord(v) &&
    typeof v["assets"] === "string" &&
    DECIMAL.test(v["assets"]) &&
    typeof v["liabilities"] === "string" &&
    DECIMAL.test(v["liabilities"]) &&
    Array.isArray(v["modules"]) &&
    v["modules"].every(
      (m) =>
        isRecord(m) &&
        typeof m["instanceId"] === "number" &&
        typeof m["kind"] === "string" &&
        typeof m["assets"] === "string" &&
        DECIMAL.test(m["assets"]) &&
        typeof m["liabilities"] === "string" &&
        DECIMAL.test(m["liabilities"]),
    )
  );
}

function checkAudit(v: unknown): Audit {
  if (!isAudit(v)) throw new Error("its audit answer is malformed");
  return v;
}

function isMoneroReserves(v: unknown): v is MoneroReserves {
  if (!isRecord(v) || typeof v["state"] !== "string" || !isRecord(v["agreed"])) return false;
  const wallet = v["wallet"];
  return (
    decimalOrAbsent(v["required"]) &&
    decimalOrAbsent(v["credited"]) &&
    typeof v["agreed"]["state"] === "string" &&
    decimalOrAbsent(v["agreed"]["balance"]) &&
    (v["pendingPayouts"] === undefined ||
      (isRecord(v["pendingPayouts"]) &&
        typeof v["pendingPayouts"]["count"] === "number" &&
        typeof v["pendingPayouts"]["summed"] === "number" &&
        typeof v["pendingPayouts"]["amount"] === "string" &&
        DECIMAL.test(v["pendingPayouts"]["amount"]))) &&
    (wallet === undefined ||
      (isRecord(wallet) && decimalOrAbsent(wallet["balance"]) && decimalOrAbsent(wallet["unlocked"])))
  );
}

function checkMonero(v: unknown): MoneroReserves | undefined {
  return isMoneroReserves(v) ? v : undefined;
}

async function load(url: string): Promise<GuardianReserves> {
  try {
    const audit = checkAudit(await getJson(url, "/v1/audit"));
    const kinds = new Set(audit.modules.map((m) => m.kind));
    const monero = kinds.has("monero")
      ? checkMonero(await getJson(url, "/v1/modules/monero/reserves").catch(() => undefined))
      : undefined;
    const bridge = kinds.has("bridge")
      ? ((await getJson(url, "/v1/modules/bridge/chain").catch(() => undefined)) as BridgeChain | undefined)
      : undefined;
    const supply = kinds.has("bridge")
      ? parseSupply(await getJson(url, "/v1/modules/bridge/supply").catch(() => undefined))
      : undefined;
    return {
      audit,
      ...(monero ? { monero } : {}),
      ...(bridge ? { bridge } : {}),
      ...(supply ? { supply } : {}),
    };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

function owedSource(d: GuardianReserves | undefined): OwedSource | undefined {
  if (!d?.audit) return undefined;
  return {
    modules: d.audit.modules,
    ...(d.monero ? { credited: d.monero.credited } : {}),
    ...(d.monero?.pendingPayouts ? { pendingPayouts: d.monero.pendingPayouts } : {}),
    ...(d.monero?.wallet ? { walletBalance: d.monero.wallet.balance } : {}),
    ...(d.supply ? { supply: d.supply } : {}),
  };
}

function Amount({ v }: { v: string | undefined }) {
  if (v === undefined) return <span class="muted">—</span>;
  return <span title={`${v} piconero`}>{formatXmr(v)}</span>;
}

export function ReservesView({
  fed,
  views,
  height,
}: {
  fed: FederationInfo;
  views: readonly GuardianView[];
  height: number | undefined;
}) {
  const [data, setData] = useState<(GuardianReserves | undefined)[]>([]);
  const [loadedAt, setLoadedAt] = useState(0);
  // Reloaded when the agreed height moves (pushed over WebSocket), at most every 5 s: no polling.
  useEffect(() => {
    const wait = Math.max(0, loadedAt + REFRESH_MIN_MS - Date.now());
    const timer = window.setTimeout(() => {
      void Promise.all(fed.guardians.map((g) => load(g.url))).then((all) => {
        setData(all);
        setLoadedAt(Date.now());
      });
    }, wait);
    return () => window.clearTimeout(timer);
  }, [fed, height]);

  const modules = data.find((d) => d?.audit)?.audit?.modules ?? [];
  const withData = views.map((v) => ({ v, d: data[v.index] }));
  const auditGroups = groupBy(views, (v) => data[v.index]?.audit);
  const bridge = data.find((d) => d?.bridge)?.bridge;
  const firstUrl = fed.guardians[0]?.url ?? "http://GUARDIAN";
  const hasMonero = fed.modules === undefined || fed.modules.includes("monero");
  return (
    <section aria-labelledby="reserves-h">
      <h2 id="reserves-h">Proof of reserves</h2>
      <p>
        What the federation owes (its liabilities: e-cash notes outstanding, wXMR issued) beside what backs
        them (its assets: Monero deposits held in the {fed.threshold}-of-{fed.guardians.length} multisig
        wallet), as each guardian's own state has them after its last block. Every guardian checks after every
        block that assets cover liabilities and stops if they do not.
      </p>
      {data.length === 0 ? <p class="muted">Asking every guardian…</p> : null}
      {data.length > 0 ? (
        <OwedView fed={fed} views={views} sources={data.map(owedSource)} height={height} />
      ) : null}
      <h3>Assets and liabilities per module</h3>
      {auditGroups.length > 1 ? (
        <p class="alert" role="alert">
          Guardians report different books (they may be a block apart; this updates with every block).
        </p>
      ) : null}
      <div class="scroll" tabIndex={0} role="region" aria-label="Assets and liabilities per guardian">
        <table id="audit">
          <caption>Assets and liabilities per module, as each guardian reports them (GET /v1/audit)</caption>
          <thead>
            <tr>
              <th scope="col">Module</th>
              {withData.map(({ v }) => (
                <th scope="col" key={v.index}>
                  {v.name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {modules.map((m) => (
              <tr key={m.instanceId}>
                <th scope="row">
                  {m.kind} #{m.instanceId}
                </th>
                {withData.map(({ v, d }) => {
                  const mm = d?.audit?.modules.find((x) => x.instanceId === m.instanceId);
                  return (
                    <td key={v.index}>
                      {d?.error ? (
                        <span class="bad">{d.error}</span>
                      ) : mm ? (
                        <>
                          <div>
                            owes <Amount v={mm.liabilities} />
                          </div>
                          <div>
                            holds <Amount v={mm.assets} />
                          </div>
                        </>
                      ) : (
                        "—"
                      )}
                    </td>
                  );
                })}
              </tr>
            ))}
            <tr>
              <th scope="row">Total</th>
              {withData.map(({ v, d }) => (
                <td key={v.index} data-total={v.index}>
                  {d?.audit ? (
                    <>
                      <div>
                        owes <Amount v={d.audit.liabilities} />
                      </div>
                      <div>
                        holds <Amount v={d.audit.assets} />
                      </div>
                      <div class={BigInt(d.audit.assets) >= BigInt(d.audit.liabilities) ? "ok" : "bad"}>
                        {BigInt(d.audit.assets) >= BigInt(d.audit.liabilities) ? "covered" : "SHORT"}
                      </div>
                    </>
                  ) : (
                    "—"
                  )}
                </td>
              ))}
            </tr>
          </tbody>
        </table>
      </div>
      {data.some((d) => d?.monero) ? (
        <>
          <h3>The multisig wallet, as each guardian's own wallet sees it</h3>
          <div class="scroll" tabIndex={0} role="region" aria-label="Multisig wallet per guardian">
            <table id="wallets">
              <caption>GET /v1/modules/monero/reserves at each guardian</caption>
              <thead>
                <tr>
                  <th scope="col">Guardian</th>
                  <th scope="col">Wallet balance</th>
                  <th scope="col">Unlocked</th>
                  <th scope="col">Owed (e-cash backing + credited deposits)</th>
                  <th scope="col">Its verdict</th>
                  <th scope="col">Agreed in consensus</th>
                </tr>
              </thead>
              <tbody>
                {withData.map(({ v, d }) => (
                  <tr key={v.index} data-guardian={v.index}>
                    <th scope="row">{v.name}</th>
                    <td data-field="balance">
                      <Amount v={d?.monero?.wallet?.balance} />
                    </td>
                    <td data-field="unlocked">
                      <Amount v={d?.monero?.wallet?.unlocked} />
                    </td>
                    <td>
                      <Amount v={d?.monero?.required} />
                    </td>
                    <td class={d?.monero?.state === "ok" ? "ok" : "bad"}>{d?.monero?.state ?? "—"}</td>
                    <td>
                      {d?.monero ? (
                        <>
                          {d.monero.agreed.state} (balance <Amount v={d.monero.agreed.balance} />)
                        </>
                      ) : (
                        "—"
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
      <h3>Check it with your own tools</h3>
      <ol class="howto">
        <li>
          Ask every guardian yourself and compare: <code>curl -s {firstUrl}/v1/audit</code>
          {hasMonero ? (
            <>
              {" "}
              and <code>curl -s {firstUrl}/v1/modules/monero/reserves</code>
            </>
          ) : null}{" "}
          (one guardian's word proves nothing; any {fed.threshold} agreeing do).
        </li>
        <li>
          E-cash outstanding is the mint's liability; each note is spent once, which{" "}
          <code>POST /v1/modules/mint/notes/spent</code> answers for your own notes.
        </li>
        <li hidden={!hasMonero}>
          The Monero held: your own deposit's confirmations with <code>check_tx_key</code> or{" "}
          <code>check_tx_proof</code> in <code>monero-wallet-rpc</code> against your own node; a guardian's
          view of the wallet is its <code>get_balance</code> on its share, shown above per guardian. With{" "}
          <code>monero-wallet-cli</code> on your own wallet: <code>check_tx_key TXID TX_KEY ADDRESS</code>{" "}
          proves a payout you received (the wallet page gives its txid and tx key), <code>get_tx_proof</code>{" "}
          / <code>check_tx_proof</code> a deposit you sent; pending payouts are in{" "}
          <code>curl -s {firstUrl}/v1/modules/monero/reserves</code> (<code>pendingPayouts</code>).
        </li>
        {bridge ? (
          <li>
            wXMR issued, read from the chain:{" "}
            <code>cast call {bridge.contract} "totalSupply()(uint256)" --rpc-url YOUR_NODE</code> (chain{" "}
            {bridge.chainId}); at a guardian's depth block, as the table shows it:{" "}
            <code>… --block BLOCK</code>. Signed and not on the chain = signed − burned − that supply, from{" "}
            <code>curl -s {firstUrl}/v1/modules/bridge/supply</code>; each mint's state:{" "}
            <code>
              cast call {bridge.contract} "depositUsed(bytes32)(bool)" DEPOSIT_ID --rpc-url YOUR_NODE
            </code>
            .
          </li>
        ) : null}
      </ol>
    </section>
  );
}
