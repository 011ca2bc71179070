// Property tests of signature sets against the deployed contract (fast-check; each case is one
// eth_call to anvil through viem's simulateContract, so nothing changes state but the one mint that
// uses up a deposit id, made before the properties run). 5-of-7 guardians, 3 outsiders.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { getAddress, keccak256, numberToHex, toHex } from "viem";
import type { Address, Hex, PrivateKeyAccount } from "viem";
import { startWxmrFixture, testAccounts, revertOf } from "./fixture.js";
import type { WxmrFixture } from "./fixture.js";
import { wrappedMoneroAbi } from "./generated/wrapped-monero.js";
import { PICONERO_PER_XMR } from "./anvil.js";
import { compareAddresses, signMint, wxmrDomain } from "./typed-data.js";
import type { MintMessage, WxmrDomain } from "./typed-data.js";

const N = 7;
const T = 5;
const RUNS = 25;
const outsiders = testAccounts(3, "outsider");
const recipient = testAccounts(1, "holder")[0]!.address;

let f: WxmrFixture;
let usedDepositId: Hex;
let chainNow: bigint;
beforeAll(async () => {
  f = await startWxmrFixture({ guardians: N, threshold: T });
  const used = await f.mintMessage(recipient, PICONERO_PER_XMR);
  await f.mint(used);
  usedDepositId = used.depositId;
  chainNow = await f.now();
});
afterAll(async () => {
  await f?.anvil.stop();
});

/** A fresh, valid mint message (deposit id from the case's seed, so no case depends on another). */
function message(seed: number, fields: Partial<MintMessage> = {}): MintMessage {
  return {
    recipient,
    amount: PICONERO_PER_XMR,
    depositId: keccak256(toHex(`property-${seed}`)),
    deadline: chainNow + 86_400n,
    setIndex: 1,
    ...fields,
  };
}

/** Signs with each account in the given order (not re-sorted). */
async function signInOrder(accounts: readonly PrivateKeyAccount[], domain: WxmrDomain, m: MintMessage) {
  const sigs: Hex[] = [];
  for (const a of accounts) sigs.push(...(await signMint([a], domain, m)));
  return sigs;
}

/** Simulates the mint; resolves with "ok" or the custom error's name and arguments. */
async function tryMint(m: MintMessage, sigs: readonly Hex[]) {
  try {
    await f.anvil.publicClient.simulateContract({
      account: f.anvil.accounts[0]!,
      address: f.address,
      abi: wrappedMoneroAbi,
      functionName: "mint",
      args: [m, sigs],
    });
    return { errorName: "ok", args: [] as readonly unknown[] };
  } catch (e) {
    const r = revertOf(e);
    if (r === undefined) throw e;
    return r;
  }
}

const byAddress = (a: PrivateKeyAccount, b: PrivateKeyAccount) => compareAddresses(a.address, b.address);
/** A subset of the guardians' indexes with at least `min` and at most `max` members, ascending. */
const memberIndexes = (min: number, max: number) =>
  fc
    .uniqueArray(fc.integer({ min: 0, max: N - 1 }), { minLength: min, maxLength: max })
    .map((ix) => [...ix].sort((a, b) => a - b));
const seed = fc.integer({ min: 0, max: 2 ** 31 - 1 });

describe("signature sets at 5-of-7 (fast-check)", () => {
  it("any t..n distinct members in ascending order pass", async () => {
    await fc.assert(
      fc.asyncProperty(memberIndexes(T, N), seed, async (ix, s) => {
        const m = message(s);
        const r = await tryMint(
          m,
          await signMint(
            ix.map((i) => f.guardians[i]!),
            f.domain,
            m,
          ),
        );
        expect(r.errorName).toBe("ok");
      }),
      { numRuns: RUNS },
    );
  });

  it("fewer than t members fail with NotEnoughSignatures", async () => {
    await fc.assert(
      fc.asyncProperty(memberIndexes(0, T - 1), seed, async (ix, s) => {
        const m = message(s);
        const r = await tryMint(
          m,
          await signMint(
            ix.map((i) => f.guardians[i]!),
            f.domain,
            m,
          ),
        );
        expect(r).toEqual({ errorName: "NotEnoughSignatures", args: [BigInt(ix.length), BigInt(T)] });
      }),
      { numRuns: RUNS },
    );
  });

  it("any duplicated member fails with DuplicateSigner, even with t distinct others", async () => {
    await fc.assert(
      fc.asyncProperty(memberIndexes(T, N), fc.nat(), seed, async (ix, pick, s) => {
        const signers = ix.map((i) => f.guardians[i]!);
        const dup = signers[pick % signers.length]!;
        const m = message(s);
        const r = await tryMint(m, await signInOrder([...signers, dup].sort(byAddress), f.domain, m));
        expect(r).toEqual({ errorName: "DuplicateSigner", args: [dup.address] });
      }),
      { numRuns: RUNS },
    );
  });

  it("any outsider among t members fails with SignerNotGuardian(outsider)", async () => {
    await fc.assert(
      fc.asyncProperty(
        memberIndexes(T, N),
        fc.integer({ min: 0, max: outsiders.length - 1 }),
        seed,
        async (ix, o, s) => {
          const outsider = outsiders[o]!;
          const m = message(s);
          const signers = [...ix.map((i) => f.guardians[i]!), outsider].sort(byAddress);
          const r = await tryMint(m, await signInOrder(signers, f.domain, m));
          expect(r).toEqual({ errorName: "SignerNotGuardian", args: [outsider.address] });
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("any order of t..n members other than ascending fails with SignersNotAscending", async () => {
    await fc.assert(
      fc.asyncProperty(
        memberIndexes(T, N).chain((ix) =>
          fc.shuffledSubarray(ix, { minLength: ix.length, maxLength: ix.length }),
        ),
        seed,
        async (order, s) => {
          const ascending = order.every((v, i) => i === 0 || order[i - 1]! < v);
          fc.pre(!ascending);
          const m = message(s);
          const r = await tryMint(
            m,
            await signInOrder(
              order.map((i) => f.guardians[i]!),
              f.domain,
              m,
            ),
          );
          expect(r).toEqual({ errorName: "SignersNotAscending", args: [] });
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("t members signing another chain id or another contract fail with SignerNotGuardian", async () => {
    const wrongDomain = fc.oneof(
      fc
        .integer({ min: 1, max: 2 ** 31 })
        .filter((id) => id !== f.anvil.chain.id)
        .map((id) => wxmrDomain(id, f.address)),
      fc
        .bigInt({ min: 1n, max: 2n ** 160n - 1n })
        .map((a): Address => getAddress(numberToHex(a, { size: 20 })))
        .filter((a) => a !== f.address)
        .map((a) => wxmrDomain(f.anvil.chain.id, a)),
    );
    await fc.assert(
      fc.asyncProperty(memberIndexes(T, N), wrongDomain, seed, async (ix, domain, s) => {
        const m = message(s);
        const r = await tryMint(
          m,
          await signMint(
            ix.map((i) => f.guardians[i]!),
            domain,
            m,
          ),
        );
        expect(r.errorName).toBe("SignerNotGuardian");
        expect(f.guardians.map((g) => g.address)).not.toContain(r.args[0]);
      }),
      { numRuns: RUNS },
    );
  });

  it("any deadline before the block's timestamp fails with Expired", async () => {
    await fc.assert(
      fc.asyncProperty(
        memberIndexes(T, N),
        fc.bigInt({ min: 0n, max: chainNow - 1n }),
        seed,
        async (ix, deadline, s) => {
          const m = message(s, { deadline });
          const r = await tryMint(
            m,
            await signMint(
              ix.map((i) => f.guardians[i]!),
              f.domain,
              m,
            ),
          );
          expect(r).toEqual({ errorName: "Expired", args: [] });
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("the used deposit id fails with DepositUsed whatever else the mint says", async () => {
    await fc.assert(
      fc.asyncProperty(memberIndexes(T, N), fc.bigInt({ min: 1n, max: 10n ** 20n }), async (ix, amount) => {
        const m = message(0, { depositId: usedDepositId, amount });
        const r = await tryMint(
          m,
          await signMint(
            ix.map((i) => f.guardians[i]!),
            f.domain,
            m,
          ),
        );
        expect(r).toEqual({ errorName: "DepositUsed", args: [usedDepositId] });
      }),
      { numRuns: RUNS },
    );
  });
});
