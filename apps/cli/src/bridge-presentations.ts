// How the CLI shows the bridge half's commands (wXMR): the mint's signed call (and a `cast send`
// line for any EVM user), what was sent, a burn's call or its redemption, a status.
import type {
  BridgeMintResult,
  BridgeStatus,
  BurnResult,
  FindMintsResult,
  MintCall,
  MintSubmission,
  RefundResult,
} from "@conclave/wallet-standard";
import { amountText } from "./render.js";

function callLines(c: MintCall): string[] {
  return [
    `  contract   ${c.contract} (chain ${c.chainId})`,
    `  recipient  ${c.recipient}`,
    `  amount     ${amountText(c.amount)}`,
    `  depositId  ${c.depositId}`,
    `  deadline   ${c.deadline} (${new Date(Number(c.deadline) * 1000).toISOString()})`,
    ...(c.attempt ? [`  re-issued: attempt ${c.attempt} (first deposit id ${c.firstDepositId ?? "?"})`] : []),
    `  setIndex   ${c.setIndex}`,
    `  signatures (ascending signer):`,
    ...c.signatures.map((s, i) => `    ${c.signers[i]} ${s}`),
    ...(c.badGuardians.length > 0
      ? [
          `  skipped    guardians ${c.badGuardians.join(", ")}: no valid signature by their configured address`,
        ]
      : []),
  ];
}

/** The same call for `cast` (Foundry), which EVM users have. */
export function castMintLine(c: MintCall): string {
  return (
    `cast send ${c.contract} "mint((address,uint256,bytes32,uint64,uint32),bytes[])" ` +
    `"(${c.recipient},${c.amount},${c.depositId},${c.deadline},${c.setIndex})" "[${c.signatures.join(",")}]" ` +
    `--rpc-url URL --private-key KEY`
  );
}

export function submissionLines(s: MintSubmission): string[] {
  return [
    ...(s.reissue ? [`${s.reissue.text}; deposit id ${s.reissue.depositId}`] : []),
    `${s.delayed ? "Queued (above the single-mint cap: executeDelayed after the delay)" : "Minted"}: EVM transaction ${s.txHash}`,
    `  block ${s.blockNumber}, gas used ${s.gasUsed} of the limit ${s.gasLimit} (estimate + 50 %)`,
  ];
}

/** A deposit's claim sealed for a wXMR mint: what to do next (the sealed text itself goes to stdout). */
export function sealedMintNotice(
  r: { readonly txid: string; readonly guardian: number; readonly guardianName: string },
  dataFlag: string,
): string[] {
  return [
    `Claim of deposit ${r.txid} sealed to guardian ${r.guardian} (${r.guardianName}) for a wXMR mint; nothing was sent.`,
    "Relay it (from any machine): conclave relay <the csealed1... text>",
    `Then: conclave${dataFlag} bridge-mint <the same EVM address> --from-deposit ${r.txid}`,
  ];
}

export function bridgeMintLines(r: BridgeMintResult, dataFlag: string): string[] {
  return [
    `wXMR mint of ${amountText(r.call.amount)} accepted and signed by ${r.call.signatures.length} guardians` +
      ` (transaction ${r.txid}, output ${r.output}${r.fee > 0n ? `, mint fee ${amountText(r.fee)}` : ""}` +
      `${r.federationFee > 0n ? `, paid to the federation for a refundable mint ${amountText(r.federationFee)}` : ""})`,
    ...callLines(r.call),
    ...(r.submission
      ? submissionLines(r.submission)
      : [
          `Send it before the deadline: conclave${dataFlag} bridge-submit ${r.txid} --evm-key-file F --rpc URL`,
          `or from any EVM wallet, e.g. ${castMintLine(r.call)}`,
        ]),
  ];
}

export function burnLines(r: BurnResult): string[] {
  if (r.call) {
    const c = r.call;
    return [
      `Nothing was sent. Call this from the EVM wallet that holds the wXMR:`,
      `  ${c.function}(${c.amount}, ${c.destination}) on ${c.contract} (chain ${c.chainId})`,
      `  calldata ${c.data}`,
      `  cast send ${c.contract} "${c.function === "burn" ? "burn(uint256,string)" : "burnToClaim(uint256,bytes32)"}" ${c.amount} ${c.function === "burn" ? `"${c.destination}"` : c.destination} --rpc-url URL --private-key KEY`,
      ...(c.claimIndex !== undefined
        ? [`Then redeem it into e-cash: conclave bridge-redeem <its tx hash> --rpc URL`]
        : []),
    ];
  }
  return [
    `Burned: EVM transaction ${r.txHash}, log ${r.logIndex}`,
    ...(r.redeemed
      ? [
          `Redeemed ${amountText(r.redeemed.amount)} into ${r.redeemed.notesIssued} new notes` +
            `${r.redeemed.fee > 0n ? `, fee ${amountText(r.redeemed.fee)}` : ""} (transaction ${r.redeemed.txid})`,
        ]
      : [
          "The federation pays the Monero address once t guardians saw the burn at their depth: `conclave bridge-status` follows it.",
        ]),
  ];
}

export function refundLines(r: RefundResult): string[] {
  return [
    `Returned the expired mint ${r.txid}:${r.output}: ${amountText(r.amount)} into ${r.notesIssued} new notes` +
      `${r.fee > 0n ? `, fee ${amountText(r.fee)}` : ""} (transaction ${r.refundTxid})`,
  ];
}

/** `bridge-refund --find`: the refundable mints the guardians know by this wallet's refund keys. */
export function foundMintsLines(r: FindMintsResult, dataFlag: string): string[] {
  if (r.mints.length === 0)
    return [`No refundable wXMR mint names any of this wallet's first ${r.keysScanned} refund keys.`];
  return [
    `${r.mints.length} refundable wXMR mint${r.mints.length === 1 ? "" : "s"} of this wallet (refund keys 0 to ${r.keysScanned - 1} asked):`,
    ...r.mints.map(
      (m) =>
        `  ${m.txid}:${m.output}  ${amountText(m.amount)} to ${m.recipient}  refund key ${m.refundIndex}${m.known ? "" : "  (found)"}`,
    ),
    ...r.flooded.map(
      (f) =>
        `Refund key ${f.refundIndex} is named by ${f.entries} mints${f.full ? " (the most one key lists: further ones are refused)" : ""}: ` +
        "this wallet made one, the others were made by someone who read the key off it; any of them left unminted past its deadline comes back to this wallet",
    ),
    `Where each stands: conclave${dataFlag} bridge-status TXID; an expired one comes back with conclave${dataFlag} bridge-refund TXID`,
  ];
}

export function bridgeStatusLines(s: BridgeStatus): string[] {
  if (s.kind === "mint")
    return [
      `mint ${s.txid}:${s.output}: ${s.state} (${s.message})`,
      ...(s.reissue ? [`  ${s.reissue.text}`, `  first deposit id ${s.reissue.firstDepositId}`] : []),
      `  depositId  ${s.depositId}`,
      ...(s.recipient ? [`  recipient  ${s.recipient}`] : []),
      ...(s.amount ? [`  amount     ${amountText(BigInt(s.amount))}`] : []),
      ...(s.deadline
        ? [`  deadline   ${s.deadline} (${new Date(Number(s.deadline) * 1000).toISOString()})`]
        : []),
      ...(s.evmTx ? [`  sent in    ${s.evmTx}`] : []),
      ...(s.refundTxid ? [`  refunded in ${s.refundTxid}`] : []),
    ];
  return [
    `burn ${s.txHash}${s.logIndex === undefined ? "" : `:${s.logIndex}`}: ${s.state} (${s.message})`,
    ...(s.amount ? [`  amount     ${amountText(BigInt(s.amount))}`] : []),
    ...(s.votes !== undefined ? [`  votes      ${s.votes} of ${s.votesRequired}`] : []),
    ...(s.redeemTxid ? [`  redeemed in ${s.redeemTxid}`] : []),
    ...(s.remint
      ? [
          `  re-mint    ${s.remint.state}${s.remint.recipient ? ` to ${s.remint.recipient}` : ""}`,
          ...(s.remint.reissue ? [`  ${s.remint.reissue.text}`] : []),
          ...(s.remint.depositId ? [`  depositId  ${s.remint.depositId}`] : []),
          ...(s.remint.deadline
            ? [
                `  deadline   ${s.remint.deadline} (${new Date(Number(s.remint.deadline) * 1000).toISOString()})`,
              ]
            : []),
        ]
      : []),
  ];
}

export const bridgeProgressLine = (p: { readonly stage: string; readonly message: string }): string =>
  `  ${p.stage.padEnd(10)} ${p.message}`;
