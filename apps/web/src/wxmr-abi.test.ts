// The page's subset of WrappedMonero's ABI (apps/web/page/wxmr-abi.ts) against the generated ABI
// (@conclave/evm/abi, compiled from the contract): every entry the page carries is there, equal.
import { describe, expect, it } from "vitest";
import { wrappedMoneroAbi } from "@conclave/evm/abi";
import { wxmrAbi } from "../page/wxmr-abi.js";

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
