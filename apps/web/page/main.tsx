// The Conclave page: status, proof of reserves and look-up, for anyone, without an account. It learns
// the guardians from the guardian that served it (GET /v1/federation at its own origin) or, hosted
// anywhere else, from an invite code or guardian URLs given in the address (?invite=… or
// ?guardians=url,url) or typed in.
import { render } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { decodeInvite, sha256Hex, shortHex } from "./format.js";
import {
  FederationWatch,
  federationFromConfig,
  federationFromInvite,
  getJson,
  heightReachedBy,
} from "./guardians.js";
import type { FederationInfo, GuardianView } from "./guardians.js";
import { LookupView } from "./lookup.js";
import { ReservesView } from "./reserves.js";
import { StatusView } from "./status.js";

type Route = { page: "status" } | { page: "reserves" } | { page: "lookup"; id: string } | { page: "verify" };

function parseRoute(hash: string): Route {
  const [, page, id] = /^#\/([a-z]+)(?:\/(.*))?$/.exec(hash) ?? [];
  if (page === "reserves") return { page };
  if (page === "verify") return { page };
  if (page === "lookup") return { page, id: decodeURIComponent(id ?? "") };
  return { page: "status" };
}

async function discover(): Promise<FederationInfo | undefined> {
  const params = new URLSearchParams(location.search);
  const invite = params.get("invite");
  if (invite) return federationFromInvite(decodeInvite(invite));
  const list = params.get("guardians");
  if (list) return fromGuardianUrls(list.split(","));
  if (location.protocol === "http:" || location.protocol === "https:") {
    try {
      return federationFromConfig(
        await getJson(location.origin, "/v1/federation", 4_000),
        "the guardian that served this page",
      );
    } catch {
      return undefined; // hosted elsewhere: ask the user
    }
  }
  return undefined;
}

async function fromGuardianUrls(urls: string[]): Promise<FederationInfo> {
  const errors: string[] = [];
  for (const u of urls.map((x) => x.trim()).filter((x) => x !== "")) {
    try {
      return federationFromConfig(
        await getJson(u, "/v1/federation"),
        `${u} (the guardians listed in its config are each asked)`,
      );
    } catch (e) {
      errors.push(`${u}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  throw new Error(`no guardian answered: ${errors.join("; ")}`);
}

function Connect({ onFederation, error }: { onFederation: (f: FederationInfo) => void; error?: string }) {
  const [text, setText] = useState("");
  const [problem, setProblem] = useState(error ?? "");
  const submit = (e: Event) => {
    e.preventDefault();
    const v = text.trim();
    const p = v.startsWith("conclave1:")
      ? Promise.resolve(v).then((x) => federationFromInvite(decodeInvite(x)))
      : fromGuardianUrls(v.split(/[\s,]+/));
    p.then(onFederation, (x: unknown) => setProblem(x instanceof Error ? x.message : String(x)));
  };
  return (
    <form onSubmit={submit} class="connect" aria-labelledby="connect-h">
      <h2 id="connect-h">Which federation?</h2>
      <p>
        This copy of the page was not served by a guardian. Paste the federation's invite code or a guardian's
        URL.
      </p>
      <label for="federation-input">Invite code (conclave1:…) or guardian URLs</label>
      <div class="row">
        <input
          id="federation-input"
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
          autocomplete="off"
          spellcheck={false}
        />
        <button type="submit">Open</button>
      </div>
      {problem ? (
        <p class="bad" role="alert">
          {problem}
        </p>
      ) : null}
    </form>
  );
}

/** This page's own bytes, hashed here (a page cannot contain its own hash). */
function usePageHash(): string | undefined {
  const [hash, setHash] = useState<string | undefined>(undefined);
  useEffect(() => {
    if (location.protocol !== "http:" && location.protocol !== "https:") return;
    fetch(location.href.split("#")[0]!, { cache: "no-store" })
      .then((r) => r.arrayBuffer())
      .then((b) => setHash(sha256Hex(new Uint8Array(b))))
      .catch(() => setHash(undefined));
  }, []);
  return hash;
}

function VerifyView({
  fed,
  views,
  own,
}: {
  fed: FederationInfo | undefined;
  views: readonly GuardianView[];
  own: string | undefined;
}) {
  return (
    <section aria-labelledby="verify-h">
      <h2 id="verify-h">Is this page the real one?</h2>
      <p>
        A guardian could serve an altered page. The page is one HTML file built reproducibly: the same source
        gives the same bytes, so its SHA-256 is the same at every honest guardian and in your own build.
      </p>
      <p>
        This copy's SHA-256 (computed by your browser from the bytes it received):{" "}
        <code id="own-hash">{own ?? "unknown"}</code>
      </p>
      {views.length > 0 ? (
        <ul id="served-hashes">
          {views.map((v) => (
            <li key={v.index}>
              {v.name} serves <code>{v.pageSha256 ?? (v.pageSha256 === null ? "no page" : "…")}</code>
              {own && v.pageSha256 ? (
                v.pageSha256 === own ? (
                  <span class="ok"> (same as this copy)</span>
                ) : (
                  <span class="bad"> (DIFFERENT)</span>
                )
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}
      <p>
        An altered page could lie in everything it shows, this list included, so check with your own tools:
      </p>
      <ol class="howto">
        <li>
          At every guardian: <code>curl -s {fed?.guardians[0]?.url ?? "http://GUARDIAN"}/ | sha256sum</code>{" "}
          (the page) and <code>curl -s …/v1/web</code> (the hash it claims).
        </li>
        <li>
          Build it yourself from the release's source: <code>npm ci && npm run build:web</code> prints the
          SHA-256 of <code>apps/web/dist/index.html</code>. All must be equal.
        </li>
        <li>
          The page loads nothing from anywhere: its content security policy allows only its own inline script
          and style (by hash) and connections to guardians.
        </li>
      </ol>
    </section>
  );
}

function App() {
  const [fed, setFed] = useState<FederationInfo | undefined>(undefined);
  const [discovering, setDiscovering] = useState(true);
  const [error, setError] = useState<string | undefined>(undefined);
  const [route, setRoute] = useState<Route>(parseRoute(location.hash));
  const [views, setViews] = useState<readonly GuardianView[]>([]);
  const own = usePageHash();

  useEffect(() => {
    const onHash = () => {
      // An in-page anchor (the skip link's #main) is not a route: the page shown stays.
      if (/^#[^/]/.test(location.hash)) return;
      setRoute(parseRoute(location.hash));
    };
    window.addEventListener("hashchange", onHash);
    discover().then(
      (f) => {
        setFed(f);
        setDiscovering(false);
      },
      (e: unknown) => {
        setError(e instanceof Error ? e.message : String(e));
        setDiscovering(false);
      },
    );
    return () => window.removeEventListener("hashchange", onHash);
  }, []);

  useEffect(() => {
    if (!fed) return;
    let frame = 0;
    const watch = new FederationWatch(fed, () => {
      // Many guardians answer at once: one render per frame.
      if (frame === 0)
        frame = requestAnimationFrame(() => {
          frame = 0;
          setViews([...watch.guardians]);
        });
    });
    setViews([...watch.guardians]);
    return () => {
      cancelAnimationFrame(frame);
      watch.close();
    };
  }, [fed]);

  const confirmed = views.filter(
    (v) => fed !== undefined && v.federationId === fed.federationId && v.configHashes === true,
  ).length;
  const height = useMemo(() => (fed ? heightReachedBy(views, fed.threshold) : undefined), [fed, views]);
  const tabs: [Route["page"], string, string][] = [
    ["status", "#/status", "Status"],
    ["reserves", "#/reserves", "Reserves"],
    ["lookup", "#/lookup/", "Look up"],
    ["verify", "#/verify", "Verify this page"],
  ];
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header>
        <h1>{fed ? fed.name : "Conclave"}</h1>
        {fed ? (
          <p class="muted small" id="federation-line">
            Federation {shortHex(fed.federationId, 16)} · {fed.guardians.length} guardians, any{" "}
            {fed.threshold} must agree · learned from {fed.source} ·{" "}
            <span id="federation-verified" class={confirmed >= fed.threshold ? "ok" : "bad"}>
              {confirmed} of {fed.guardians.length} guardians serve a config that hashes to this id
              {confirmed >= fed.threshold ? "" : ` (${fed.threshold} needed)`}
            </span>
          </p>
        ) : null}
        <nav aria-label="Pages">
          <ul>
            {tabs.map(([page, href, label]) => (
              <li key={page}>
                <a href={href} aria-current={route.page === page ? "page" : undefined}>
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        {discovering ? (
          <p class="muted">Finding the federation…</p>
        ) : !fed ? (
          route.page === "verify" ? (
            <VerifyView fed={undefined} views={[]} own={own} />
          ) : (
            <Connect onFederation={setFed} {...(error ? { error } : {})} />
          )
        ) : route.page === "reserves" ? (
          <ReservesView fed={fed} views={views} height={height} />
        ) : route.page === "lookup" ? (
          <LookupView fed={fed} initial={route.id} />
        ) : route.page === "verify" ? (
          <VerifyView fed={fed} views={views} own={own} />
        ) : (
          <StatusView fed={fed} views={views} />
        )}
      </main>
      <footer class="muted small">
        This page{own ? ` (SHA-256 ${shortHex(own, 16)})` : ""} talks only to the federation's guardians, each
        asked directly. <a href="#/verify">How to check it</a>.
      </footer>
    </>
  );
}

render(<App />, document.getElementById("app")!);
