// The federation's two numbers, defined once for every package (server, client, modules, tests).
// With n guardians of which at most f = ⌊(n − 1)/3⌋ lie or are down, t = n − f must agree: two sets
// of t guardians share n − 2f >= f + 1, so at least one honest guardian is in both, and t same
// answers include at least t − f >= f + 1 honest ones.

/** f: guardians that may be Byzantine, ⌊(n − 1)/3⌋. */
export function faultTolerance(n: number): number {
  return Math.floor((n - 1) / 3);
}

/** t = n − f: guardians that must agree (sign, vote, answer the same) for anything to happen. */
export function quorumThreshold(n: number): number {
  return n - faultTolerance(n);
}
