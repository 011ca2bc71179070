// The simulator's memoized crypto answers exactly what the real checks answer: a triple MemoSigner
// signed verifies without a second verification, anything else is verified for real; a TBS check
// under a dealer's key compares with the one valid signature, and the answers equal blst's.
import { describe, expect, it } from "vitest";
import { blstTbs } from "@conclave/tbs-native";
import { utf8 } from "@conclave/core-common";
import { NodeVerifier, sha256 } from "./consensus.js";
import { MemoSigner, MemoVerifier } from "./memo-verifier.js";
import { mintKeys, memoTbs, seededBytes, simTbs } from "./federation/setup.js";
import { Fr, lagrangeAtZero } from "@conclave/core-common/threshold";

describe("MemoVerifier with MemoSigner's triples", () => {
  const a = new MemoSigner(sha256(utf8.encode("memo-test-a")));
  const b = new MemoSigner(sha256(utf8.encode("memo-test-b")));
  const real = new NodeVerifier();

  it("verifies a signed triple without verifying it again, and every other triple for real", () => {
    const verifier = new MemoVerifier();
    const message = sha256(utf8.encode("vote"));
    const signature = a.sign(message);
    expect(verifier.verify(a.publicKey, message, signature)).toBe(true);
    expect(verifier.misses).toBe(0);

    // b's signature on the same message, claimed as a's; a's signature on another message; a
    // flipped bit; a made-up signature: all verified for real, all false.
    const forgeries: [Uint8Array, Uint8Array][] = [
      [message, b.sign(message)],
      [sha256(utf8.encode("other vote")), signature],
      [message, Uint8Array.from(signature, (x, i) => (i === 7 ? x ^ 1 : x))],
      [message, new Uint8Array(64).fill(9)],
    ];
    for (const [m, s] of forgeries) {
      expect(real.verify(a.publicKey, m, s)).toBe(false);
      expect(verifier.verify(a.publicKey, m, s)).toBe(false);
    }
    expect(verifier.misses).toBe(forgeries.length);
    // b's own signature under b's key: signed here, so valid.
    expect(verifier.verify(b.publicKey, message, b.sign(message))).toBe(true);
    expect(verifier.misses).toBe(forgeries.length);
  });
});

describe("memoTbs under the dealer's keys", () => {
  const n = 4;
  const keys = mintKeys(n);
  const key = keys.config.keys[0]!;
  const rng = seededBytes("memo-test-rng");

  /** The key's secret: the dealt shares interpolated at 0 (what the dealer's polynomial gives). */
  function keyPolynomialSecret(): bigint {
    const t = keys.threshold;
    const lambdas = lagrangeAtZero(Array.from({ length: t }, (_, i) => i));
    return lambdas.reduce((acc, l, i) => Fr.add(acc, Fr.mul(l, keys.secretShares[i]![0]!)), 0n);
  }

  function scene(tbs: ReturnType<typeof memoTbs>) {
    const nonce = rng(32);
    const { blindingKey, blindedMessage } = tbs.blind(nonce, rng);
    const other = tbs.blind(rng(32), rng).blindedMessage;
    const share = (g: number, m: Uint8Array): Uint8Array => {
      const r = tbs.signBlindShare(keys.secretShares[g]![0]!, m);
      if (!r.ok) throw new Error(r.error.message);
      return r.value;
    };
    const shares = [0, 1, 2, 3].map((g) => ({ guardian: g, share: share(g, blindedMessage) }));
    const note = (chosen: typeof shares): Uint8Array => {
      const combined = tbs.combineBlindShares(keys.threshold, chosen);
      if (!combined.ok) throw new Error(combined.error.message);
      const unblinded = tbs.unblind(combined.value, blindingKey);
      if (!unblinded.ok) throw new Error(unblinded.error.message);
      return unblinded.value;
    };
    const bad = { guardian: 3, share: share(3, other) };
    return { nonce, blindingKey, blindedMessage, other, shares, share, note, bad };
  }

  it("gives blst's answers for valid and invalid shares and notes", () => {
    const memo = memoTbs();
    const s = scene(memo);
    for (let g = 0; g < n; g++) memo.knowSecret(key.publicKeyShares[g]!, keys.secretShares[g]![0]!);
    const cases: [Uint8Array, Uint8Array, Uint8Array][] = [
      [key.publicKeyShares[0]!, s.blindedMessage, s.shares[0]!.share],
      [key.publicKeyShares[1]!, s.blindedMessage, s.shares[1]!.share],
      [key.publicKeyShares[3]!, s.blindedMessage, s.bad.share], // a real share for another message
      [key.publicKeyShares[2]!, s.blindedMessage, s.shares[1]!.share], // another guardian's share
      [key.publicKeyShares[2]!, s.blindedMessage, new Uint8Array(48).fill(3)], // no point
      [
        key.publicKeyShares[2]!,
        s.blindedMessage,
        Uint8Array.from(s.shares[2]!.share, (x, i) => (i === 47 ? x ^ 1 : x)),
      ],
    ];
    for (const [pk, m, sh] of cases)
      expect(memo.verifyBlindShare(pk, m, sh)).toBe(blstTbs.verifyBlindShare(pk, m, sh));
    expect(cases.map(([pk, m, sh]) => memo.verifyBlindShare(pk, m, sh))).toEqual([
      true,
      true,
      false,
      false,
      false,
      false,
    ]);
  });

  it("checks notes by the key's secret (mintKeys registered it on simTbs) and agrees with blst", () => {
    const s = scene(simTbs);
    const good = s.note(s.shares.slice(0, keys.threshold));
    const withBad = s.note([...s.shares.slice(0, keys.threshold - 1), s.bad]);
    const otherNonce = rng(32);
    const notes: [Uint8Array, Uint8Array][] = [
      [s.nonce, good],
      [s.nonce, withBad],
      [otherNonce, good],
      [s.nonce, new Uint8Array(48)],
    ];
    const answers = notes.map(([nonce, sig]) => simTbs.verifyNote(key.publicKey, nonce, sig));
    expect(answers).toEqual(notes.map(([nonce, sig]) => blstTbs.verifyNote(key.publicKey, nonce, sig)));
    expect(answers).toEqual([true, false, false, false]);
  });

  it("combines and unblinds t dealt shares by the key's secret, with blst's bytes for every set of shares", () => {
    const memo = memoTbs();
    // Registered before the shares are signed, as mintKeys does before any guardian signs.
    memo.knowDealing(
      keyPolynomialSecret(),
      keys.secretShares.map((shares) => shares[0]!),
    );
    const s = scene(memo);
    const t = keys.threshold;
    const sets = [
      s.shares.slice(0, t), // the first t
      s.shares.slice(n - t), // the last t
      [...s.shares.slice(0, t - 1), s.bad], // a real share for another message: blst combines
      [s.shares[1]!, ...s.shares.slice(0, t - 1)].slice(0, t), // a guardian twice: blst's error
      s.shares.slice(0, t).map((x, i) => ({ guardian: (x.guardian + 1) % n, share: s.shares[i]!.share })), // wrong indices
      s.shares, // more than t: blst takes the first t
    ];
    const before = memo.calls.shortcuts;
    for (const set of sets) {
      expect(memo.combineBlindShares(t, set)).toEqual(blstTbs.combineBlindShares(t, set));
      const mine = memo.combineBlindShares(t, set);
      if (mine.ok) {
        expect(memo.unblind(mine.value, s.blindingKey)).toEqual(blstTbs.unblind(mine.value, s.blindingKey));
      }
    }
    // The first two sets took the shortcut (two combinations and an unblinding each), the others were
    // combined by blst; the last one's bytes are the first set's, so its unblinding took it too.
    expect(memo.calls.shortcuts - before).toBe(7);
    expect(memo.verifyNote(key.publicKey, s.nonce, s.note(s.shares.slice(0, t)))).toBe(true);
  });

  it("refuses a secret that is not the key's (checked against blst at the first use)", () => {
    const memo = memoTbs();
    const s = scene(memo);
    memo.knowSecret(key.publicKeyShares[0]!, keys.secretShares[1]![0]!);
    expect(() =>
      memo.verifyBlindShare(key.publicKeyShares[0]!, s.blindedMessage, s.share(0, s.blindedMessage)),
    ).toThrow(/not the key's/);
  });
});
