import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keccak256, toHex } from "viem";
import { startWxmrFixture } from "./fixture.js";
import type { WxmrFixture } from "./fixture.js";
import {
  cancelTypes,
  mintTypes,
  pauseTypes,
  rotateTypes,
  setLimitsTypes,
  unpauseTypes,
  WXMR_DOMAIN_NAME,
  WXMR_DOMAIN_VERSION,
} from "./typed-data.js";

/** EIP-712 encodeType for a struct without nested struct members. */
function typeString(types: Record<string, readonly { name: string; type: string }[]>): string {
  const [[name, fields]] = Object.entries(types) as [[string, readonly { name: string; type: string }[]]];
  return `${name}(${fields.map((f) => `${f.type} ${f.name}`).join(",")})`;
}

describe("typed-data.ts against the deployed contract", () => {
  let f: WxmrFixture;
  beforeAll(async () => {
    f = await startWxmrFixture({ guardians: 3, threshold: 2 });
  });
  afterAll(async () => {
    await f?.anvil.stop();
  });

  it("builds the contract's EIP-712 domain (name, version, chainId, verifyingContract)", async () => {
    const [, name, version, chainId, verifyingContract] = await f.contract.read.eip712Domain();
    expect({ name, version, chainId: Number(chainId), verifyingContract }).toEqual(f.domain);
    expect(f.domain.name).toBe(WXMR_DOMAIN_NAME);
    expect(f.domain.version).toBe(WXMR_DOMAIN_VERSION);
  });

  it("has the contract's type hashes for Mint, Rotate, Pause, Unpause, Cancel and SetLimits", async () => {
    const pairs = [
      [mintTypes, await f.contract.read.MINT_TYPEHASH()],
      [rotateTypes, await f.contract.read.ROTATE_TYPEHASH()],
      [pauseTypes, await f.contract.read.PAUSE_TYPEHASH()],
      [unpauseTypes, await f.contract.read.UNPAUSE_TYPEHASH()],
      [cancelTypes, await f.contract.read.CANCEL_TYPEHASH()],
      [setLimitsTypes, await f.contract.read.SET_LIMITS_TYPEHASH()],
    ] as const;
    for (const [types, onChain] of pairs) expect(keccak256(toHex(typeString(types)))).toBe(onChain);
    expect(typeString(mintTypes)).toBe(
      "Mint(address recipient,uint256 amount,bytes32 depositId,uint64 deadline,uint32 setIndex)",
    );
  });
});
