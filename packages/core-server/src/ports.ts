// Ports for configs that must name an address before the process that binds it starts (a
// federation's peers list each other's p2p and API addresses; monerod's RPC port goes on its
// command line), on 127.0.0.1 only.
//
// Outside a test run: the port the kernel hands to listen(0), closed again at once.
//
// Inside a vitest worker (VITEST_POOL_ID set), that is not enough: listen(0) draws from Linux's
// ephemeral range (32768-60999), the same range every outgoing connection's source port comes
// from, so between closing the probe and the real bind, any of the hundreds of connections a test
// run opens can take the port (CI runs lost ceremony tests to EADDRINUSE). There, ports come from
// below that range, from a block of its own per concurrently running worker (pool ids are unique
// among running workers), handed out in turn from a random start, and each one is checked by
// binding it. A port a previous test file of the same worker still holds fails that check and is
// skipped.
import { createServer } from "node:net";

const HOST = "127.0.0.1";
/** First port of worker blocks: below the ephemeral range, above the usual well-known services. */
const BLOCKS_BASE = 20_000;
const BLOCK_SIZE = 600;
/** 20 blocks end at 32,000, below 32,768. */
const BLOCKS = 20;

let next: number | undefined;

function bindable(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(undefined));
    server.listen(port, HOST, () => {
      const address = server.address();
      const got = typeof address === "object" && address !== null ? address.port : undefined;
      server.close(() => resolve(got));
    });
  });
}

function workerBlock(): number | undefined {
  const pool = Number(process.env["VITEST_POOL_ID"]);
  if (!Number.isInteger(pool) || pool < 1 || pool > BLOCKS) return undefined;
  return BLOCKS_BASE + (pool - 1) * BLOCK_SIZE;
}

/** A TCP port on 127.0.0.1 that is free now (see above for how a test worker picks it). */
export async function freePort(): Promise<number> {
  const block = workerBlock();
  if (block !== undefined) {
    next ??= Math.floor(Math.random() * BLOCK_SIZE);
    for (let tries = 0; tries < BLOCK_SIZE; tries++) {
      const port = block + (next % BLOCK_SIZE);
      next = (next + 1) % BLOCK_SIZE;
      if ((await bindable(port)) !== undefined) return port;
    }
  }
  const port = await bindable(0);
  if (port === undefined) throw new Error(`no free TCP port on ${HOST}`);
  return port;
}
