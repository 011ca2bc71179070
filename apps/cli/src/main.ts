#!/usr/bin/env -S npx tsx
// conclave: the command-line e-cash wallet. See apps/cli/README.md.
//
//   npm run conclave -- join <invite>
//   npx tsx apps/cli/src/main.ts --data ./bob reissue - < notes.txt
import type { NodeWalletEntry } from "@conclave/wallet-standard";
import { processIo } from "./io.js";
import { runCli } from "./run.js";

// Loaded on first use: `--help` and usage errors need neither LMDB nor the native crypto.
const loadWalletEntry = async (onWarning: (message: string) => void): Promise<NodeWalletEntry> => {
  const { nodeWallets } = await import("@conclave/wallet-standard/node");
  return nodeWallets({ onWarning });
};

process.exitCode = await runCli(process.argv.slice(2), processIo(), loadWalletEntry);
