// Module exchanges in the key ceremony: four guardians run the real ceremony over real TLS links on
// 127.0.0.1; only the module's external system (a Monero wallet in production) is faked, in memory,
// and it refuses to do any step twice, as make_multisig does.
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fromHex, toHex } from "@conclave/core-common";
import type { SetupCode } from "@conclave/core-common";
import { ed25519PublicKeyOf, generateEd25519Seed } from "../node-crypto.js";
import { PeerLinks } from "../p2p/index.js";
import { CeremonyError, SOFTWARE_VERSION, ceremonyFiles, runCeremony, setupId } from "./ceremony.js";
import type { CeremonyParams, CeremonyResult, ModuleSetup } from "./ceremony.js";
import { FRAME_EXCHANGE } from "./exchange.js";
import type { ModuleExchange, ModuleExchangeContext } from "./exchange.js";
import { freePort } from "../ports.js";

const HOST = "127.0.0.1";
const INSTANCE = 3;
const ROUNDS = 3; // messages of rounds 0, 1, 2, then the result
const dirs: string[] = [];
const openLinks: PeerLinks[] = [];
afterAll(async () => {
  await Promise.all(openLinks.map((l) => l.close()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Federation {
  seeds: Uint8Array[];
  codes: SetupCode[];
  dataDirs: string[];
}

async function federation(n: number): Promise<Federation> {
  const root = mkdtempSync(join(tmpdir(), "conclave-exchange-"));
  dirs.push(root);
  const seeds = Array.from({ length: n }, () => generateEd25519Seed());
  const codes: SetupCode[] = [];
  for (let i = 0; i < n; i++) {
    codes.push({
      name: `g${i}`,
      publicKey: toHex(ed25519PublicKeyOf(seeds[i]!)),
      p2p: { host: HOST, port: await freePort() },
      api: `http://${HOST}:${await freePort()}`,
      software: SOFTWARE_VERSION,
    });
  }
  return { seeds, codes, dataDirs: seeds.map((_, i) => join(root, `g${i}`)) };
}

/** Guardian index (codes sorted by key) of the guardian named g<k>. */
function indexOf(fed: Federation, k: number): number {
  return [...fed.codes]
    .sort((a, b) => (a.publicKey < b.publicKey ? -1 : 1))
    .findIndex((c) => c.name === `g${k}`);
}

const params: CeremonyParams = {
  federationName: "x",
  environment: "dev",
  heightsPerSession: 4,
  modules: [
    { instanceId: 0, kind: "plain", config: { untouched: true } },
    { instanceId: INSTANCE, kind: "fake", config: { network: "test" } },
  ],
};

const sha = (s: string): string => createHash("sha256").update(s).digest("hex");

/** A guardian's external system: it records every call and refuses to run a step twice. */
class FakeSystem {
  readonly calls: string[] = [];
  readonly done = new Set<string>();
  retries: string[] = [];
}

function fakeExchange(
  system: FakeSystem,
  hooks: {
    after?: (what: string) => void;
    failOnce?: string;
    result?: (digest: string) => Record<string, unknown>;
  } = {},
): ModuleExchange {
  let failed = false;
  const act = (ctx: ModuleExchangeContext, what: string): void => {
    system.calls.push(what);
    if (ctx.retry) system.retries.push(what);
    // The external step, once: done before the call can fail or the guardian stop.
    if (system.done.has(what)) throw new Error(`${what} ran twice`);
    if (hooks.failOnce === what && !failed) {
      failed = true;
      throw new Error("wallet-rpc unreachable");
    }
    system.done.add(what);
  };
  return {
    messageBytesMax: 1024,
    start(ctx) {
      act(ctx, "start");
      expect(ctx.local).toEqual({ wallet: `w${ctx.self}` });
      // Random: a repeated start would send another message, which peers refuse.
      const message = `m0:${ctx.self}:${randomBytes(8).toString("hex")}`;
      hooks.after?.("start");
      return Promise.resolve(message);
    },
    step(ctx, round, messages) {
      act(ctx, `step${round}`);
      expect(messages).toHaveLength(ctx.guardians);
      const digest = sha(messages.join("|"));
      hooks.after?.(`step${round}`);
      if (round + 1 < ROUNDS) return Promise.resolve({ message: `m${round + 1}:${ctx.self}:${digest}` });
      return Promise.resolve({ result: hooks.result?.(digest) ?? { address: digest.slice(0, 16) } });
    },
    checkMessage(_round, message) {
      return /^m\d+:\d+:[0-9a-f]+$/.test(message) ? undefined : "not a fake-system message";
    },
  };
}

function setups(exchange: ModuleExchange): Record<string, ModuleSetup> {
  return {
    fake: { keyCount: () => 0, finish: (c) => ({ ...c, finished: true }), exchange },
    plain: { keyCount: () => 0, finish: (c) => c },
  };
}

function run(
  fed: Federation,
  k: number,
  exchange: ModuleExchange,
  signal?: AbortSignal,
): Promise<CeremonyResult> {
  return runCeremony({
    dataDir: fed.dataDirs[k]!,
    secretSeed: fed.seeds[k]!,
    codes: fed.codes,
    params,
    moduleSetups: setups(exchange),
    local: { modules: { [String(INSTANCE)]: { wallet: `w${indexOf(fed, k)}` } } },
    timeoutMs: 60_000,
    ...(signal ? { signal } : {}),
  });
}

function expectAgreed(fed: Federation, results: readonly CeremonyResult[]): void {
  const texts = fed.dataDirs.map((d) => readFileSync(ceremonyFiles(d).config, "utf8"));
  expect(new Set(texts).size).toBe(1);
  const modules = results[0]!.config.modules;
  expect(modules[0]!.config).toEqual({ untouched: true });
  expect(modules[1]!.config).toEqual({
    network: "test",
    address: expect.stringMatching(/^[0-9a-f]{16}$/) as unknown,
    finished: true,
  });
  for (const d of fed.dataDirs) {
    expect(existsSync(ceremonyFiles(d).exchange)).toBe(false);
    expect(existsSync(ceremonyFiles(d).snapshot)).toBe(false);
  }
}

describe("module exchanges in the key ceremony", () => {
  it("four guardians run three rounds, each external step once, and write the same agreed result into the module's config", async () => {
    const fed = await federation(4);
    const systems = fed.seeds.map(() => new FakeSystem());
    const results = await Promise.all(systems.map((s, k) => run(fed, k, fakeExchange(s))));
    expectAgreed(fed, results);
    for (const s of systems) {
      expect(s.calls).toEqual(["start", "step0", "step1", "step2"]);
      expect(s.retries).toEqual([]);
    }
  });

  it("a guardian stopped between rounds resumes, re-sends identical messages and repeats no external step", async () => {
    const fed = await federation(4);
    const systems = fed.seeds.map(() => new FakeSystem());
    const abort = new AbortController();
    // Guardian 3 stops right after its round-2 message is recorded and sent (before round 2 completes).
    const stopping = run(
      fed,
      3,
      fakeExchange(systems[3]!, {
        after: (w) => {
          if (w === "step1") setImmediate(() => abort.abort());
        },
      }),
      abort.signal,
    );
    const others = [0, 1, 2].map((k) => run(fed, k, fakeExchange(systems[k]!)));
    await expect(stopping).rejects.toThrow(CeremonyError);
    expect(systems[3]!.calls).toEqual(["start", "step0", "step1"]);
    const state = JSON.parse(readFileSync(ceremonyFiles(fed.dataDirs[3]!).exchange, "utf8")) as {
      modules: Record<string, { own: string[]; rounds: string[][]; pending?: number }>;
    };
    expect(state.modules[String(INSTANCE)]).toMatchObject({ own: expect.any(Array) as unknown });
    expect(state.modules[String(INSTANCE)]!.own).toHaveLength(3);
    expect(state.modules[String(INSTANCE)]!.pending).toBeUndefined();

    const resumed = run(fed, 3, fakeExchange(systems[3]!));
    const results = await Promise.all([...others, resumed]);
    expectAgreed(fed, results);
    for (const s of systems) expect(s.calls).toEqual(["start", "step0", "step1", "step2"]);
  });

  it("a guardian whose module call failed mid-step resumes that one call with retry set, and finishes", async () => {
    const fed = await federation(4);
    const systems = fed.seeds.map(() => new FakeSystem());
    const failing = run(fed, 2, fakeExchange(systems[2]!, { failOnce: "step1" }));
    const others = [0, 1, 3].map((k) => run(fed, k, fakeExchange(systems[k]!)));
    await expect(failing).rejects.toThrow(
      /module 3 \(fake\): its step after round 1 failed at this guardian: wallet-rpc unreachable/,
    );
    const resumed = run(fed, 2, fakeExchange(systems[2]!));
    expectAgreed(fed, await Promise.all([...others, resumed]));
    expect(systems[2]!.calls).toEqual(["start", "step0", "step1", "step1", "step2"]);
    expect(systems[2]!.retries).toEqual(["step1"]);
  });

  it("fails the ceremony at every guardian, naming the one whose module reached a different result", async () => {
    const fed = await federation(4);
    const systems = fed.seeds.map(() => new FakeSystem());
    const runs = systems.map((s, k) =>
      run(fed, k, fakeExchange(s, k === 2 ? { result: () => ({ address: "0123456789abcdef" }) } : {})),
    );
    const outcomes = await Promise.allSettled(runs);
    for (const [k, o] of outcomes.entries()) {
      expect(o.status).toBe("rejected");
      const message = o.status === "rejected" ? String((o.reason as Error).message) : "";
      expect(message).toMatch(/guardians disagree on the setup result of module 3 \(fake\)/);
      if (k === 2) expect(message).toMatch(/differing from this guardian: "g[013]", "g[013]", "g[013]"\)/);
      else expect(message).toMatch(/differing from this guardian: "g2"\)/);
    }
    for (const d of fed.dataDirs) expect(existsSync(ceremonyFiles(d).config)).toBe(false);
  });

  const utf8Bytes = (s: string): number[] => [...new TextEncoder().encode(s)];
  const garbage: [string, number[], RegExp][] = [
    ["a truncated frame", [FRAME_EXCHANGE, 0, 0], /sent a truncated setup-exchange frame/],
    [
      "a message that is not UTF-8",
      [FRAME_EXCHANGE, 0, 0, 0, INSTANCE, 0, 0, 0xff, 0xfe],
      /sent a module 3 \(fake\) round-0 message that is not UTF-8/,
    ],
    [
      "an oversized message",
      [FRAME_EXCHANGE, 0, 0, 0, INSTANCE, 0, 0, ...Array<number>(1025).fill(0x61)],
      /round-0 message of 1025 bytes \(1\.\.1024\)/,
    ],
    [
      "a message the module refuses",
      [FRAME_EXCHANGE, 0, 0, 0, INSTANCE, 0, 0, ...utf8Bytes("hello")],
      /sent an invalid module 3 \(fake\) round-0 message: not a fake-system message/,
    ],
    [
      "a message for a module without an exchange",
      [FRAME_EXCHANGE, 0, 0, 0, 0, 0, 0, ...utf8Bytes("m0:1:ab")],
      /setup-exchange frame for module 0, which has none/,
    ],
    [
      "a message two rounds ahead",
      [FRAME_EXCHANGE, 0, 0, 0, INSTANCE, 0, 2, ...utf8Bytes("m2:1:ab")],
      /message for round 2, ahead of this guardian/,
    ],
  ];
  it.each(garbage)("fails the ceremony naming the peer that sent %s", async (_what, frame, reason) => {
    const fed = await federation(4);
    const liar = indexOf(fed, 3);
    const sorted = [...fed.codes].sort((a, b) => (a.publicKey < b.publicKey ? -1 : 1));
    // Guardian g3 is a bare link that sends one frame to each peer as soon as it connects.
    const links = new PeerLinks({
      selfIndex: liar,
      secretSeed: fed.seeds[3]!,
      federationId: setupId(fed.codes, params),
      peers: sorted.map((c, index) => ({
        index,
        publicKey: fromHex(c.publicKey),
        host: HOST,
        port: c.p2p.port,
      })),
    });
    openLinks.push(links);
    links.onPeerConnected((peer) => links.send(peer, Uint8Array.from(frame)));
    await links.start();
    const outcomes = await Promise.allSettled(
      [0, 1, 2].map((k) => run(fed, k, fakeExchange(new FakeSystem()))),
    );
    for (const o of outcomes) {
      expect(o.status).toBe("rejected");
      const error = o.status === "rejected" ? (o.reason as Error) : undefined;
      expect(error).toBeInstanceOf(CeremonyError);
      expect(error?.message).toContain(`guardian "g3" (index ${liar})`);
      expect(error?.message).toMatch(reason);
    }
    await links.close();
  });
});
