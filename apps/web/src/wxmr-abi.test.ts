// The page's side of the wXMR contract against the canonical definitions: its subset of
// WrappedMonero's ABI (apps/web/page/wxmr-abi.ts) against the generated ABI (@conclave/evm/abi,
// compiled from the contract), every entry equal; the EIP-712 Mint digest it checks signatures
// against (page/wxmr.ts mintDigest, @conclave/evm's hashMint) and the deposit ids it computes
// against the bridge module's (modules/bridge/src/eip712-mint.ts), and the status and wallet pages'
// bundles carry no EIP-712 types of their own (only @conclave/evm/typed-data's).
import { describe, expect, it } from "vitest";
import { getAddress } from "viem";
import { wrappedMoneroAbi } from "@conclave/evm/abi";
import { mintTypes } from "@conclave/evm/typed-data";
import * as bridgeMint from "../../../modules/bridge/src/eip712-mint.js";
import { wxmrAbi } from "../page/wxmr-abi.js";
import { mintDigest, outputDepositId, reissueDepositId } from "../page/wxmr.js";
import { buildWalletPage, buildWebPage } from "../../../scripts/build-web.mjs";

describe("the page's wXMR ABI", () => {
  it("is a subset of the generated ABI, entry for entry, with every error mint can revert with", () => {
    for (const entry of wxmrAbi) {
      const generated = wrappedMoneroAbi.find(
        (e) => "name" in e && e.name === entry.name && e.type === entry.type,
      );
      expect(generated, entry.name).toEqual(entry);
    }
    const names = new Set<string>(wxmrAbi.map((e) => e.name));
    for (const error of [
      "DepositUsed",
      "Expired",
      "NotEnoughSignatures",
      "SignerNotGuardian",
      "SignersNotAscending",
      "DuplicateSigner",
      "RateLimited",
      "Paused",
      "SetExpired",
      "UnknownSet",
    ])
      expect(names.has(error), error).toBe(true);
  });
});

describe("the page's EIP-712 Mint and deposit ids", () => {
  const fedHex = "ab".repeat(32);
  const txidHex = "cd".repeat(32);
  const bytes = (hex: string) => Uint8Array.from(Buffer.from(hex, "hex"));

  it("digest equals the bridge module's (the guardians sign it) for several chains, contracts and mints", () => {
    for (const [chainId, contractByte, amount, setIndex] of [
      [1, "11", 1n, 0],
      [31337, "22", 5_000_000_000n, 1],
      [8453, "fe", 2n ** 200n, 4_000_000_000],
    ] as const) {
      const contract = getAddress(`0x${contractByte.repeat(20)}`);
      const message = {
        recipient: getAddress(`0x${"3c".repeat(20)}`),
        amount,
        depositId: outputDepositId(fedHex, txidHex, setIndex % 7),
        deadline: 1_700_000_000n + BigInt(setIndex),
        setIndex,
      };
      const page = mintDigest({ chainId, contract, guardians: [], threshold: 1 }, message);
      expect(page).toBe(bridgeMint.mintDigest({ chainId, contract }, message));
    }
  });

  it("deposit ids of outputs and of re-issue attempts equal the bridge module's", () => {
    for (const index of [0, 1, 255, 65_536]) {
      const first = outputDepositId(fedHex, txidHex, index);
      expect(first).toBe(bridgeMint.outputDepositId(bytes(fedHex), bytes(txidHex), index));
      for (const attempt of [0, 1, 2, 9])
        expect(reissueDepositId(first, attempt)).toBe(bridgeMint.reissueDepositId(first, attempt));
    }
  });

  it("the pages bundle @conclave/evm's typed-data file for it and no copy: nothing else of packages/evm but the generated ABI", async () => {
    expect(mintTypes.Mint.map((f) => `${f.type} ${f.name}`).join(",")).toBe(
      "address recipient,uint256 amount,bytes32 depositId,uint64 deadline,uint32 setIndex",
    );
    for (const [page, build] of [
      ["web", buildWebPage],
      ["wallet", buildWalletPage],
    ] as const) {
      const inputs = (await build()).modules.map((m) => m.path);
      const evm = inputs.filter((f) => f.startsWith("packages/evm/"));
      expect(evm, page).toContain("packages/evm/src/typed-data.ts");
      // The wallet bundles the generated ABI through the SDK's bridge half; nothing else of the package.
      expect(
        evm.filter(
          (f) =>
            f !== "packages/evm/src/typed-data.ts" && f !== "packages/evm/src/generated/wrapped-monero.ts",
        ),
        page,
      ).toEqual([]);
    }
  });
});
