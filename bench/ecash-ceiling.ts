// The crypto ceiling of a reissue of 8 notes into 8 notes: every cryptographic operation the
// client and all N guardians perform for one reissue, run in a loop in one thread, without the
// federation (no consensus, no HTTP, no database). What the federation's sustained rate is compared
// with: on the same machine, in the same run.
//
// Per reissue:
//   client    8 spend keys (Ed25519 key from seed), 8 blindings (hash to G1, scalar mult),
//             8 Ed25519 signatures over the txid;
//   guardian  (each of N) 8 Ed25519 verifications, one batched check of the 8 spent notes,
//             8 blinded-message point checks, 8 blind signature shares;
//   client    one batched check of each of t guardians' 8 shares, 8 Lagrange combinations of t
//             shares, 8 unblindings, one batched check of the 8 new notes.
import { quorumThreshold } from "@conclave/core-common";
import { randomBytes } from "node:crypto";
import { NodeSigner, NodeVerifier, sha256 } from "@conclave/core-server";
import type { TbsBackend } from "@conclave/core-common/tbs";
import {
  commitPolynomial,
  encodeG2,
  evaluatePolynomial,
  publicKeyShare,
  randomPolynomial,
} from "@conclave/core-common/threshold";

const rng = (n: number) => new Uint8Array(randomBytes(n));

export interface CeilingResult {
  readonly reissues: number;
  readonly seconds: number;
  readonly perSecond: number;
}

export function measureCeiling(tbs: TbsBackend, n: number, seconds: number, notes = 8): CeilingResult {
  const t = quorumThreshold(n);
  const poly = randomPolynomial(t, rng);
  const commitments = commitPolynomial(poly);
  const pk = encodeG2(commitments[0]!);
  const pkShares = Array.from({ length: n }, (_, i) => encodeG2(publicKeyShare(commitments, i)));
  const skShares = Array.from({ length: n }, (_, i) => evaluatePolynomial(poly, i));
  const verifier = new NodeVerifier();

  // Notes to spend: made once, outside the loop (a reissue spends notes issued earlier).
  const makeNotes = () =>
    Array.from({ length: notes }, () => {
      const seed = rng(32);
      const signer = new NodeSigner(seed);
      const b = tbs.blind(signer.publicKey, rng);
      const shares = skShares.slice(0, t).map((s, guardian) => {
        const share = tbs.signBlindShare(s, b.blindedMessage);
        if (!share.ok) throw new Error(share.error.message);
        return { guardian, share: share.value };
      });
      const combined = tbs.combineBlindShares(t, shares);
      if (!combined.ok) throw new Error(combined.error.message);
      const sig = tbs.unblind(combined.value, b.blindingKey);
      if (!sig.ok) throw new Error(sig.error.message);
      return { signer, nonce: signer.publicKey, signature: sig.value };
    });
  const inputs = makeNotes();

  const oneReissue = () => {
    const txid = sha256(rng(64));
    // Client: fresh notes, blinded; inputs signed.
    const fresh = Array.from({ length: notes }, () => {
      const signer = new NodeSigner(rng(32));
      return { nonce: signer.publicKey, ...tbs.blind(signer.publicKey, rng) };
    });
    const signatures = inputs.map((i) => i.signer.sign(txid));
    // Every guardian.
    const guardianShares = skShares.map((s) => {
      inputs.forEach((input, k) => {
        if (!verifier.verify(input.nonce, txid, signatures[k]!)) throw new Error("signature");
      });
      if (!tbs.verifyNotesBatch(pk, inputs, rng)) throw new Error("notes");
      return fresh.map((f) => {
        const ok = tbs.checkG1Point("blinded message", f.blindedMessage);
        if (!ok.ok) throw new Error(ok.error.message);
        const share = tbs.signBlindShare(s, f.blindedMessage);
        if (!share.ok) throw new Error(share.error.message);
        return share.value;
      });
    });
    // Client: t guardians' shares checked, combined, unblinded, the new notes checked.
    for (let g = 0; g < t; g++) {
      const items = fresh.map((f, k) => ({
        blindedMessage: f.blindedMessage,
        blindShare: guardianShares[g]![k]!,
      }));
      if (!tbs.verifyBlindSharesBatch(pkShares[g]!, items, rng)) throw new Error("shares");
    }
    const made = fresh.map((f, k) => {
      const combined = tbs.combineBlindShares(
        t,
        Array.from({ length: t }, (_, g) => ({ guardian: g, share: guardianShares[g]![k]! })),
      );
      if (!combined.ok) throw new Error(combined.error.message);
      const sig = tbs.unblind(combined.value, f.blindingKey);
      if (!sig.ok) throw new Error(sig.error.message);
      return { nonce: f.nonce, signature: sig.value };
    });
    if (!tbs.verifyNotesBatch(pk, made, rng)) throw new Error("new notes");
  };

  oneReissue(); // warm-up
  const start = performance.now();
  let reissues = 0;
  while (performance.now() - start < seconds * 1000) {
    oneReissue();
    reissues++;
  }
  const elapsed = (performance.now() - start) / 1000;
  return { reissues, seconds: elapsed, perSecond: reissues / elapsed };
}
