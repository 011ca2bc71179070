// THE HOOK for wXMR (the EVM bridge): minting wXMR from e-cash and burning wXMR back to e-cash or
// Monero with an injected EIP-1193 wallet goes here. The balance view mounts <WxmrPanel> with the
// open wallet (its bridgeMint / bridgeSubmit / bridgeBurn / bridgeRedeem / bridgeStatus are the SDK
// calls to use), the wallet's info, and `refresh` to re-read the balance after an operation.
// Until it is built it renders nothing.
import type { ViewProps } from "./notes.js";

export function WxmrPanel(_props: ViewProps) {
  return null;
}
