// The mint's queries a wallet makes of t guardians: which notes are spent.
import { NoQuorumError } from "@conclave/core-client";
import type { FederationClient } from "@conclave/core-client";
import { MINT_QUERY_ITEMS_MAX, SpentAnswerSchema } from "../api.js";

/** Spent queries in flight at once during a restore. */
const QUERIES_IN_FLIGHT_MAX = 10;
export const SPENT_PATH = "/v1/modules/mint/notes/spent";
export const ISSUED_PATH = "/v1/modules/mint/notes/issued";

/** `f` over `items` in batches of `size`, at most `concurrency` batches at once; results in order. */
export async function inBatches<T, R>(
  items: readonly T[],
  size: number,
  concurrency: number,
  f: (batch: readonly T[]) => Promise<readonly R[]>,
): Promise<R[]> {
  const batches: T[][] = [];
  for (let i = 0; i < items.length; i += size) batches.push(items.slice(i, i + size));
  const results: (readonly R[])[] = new Array<readonly R[]>(batches.length);
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const i = next++;
      results[i] = await f(batches[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, batches.length) }, worker));
  return results.flat();
}

/**
 * Which notes (by nonce hex) t guardians report spent, in batches of the mint's query limit. With
 * `preferred` guardians (known reachable), each batch first goes to t of them only and is taken if
 * all t give the same answer (t agreeing answers, the quorum rule, with a quarter fewer requests
 * for n = 4); any failure or disagreement asks every guardian.
 */
export async function spentOf(
  client: FederationClient,
  nonces: readonly string[],
  preferred: readonly number[] = [],
): Promise<boolean[]> {
  if (nonces.length === 0) return [];
  const targets = preferred.slice(0, client.t);
  return inBatches(nonces, MINT_QUERY_ITEMS_MAX, QUERIES_IN_FLIGHT_MAX, async (batch) => {
    const body = { nonces: batch };
    if (targets.length === client.t) {
      const answers = await client.postEach(SPENT_PATH, body, SpentAnswerSchema, { guardians: targets });
      const values = answers.flatMap((a) =>
        a.ok && a.value.spent.length === batch.length ? [a.value.spent] : [],
      );
      const first = values[0];
      if (first && values.length === client.t && values.every((v) => v.every((x, i) => x === first[i])))
        return first;
    }
    const { value } = await client.postConsensus(SPENT_PATH, body, SpentAnswerSchema);
    if (value.spent.length !== batch.length)
      throw new NoQuorumError(
        `the guardians answered ${value.spent.length} spent flags for ${batch.length} notes`,
        client.t,
        [],
      );
    return value.spent;
  });
}
