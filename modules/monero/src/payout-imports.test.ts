// importReadable (payout-imports.ts): which of the others' exports a guardian imports.
import { describe, expect, it } from "vitest";
import { MoneroMultisigError } from "@conclave/monero";
import { ExportReadings, importReadable } from "./payout-imports.js";

/** wallet-rpc's import as a fake: all or nothing, "good:<who>" readable, anything else garbage. */
function importer() {
  const calls: string[][] = [];
  return {
    calls,
    io: {
      readable: (info: string) =>
        Promise.resolve(info.startsWith("good:") ? { exporter: info.split(":")[1]! } : undefined),
      importInfos: (infos: readonly string[]) => {
        calls.push([...infos]);
        if (infos.some((i) => !i.startsWith("good:")) || new Set(infos).size !== infos.length)
          return Promise.reject(new MoneroMultisigError("Failed to import multisig info"));
        return Promise.resolve();
      },
    },
  };
}

describe("importReadable: the exports a guardian imports", () => {
  it("imports every export when all can be read, in one call, unchanged", async () => {
    const { calls, io } = importer();
    const infos = ["good:1", "good:2", "good:3"];
    await expect(importReadable(infos, 3, io)).resolves.toEqual({ imported: 3, skipped: 0 });
    expect(calls).toEqual([infos]);
  });

  it("skips an export it cannot read (garbage) and imports the others (failed before: the whole import refused)", async () => {
    const { calls, io } = importer();
    await expect(importReadable(["good:1", "garbage", "good:3"], 3, io)).resolves.toEqual({
      imported: 2,
      skipped: 1,
    });
    expect(calls).toEqual([["good:1", "good:3"]]);
  });

  it("imports one export per exporter (a copy of another participant's export in a Byzantine guardian's slot)", async () => {
    const { calls, io } = importer();
    await expect(importReadable(["good:1", "good:1", "good:3"], 3, io)).resolves.toEqual({
      imported: 2,
      skipped: 1,
    });
    expect(calls).toEqual([["good:1", "good:3"]]);
  });

  it("with fewer than t − 1 readable exports the import fails as wallet-rpc's own would, nothing imported", async () => {
    const { calls, io } = importer();
    await expect(importReadable(["good:1", "garbage", "junk"], 3, io)).rejects.toThrow(MoneroMultisigError);
    expect(calls).toEqual([["good:1", "garbage", "junk"]]);
  });
});

// Review of 4819c19: when wallet-rpc's import fails (an export that reads well but names a signer
// that is no member), PayoutSigner.importOnce retries it at every poll, and every retry read every
// export again (9 reads in 3 polls of 3 exports).
describe("importReadable: a retried import", () => {
  it("does not read the same exports again when given the wallet's readings (failed before: every retry re-read them all)", async () => {
    let reads = 0;
    const io = {
      readable: (info: string) => {
        reads++;
        return Promise.resolve({ exporter: info });
      },
      importInfos: () =>
        Promise.reject(new MoneroMultisigError("Signer is not a member of this multisig wallet")),
    };
    const readings = new ExportReadings();
    const infos = ["a", "b", "c"];
    for (let poll = 0; poll < 3; poll++)
      await expect(importReadable(infos, 3, io, readings)).rejects.toThrow(MoneroMultisigError);
    expect(reads).toBe(infos.length);
  });

  it("keeps at most its bound of readings, the oldest dropped first", async () => {
    let reads = 0;
    const readings = new ExportReadings(2);
    const reader = (info: string) => {
      reads++;
      return Promise.resolve({ exporter: info });
    };
    for (const info of ["a", "b", "c", "a"]) await readings.read(info, reader);
    expect(reads).toBe(4); // "a" was dropped when "c" came
    await readings.read("c", reader);
    expect(reads).toBe(4);
  });
});
