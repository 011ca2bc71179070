// The CPU budget of POST /v1/transactions (issue 10, item 5): checking a client's transactions may
// take at most verifyMsPerSecondPerIpMax of the thread that runs consensus, and all clients together
// at most verifyMsPerSecondMax. The clock is fake and every check "takes" a fixed number of its
// milliseconds, so nothing here depends on how fast the machine is.
import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { NodeSigner } from "../node-crypto.js";
import type { TxStatusView } from "./backend.js";
import { ApiServer } from "./server.js";
import type { ApiLimits } from "./server.js";
import { TestBackend, faucetTx, txHex } from "./test-backend.js";

const alice = new NodeSigner(new Uint8Array(32).fill(1));
/** What one transaction check costs on the fake clock. */
const CHECK_MS = 60;

/** A backend whose every transaction check takes CHECK_MS on the fake clock, counted. */
class ExpensiveBackend extends TestBackend {
  checks = 0;
  constructor(private readonly advance: (ms: number) => void) {
    super();
  }
  override submitTransaction(bytes: Uint8Array): TxStatusView {
    this.checks++;
    this.advance(CHECK_MS);
    return super.submitTransaction(bytes);
  }
}

/** POST a fresh faucet transaction from `localAddress`; the status, the body's code and Retry-After. */
function submitFrom(
  url: string,
  localAddress: string,
): Promise<{ status: number; code: string | undefined; retryAfter: string | undefined }> {
  const body = JSON.stringify({ transaction: txHex(faucetTx(alice, 10n)) });
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/v1/transactions`,
      { method: "POST", localAddress, headers: { "content-type": "application/json" } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const parsed = JSON.parse(Buffer.concat(chunks).toString()) as { code?: string };
          const retryAfter = res.headers["retry-after"];
          resolve({ status: res.statusCode ?? 0, code: parsed.code, retryAfter });
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const servers: ApiServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(limits: Partial<ApiLimits>) {
  let now = 0;
  const backend = new ExpensiveBackend((ms) => (now += ms));
  const api = new ApiServer({
    backend,
    host: "127.0.0.1",
    port: 0,
    clock: () => now,
    log: () => {},
    limits: { requestsPerSecondPerIpMax: 100_000, requestsBurstPerIpMax: 100_000, ...limits },
  });
  servers.push(api);
  const { url } = await api.start();
  return { url, backend, api, wait: (ms: number) => (now += ms) };
}

describe("POST /v1/transactions: a CPU budget per client address and for all clients", () => {
  it("refuses a client over its checking budget with 429 without checking its transaction, and serves another address", async () => {
    const { url, backend, api, wait } = await start({
      verifyMsPerSecondPerIpMax: 10,
      verifyMsBurstPerIpMax: 100,
      verifyMsPerSecondMax: 1_000_000,
      verifyMsBurstMax: 1_000_000,
    });
    // 100 ms of burst: two checks of 60 ms start (the second one on credit), the third does not.
    expect((await submitFrom(url, "127.0.0.1")).status).toBe(202);
    expect((await submitFrom(url, "127.0.0.1")).status).toBe(202);
    const refused = await submitFrom(url, "127.0.0.1");
    expect(refused).toMatchObject({ status: 429, code: "rate_limited" });
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(backend.checks).toBe(2);
    expect(api.metrics.render()).toMatch(/verifyMsPerSecondPerIpMax/);

    // Another address has its own budget.
    expect((await submitFrom(url, "127.0.0.2")).status).toBe(202);
    expect(backend.checks).toBe(3);

    // The debt of 20 ms is paid back at 10 ms a second: after 3 s the client may check again.
    wait(3000);
    expect((await submitFrom(url, "127.0.0.1")).status).toBe(202);
    expect(backend.checks).toBe(4);
  });

  it("refuses every client with 503 while all clients together used up the guardian's budget", async () => {
    const { url, backend, wait } = await start({
      verifyMsPerSecondPerIpMax: 1_000_000,
      verifyMsBurstPerIpMax: 1_000_000,
      verifyMsPerSecondMax: 10,
      verifyMsBurstMax: 100,
    });
    expect((await submitFrom(url, "127.0.0.1")).status).toBe(202);
    expect((await submitFrom(url, "127.0.0.2")).status).toBe(202);
    expect(await submitFrom(url, "127.0.0.3")).toMatchObject({ status: 503, code: "unavailable" });
    expect(await submitFrom(url, "127.0.0.1")).toMatchObject({ status: 503, code: "unavailable" });
    expect(backend.checks).toBe(2);
    wait(3000);
    expect((await submitFrom(url, "127.0.0.3")).status).toBe(202);
  });

  it("charges a refused transaction's check too: invalid transactions use up the budget", async () => {
    const { url, backend } = await start({
      verifyMsPerSecondPerIpMax: 10,
      verifyMsBurstPerIpMax: 100,
      verifyMsPerSecondMax: 1_000_000,
      verifyMsBurstMax: 1_000_000,
    });
    const garbage = (): Promise<number> =>
      fetch(`${url}/v1/transactions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ transaction: "00" }),
      }).then((r) => r.status);
    expect(await garbage()).toBe(400);
    expect(await garbage()).toBe(400);
    expect(await garbage()).toBe(429);
    expect(backend.checks).toBe(2);
  });
});
