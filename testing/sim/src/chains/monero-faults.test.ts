// The real monero module on the simulated chain under random faults drawn from the seed: blocks at
// exponential gaps, reorgs below the confirmation depth, per-guardian outages of the daemon or the
// wallet, lagging nodes and answers slower than the clients' timeouts. A deposit and a payout go
// through; the payout is paid exactly once, and a seed replays to the same trace.
import { describe, expect, it } from "vitest";
import { payoutFee } from "@conclave/module-monero";
import { Rng } from "../rng.js";
import { BlockProducer, NodeFaultDriver } from "./chain.js";
import { moneroHarness } from "./federation-harness.js";
import { simAddress } from "./monero-chain.js";

const XMR = 10n ** 12n;
const USER = simAddress("mainnet", "standard", "user-faults");
/** Rounds (2 s of simulated time each, and whatever slow calls add) with faults on, then healed. */
const FAULTY_ROUNDS = 120;
const HEALED_ROUNDS_MAX = 120;

async function faultyRun(seed: number) {
  const h = moneroHarness({ seed });
  const rng = new Rng(seed, "monero-faults");
  const producer = new BlockProducer(h.chain, h.scheduler, rng.fork(), {
    meanBlockMs: 2_000,
    reorgProbability: 0.08,
    reorgDepthMax: 2,
  });
  const faults = new NodeFaultDriver(h.chain, h.scheduler, rng.fork(), [0, 1, 2, 3], {
    gapMs: 30_000,
    durationMsMax: 20_000,
    lagBlocksMax: 3,
    slowProbability: 0.2,
    slowMs: 20_000,
  });
  producer.start();
  faults.start();
  let round = 0;
  const step = async () => {
    if (++round === FAULTY_ROUNDS) faults.heal();
    await h.scheduler.runUntil(h.scheduler.now() + 2_000);
    await h.round();
  };
  const amount = 3n * 10n ** 11n;
  const dep = h.depositByProof(XMR);
  // The client posts its claim to one guardian after another until one takes it.
  for (let g = 0; ; g = (g + 1) % h.n) {
    const taken = await h.postClaim(g, { txid: dep.txid, proof: dep.proof }).then(
      () => true,
      () => false,
    );
    if (taken) break;
    await step();
  }
  const credited = () => h.guardians[0]!.monero.depositView(h.mdb(0), dep.txidBytes).state === "credited";
  while (!credited() && round < FAULTY_ROUNDS + HEALED_ROUNDS_MAX) await step();
  expect(credited()).toBe(true);
  const fee = payoutFee(h.config, Number(h.chain.feePerByte))!;
  const tx = h.payoutTx(dep.txidBytes, XMR, [{ address: USER, amount, fee }]);
  expect(h.block([], [tx]).events[0]?.status.state).toBe("accepted");
  const state = () => h.guardians[0]!.monero.payoutView(h.mdb(0), { txid: h.txidOf(tx), index: "0" }).state;
  while (state() !== "confirmed" && round < FAULTY_ROUNDS + HEALED_ROUNDS_MAX) await step();
  producer.stop();
  return {
    state: state(),
    paid: h.chain.paymentsTo(USER, amount, { pool: true }),
    trace: h.chain.trace.hash,
    rounds: round,
    reorgs: [...producer.reorgs.values()].reduce((a, b) => a + b, 0),
    episodes: [...faults.episodes.values()].reduce((a, b) => a + b, 0),
    failedSteps: h.logs.filter((l) => / (poll|work) failed /.test(l)).length,
  };
}

describe("the monero module under random chain and node faults", () => {
  it.each([41, 42, 43])(
    "seed %i: the payout is confirmed after the heal and paid exactly once",
    async (seed) => {
      const r = await faultyRun(seed);
      expect(r.state).toBe("confirmed");
      expect(r.paid).toHaveLength(1);
      expect(r.paid[0]!.height).toBeDefined();
      // The faults really happened.
      expect(r.episodes).toBeGreaterThan(0);
      expect(r.failedSteps).toBeGreaterThan(0);
    },
  );

  it("a faulty run replays exactly from its seed", async () => {
    const a = await faultyRun(44);
    const b = await faultyRun(44);
    expect(b).toEqual(a);
    expect(a.reorgs + a.episodes).toBeGreaterThan(0);
  });
});
