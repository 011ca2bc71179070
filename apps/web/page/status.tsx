// The federation at a glance: every guardian as the browser itself sees it, live.
import { groupBy, heightReachedBy } from "./guardians.js";
import type { FederationInfo, GuardianView } from "./guardians.js";
import { shortHex } from "./format.js";

function StateCell({ g }: { g: GuardianView }) {
  if (g.state === "up" && g.status?.halted) return <span class="bad">halted</span>;
  if (g.state === "up") return <span class="ok">up</span>;
  if (g.state === "down") return <span class="bad">down</span>;
  return <span class="muted">connecting…</span>;
}

/** Lines saying where guardians disagree; empty when they agree. */
export function disagreements(fed: FederationInfo, views: readonly GuardianView[]): string[] {
  const lines: string[] = [];
  const names = (ix: number[]) => ix.map((i) => views[i]!.name).join(", ");
  const fedIds = groupBy(views, (v) => v.federationId);
  for (const g of fedIds)
    if (g.value !== fed.federationId)
      lines.push(
        `${names(g.guardians)} report${g.guardians.length === 1 ? "s" : ""} another federation id: ${shortHex(g.value, 16)}`,
      );
  for (const v of views)
    if (typeof v.configHashes === "string")
      lines.push(`${v.name} serves a config that is not the one its federation id names: ${v.configHashes}`);
  const versions = groupBy(views, (v) => (v.state === "up" ? v.status?.version : undefined));
  if (versions.length > 1)
    lines.push(
      `Software versions differ: ${versions.map((g) => `${g.value} (${names(g.guardians)})`).join("; ")}`,
    );
  const pages = groupBy(views, (v) => v.pageSha256 ?? undefined);
  if (pages.length > 1)
    lines.push(
      `Guardians serve different pages: ${pages.map((g) => `${shortHex(g.value, 16)} (${names(g.guardians)})`).join("; ")}`,
    );
  const reached = heightReachedBy(views, fed.threshold);
  if (reached !== undefined)
    for (const v of views)
      if (v.state === "up" && v.status && v.status.height + 3 < reached)
        lines.push(
          `${v.name} is behind: height ${v.status.height}, while ${fed.threshold} guardians reached ${reached}`,
        );
  for (const v of views) if (v.status?.halted) lines.push(`${v.name} halted: ${v.status.halted}`);
  return lines;
}

export function StatusView({ fed, views }: { fed: FederationInfo; views: readonly GuardianView[] }) {
  const up = views.filter((v) => v.state === "up" && !v.status?.halted).length;
  const reached = heightReachedBy(views, fed.threshold);
  const problems = disagreements(fed, views);
  const canAct = up >= fed.threshold;
  return (
    <section aria-labelledby="status-h">
      <h2 id="status-h">Guardians</h2>
      <p id="quorum" class={canAct ? "ok" : "bad"} role="status" aria-live="polite">
        {up} of {fed.guardians.length} guardians up; any {fed.threshold} must agree:{" "}
        {canAct ? "the federation can act." : "the federation cannot act until more come back."}
        {reached !== undefined ? ` Height reached by ${fed.threshold}: ${reached}.` : ""}
      </p>
      {problems.length > 0 ? (
        <div class="alert" role="alert" id="disagreements">
          <strong>Guardians disagree:</strong>
          <ul>
            {problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        </div>
      ) : (
        <p class="muted" id="agreement">
          Every guardian that answers reports the same federation, software version and page.
        </p>
      )}
      <div class="scroll" tabIndex={0} role="region" aria-label="Guardians table">
        <table id="guardians" class="cards">
          <caption>
            Each guardian asked directly by this browser; updates are pushed live over WebSocket.
          </caption>
          <thead>
            <tr>
              <th scope="col">Guardian</th>
              <th scope="col">State</th>
              <th scope="col">Height</th>
              <th scope="col">Sessions</th>
              <th scope="col">Peers</th>
              <th scope="col">Version</th>
              <th scope="col">Page SHA-256</th>
            </tr>
          </thead>
          <tbody>
            {views.map((g) => {
              // A guardian that is down shows no figures: its last ones would read as current.
              const st = g.state === "up" ? g.status : undefined;
              return (
                <tr key={g.index} data-guardian={g.index}>
                  <th scope="row">
                    {g.name}
                    <div class="muted small">{g.url}</div>
                  </th>
                  <td data-col="state" data-label="State">
                    <StateCell g={g} />
                    {g.state === "down" && g.error ? <div class="muted small">{g.error}</div> : null}
                  </td>
                  <td data-col="height" data-label="Height">
                    {st?.height ?? "—"}
                  </td>
                  <td data-col="sessions" data-label="Sessions">
                    {st?.sessionsSigned ?? "—"}
                  </td>
                  <td data-label="Peers">{st ? `${st.peersConnected}/${st.peersTotal}` : "—"}</td>
                  <td data-col="version" data-label="Version">
                    {st?.version ?? "—"}
                  </td>
                  <td data-col="page" data-label="Page SHA-256">
                    <code>
                      {g.pageSha256 === undefined
                        ? "—"
                        : g.pageSha256 === null
                          ? "none"
                          : shortHex(g.pageSha256, 16)}
                    </code>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {views.some((v) => (v.status?.alerts.length ?? 0) > 0) ? (
        <>
          <h3>Alerts</h3>
          <ul id="alerts">
            {views.flatMap((v) =>
              (v.status?.alerts ?? []).map((a) => (
                <li key={`${v.index}-${a.module}-${a.code}`}>
                  {v.name}: {a.module} {a.code}: {a.message}
                </li>
              )),
            )}
          </ul>
        </>
      ) : null}
    </section>
  );
}
