// npm run bench:bridge-gas — gas of the wXMR contract's paths on a real anvil (cancun), through viem:
// a mint at t-of-n for 2-of-3, 3-of-4, 5-of-7 and 7-of-10 (to a fresh holder, whose balance slot is
// new, and to a holder again), a burn to a Monero address and to a claim key, a mint above the cap
// (queued, then executed after the delay, or cancelled), deployment, rotation, pause and unpause.
// Gas is deterministic for a given contract and state shape: one run is the figure.
import { keccak256, toHex } from "viem";
import { PICONERO_PER_XMR as XMR, orderSignatures, rotateTypedData, unpauseTypedData } from "@conclave/evm";
import type { WxmrLimits } from "@conclave/evm";
import { startWxmrFixture, testAccounts } from "@conclave/evm/fixture";

const LIMITS: WxmrLimits = {
  rateCapacity: 1_000_000n * XMR,
  ratePerSecond: XMR,
  singleMintCap: 100n * XMR,
  mintDelay: 3_600n,
  minBurn: XMR / 1_000n,
};
const STANDARD_ADDRESS = `4${"A".repeat(94)}`;

const rows: [string, bigint][] = [];
const row = (name: string, gas: bigint) => {
  rows.push([name, gas]);
  process.stdout.write(`${name.padEnd(52)} ${gas.toLocaleString("en-US").padStart(9)}\n`);
};

for (const [n, t] of [
  [3, 2],
  [4, 3],
  [7, 5],
  [10, 7],
] as const) {
  const f = await startWxmrFixture({ guardians: n, threshold: t, limits: LIMITS });
  try {
    if (n === 3)
      row(
        "deploy (3 guardians)",
        (
          await f.anvil.publicClient.getTransactionReceipt({
            hash: (await f.anvil.publicClient.getBlock({ blockNumber: 1n })).transactions[0]!,
          })
        ).gasUsed,
      );
    const [fresh, again] = testAccounts(2, `bench-holder-${n}`).map((a) => a.address) as [
      `0x${string}`,
      `0x${string}`,
    ];
    row(
      `mint ${t}-of-${n}, first to a fresh holder`,
      (await f.mint(await f.mintMessage(fresh, XMR))).gasUsed,
    );
    row(`mint ${t}-of-${n}, to a holder again`, (await f.mint(await f.mintMessage(fresh, XMR))).gasUsed);
    await f.mint(await f.mintMessage(again, XMR));
    row(
      `mint ${t}-of-${n}, to a holder again (2nd sample)`,
      (await f.mint(await f.mintMessage(again, XMR))).gasUsed,
    );
    if (n !== 3) continue;

    // Burns, from the deployer (it holds wXMR after this mint).
    const deployer = f.anvil.accounts[0]!.address;
    await f.mint(await f.mintMessage(deployer, 10n * XMR));
    row(
      "burn to a Monero address (95 chars)",
      (await f.receipt(f.contract.write.burn([XMR, STANDARD_ADDRESS]))).gasUsed,
    );
    row(
      "burn to a claim key",
      (await f.receipt(f.contract.write.burnToClaim([XMR, keccak256(toHex("claim"))]))).gasUsed,
    );

    // Above the cap: queued, then executed (by anyone) or cancelled (by a guardian).
    const big = await f.mintMessage(fresh, 200n * XMR);
    row(`mint ${t}-of-${n} above the cap (queued)`, (await f.mint(big)).gasUsed);
    await f.advance(LIMITS.mintDelay);
    row(
      "executeDelayed (to a holder again)",
      (await f.receipt(f.contract.write.executeDelayed([big.depositId]))).gasUsed,
    );
    const cancelled = await f.mintMessage(fresh, 200n * XMR);
    await f.mint(cancelled);
    row(
      "cancelDelayed (guardian as sender)",
      (await f.receipt((await f.as(f.guardians[0]!)).write.cancelDelayed([cancelled.depositId]))).gasUsed,
    );

    // Governance.
    row("pause (guardian as sender)", (await f.receipt((await f.as(f.guardians[1]!)).write.pause())).gasUsed);
    const unpauseSigs = orderSignatures(
      await Promise.all(
        f.guardians.slice(0, t).map(async (g) => ({
          signer: g.address,
          signature: await g.signTypedData(unpauseTypedData(f.domain, 1n)),
        })),
      ),
    );
    row(`unpause (${t}-of-${n})`, (await f.receipt(f.contract.write.unpause([1n, unpauseSigs]))).gasUsed);
    const next = testAccounts(4, "bench-next-set");
    const typed = rotateTypedData(f.domain, {
      guardians: next.map((g) => g.address),
      threshold: 3,
      setIndex: 2,
    });
    const rotateSigs = orderSignatures(
      await Promise.all(
        f.guardians
          .slice(0, t)
          .map(async (g) => ({ signer: g.address, signature: await g.signTypedData(typed) })),
      ),
    );
    row(
      `rotate to 3-of-4 (${t}-of-${n} signing)`,
      (await f.receipt(f.contract.write.rotate([next.map((g) => g.address), 3, rotateSigs]))).gasUsed,
    );
  } finally {
    await f.anvil.stop();
  }
}

// Per-signature cost: the slope between 2-of-3 and 7-of-10 on the "holder again" mints.
const gas = (name: string) => rows.find(([n]) => n === name)?.[1] ?? 0n;
const slope = (gas("mint 7-of-10, to a holder again") - gas("mint 2-of-3, to a holder again")) / 5n;
process.stdout.write(
  `per extra signature (2-of-3 -> 7-of-10, holder again): ${slope.toLocaleString("en-US")}\n`,
);
