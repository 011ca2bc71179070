// wXMR (the EVM bridge) in the wallet, with the user's injected EIP-1193 wallet: connect it (its
// chain must be the bridge config's, which t guardians served when this wallet joined); mint wXMR
// from e-cash notes (the SDK's refundable 0x02 mint output; its signatures collected by the SDK and
// checked again here, wxmr-chain.ts checkedCall, before the user's wallet sends them); every mint of
// this wallet with its state, submit, and the refund of one that expired unsubmitted; burn wXMR back
// to e-cash or to a Monero address (wxmr-burn.tsx). The wXMR balance is read from the chain through
// the user's wallet. The SDK reads the chain through that wallet too (its EvmRpc takes a provider).
import { useCallback, useEffect, useState } from "preact/hooks";
import type { BridgeMintResult, MintStatus, RefundResult } from "@conclave/wallet-standard";
import type { Address, Hex } from "viem";
import { formatXmr, shortHex } from "../format.js";
import { connectedAccount, injectedProvider, providerErrorText, sendMint, waitMined } from "../wxmr.js";
import type { BridgeInfo, Eip1193Provider } from "../wxmr.js";
import { errorText } from "./amount.js";
import { ActionStatus, AmountForm, useAction } from "./amount-form.js";
import type { ViewProps } from "./notes.js";
import { BurnForm } from "./wxmr-burn.js";
import { bridgeInfoOf, checkedCall, formatWxmr, wxmrBalance } from "./wxmr-chain.js";

/** The user's EVM wallet once connected: its provider and first account, on the bridge's chain. */
export interface EvmWallet {
  readonly provider: Eip1193Provider;
  readonly account: Address;
}

export interface WxmrProps extends ViewProps {
  readonly bridge: BridgeInfo;
  readonly evm: EvmWallet | undefined;
  /** Reads the connected account's wXMR balance again. */
  readonly readBalance: () => void;
}

export function WxmrPanel(props: ViewProps) {
  const config = props.wallet.bridgeConfig();
  return (
    <section aria-labelledby="wxmr-h">
      <h2 id="wxmr-h">wXMR</h2>
      {config ? (
        <WxmrView {...props} bridge={bridgeInfoOf(config)} />
      ) : (
        <p>This federation runs no EVM bridge: it mints no wXMR.</p>
      )}
    </section>
  );
}

function WxmrView(props: ViewProps & { bridge: BridgeInfo }) {
  const { bridge } = props;
  const [evm, setEvm] = useState<EvmWallet | undefined>(undefined);
  const [balance, setBalance] = useState<bigint | undefined>(undefined);
  const [balanceProblem, setBalanceProblem] = useState("");
  const [mintsTick, setMintsTick] = useState(0);
  const connect = useAction();
  const provider = injectedProvider();

  const readBalance = useCallback(() => {
    if (!evm) return;
    wxmrBalance(evm.provider, bridge.contract, evm.account).then(
      (b) => {
        setBalance(b);
        setBalanceProblem("");
      },
      (e: unknown) => setBalanceProblem(providerErrorText(e)),
    );
  }, [evm, bridge]);
  useEffect(readBalance, [readBalance]);

  const full: WxmrProps = { ...props, evm, readBalance };
  return (
    <>
      <p class="muted small">
        wXMR is an ERC-20 token on chain {bridge.chainId} (contract <code>{bridge.contract}</code>), minted
        only with the signatures of {bridge.threshold} of the {bridge.guardians.length} guardians and backed
        by the same reserve as your notes. Minting turns notes into wXMR at an EVM address; burning turns wXMR
        back into notes or into XMR paid to a Monero address.
      </p>
      <h3>Your EVM wallet</h3>
      {!provider ? (
        <p id="evm-none">
          No EVM wallet in this browser: minting and burning wXMR need an injected EIP-1193 wallet (a browser
          extension such as MetaMask) on chain {bridge.chainId}.
        </p>
      ) : evm ? (
        <dl id="evm-account">
          <div>
            <dt>Account</dt>
            <dd>
              <code>{evm.account}</code>
            </dd>
          </div>
          <div>
            <dt>wXMR balance</dt>
            <dd id="wxmr-balance" aria-live="polite">
              {balance === undefined ? "reading…" : formatWxmr(balance)}
            </dd>
          </div>
        </dl>
      ) : (
        <button
          type="button"
          id="evm-connect"
          disabled={connect.busy}
          onClick={() =>
            connect.run(
              () => connectedAccount(provider, bridge),
              (account) => setEvm({ provider, account }),
            )
          }
        >
          Connect your EVM wallet
        </button>
      )}
      <ActionStatus action={connect} busyText="Asking your EVM wallet for its account and chain…" />
      {balanceProblem ? (
        <p class="bad" role="alert">
          The wXMR balance could not be read: {balanceProblem}
        </p>
      ) : null}
      {evm ? (
        <>
          <MintForm {...full} onMinted={() => setMintsTick((t) => t + 1)} />
          <MintList {...full} tick={mintsTick} />
          <BurnForm {...full} />
        </>
      ) : null}
    </>
  );
}

function MintForm({ wallet, info, refresh, evm, onMinted }: WxmrProps & { onMinted: () => void }) {
  const [progress, setProgress] = useState("");
  const [made, setMade] = useState<BridgeMintResult | undefined>(undefined);
  if (!evm) return null;
  const mint = async (amount: bigint) => {
    setMade(undefined);
    setProgress("");
    try {
      setMade(await wallet.bridgeMint(evm.account, amount, { onProgress: (p) => setProgress(p.message) }));
    } finally {
      refresh();
      onMinted();
    }
  };
  return (
    <>
      <h3>Mint wXMR from e-cash</h3>
      <p class="muted small">
        One federation transaction spends notes worth the amount (available: {formatXmr(info.balance)}) into a
        mint to <code>{evm.account}</code>, plus the federation&apos;s fee for a refundable mint. The
        guardians sign it; you submit it below with your EVM wallet (it pays the gas). Not submitted before
        its deadline, the amount comes back to this wallet as e-cash (the fee does not).
      </p>
      <AmountForm
        id="mint-amount"
        label="Amount to mint (XMR of notes → wXMR)"
        submitLabel="Mint wXMR"
        busyText={progress ? `${progress}…` : "Spending notes into a wXMR mint…"}
        onAmount={mint}
      />
      {made ? (
        <p class="ok" role="status" id="mint-made">
          {formatWxmr(made.call.amount)} signed by {made.call.signatures.length} guardians (transaction{" "}
          {shortHex(made.txid, 16)}; paid to the federation for a refundable mint{" "}
          {formatXmr(made.federationFee)}): submit it in the list below.
        </p>
      ) : null}
    </>
  );
}

interface MintItem {
  readonly txid: string;
  readonly output: number;
  readonly recipient: Address;
  readonly amount: bigint;
}

/** This wallet's wXMR mints, newest first, from its operation log. */
async function mintsOf(wallet: ViewProps["wallet"]): Promise<MintItem[]> {
  const ops = await wallet.operations();
  const items: MintItem[] = [];
  for (const op of ops) {
    if (op.module !== "bridge" || op.kind !== "mint" || op.state === "failed") continue;
    const m = op.meta as { txid?: unknown; output?: unknown; recipient?: unknown; amount?: unknown } | null;
    if (
      typeof m?.txid === "string" &&
      typeof m.output === "number" &&
      typeof m.recipient === "string" &&
      typeof m.amount === "string"
    )
      items.push({
        txid: m.txid,
        output: m.output,
        recipient: m.recipient as Address,
        amount: BigInt(m.amount),
      });
  }
  return items.reverse();
}

function MintList(props: WxmrProps & { tick: number }) {
  const { wallet, evm, tick } = props;
  const [items, setItems] = useState<MintItem[] | undefined>(undefined);
  const [problem, setProblem] = useState("");
  useEffect(() => {
    mintsOf(wallet).then(setItems, (e: unknown) => setProblem(errorText(e)));
  }, [wallet, tick]);
  if (!evm) return null;
  return (
    <>
      <h3>Your wXMR mints</h3>
      {problem ? (
        <p class="bad" role="alert">
          {problem}
        </p>
      ) : null}
      {items === undefined ? (
        <p class="muted">Reading the wallet's mints…</p>
      ) : items.length === 0 ? (
        <p class="muted" id="mints-none">
          No mints yet.
        </p>
      ) : (
        <ul class="mints" id="mints">
          {items.map((m) => (
            <MintRow key={m.txid} {...props} item={m} />
          ))}
        </ul>
      )}
    </>
  );
}

const MINT_STATES: Record<MintStatus["state"], string> = {
  unknown: "Unknown to the guardians",
  pending: "Pending: the federation has not decided it yet",
  accepted: "Accepted: the guardians' signatures are being collected",
  signed: "Signed: ready to submit with your EVM wallet",
  submitted: "Submitted: waiting to be mined",
  minted: "Minted",
  failed: "Its transaction failed: it can be submitted again",
  expired: "Expired",
  returnable: "Expired, refundable: the guardians returned it",
  refunded: "Refunded into e-cash",
  paid_out: "Expired: paid back in Monero to the refund address given with the deposit",
};

function stateText(s: MintStatus): string {
  if (s.state === "expired")
    return s.refundable ? "Expired, refundable" : "Expired (made without a refund key)";
  return MINT_STATES[s.state];
}

function MintRow({ wallet, info, refresh, bridge, evm, readBalance, item }: WxmrProps & { item: MintItem }) {
  const [status, setStatus] = useState<MintStatus | undefined>(undefined);
  const [tx, setTx] = useState<{ hash: Hex; outcome?: string } | undefined>(undefined);
  const [signed, setSigned] = useState("");
  const [refunded, setRefunded] = useState<RefundResult | undefined>(undefined);
  const [refundStage, setRefundStage] = useState("");
  const [tick, setTick] = useState(0);
  const action = useAction();
  const id = `mint-${item.txid.slice(0, 12)}`;

  useEffect(() => {
    let live = true;
    wallet.bridgeStatus(item.txid, evm ? { rpcUrl: evm.provider } : {}).then(
      (s) => {
        if (!live || s.kind !== "mint") return;
        setStatus(s);
        if (s.state === "signed" && !signed)
          setSigned(`${s.signers?.length ?? 0} guardian signatures (the contract needs ${bridge.threshold})`);
      },
      (e: unknown) => {
        if (live) action.fail(e);
      },
    );
    return () => {
      live = false;
    };
    // `signed` and `action` are read, not watched: the status is read again on `tick`.
  }, [wallet, item.txid, evm, tick, bridge.threshold]);

  const submit = () => {
    if (!evm) return;
    action.run(async () => {
      const call = await wallet.bridgeMintCall(item.txid);
      const checked = await checkedCall(bridge, info.federationId, item, call);
      setSigned(
        `${checked.signers.length} guardian signatures (the contract needs ${bridge.threshold}), each recovered in this page to a guardian's EVM address`,
      );
      let hash: Hex;
      try {
        hash = await sendMint(evm.provider, bridge, checked);
      } catch (e) {
        throw new Error(providerErrorText(e));
      }
      setTx({ hash });
      const mined = await waitMined(evm.provider, hash, () => false);
      setTx({ hash, outcome: mined?.ok ? `succeeded in block ${mined.block}` : "failed (reverted)" });
      readBalance();
      setTick((t) => t + 1);
    });
  };

  const refund = () =>
    action.run(
      () =>
        wallet.bridgeRefund(item.txid, {
          onProgress: (p) => setRefundStage(p.message),
        }),
      (r) => {
        setRefunded(r);
        refresh();
        setTick((t) => t + 1);
      },
    );

  const state = status?.state;
  const canSubmit = state === "signed" || state === "failed";
  const refundable =
    !refunded && ((state === "expired" && status?.refundable === true) || state === "returnable");
  return (
    <li class="finding" id={id} data-state={state ?? "reading"}>
      <p>
        <strong>{formatWxmr(item.amount)}</strong> to <code>{shortHex(item.recipient, 14)}</code>{" "}
        <span class="muted small">(federation transaction {shortHex(item.txid, 12)})</span>
      </p>
      <p class="mint-state" aria-live="polite">
        {status ? stateText(status) : "Reading its state…"}
      </p>
      {signed && (canSubmit || tx) ? <p class="small">Signatures: {signed}.</p> : null}
      {canSubmit && !action.busy ? (
        <button type="button" onClick={submit} aria-describedby={id}>
          Submit with your EVM wallet
        </button>
      ) : null}
      {refundable && !action.busy ? (
        <button type="button" onClick={refund}>
          Refund {formatXmr(item.amount)} into e-cash
        </button>
      ) : null}
      {tx ? (
        <p class={tx.outcome?.startsWith("succeeded") ? "ok" : tx.outcome ? "bad" : ""} role="status">
          Transaction <code>{shortHex(tx.hash, 18)}</code>: {tx.outcome ?? "waiting to be mined…"}
        </p>
      ) : null}
      {refunded ? (
        <p class="ok" role="status">
          Refunded: {formatXmr(refunded.amount)} back in your notes (transaction{" "}
          {shortHex(refunded.refundTxid, 12)}).
        </p>
      ) : null}
      <ActionStatus
        action={action}
        busyText={refundStage ? `${refundStage}…` : "Working with your EVM wallet and the guardians…"}
      />
    </li>
  );
}
