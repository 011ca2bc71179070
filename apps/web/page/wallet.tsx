// The Conclave wallet page (served by every guardian at /wallet, or hosted anywhere): join a
// federation with an invite code, create a wallet or restore one from its recovery phrase, see the
// balance, send and receive e-cash notes as text and QR code, deposit and withdraw XMR, mint and
// burn wXMR with an injected EVM wallet, back up.
// Everything is kept in this browser (the SDK's IndexedDB store); every answer from the guardians
// goes through the SDK's FederationClient, which trusts only what t of them agree on, so any one
// guardian's copy of the page works the same.
import { render } from "preact";
import { useCallback, useEffect, useLayoutEffect, useState } from "preact/hooks";
import type { RestoreResult, Wallet, WalletInfo } from "@conclave/wallet-standard";
import { shortHex } from "./format.js";
import { errorText } from "./wallet/amount.js";
import { BackupView } from "./wallet/backup.js";
import { DepositView, WithdrawView, closeDepositWatch } from "./wallet/monero.js";
import { BalanceView, ReceiveView, SendView } from "./wallet/notes.js";
import { forgetWallet, openStoredWallet } from "./wallet/session.js";
import { PhraseView, RestoredNote, SetupView } from "./wallet/setup.js";
import { WxmrPanel } from "./wallet/wxmr.js";

const VIEWS = [
  ["balance", "Balance"],
  ["send", "Send"],
  ["receive", "Receive"],
  ["deposit", "Deposit XMR"],
  ["withdraw", "Withdraw XMR"],
  ["wxmr", "wXMR"],
  ["backup", "Backup"],
] as const;
type ViewName = (typeof VIEWS)[number][0];

function parseView(hash: string): ViewName {
  const name = /^#\/([a-z]+)/.exec(hash)?.[1];
  return VIEWS.find(([v]) => v === name)?.[0] ?? "balance";
}

function App() {
  const [wallet, setWallet] = useState<Wallet | undefined>(undefined);
  const [info, setInfo] = useState<WalletInfo | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const [problem, setProblem] = useState("");
  const [mnemonic, setMnemonic] = useState<string | undefined>(undefined);
  const [restored, setRestored] = useState<RestoreResult | undefined>(undefined);
  const [view, setView] = useState<ViewName>(parseView(location.hash));

  useEffect(() => {
    const onHash = () => {
      // An in-page anchor (the skip link's #main) is not a view: the view and the focus the browser
      // gave stay.
      if (/^#[^/]/.test(location.hash)) return;
      setView(parseView(location.hash));
      setFocusHeading(true);
    };
    window.addEventListener("hashchange", onHash);
    openStoredWallet().then(
      (w) => {
        setWallet(w);
        setLoading(false);
      },
      (e: unknown) => {
        setProblem(`The wallet in this browser did not open: ${errorText(e)}`);
        setLoading(false);
      },
    );
    return () => window.removeEventListener("hashchange", onHash);
  }, []);

  const refresh = useCallback(() => {
    if (!wallet) return;
    wallet.info().then(setInfo, (e: unknown) => setProblem(errorText(e)));
  }, [wallet]);
  useEffect(refresh, [refresh]);

  // After the user moves to another view (a link, creating or restoring, the phrase written down,
  // the wallet removed), the heading of the view now shown takes the focus, for keyboard and screen
  // reader users. Not on load. The request waits (armed) until that heading is in the page (a view
  // still reading the wallet has none yet), and focuses that heading only, not whichever one is
  // there. In a layout effect: in the same task as the render that shows the view, so that it never
  // lands after the user (or a test) has focused a control of that view; and a control inside
  // <main> that has the focus when the heading would take it keeps it (the request is dropped):
  // the view that was left is gone from the page, so that control is one of the new view's.
  const [focusHeading, setFocusHeading] = useState(false);
  const props = wallet && info ? { wallet, info, refresh } : undefined;
  const heading = loading
    ? undefined
    : !wallet
      ? "setup-h"
      : mnemonic
        ? "phrase-h"
        : props
          ? `${view}-h`
          : undefined;
  useLayoutEffect(() => {
    if (!focusHeading) return;
    const main = document.getElementById("main");
    const active = document.activeElement;
    if (main && active && active !== main && main.contains(active)) {
      setFocusHeading(false);
      return;
    }
    const h = heading ? document.getElementById(heading) : null;
    if (!h) return;
    setFocusHeading(false);
    h.tabIndex = -1;
    h.focus();
  });

  const forget = () => {
    if (!wallet) return;
    closeDepositWatch(wallet);
    wallet
      .close()
      .then(forgetWallet)
      .then(
        () => {
          setWallet(undefined);
          setInfo(undefined);
          setRestored(undefined);
          location.hash = "#/balance";
          setFocusHeading(true);
        },
        (e: unknown) => setProblem(errorText(e)),
      );
  };

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header>
        <h1>{info ? `${info.federationName} wallet` : "Conclave wallet"}</h1>
        {info ? (
          <p class="muted small" id="federation-line">
            Federation {shortHex(info.federationId, 16)} · {info.guardians.length} guardians, any{" "}
            {info.threshold} must agree · kept in this browser
          </p>
        ) : null}
        {props && !mnemonic ? (
          <nav aria-label="Wallet">
            <ul>
              {VIEWS.map(([v, label]) => (
                <li key={v}>
                  <a href={`#/${v}`} aria-current={view === v ? "page" : undefined}>
                    {label}
                  </a>
                </li>
              ))}
              <li>
                <a href="./">Federation status</a>
              </li>
            </ul>
          </nav>
        ) : null}
      </header>
      <main id="main" tabIndex={-1}>
        {problem ? (
          <p class="bad" role="alert">
            {problem}
          </p>
        ) : null}
        {loading ? (
          <p class="muted">Opening the wallet kept in this browser…</p>
        ) : !wallet ? (
          <SetupView
            onWallet={(w, shown) => {
              setProblem("");
              setMnemonic(shown.mnemonic);
              setRestored(shown.restored);
              setWallet(w);
              location.hash = "#/balance";
              setFocusHeading(true);
            }}
          />
        ) : mnemonic ? (
          <PhraseView
            mnemonic={mnemonic}
            onDone={() => {
              setMnemonic(undefined);
              setFocusHeading(true);
            }}
          />
        ) : !props ? (
          <p class="muted">Reading the wallet…</p>
        ) : (
          <>
            {restored && view === "balance" ? <RestoredNote result={restored} /> : null}
            {view === "send" ? (
              <SendView {...props} />
            ) : view === "receive" ? (
              <ReceiveView {...props} />
            ) : view === "deposit" ? (
              <DepositView {...props} />
            ) : view === "withdraw" ? (
              <WithdrawView {...props} />
            ) : view === "wxmr" ? (
              <WxmrPanel {...props} />
            ) : view === "backup" ? (
              <BackupView {...props} onForget={forget} />
            ) : (
              <BalanceView {...props} />
            )}
          </>
        )}
      </main>
      <footer class="muted small">
        Your notes and keys stay in this browser; the page talks only to the federation's guardians, each
        asked directly. <a href="./#/verify">How to check this page</a>.
      </footer>
    </>
  );
}

render(<App />, document.getElementById("app")!);
