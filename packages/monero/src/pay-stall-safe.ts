// A payment from a wallet-rpc that may stall in `transfer`, made so that it is never paid twice. Used
// by the test harness that runs a Monero federation (apps/guardiand monero-federation.ts) and by the
// dev federation's demo payment (demo-pay.ts).
import { MoneroTimeoutError } from "./errors.js";
import { WalletRpc } from "./wallet-rpc.js";

/**
 * The user's payment, through a wallet-rpc that sometimes stalls in `transfer` (seen in CI runs
 * under load: no answer for 180 s, the call may still complete, and every later call to that
 * wallet-rpc waits behind it). A payer would wait and look at its wallet before paying again; so
 * does this: `transfer` within 60 s, else wait until the wallet-rpc answers again, take the
 * outgoing transaction the stalled call made if there is one, and pay again (twice at most) only if
 * there is none. Only userPay spends from the user's wallet, so a new outgoing txid is this payment.
 */
export async function payStallSafe(
  user: WalletRpc,
  to: string,
  amounts: readonly bigint[],
): Promise<{ txid: string; txKey: string }> {
  const quick = new WalletRpc({ url: user.url, timeoutMs: 10_000, slowTimeoutMs: 60_000 });
  const outgoing = async (): Promise<Set<string>> => {
    const t = await user.getTransfers({ in: false, out: true, pending: true, pool: true, failed: false });
    return new Set([...t.out, ...t.pending, ...t.pool].map((x) => x.txid));
  };
  await user.refresh();
  const before = await outgoing();
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const sent = await quick.transfer({ destinations: amounts.map((amount) => ({ address: to, amount })) });
      if (!sent.txid) throw new Error("the user's transfer gave no txid");
      return { txid: sent.txid, txKey: await user.getTxKey(sent.txid) };
    } catch (e) {
      if (!(e instanceof MoneroTimeoutError)) throw e;
      // Wait (up to 5 minutes) until the wallet-rpc answers again, then look for what it sent.
      for (let i = 0; i < 30; i++) {
        try {
          await quick.getHeight();
          break;
        } catch (e2) {
          if (!(e2 instanceof MoneroTimeoutError)) throw e2;
        }
      }
      await user.refresh();
      const made = [...(await outgoing())].find((txid) => !before.has(txid));
      if (made) return { txid: made, txKey: await user.getTxKey(made) };
    }
  }
  throw new Error(`the user's wallet-rpc did not pay ${to} in three attempts`);
}
