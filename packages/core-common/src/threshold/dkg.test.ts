import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toHex } from "../bytes.js";
import { encodeDkgMessage, type DkgMessage } from "./dkg-messages.js";
import { quorumThreshold } from "../quorum.js";
import { Dkg, DkgSnapshotError, type DkgResult } from "./dkg.js";
import { Fr, interpolateScalars, randomPolynomial } from "./poly.js";
import { commitPolynomial, decodeG2, encodeG2, g2Mul } from "./shares.js";
import { Ceremony, seededRng, sentMessages, type Tamper } from "./test-ceremony.js";

const hex = (b: Uint8Array): string => toHex(b);

function publicView(r: DkgResult): unknown {
  return {
    qualified: r.qualified,
    disqualified: r.disqualified,
    transcript: hex(r.transcript),
    keys: r.keys.map((k) => ({ publicKey: hex(k.publicKey), shares: k.publicKeyShares.map(hex) })),
  };
}

/** All guardians agree, every secret share matches its public share, and t shares give the key. */
function expectConsistentKeys(results: readonly DkgResult[], t: number): void {
  const first = results[0]!;
  for (const r of results) expect(publicView(r)).toEqual(publicView(first));
  first.keys.forEach((key, k) => {
    results.forEach((r, i) => {
      expect(hex(encodeG2(g2Mul(r.keys[k]!.secretShare)))).toBe(hex(key.publicKeyShares[i]!));
    });
    const secret = interpolateScalars(
      results.slice(-t).map((r, j) => ({
        index: results.length - t + j,
        value: r.keys[k]!.secretShare,
      })),
    );
    expect(hex(encodeG2(g2Mul(secret)))).toBe(hex(key.publicKey));
  });
}

describe("key ceremony with honest guardians", () => {
  for (const n of [1, 4, 7]) {
    it(`completes with n = ${n} and gives every guardian the same public keys`, () => {
      const t = quorumThreshold(n);
      const results = new Ceremony({ n, t, keyCount: 2, seed: `honest-${n}` }).run().results();
      expectConsistentKeys(results, t);
      expect(results[0]!.qualified).toEqual([...Array(n).keys()]);
      expect(results[0]!.disqualified).toEqual([]);
      expect(results[0]!.keys).toHaveLength(2);
      expect(hex(results[0]!.keys[0]!.publicKey)).not.toBe(hex(results[0]!.keys[1]!.publicKey));
    });
  }

  it("gives the same result whatever order messages arrive in", () => {
    const control = new Ceremony({ n: 4, t: 3, seed: "order" }).run().results();
    const shuffled = new Ceremony({ n: 4, t: 3, seed: "order", shuffle: true }).run().results();
    expect(shuffled.map(publicView)).toEqual(control.map(publicView));
  });

  it("derives the threshold t = n - floor((n - 1) / 3)", () => {
    expect([1, 2, 3, 4, 5, 7, 10].map(quorumThreshold)).toEqual([1, 2, 3, 3, 4, 5, 7]);
  });
});

/** A second polynomial's commitments, for dealers that reveal something else. */
function otherCommitments(t: number, keyCount: number, seed: string): Uint8Array[][] {
  const rng = seededRng(seed);
  return Array.from({ length: keyCount }, () => commitPolynomial(randomPolynomial(t, rng)).map(encodeG2));
}

describe("key ceremony with a faulty dealer", () => {
  const n = 4;
  const t = 3;
  const bad = 3;

  const honest = [0, 1, 2];

  function expectDisqualified(r: DkgResult, reason: RegExp): void {
    expect(r.qualified).toEqual(honest);
    expect(r.disqualified.map((d) => d.guardian)).toEqual([bad]);
    expect(r.disqualified[0]?.reason).toMatch(reason);
  }

  /**
   * The bad dealer is an honest state machine whose messages are rewritten on the way out, so it
   * notices that its peers saw something else and would abort: a real Byzantine guardian stays quiet.
   */
  const byzantine =
    (rewrite: Tamper): Tamper =>
    (from, to, m) => {
      if (from !== bad) return m;
      return m.kind === "abort" ? undefined : rewrite(from, to, m);
    };

  const corruptShareTo =
    (victim: number): Tamper =>
    (_from, to, m) =>
      to === victim && m.kind === "deal" ? { ...m, shares: [Fr.add(m.shares[0]!, 1n)] } : m;

  it("keeps a dealer that answers a complaint with the right share, and the complainer uses it", () => {
    const ceremony = new Ceremony({ n, t, seed: "answered", tamper: byzantine(corruptShareTo(1)) }).run();
    const results = ceremony.results();
    expect(results[0]!.qualified).toEqual([0, 1, 2, 3]);
    expectConsistentKeys(results, t);
    const complaint = sentMessages(ceremony.sent[1]!).find((m) => m.kind === "complain");
    expect(complaint?.kind === "complain" && complaint.accused).toEqual([bad]);
    const answer = sentMessages(ceremony.sent[bad]!).find((m) => m.kind === "answer");
    expect(answer?.kind === "answer" && answer.answers.map((a) => a.complainer)).toEqual([1]);
  });

  it("disqualifies a dealer that does not answer a complaint, and names it", () => {
    const tamper = byzantine((from, to, m) => {
      const m2 = corruptShareTo(1)(from, to, m);
      return m2?.kind === "answer" ? { ...m2, answers: [] } : m2;
    });
    const results = new Ceremony({ n, t, seed: "unanswered", tamper }).run().results(honest);
    for (const r of results) {
      expectDisqualified(r, /did not answer guardian 1/);
    }
    expectConsistentKeys(results, t);
  });

  it("disqualifies a dealer that answers a complaint with a wrong share", () => {
    const tamper = byzantine((from, to, m) => {
      const m2 = corruptShareTo(2)(from, to, m);
      if (m2?.kind !== "answer") return m2;
      return { ...m2, answers: m2.answers.map((a) => ({ ...a, shares: [Fr.add(a.shares[0]!, 5n)] })) };
    });
    const results = new Ceremony({ n, t, seed: "wrong-answer", tamper }).run().results(honest);
    for (const r of results) {
      expectDisqualified(r, /do not match/);
    }
    expectConsistentKeys(results, t);
  });

  it("disqualifies a dealer whose revealed commitments break its round-1 hash", () => {
    const fake = otherCommitments(t, 1, "fake");
    const tamper = byzantine((_from, _to, m) => (m.kind === "deal" ? { ...m, commitments: fake } : m));
    const results = new Ceremony({ n, t, seed: "reveal", tamper }).run().results(honest);
    for (const r of results) {
      expectDisqualified(r, /hash it sent in round 1/);
    }
    expectConsistentKeys(results, t);
  });

  it("catches a dealer that shows different commitments to different guardians, naming it", () => {
    const fake = otherCommitments(t, 1, "equivocate");
    const tamper = byzantine((_from, to, m) =>
      to === 2 && m.kind === "deal" ? { ...m, commitments: fake } : m,
    );
    const failures = new Ceremony({ n, t, seed: "equivocate", tamper }).run().failures();
    for (const f of failures.slice(0, bad)) {
      expect(f?.code).toBe("inconsistent-view");
      expect(f?.guardians[0]).toBe(bad);
    }
  });

  it("catches a guardian that sends different complaints to different guardians", () => {
    const tamper = byzantine((_from, to, m) =>
      to === 0 && m.kind === "complain" ? { ...m, accused: [1] } : m,
    );
    const failures = new Ceremony({ n, t, seed: "complain-equivocate", tamper }).run().failures();
    for (const f of failures.slice(0, bad)) {
      expect(f?.code).toBe("inconsistent-view");
      expect(f?.guardians).toContain(bad);
    }
  });

  it("names a guardian whose echo misreports what the others sent", () => {
    const tamper = byzantine((_from, _to, m) =>
      m.kind === "complain" ? { ...m, echo: m.echo.map(() => new Uint8Array(32).fill(9)) } : m,
    );
    const failures = new Ceremony({ n, t, seed: "lying-echo", tamper }).run().failures();
    for (const f of failures.slice(0, bad)) {
      expect(f?.code).toBe("inconsistent-view");
      expect(f?.guardians[0]).toBe(bad);
    }
  });

  it("aborts with a typed error naming the dealers when fewer than t qualify", () => {
    const tamper: Tamper = (from, to, m) => {
      if (from < 2) return m;
      if (m.kind === "deal" && to === 0) return { ...m, shares: [Fr.add(m.shares[0]!, 1n)] };
      if (m.kind === "abort") return undefined;
      return m.kind === "answer" ? { ...m, answers: [] } : m;
    };
    const failures = new Ceremony({ n, t, seed: "too-few", tamper }).run().failures();
    for (const f of failures.slice(0, 2)) {
      expect(f?.code).toBe("too-few-qualified");
      expect(f?.guardians).toEqual([2, 3]);
    }
  });
});

describe("key ceremony input validation", () => {
  const n = 4;
  const t = 3;

  function started(): Dkg {
    const dkg = new Dkg({ n, t, self: 0, keyCount: 1, rng: seededRng("validation") });
    dkg.start();
    return dkg;
  }

  function validDeal(): Extract<DkgMessage, { kind: "deal" }> {
    return { kind: "deal", commitments: otherCommitments(t, 1, "valid-deal"), shares: [1n] };
  }

  /** The first compressed G2 encoding with x = (0, i) that fails to decode for the given reason. */
  function g2WithError(code: "point-not-on-curve" | "point-not-in-subgroup"): Uint8Array {
    for (let x = 1; ; x++) {
      const bytes = new Uint8Array(96);
      bytes[0] = 0x80;
      bytes[95] = x;
      const decoded = decodeG2(bytes);
      if (!decoded.ok && decoded.error.code === code) return bytes;
    }
  }

  const cases: [string, (dkg: Dkg) => ReturnType<Dkg["receive"]>, RegExp][] = [
    ["garbage bytes", (d) => d.receiveBytes(1, new Uint8Array([1, 99, 0])), /undecodable/],
    [
      "a truncated deal",
      (d) => d.receiveBytes(1, encodeDkgMessage(validDeal()).subarray(0, 100)),
      /undecodable/,
    ],
    [
      "a commitment off the curve",
      (d) => {
        const deal = validDeal();
        return d.receive(1, {
          ...deal,
          commitments: [
            [deal.commitments[0]![0]!, g2WithError("point-not-on-curve"), deal.commitments[0]![2]!],
          ],
        });
      },
      /invalid commitment \(key 0, coefficient 1\)/,
    ],
    [
      "a commitment outside the subgroup",
      (d) => {
        const deal = validDeal();
        return d.receive(1, {
          ...deal,
          commitments: [
            [deal.commitments[0]![0]!, g2WithError("point-not-in-subgroup"), deal.commitments[0]![2]!],
          ],
        });
      },
      /subgroup/,
    ],
    ["the wrong number of keys", (d) => d.receive(1, { ...validDeal(), shares: [1n, 2n] }), /scalars/],
    ["a share out of range", (d) => d.receive(1, { ...validDeal(), shares: [Fr.ORDER] }), /scalars/],
    ["a short commit digest", (d) => d.receive(1, { kind: "commit", digest: new Uint8Array(31) }), /digest/],
    [
      "a complaint against itself",
      (d) =>
        d.receive(2, {
          kind: "complain",
          echo: Array.from({ length: n }, () => new Uint8Array(32)),
          accused: [2],
        }),
      /complaint list/,
    ],
    [
      "an echo of the wrong length",
      (d) => d.receive(2, { kind: "confirm", echo: [new Uint8Array(32)] }),
      /echo/,
    ],
  ];

  for (const [name, send, pattern] of cases) {
    it(`rejects ${name} as a malformed message naming the sender, and tells the others`, () => {
      const dkg = started();
      const out = send(dkg);
      expect(out.failed?.code).toBe("malformed-message");
      expect(out.failed?.guardians).toHaveLength(1);
      expect(out.failed?.message).toMatch(pattern);
      expect(out.send.map((s) => [s.to, s.message.kind])).toEqual([["all", "abort"]]);
      expect(dkg.receive(2, { kind: "commit", digest: new Uint8Array(32) })).toEqual({
        send: [],
        failed: out.failed,
      });
    });
  }

  it("ignores an identical duplicate but fails on a different second message for the same round", () => {
    const dkg = started();
    const commit: DkgMessage = { kind: "commit", digest: new Uint8Array(32).fill(7) };
    expect(dkg.receive(1, commit).failed).toBeUndefined();
    expect(dkg.receive(1, commit)).toEqual({ send: [] });
    const out = dkg.receive(1, { kind: "commit", digest: new Uint8Array(32).fill(8) });
    expect(out.failed).toMatchObject({ code: "equivocation", guardians: [1] });
  });

  it("stops when a peer aborts, quoting its reason as printable text", () => {
    const out = started().receive(3, { kind: "abort", reason: "operator cancelled" });
    expect(out.failed).toMatchObject({ code: "peer-aborted", guardians: [3] });
    expect(out.failed?.message).toMatch(/guardian 3 aborted the ceremony: operator cancelled/);
  });

  it("refuses configurations and senders that are programming errors", () => {
    const rng = seededRng("config");
    expect(() => new Dkg({ n: 4, t: 5, self: 0, keyCount: 1, rng })).toThrow(RangeError);
    expect(() => new Dkg({ n: 4, t: 3, self: 4, keyCount: 1, rng })).toThrow(RangeError);
    expect(() => new Dkg({ n: 4, t: 3, self: 0, keyCount: 0, rng })).toThrow(RangeError);
    expect(() => started().receive(0, { kind: "commit", digest: new Uint8Array(32) })).toThrow(RangeError);
  });

  it("reports whose messages it is waiting for", () => {
    const dkg = started();
    expect(dkg.progress()).toEqual({ round: 1, waitingFor: [1, 2, 3] });
    dkg.receive(2, { kind: "commit", digest: new Uint8Array(32) });
    expect(dkg.progress()).toEqual({ round: 1, waitingFor: [1, 3] });
  });
});

describe("key ceremony snapshots", () => {
  const n = 4;
  const t = 3;
  const victim = 2;

  it("resumes from a snapshot taken at any point, resending exactly what it sent before", () => {
    const control = new Ceremony({ n, t, seed: "restart" }).run().results();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 14 }), (crashAfter) => {
        let deliveries = 0;
        const ceremony = new Ceremony({
          n,
          t,
          seed: "restart",
          beforeDelivery: (c, next) => {
            if (next.to !== victim || deliveries++ !== crashAfter) return;
            const label = (e: { to: number; bytes: Uint8Array }): string => `${e.to}:${hex(e.bytes)}`;
            const before = c.sent[victim]!.map(label).sort();
            const snapshot: unknown = JSON.parse(JSON.stringify(c.guardians[victim]!.snapshot()));
            c.guardians[victim] = Dkg.restore(snapshot);
            c.post(victim, c.guardians[victim].start());
            expect(c.sent[victim]!.slice(before.length).map(label).sort()).toEqual(before);
          },
        });
        const results = ceremony.run().results();
        expect(deliveries).toBeGreaterThan(crashAfter);
        expect(results.map(publicView)).toEqual(control.map(publicView));
        expect(results.map((r) => r.keys[0]!.secretShare)).toEqual(
          control.map((r) => r.keys[0]!.secretShare),
        );
      }),
      { numRuns: 6 },
    );
  });

  it("keeps a failure across a restart", () => {
    const dkg = new Dkg({ n, t, self: 0, keyCount: 1, rng: seededRng("failed") });
    dkg.start();
    dkg.receive(1, { kind: "abort", reason: "stop" });
    const restored = Dkg.restore(JSON.parse(JSON.stringify(dkg.snapshot())));
    expect(restored.failed).toEqual(dkg.failed);
    expect(restored.start().send).toEqual([
      { to: "all", message: { kind: "abort", reason: dkg.failed?.message } },
    ]);
  });

  it("refuses a snapshot it did not write, with a DkgSnapshotError", () => {
    const snapshot = new Dkg({ n, t, self: 0, keyCount: 1, rng: seededRng("bad-snapshot") }).snapshot();
    expect(() => Dkg.restore({ ...snapshot, version: 2 })).toThrow(DkgSnapshotError);
    expect(() => Dkg.restore({ ...snapshot, t: 9 })).toThrow(DkgSnapshotError);
    expect(() => Dkg.restore({ ...snapshot, received: [{ from: 1, message: "0102" }] })).toThrow(
      DkgSnapshotError,
    );
    expect(() => Dkg.restore("not a snapshot")).toThrow(DkgSnapshotError);
  });
});
