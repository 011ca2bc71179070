// Separate guardian processes on 127.0.0.1, linked by TLS, each with its own LMDB store: the
// engine runs here exactly as in the simulator, and a guardian killed with SIGKILL recovers.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startGuardian, stopGuardian, waitConnected } from "./guardian-processes.js";
import type { GuardianProcess, StatusReply } from "./guardian-processes.js";
import { writeLocalFederation } from "./local-federation.js";
import type { LocalFederationFiles } from "./local-federation.js";

const started: GuardianProcess[] = [];
const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(started.map((g) => stopGuardian(g, "SIGKILL")));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function start(files: LocalFederationFiles, i: number): Promise<GuardianProcess> {
  const g = await startGuardian(files, i);
  started.push(g);
  return g;
}

const status = (g: GuardianProcess) => g.request<StatusReply>({ cmd: "status" });
const hex = (s: string) => Buffer.from(s).toString("hex");

async function waitFor(what: string, cond: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function blockIds(g: GuardianProcess, to: number): Promise<string[]> {
  return (await g.request<{ ids: string[] }>({ cmd: "blockIds", from: 0, to })).ids;
}

describe("guardian processes over TLS on 127.0.0.1", () => {
  it("agree on one history, and a guardian killed with SIGKILL restarts from its store and catches up", async () => {
    const dir = mkdtempSync(join(tmpdir(), "conclave-procs-"));
    dirs.push(dir);
    const files = await writeLocalFederation(dir, 4, { heightsPerSession: 4 });
    const gs = await Promise.all([0, 1, 2, 3].map((i) => start(files, i)));
    await waitConnected(gs);

    for (let k = 0; k < 12; k++) {
      await gs[k % 4]!.request({ cmd: "submit", items: [hex(`before-${k}`)] });
    }
    await waitFor("12 heights everywhere", async () =>
      (await Promise.all(gs.map(status))).every((s) => s.status.height >= 1),
    );

    // Kill guardian 3 without warning while the others keep deciding.
    gs[3]!.child.kill("SIGKILL");
    await gs[3]!.exited;
    let k = 0;
    await waitFor("progress without guardian 3", async () => {
      await gs[k % 3]!.request({ cmd: "submit", items: [hex(`during-${k++}`)] });
      return (await status(gs[0]!)).status.height >= 10;
    });
    const heightWhileDown = (await status(gs[0]!)).status.height;

    const restarted = await start(files, 3);
    await waitFor(
      "guardian 3 to catch up",
      async () => (await status(restarted)).status.height >= heightWhileDown,
      60_000,
    );
    const reference = await blockIds(gs[0]!, heightWhileDown);
    expect(reference).toHaveLength(heightWhileDown);
    expect(await blockIds(restarted, heightWhileDown)).toEqual(reference);
    expect(await blockIds(gs[1]!, heightWhileDown)).toEqual(reference);

    // The restarted guardian takes part again: an item submitted there is decided by all.
    const before = (await status(gs[0]!)).status.height;
    await restarted.request({ cmd: "submit", items: [hex("after-restart")] });
    await waitFor(
      "the restarted guardian's item to commit",
      async () => (await status(gs[0]!)).status.height > before,
    );
    const s = await status(restarted);
    expect(s.status.sessionsSigned).toBeGreaterThanOrEqual(Math.floor(heightWhileDown / 4) - 1);
  });
});
