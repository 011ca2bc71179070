// Burning wXMR from the user's EVM wallet: back into e-cash in this wallet (burnToClaim with a
// claim key derived from the recovery phrase, redeemed once t guardians accepted the burn at their
// confirmation depth) or to a Monero address (the federation pays it out). The SDK builds the call
// (no EVM key: the user's wallet sends it) and follows the burn at the guardians; the page shows its
// life cycle: sent, mined, the guardians' votes, accepted, then the notes or the payout.
import { useState } from "preact/hooks";
import type { BurnStatus } from "@conclave/wallet-standard";
import type { Hex } from "viem";
import { formatXmr, shortHex } from "../format.js";
import { providerErrorText, sendCall, waitMined } from "../wxmr.js";
import { AmountForm } from "./amount-form.js";
import { MoneroAddressField } from "./monero-address.js";
import type { WxmrProps } from "./wxmr.js";
import { burnedLog, formatWxmr } from "./wxmr-chain.js";

type Step = "sent" | "mined" | "voting" | "accepted" | "settled";

interface Life {
  readonly to: "claim" | "monero";
  readonly amount: bigint;
  readonly step: Step;
  readonly hash?: Hex;
  /** The latest word on the current step (votes, block, settlement). */
  readonly detail: string;
  readonly settled?: string;
  readonly failed?: boolean;
  /** A burn to a Monero address: the payout t guardians report (never its address). */
  readonly payout?: NonNullable<BurnStatus["payout"]>;
}

const STEPS: readonly Step[] = ["sent", "mined", "voting", "accepted", "settled"];

function stepText(s: Step, to: Life["to"]): string {
  switch (s) {
    case "sent":
      return "Sent from your EVM wallet";
    case "mined":
      return "Mined on the EVM chain";
    case "voting":
      return "Guardians voting at their confirmation depth";
    case "accepted":
      return "Accepted by the guardians";
    case "settled":
      return to === "claim" ? "E-cash notes in this wallet" : "Settled by the federation (a Monero payout)";
  }
}

/**
 * Burn states at which the guardians decided it (the page stops following it; a Monero payout is
 * followed until t guardians report it confirmed).
 */
const DECIDED: ReadonlySet<BurnStatus["state"]> = new Set(["claimable", "claimed", "redeemed", "reminted"]);

export function BurnForm({ wallet, refresh, bridge, evm, readBalance }: WxmrProps) {
  const [to, setTo] = useState<Life["to"]>("claim");
  const [address, setAddress] = useState("");
  const [life, setLife] = useState<Life | undefined>(undefined);
  if (!evm) return null;

  const burn = async (amount: bigint) => {
    const dest = to;
    let current: Life = { to: dest, amount, step: "sent", detail: "building the call" };
    const show = (next: Partial<Life>) => {
      current = { ...current, ...next };
      setLife(current);
    };
    setLife(undefined);
    try {
      const built = await wallet.bridgeBurn(
        amount,
        dest === "claim" ? { toClaim: true } : { moneroAddress: address.trim() },
      );
      if (!built.call) throw new Error("the wallet built no burn call");
      let hash: Hex;
      try {
        hash = await sendCall(evm.provider, bridge, built.call.data);
      } catch (e) {
        throw new Error(providerErrorText(e));
      }
      show({ step: "sent", hash, detail: `transaction ${shortHex(hash, 18)}` });
      const mined = await waitMined(evm.provider, hash, () => false);
      if (!mined?.ok) throw new Error(`the burn ${hash} reverted on chain`);
      const log = await burnedLog(evm.provider, bridge.contract, hash);
      readBalance();
      show({
        step: "mined",
        detail: `block ${mined.block}${log ? `, burn id ${log.burnId}` : ""}`,
      });
      if (dest === "claim") {
        const r = await wallet.bridgeRedeem(hash, {
          rpcUrl: evm.provider,
          onProgress: (p) => {
            if (p.stage === "voting") show({ step: "voting", detail: p.message });
            else if (p.stage === "accepted") show({ step: "accepted", detail: p.message });
          },
        });
        refresh();
        show({
          step: "settled",
          detail: "",
          settled: `${formatXmr(r.redeemed?.amount ?? 0n)} in ${r.redeemed?.notesIssued ?? 0} notes (federation transaction ${shortHex(r.redeemed?.txid ?? "", 12)})`,
        });
        return;
      }
      const id = log ? `${hash}:${log.logIndex}` : hash;
      for (;;) {
        const s = await wallet.bridgeStatus(id, { rpcUrl: evm.provider });
        if (s.kind !== "burn") throw new Error("not a burn");
        const votes = s.votes !== undefined ? `${s.votes} of ${s.votesRequired ?? "?"} votes` : s.message;
        if (s.state === "payout_pending" || s.state === "payout") {
          const p = s.payout;
          if (p?.state === "confirmed") {
            show({
              step: "settled",
              detail: "",
              payout: p,
              settled: `${formatXmr(BigInt(p.amount))} paid out in Monero (fee ${formatXmr(BigInt(p.fee))}), confirmed on the Monero chain`,
            });
            return;
          }
          show({
            step: "accepted",
            ...(p ? { payout: p } : {}),
            detail: p
              ? `Monero payout ${p.state}${p.moneroTxid ? ` (Monero transaction ${shortHex(p.moneroTxid, 16)})` : ""}`
              : "the federation owes the Monero payout",
          });
          await new Promise((ok) => setTimeout(ok, 2000));
          continue;
        }
        if (DECIDED.has(s.state)) {
          show({
            step: "settled",
            detail: "",
            settled: s.message,
            failed: s.state === "reminted",
          });
          return;
        }
        show({ step: "voting", detail: votes });
        await new Promise((ok) => setTimeout(ok, 1000));
      }
    } catch (e) {
      show({ failed: true });
      throw e;
    }
  };

  return (
    <>
      <h3>Burn wXMR</h3>
      <p class="muted small">
        Burns wXMR from <code>{evm.account}</code> (your EVM wallet sends it and pays the gas). Back to
        e-cash: the burn names a claim key made from your recovery phrase, and once the guardians accept it
        this wallet takes it as notes. To a Monero address: the federation pays the XMR out from its reserve.
      </p>
      <AmountForm
        id="burn-amount"
        label="Amount to burn (wXMR)"
        submitLabel="Burn wXMR"
        busyText="Burning: follow it below…"
        onAmount={burn}
      >
        <fieldset class="choice">
          <legend>Burn to</legend>
          <label>
            <input type="radio" name="burn-to" checked={to === "claim"} onChange={() => setTo("claim")} />{" "}
            E-cash in this wallet
          </label>
          <label>
            <input type="radio" name="burn-to" checked={to === "monero"} onChange={() => setTo("monero")} /> A
            Monero address
          </label>
        </fieldset>
        {to === "monero" ? (
          <MoneroAddressField
            id="burn-address"
            value={address}
            onValue={setAddress}
            network={wallet.moneroNetwork()}
          />
        ) : null}
      </AmountForm>
      {life ? <BurnLife life={life} /> : null}
    </>
  );
}

function BurnLife({ life }: { life: Life }) {
  const at = STEPS.indexOf(life.step);
  return (
    <div class="progress" id="burn-progress" role="status" aria-live="polite">
      <p>
        Burning {formatWxmr(life.amount)} {life.to === "claim" ? "back into e-cash" : "to a Monero address"}
        {life.hash ? (
          <>
            {" "}
            (EVM transaction <code id="burn-tx">{life.hash}</code>)
          </>
        ) : null}
      </p>
      <ol class="steps">
        {STEPS.map((s, i) => (
          <li
            key={s}
            data-step={s}
            class={
              i < at || (i === at && s === "settled" && !life.failed)
                ? "done"
                : i === at
                  ? life.failed
                    ? "failed"
                    : "current"
                  : "todo"
            }
          >
            {stepText(s, life.to)}
            {i === at && life.detail ? `: ${life.detail}` : ""}
          </li>
        ))}
      </ol>
      {life.settled ? (
        <p class={life.failed ? "bad" : "ok"} id="burn-done">
          {life.failed ? "Not paid: " : "Done: "}
          {life.settled}
        </p>
      ) : null}
      {life.payout?.moneroTxid ? (
        <dl id="burn-payout">
          <div>
            <dt>Monero transaction</dt>
            <dd>
              <code id="burn-payout-txid">{life.payout.moneroTxid}</code>
            </dd>
          </div>
          {life.payout.txKey ? (
            <div>
              <dt>Transaction key (proves the payment to your address)</dt>
              <dd>
                <code id="burn-payout-txkey">{life.payout.txKey}</code>
              </dd>
            </div>
          ) : null}
          {life.payout.confirmations !== undefined ? (
            <div>
              <dt>Confirmations</dt>
              <dd>{life.payout.confirmations}</dd>
            </div>
          ) : null}
        </dl>
      ) : null}
    </div>
  );
}
