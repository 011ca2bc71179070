// Cover wake-ups (modules/relay/src/server/push.ts): every Web Push registration is also woken at
// random times (exponentially distributed gaps), through the path a real wake-up takes, so that the
// push service cannot tell from timing when something happened. The relay's push registrations run
// here in this process with an injected clock and random source (no timing is asserted: the test
// moves the clock and calls coverTick), and deliver over real HTTP to the push-service stand-in
// (push-service-stand-in.ts: VAPID check, RFC 8291 decryption, as relay-push.test.ts's guardian
// processes are checked).
import { createECDH } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingMessage, Server } from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { WatchFn, WatchState } from "@conclave/core-server";
import { DEFAULT_PUSH_LIMITS, PushRegistrations, WAKE_PAYLOAD, WAKE_TOPIC } from "@conclave/module-relay";
import type { PushLimits } from "@conclave/module-relay";
import { freePort } from "./local-federation.js";
import { checkVapid, decrypt, userAgent } from "./push-service-stand-in.js";

interface Hit {
  readonly path: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: Buffer;
}

const SUBJECT = "mailto:ops@example.org";
const HOUR = 3_600_000;
let origin = "";
let server: Server;
const hits: Hit[] = [];
/** Per path: statuses to answer, in order (then 201). */
const script = new Map<string, number[]>();
const vapidEcdh = createECDH("prime256v1");
vapidEcdh.generateKeys();
/** The guardian's VAPID key pair (RFC 8292: P-256, base64url, as web-push makes them). */
const vapidKeys = {
  publicKey: vapidEcdh.getPublicKey().toString("base64url"),
  privateKey: Buffer.concat([Buffer.alloc(32), vapidEcdh.getPrivateKey()])
    .subarray(-32)
    .toString("base64url"),
  subject: SUBJECT,
};

beforeAll(async () => {
  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = req.url ?? "";
      hits.push({ path, headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(script.get(path)?.shift() ?? 201);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", () => resolve()));
});

afterAll(async () => {
  await new Promise((r) => server?.close(r));
});

/** A watch source the test drives: `change(key)` tells every listener of key a new state. */
function fakeSource() {
  const listeners = new Map<string, Set<(s: WatchState) => void>>();
  const watch: WatchFn = (_kind, key, listener) => {
    const set = listeners.get(key) ?? new Set();
    listeners.set(key, set);
    set.add(listener);
    return { current: () => Promise.resolve({ n: 0 }), unsubscribe: () => set.delete(listener) };
  };
  let n = 0;
  return { watch, change: (key: string) => listeners.get(key)?.forEach((l) => l({ n: ++n })) };
}

let open: PushRegistrations[] = [];
afterEach(() => {
  for (const p of open) p.close();
  open = [];
});

/** Push registrations with a clock the test moves and a random source that answers `u` each time. */
function registrations(limits: Partial<PushLimits>, u: () => number) {
  const clock = { now: 1_900_000_000_000 };
  const source = fakeSource();
  const push = new PushRegistrations({
    limits: { ...DEFAULT_PUSH_LIMITS, ...limits },
    policy: { allowedOrigins: [origin] },
    vapid: () => vapidKeys,
    watch: () => source.watch,
    guardian: () => 0,
    now: () => clock.now,
    log: () => {},
    random: u,
    coverTimer: false,
  });
  open.push(push);
  return { push, clock, source };
}

async function until<T>(what: string, f: () => T | undefined): Promise<T> {
  for (let i = 0; i < 1200; i++) {
    const v = f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const at = (path: string) => hits.filter((h) => h.path === path);
const watches = (key: string) => [{ kind: "tx", key: key.padEnd(64, "0") }];

describe("cover wake-ups for Web Push", () => {
  it("arrive at exponentially distributed times, each the same in shape as a real wake-up", async () => {
    const draws = [0.5, 0.9, 0.1];
    let i = 0;
    const { push, clock, source } = registrations({ coverWakeupsPerDay: 24 }, () => draws[i++ % 3]!);
    const ua = userAgent(origin, "/push/cover");
    const reg = await push.push("net-a", ua.subscription, watches("a"), 3600 * 24 * 7);
    // A mean of one an hour: the gap for a uniform draw u is -ln(1 - u) hours.
    const first = push.coverDueAt(reg.id)!;
    expect(first).toBe(clock.now - Math.log(1 - 0.5) * HOUR);
    clock.now = first - 1;
    push.coverTick();
    expect(push.counters.cover).toBe(0);
    clock.now = first;
    push.coverTick();
    expect(push.counters.cover).toBe(1);
    // The next one is drawn from the time this one was due.
    expect(push.coverDueAt(reg.id)).toBe(first - Math.log(1 - 0.9) * HOUR);
    const cover = await until("the cover wake-up", () => at("/push/cover")[0]);
    // A real change: its wake-up.
    source.change("a".padEnd(64, "0"));
    const real = await until("the real wake-up", () => at("/push/cover")[1]);
    for (const w of [cover, real]) {
      checkVapid(w.headers, vapidKeys.publicKey, origin, SUBJECT);
      expect(w.headers["topic"]).toBe(WAKE_TOPIC);
      expect(decrypt(w.body, ua).toString()).toBe(WAKE_PAYLOAD);
    }
    // Byte for byte the same shape: the same headers with the same values (but the VAPID JWT, signed
    // anew each time with a random ES256 nonce), the same body length, the same plaintext.
    const shape = (h: Hit) => {
      const { authorization: _auth, ...rest } = h.headers;
      return rest;
    };
    expect(shape(cover)).toEqual(shape(real));
    expect(Object.keys(cover.headers).sort()).toEqual(Object.keys(real.headers).sort());
    expect(cover.body.length).toBe(real.body.length);
    expect(push.counters.delivered).toBe(2);
  });

  it("stop when the registration is deleted or expired; none at all when turned off (0)", async () => {
    const { push, clock } = registrations({ coverWakeupsPerDay: 4 }, () => 0.5);
    const deleted = await push.push(
      "net-b",
      userAgent(origin, "/push/deleted").subscription,
      watches("b"),
      3600,
    );
    const expiring = await push.push(
      "net-b",
      userAgent(origin, "/push/expiring").subscription,
      watches("c"),
      60,
    );
    const due = Math.max(push.coverDueAt(deleted.id)!, push.coverDueAt(expiring.id)!);
    // Both registrations would be due now; one is deleted, the other's TTL (60 s) ran out long before.
    expect(due - clock.now).toBeGreaterThan(60_000);
    expect(push.delete(deleted.id, deleted.secret)).toBe(true);
    expect(push.coverDueAt(deleted.id)).toBeUndefined();
    clock.now = due;
    push.coverTick();
    expect(push.counters.cover).toBe(0);
    // A webhook registration gets none (it is the client's own server, not a push service).
    const hook = await push.webhook("net-b", `${origin}/hook`, watches("g"), 3600);
    expect(push.coverDueAt(hook.id)).toBeUndefined();
    const off = registrations({ coverWakeupsPerDay: 0 }, () => 0.5);
    const r = await off.push.push("net-c", userAgent(origin, "/push/off").subscription, watches("d"), 3600);
    expect(off.push.coverDueAt(r.id)).toBeUndefined();
    off.clock.now += 30 * 24 * HOUR;
    off.push.coverTick();
    expect(off.push.counters.cover).toBe(0);
  });

  it("a 410 from the push service to a cover wake-up drops the registration, as for a real one", async () => {
    const { push, clock } = registrations({ coverWakeupsPerDay: 4 }, () => 0.3);
    script.set("/push/gone-cover", [410]);
    const reg = await push.push(
      "net-d",
      userAgent(origin, "/push/gone-cover").subscription,
      watches("e"),
      3600 * 24,
    );
    clock.now = push.coverDueAt(reg.id)!;
    push.coverTick();
    expect(push.counters.cover).toBe(1);
    await until("the registration dropped", () => (push.has(reg.id) ? undefined : true));
    expect(push.counters.expired).toBe(1);
    expect(at("/push/gone-cover")).toHaveLength(1);
    clock.now += 30 * 24 * HOUR;
    push.coverTick();
    expect(push.counters.cover).toBe(1);
  });

  it("cost a guardian at most coverWakeupsPerMinuteMax a minute, however many registrations are due", async () => {
    const { push, clock } = registrations({ coverWakeupsPerDay: 4, coverWakeupsPerMinuteMax: 3 }, () => 0.7);
    const ids: string[] = [];
    for (let k = 0; k < 8; k++)
      ids.push(
        (
          await push.push(
            `net-e${k}`,
            userAgent(origin, `/push/many-${k}`).subscription,
            watches(`f${k}`),
            3600 * 24,
          )
        ).id,
      );
    clock.now = Math.max(...ids.map((id) => push.coverDueAt(id)!));
    push.coverTick();
    expect(push.counters.cover).toBe(3);
    expect(push.counters.cover_skipped).toBe(5);
    // Skipped ones are not kept due (no burst when the cap refills): each has a new time drawn.
    for (const id of ids) expect(push.coverDueAt(id)!).toBeGreaterThan(clock.now);
    await until("three cover wake-ups", () =>
      hits.filter((h) => h.path.startsWith("/push/many-")).length === 3 ? true : undefined,
    );
  });
});
