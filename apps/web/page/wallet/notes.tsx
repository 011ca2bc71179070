// Balance, send and receive: e-cash notes as text and as a QR code.
import { useCallback, useState } from "preact/hooks";
import type { SpendResult, Wallet, WalletInfo } from "@conclave/wallet-standard";
import { formatXmr, shortHex } from "../format.js";
import { errorText } from "./amount.js";
import { ActionStatus, AmountForm, useAction } from "./amount-form.js";
import { QrCode, QrReader } from "./qr.js";

export interface ViewProps {
  readonly wallet: Wallet;
  readonly info: WalletInfo;
  /** Reads the wallet's state again after an operation. */
  readonly refresh: () => void;
}

function Problem({ text }: { text: string }) {
  return text ? (
    <p class="bad" role="alert">
      {text}
    </p>
  ) : null;
}

export function BalanceView({ wallet, info, refresh }: ViewProps) {
  const [problem, setProblem] = useState("");
  const cancel = (id: string) => {
    setProblem("");
    wallet.cancel(id).then(refresh, (e: unknown) => setProblem(errorText(e)));
  };
  return (
    <section aria-labelledby="balance-h">
      <h2 id="balance-h">Balance</h2>
      <p class="balance" id="balance" aria-live="polite">
        {formatXmr(info.balance)}
      </p>
      <p class="muted small">
        In e-cash notes of {info.federationName}, kept in this browser. The guardians cannot tell whose notes
        they are. Fee per spent note: {formatXmr(info.feePerNote)}.
      </p>
      {info.notes.length > 0 ? (
        <details>
          <summary>Your {info.notes.reduce((n, d) => n + d.count, 0)} notes by value</summary>
          <table class="notes">
            <caption class="visually-hidden">Notes by denomination</caption>
            <thead>
              <tr>
                <th scope="col">Note value</th>
                <th scope="col">Count</th>
              </tr>
            </thead>
            <tbody>
              {info.notes.map((n) => (
                <tr key={n.denominationLog2}>
                  <td>{formatXmr(n.amount)}</td>
                  <td>{n.count}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      ) : null}
      {info.outgoing.length > 0 ? (
        <>
          <h3>Sent, not yet received</h3>
          <p class="muted small">
            Notes you handed out that nobody has received yet. Taking them back makes the text you sent
            worthless.
          </p>
          <ul class="outgoing">
            {info.outgoing.map((o) => (
              <li key={o.id}>
                {formatXmr(o.amount)} <span class="muted">({shortHex(o.id, 8)})</span>{" "}
                <button type="button" class="secondary" onClick={() => cancel(o.id)}>
                  Take back {formatXmr(o.amount)}
                </button>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {info.pendingOperations > 0 ? (
        <p class="muted" id="pending">
          {info.pendingOperations} operation(s) not finished (a guardian did not answer):{" "}
          <button
            type="button"
            class="secondary"
            onClick={() => {
              wallet.resume().then(refresh, (e: unknown) => setProblem(errorText(e)));
            }}
          >
            Retry now
          </button>
        </p>
      ) : null}
      <Problem text={problem} />
    </section>
  );
}

/**
 * A note string or address with a copy button. A copy the browser refuses (no clipboard permission,
 * a page not in focus) says so and selects the text, so that the user copies it by hand: the notes
 * are worth money and a silent failure would leave the user believing they are on the clipboard.
 */
export function CopyText({ text, id, label }: { text: string; id: string; label: string }) {
  const [copied, setCopied] = useState<"no" | "yes" | "failed">("no");
  return (
    <div class="copy">
      <label for={id}>{label}</label>
      <textarea id={id} readOnly rows={4} value={text} spellcheck={false} />
      <button
        type="button"
        class="secondary"
        onClick={() => {
          navigator.clipboard.writeText(text).then(
            () => setCopied("yes"),
            () => {
              setCopied("failed");
              const area = document.getElementById(id);
              if (area instanceof HTMLTextAreaElement) {
                area.focus();
                area.select();
              }
            },
          );
        }}
      >
        {copied === "yes" ? "Copied" : "Copy"}
      </button>
      {copied === "failed" ? (
        <p class="bad" role="alert" id={`${id}-copy-failed`}>
          The browser did not allow copying: the text is selected, copy it yourself (Ctrl+C).
        </p>
      ) : null}
    </div>
  );
}

export function SendView({ wallet, info, refresh }: ViewProps) {
  const [sent, setSent] = useState<SpendResult | undefined>(undefined);
  const send = async (amount: bigint) => {
    setSent(undefined);
    setSent(await wallet.spend(amount));
    refresh();
  };
  return (
    <section aria-labelledby="send-h">
      <h2 id="send-h">Send e-cash</h2>
      <p class="muted small">
        The wallet takes notes worth the amount out of your balance and gives them to you as text and as a QR
        code. Whoever receives them first owns them: send them over a private channel. Available:{" "}
        {formatXmr(info.balance)}.
      </p>
      <AmountForm
        id="send-amount"
        submitLabel="Create notes"
        busyText="Preparing notes of that amount (exchanging notes with the guardians if needed)…"
        onAmount={send}
      />
      {sent ? (
        <div class="result" role="status" aria-live="polite">
          <p class="ok">{formatXmr(sent.amount)} ready to send:</p>
          <div class="two">
            <CopyText text={sent.notes} id="sent-notes" label="The notes, as text" />
            <QrCode
              text={sent.notes}
              label={`QR code of the notes worth ${formatXmr(sent.amount)}`}
              id="sent-qr"
            />
          </div>
        </div>
      ) : null}
    </section>
  );
}

export function ReceiveView({ wallet, refresh }: ViewProps) {
  const [text, setText] = useState("");
  const [got, setGot] = useState<bigint | undefined>(undefined);
  const action = useAction();
  const { run } = action;
  const receive = useCallback(
    (notes: string) => {
      setGot(undefined);
      run(
        () => wallet.reissue(notes.trim()),
        (r) => {
          setGot(r.amount);
          setText("");
          refresh();
        },
      );
    },
    [wallet, refresh, run],
  );
  const onScanned = useCallback(
    (t: string) => {
      setText(t);
      receive(t);
    },
    [receive],
  );
  return (
    <section aria-labelledby="receive-h">
      <h2 id="receive-h">Receive e-cash</h2>
      <p class="muted small">
        Paste the notes someone sent you, or read their QR code. The wallet exchanges them at the guardians
        for fresh notes only you know, so the sender can no longer spend them.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          receive(text);
        }}
      >
        <label for="receive-notes">Notes (text)</label>
        <textarea
          id="receive-notes"
          rows={4}
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
          spellcheck={false}
          autocomplete="off"
          required
        />
        <div class="row">
          <button type="submit" disabled={action.busy}>
            Receive
          </button>
        </div>
      </form>
      <QrReader onText={onScanned} idPrefix="receive" what="the notes" />
      <ActionStatus action={action} busyText="Exchanging the notes at the guardians…" />
      {got !== undefined ? (
        <p class="ok" role="status" id="received">
          Received {formatXmr(got)} (after the mint's fee).
        </p>
      ) : null}
    </section>
  );
}
