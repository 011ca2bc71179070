// Deposit XMR (a subaddress of the federation's multisig wallet bound to this wallet's claim key,
// with its QR code and a progress bar over the confirmations) and withdraw to a Monero address.
import { useEffect, useState } from "preact/hooks";
import type {
  DepositAddressResult,
  SubaddressDepositProgress,
  WithdrawProgress,
  WithdrawResult,
} from "@conclave/wallet-standard";
import { formatXmr } from "../format.js";
import { errorText } from "./amount.js";
import { AmountForm } from "./amount-form.js";
import { MoneroAddressField } from "./monero-address.js";
import { CopyText } from "./notes.js";
import type { ViewProps } from "./notes.js";
import { QrCode } from "./qr.js";

const STAGES: Record<SubaddressDepositProgress["stage"], string> = {
  waiting: "Waiting for your payment",
  seen: "Payment seen by a guardian's Monero node",
  confirming: "Confirming on the Monero chain",
  verifying: "Guardians checking the payment",
  credited: "Credited: notes are being issued",
  issuing: "Issuing your notes",
  done: "Done",
};

/** A labelled progress bar (native <progress>: screen readers announce its value). */
function Bar({ id, label, value, max }: { id: string; label: string; value: number; max: number }) {
  return (
    <div class="bar">
      <label for={id}>{label}</label>
      <progress id={id} value={Math.min(value, max)} max={max}>
        {value} of {max}
      </progress>
    </div>
  );
}

/**
 * One watch of the deposit address per open wallet, kept while the user moves between views: the
 * SDK's receiveDeposits has no cancel and polls t guardians every second, so a view that started a
 * new one on every visit would pile them up.
 */
class DepositWatch {
  address: DepositAddressResult | undefined;
  progress: SubaddressDepositProgress | undefined;
  credited: bigint | undefined;
  problem = "";
  busy = false;
  private readonly listeners = new Set<() => void>();
  private closed = false;

  constructor(
    private readonly wallet: ViewProps["wallet"],
    private readonly refresh: () => void,
  ) {}

  subscribe(f: () => void): () => void {
    this.listeners.add(f);
    return () => {
      this.listeners.delete(f);
    };
  }

  private changed(): void {
    for (const f of this.listeners) f();
  }

  start(): void {
    if (this.busy || this.address) return;
    this.problem = "";
    this.busy = true;
    this.changed();
    this.wallet.depositAddress().then(
      (a) => {
        this.address = a;
        this.busy = false;
        this.changed();
        this.watch(a.address);
      },
      (e: unknown) => {
        this.problem = errorText(e);
        this.busy = false;
        this.changed();
      },
    );
  }

  private watch(address: string): void {
    this.wallet
      .receiveDeposits(address, {
        onProgress: (p) => {
          if (this.closed) return;
          this.progress = p;
          this.changed();
        },
      })
      .then(
        (r) => {
          if (this.closed) return;
          if (r.amount > 0n) this.credited = (this.credited ?? 0n) + r.amount;
          this.refresh();
          this.changed();
          this.watch(address); // the next payment to the same address
        },
        (e: unknown) => {
          if (this.closed) return;
          this.problem = errorText(e);
          this.changed();
        },
      );
  }

  close(): void {
    this.closed = true;
    this.listeners.clear();
  }
}

const watches = new WeakMap<ViewProps["wallet"], DepositWatch>();

/** The deposit watch of `wallet` (made on first use); `closeDepositWatch` when the wallet closes. */
function depositWatch(wallet: ViewProps["wallet"], refresh: () => void): DepositWatch {
  let w = watches.get(wallet);
  if (!w) {
    w = new DepositWatch(wallet, refresh);
    watches.set(wallet, w);
  }
  return w;
}

export function closeDepositWatch(wallet: ViewProps["wallet"]): void {
  watches.get(wallet)?.close();
  watches.delete(wallet);
}

export function DepositView({ wallet, refresh }: ViewProps) {
  const watch = depositWatch(wallet, refresh);
  const [, setTick] = useState(0);
  useEffect(() => watch.subscribe(() => setTick((t) => t + 1)), [watch]);
  const { address, progress, credited, busy, problem } = watch;
  const start = () => watch.start();

  const uri = address ? `monero:${address.address}` : "";
  return (
    <section aria-labelledby="deposit-h">
      <h2 id="deposit-h">Deposit XMR</h2>
      <p class="muted small">
        Pay any amount of XMR to your own deposit address (a subaddress of the federation's multisig wallet).
        Once it has enough confirmations and enough guardians saw it, it becomes notes in this wallet. No tx
        key needed. Keep this page open until it is done (or come back: opening the wallet finishes it).
      </p>
      {!address ? (
        <button type="button" id="deposit-start" onClick={start} disabled={busy}>
          Show my deposit address
        </button>
      ) : (
        <div class="two">
          <CopyText text={address.address} id="deposit-address" label="Your deposit address" />
          <QrCode text={uri} label="QR code of your deposit address" id="deposit-qr" />
        </div>
      )}
      {busy ? (
        <p class="muted" role="status">
          Asking the guardians for your subaddress…
        </p>
      ) : null}
      {progress && progress.stage !== "waiting" ? (
        <div class="progress" role="status" aria-live="polite" id="deposit-progress">
          <p>
            <strong>{STAGES[progress.stage]}</strong>
            {progress.amount !== undefined ? ` · ${formatXmr(progress.amount)}` : ""}
          </p>
          {progress.confirmationsRequired !== undefined ? (
            <Bar
              id="deposit-confirmations"
              label={`Confirmations: ${progress.confirmations ?? 0} of ${progress.confirmationsRequired}`}
              value={progress.confirmations ?? 0}
              max={progress.confirmationsRequired}
            />
          ) : null}
          {progress.attestationsRequired !== undefined ? (
            <Bar
              id="deposit-attestations"
              label={`Guardians that saw it: ${progress.attestations ?? 0} of ${progress.attestationsRequired}`}
              value={progress.attestations ?? 0}
              max={progress.attestationsRequired}
            />
          ) : null}
        </div>
      ) : address ? (
        <p class="muted" role="status">
          Waiting for your payment…
        </p>
      ) : null}
      {credited !== undefined ? (
        <p class="ok" role="status" id="deposit-done">
          Deposited: {formatXmr(credited)} added to your balance.
        </p>
      ) : null}
      {problem ? (
        <p class="bad" role="alert">
          {problem}
        </p>
      ) : null}
    </section>
  );
}

const WITHDRAW_STAGES: Record<WithdrawProgress["stage"], string> = {
  queued: "Queued for the federation's next payout",
  signing: "The guardians are signing the Monero transaction",
  submitted: "Sent to the Monero network",
  confirmed: "Confirmed",
};

export function WithdrawView({ wallet, info, refresh }: ViewProps) {
  const [address, setAddress] = useState("");
  const [progress, setProgress] = useState<WithdrawProgress | undefined>(undefined);
  const [done, setDone] = useState<WithdrawResult | undefined>(undefined);
  const withdraw = async (amount: bigint) => {
    setDone(undefined);
    setProgress(undefined);
    try {
      setDone(await wallet.withdraw(address.trim(), amount, { onProgress: setProgress }));
    } finally {
      refresh();
    }
  };
  return (
    <section aria-labelledby="withdraw-h">
      <h2 id="withdraw-h">Withdraw XMR</h2>
      <p class="muted small">
        The federation pays XMR from its multisig wallet to your address; your notes pay for it, with the
        mint's fee and the Monero network fee on top. Available: {formatXmr(info.balance)}.
      </p>
      <AmountForm
        id="withdraw-amount"
        submitLabel="Withdraw"
        busyText={progress ? "The payout is under way…" : "Spending notes into the payout…"}
        onAmount={withdraw}
      >
        <MoneroAddressField
          id="withdraw-address"
          value={address}
          onValue={setAddress}
          network={wallet.moneroNetwork()}
        />
      </AmountForm>
      {progress && !done ? (
        <div class="progress" role="status" aria-live="polite" id="withdraw-progress">
          <p>
            <strong>{WITHDRAW_STAGES[progress.stage]}</strong>
          </p>
          <ol class="steps">
            {(["queued", "signing", "submitted", "confirmed"] as const).map((s, i, all) => {
              const at = all.indexOf(progress.stage);
              return (
                <li key={s} class={i < at ? "done" : i === at ? "current" : "todo"}>
                  {WITHDRAW_STAGES[s]}
                  {s === "submitted" && progress.confirmations !== undefined
                    ? ` (${progress.confirmations} confirmations)`
                    : ""}
                </li>
              );
            })}
          </ol>
        </div>
      ) : null}
      {done ? (
        <div class="result ok" role="status" id="withdraw-done">
          <p>
            Paid {formatXmr(done.amount)} (fees {formatXmr(done.fee)}, of which Monero network fee{" "}
            {formatXmr(done.moneroFee)}).
          </p>
          <dl>
            <div>
              <dt>Monero txid</dt>
              <dd>
                <code id="withdraw-txid">{done.moneroTxid}</code>
              </dd>
            </div>
            {done.txKey ? (
              <div>
                <dt>Tx key</dt>
                <dd>
                  <code id="withdraw-txkey">{done.txKey}</code>
                </dd>
              </div>
            ) : null}
          </dl>
          <p class="muted small">
            Check it with your own Monero wallet: <code>check_tx_key {done.moneroTxid} TXKEY ADDRESS</code>.
          </p>
        </div>
      ) : null}
    </section>
  );
}
