// An injected EVM wallet for browser tests: window.ethereum, an EIP-1193 provider backed by an
// anvil account. Requests go to the test process (exposeFunction): the accounts are that account;
// eth_sendTransaction is signed with its key here and sent raw (as a browser wallet does);
// everything else is forwarded to anvil. Errors keep their code and the revert data. Used by
// web-bridge.test.ts and the wallet page's wXMR tests.
import type { Page } from "playwright-core";
import type { Hex } from "viem";
import type { BridgeFederation } from "../../../modules/bridge/src/client/bridge-federation-fixture.js";

/** The revert data somewhere in a viem error's cause chain (what a browser wallet passes on as error.data). */
function revertDataOf(e: unknown): string | undefined {
  for (let x: unknown = e, i = 0; typeof x === "object" && x !== null && i < 8; i++) {
    if ("data" in x && typeof x.data === "string" && x.data.startsWith("0x")) return x.data;
    x = "cause" in x ? x.cause : undefined;
  }
  return undefined;
}

/**
 * Installs the provider of anvil account `account` in `page` (before its scripts run: call before
 * goto). `chainId`: the chain id the wallet states (eth_chainId), as a wallet switched to another
 * network would; everything else still goes to anvil.
 */
export async function installAnvilWallet(
  page: Page,
  fed: BridgeFederation,
  account: number,
  options: { readonly chainId?: number } = {},
): Promise<void> {
  const acct = fed.anvil.accounts[account]!;
  await page.exposeFunction("__anvilWallet", async (method: string, params: unknown[]) => {
    try {
      if (method === "eth_requestAccounts" || method === "eth_accounts") return { result: [acct.address] };
      if (method === "eth_chainId" && options.chainId !== undefined)
        return { result: `0x${options.chainId.toString(16)}` };
      if (method === "eth_sendTransaction") {
        const tx = params[0] as { to: Hex; data: Hex; gas: Hex };
        const hash = await fed.anvil.walletClient.sendTransaction({
          account: acct,
          chain: fed.anvil.chain,
          to: tx.to,
          data: tx.data,
          gas: BigInt(tx.gas),
        });
        return { result: hash };
      }
      const result: unknown = await fed.anvil.publicClient.request({
        method: method as "eth_call",
        params: params as never,
      });
      return { result };
    } catch (e) {
      return {
        error: {
          code: -32000,
          message: e instanceof Error ? e.message.split("\n")[0] : String(e),
          data: revertDataOf(e),
        },
      };
    }
  });
  await page.addInitScript(() => {
    type Answer = { result?: unknown; error?: { code: number; message: string; data?: string } };
    Reflect.set(globalThis, "ethereum", {
      request: async ({ method, params }: { method: string; params?: unknown[] }) => {
        const send = Reflect.get(globalThis, "__anvilWallet") as (m: string, p: unknown[]) => Promise<Answer>;
        const r = await send(method, params ?? []);
        if (r.error) throw Object.assign(new Error(r.error.message), r.error);
        return r.result;
      },
    });
  });
}
