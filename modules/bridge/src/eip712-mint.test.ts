// The guardian's synchronous mint signature is byte for byte viem's signTypedData over
// @conclave/evm's typed data, and deposit ids never repeat across outputs, transactions or
// federations.
import { describe, expect, it } from "vitest";
import { mintTypedData, wxmrDomain } from "@conclave/evm/typed-data";
import { bytesToHex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { outputDepositId, remintDepositId, signMint } from "./eip712-mint.js";

const contract = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

describe("EIP-712 mint signatures", () => {
  it("equal viem's signTypedData for several keys and messages", async () => {
    for (let k = 1; k <= 5; k++) {
      const key = new Uint8Array(32).fill(k * 17);
      const message = {
        recipient: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
        amount: 10n ** BigInt(k),
        depositId: outputDepositId(new Uint8Array(32).fill(k), new Uint8Array(32).fill(2 * k), k),
        deadline: 1_700_000_000n + BigInt(k),
        setIndex: k,
      } as const;
      const viem = await privateKeyToAccount(bytesToHex(key)).signTypedData(
        mintTypedData(wxmrDomain(31337, contract), { ...message }),
      );
      expect(signMint(key, { chainId: 31337, contract }, message)).toBe(viem);
    }
  });

  it("gives a different deposit id for another output, transaction, federation, or a re-mint", () => {
    const fed = new Uint8Array(32).fill(1);
    const tx = new Uint8Array(32).fill(2);
    const ids = [
      outputDepositId(fed, tx, 0),
      outputDepositId(fed, tx, 1),
      outputDepositId(fed, new Uint8Array(32).fill(3), 0),
      outputDepositId(new Uint8Array(32).fill(4), tx, 0),
      remintDepositId(fed, tx, 0),
    ];
    expect(new Set(ids).size).toBe(ids.length);
    expect(outputDepositId(fed, tx, 0)).toBe(ids[0]);
  });
});
