// The relay's mailbox in real guardian processes (4 conclaved on 127.0.0.1, each with its own LMDB
// mailbox) and the relay's client half: letters sealed to an inbox key reach their recipient from
// every guardian and are deleted on acknowledgement; a Byzantine guardian (an honest process behind a
// proxy on a real socket that the invite names instead of it) that drops, replays or reorders items
// is caught by the client; floods from one address, oversized items, tokens not registered and
// fetches signed by the wrong key are refused with clear codes.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toHex } from "@conclave/core-common";
import { sha256 } from "@conclave/core-server";
import { ed25519 } from "@noble/curves/ed25519.js";
import { authArgs, authSigningBytes } from "@conclave/module-relay";
import { b64url, decodeCard, encodeCard, sealItem, signCard } from "@conclave/module-relay/client";
import type { RelayClient } from "@conclave/module-relay/client";
import { BYZANTINE, RELAY, startRelayFederation } from "./relay-fixture.js";
import type { RelayFederation } from "./relay-fixture.js";

let fed: RelayFederation;

async function pair(): Promise<{ alice: RelayClient; bob: RelayClient }> {
  const alice = (await fed.wallet()).relay;
  const bob = (await fed.wallet()).relay;
  await alice.addContact((await bob.card("bob")).text);
  await bob.addContact((await alice.card("alice")).text);
  return { alice, bob };
}

const post = (g: number, path: string, body: unknown) => fed.post(g, path, body);

beforeAll(async () => {
  fed = await startRelayFederation("relay-mailbox-");
}, 120_000);

afterAll(async () => {
  await fed?.stop();
});

describe("the mailbox at four guardian processes", () => {
  it("delivers a sealed letter from every guardian once, with its sender inside, and deletes it on acknowledgement", async () => {
    fed.mode = "honest";
    const { alice, bob } = await pair();
    const sent = await alice.send("bob", "meet at noon");
    expect(sent.storedAt).toEqual([0, 1, 2, 3]);
    const read = await bob.read();
    expect(read.letters).toHaveLength(1);
    expect(read.letters[0]).toMatchObject({
      text: "meet at noon",
      from: toHex(alice.keys.inbox),
      fromName: "alice",
      foundAt: [0, 1, 2, 3],
      missingAt: [],
    });
    // Acknowledged at every guardian: nothing left to read anywhere.
    const again = await bob.read();
    expect(again.letters).toEqual([]);
    expect(again.replayed).toEqual([]);
  });

  it("stores an item sent twice once (de-duplicated by hash), and the item is only the ciphertext's size class", async () => {
    const { alice, bob } = await pair();
    const item = await sealItem(bob.keys.inbox, alice.keys.inboxSeed, {
      sender: alice.keys.inbox,
      messageId: new Uint8Array(16).fill(7),
      sentAtMs: 1,
      kind: "text",
      writtenTo: [0],
      body: new TextEncoder().encode("hi"),
    });
    expect(item.length).toBe(512);
    const inbox = toHex(bob.keys.inbox);
    const first = await post(0, `inbox/${inbox}/items`, { item: b64url(item) });
    const second = await post(0, `inbox/${inbox}/items`, { item: b64url(item) });
    expect(first).toMatchObject({ status: 200, body: { stored: true } });
    expect(second).toMatchObject({ status: 200, body: { stored: false, id: first.body["id"] } });
    expect((await bob.read()).letters.map((l) => l.text)).toEqual(["hi"]);
  });

  it("names a guardian that said it stored a letter and dropped it", async () => {
    fed.mode = "drop-writes";
    try {
      const { alice, bob } = await pair();
      const sent = await alice.send("bob", "are you there?");
      expect(sent.storedAt).toContain(BYZANTINE); // it lied
      const read = await bob.read();
      expect(read.letters).toHaveLength(1);
      expect(read.letters[0]).toMatchObject({ foundAt: [0, 1, 2], missingAt: [BYZANTINE] });
    } finally {
      fed.mode = "honest";
    }
  });

  it("recognises letters a guardian serves again after they were read and acknowledged", async () => {
    fed.mode = "honest";
    fed.recorded.length = 0;
    const { alice, bob } = await pair();
    await alice.send("bob", "one");
    const first = await bob.read();
    expect(first.letters.map((l) => l.text)).toEqual(["one"]);
    fed.mode = "replay";
    try {
      const second = await bob.read();
      expect(second.letters).toEqual([]);
      expect(second.replayed).toEqual([{ messageId: first.letters[0]!.messageId, guardians: [BYZANTINE] }]);
    } finally {
      fed.mode = "honest";
    }
  });

  it("orders letters by their signed sending time whatever order a guardian serves them in", async () => {
    fed.mode = "reverse";
    try {
      const { alice, bob } = await pair();
      for (const text of ["first", "second", "third", "fourth"]) await alice.send("bob", text);
      const read = await bob.read();
      expect(read.letters.map((l) => l.text)).toEqual(["first", "second", "third", "fourth"]);
    } finally {
      fed.mode = "honest";
    }
  });

  it("refuses a fetch signed by another key, a reused challenge and one it never issued", async () => {
    const { bob } = await pair();
    const inbox = toHex(bob.keys.inbox);
    const ask = async () => (await post(1, "challenge", {})).body["challenge"] as string;
    const sign = (challenge: string, seed: Uint8Array) =>
      toHex(
        ed25519.sign(
          authSigningBytes(
            sha256,
            "fetch",
            RELAY,
            1,
            bob.keys.inbox,
            Buffer.from(challenge, "hex"),
            authArgs([""]),
          ),
          seed,
        ),
      );
    const c1 = await ask();
    const wrong = await post(1, `inbox/${inbox}/fetch`, {
      challenge: c1,
      signature: sign(c1, new Uint8Array(randomBytes(32))),
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body["message"]).toMatch(/signature does not verify/);
    const good = await post(1, `inbox/${inbox}/fetch`, {
      challenge: c1,
      signature: sign(c1, bob.keys.inboxSeed),
    });
    expect(good).toMatchObject({ status: 200, body: { items: [], more: false } });
    const reused = await post(1, `inbox/${inbox}/fetch`, {
      challenge: c1,
      signature: sign(c1, bob.keys.inboxSeed),
    });
    expect(reused).toMatchObject({ status: 401, body: { code: "bad_challenge" } });
    const forged = "00".repeat(40);
    const made = await post(1, `inbox/${inbox}/fetch`, {
      challenge: forged,
      signature: sign(forged, bob.keys.inboxSeed),
    });
    expect(made).toMatchObject({ status: 401, body: { code: "bad_challenge" } });
  });

  it("takes items only with a registered delivery token once the owner registered its cards' tokens", async () => {
    const { alice, bob } = await pair();
    expect((await bob.registerTokens()).registeredAt).toEqual([0, 1, 2, 3]);
    const item = await sealItem(bob.keys.inbox, alice.keys.inboxSeed, {
      sender: alice.keys.inbox,
      messageId: new Uint8Array(16).fill(9),
      sentAtMs: 1,
      kind: "text",
      writtenTo: [2],
      body: new Uint8Array(3),
    });
    const inbox = toHex(bob.keys.inbox);
    expect(await post(2, `inbox/${inbox}/items`, { item: b64url(item) })).toMatchObject({
      status: 403,
      body: { code: "token_refused" },
    });
    expect(
      await post(2, `inbox/${inbox}/items`, { item: b64url(item), token: "ab".repeat(16) }),
    ).toMatchObject({
      status: 403,
      body: { code: "token_refused" },
    });
    // Alice holds Bob's card: her tokens (one per guardian) are registered.
    const sent = await alice.send("bob", "with a token");
    expect(sent.storedAt).toEqual([0, 1, 2, 3]);
    expect((await bob.read()).letters.map((l) => l.text)).toEqual(["with a token"]);
  });

  it("refuses an oversized item and a flood of items from one address with clear codes", async () => {
    const inbox = toHex(ed25519.getPublicKey(new Uint8Array(randomBytes(32))));
    const big = await post(0, `inbox/${inbox}/items`, { item: b64url(new Uint8Array(8193)) });
    expect(big.status).toBe(400);
    expect(big.body["code"]).toBe("invalid_request");
    // Guardian 2's budget for this address: a burst of 120 items, then 1 a second.
    const answers: number[] = [];
    for (let i = 0; i < 130; i++) {
      const r = await post(2, `inbox/${inbox}/items`, { item: b64url(new Uint8Array(randomBytes(512))) });
      answers.push(r.status);
    }
    expect(answers.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(answers.filter((s) => s !== 200 && s !== 429)).toEqual([]);
    const limited = await post(2, `inbox/${inbox}/items`, { item: b64url(new Uint8Array(512)) });
    expect(limited).toMatchObject({ status: 429, body: { code: "rate_limited" } });
  });
});

describe("a contact at another federation (one guardian process of its own)", () => {
  let other: RelayFederation;

  beforeAll(async () => {
    other = await startRelayFederation("relay-mailbox-other-", { guardians: 1 });
  }, 120_000);

  afterAll(async () => {
    await other?.stop();
  });

  it("writes to the guardians the contact's card names, with their delivery tokens, and the reply comes back", async () => {
    fed.mode = "honest";
    const alice = (await fed.wallet()).relay;
    const carol = (await other.wallet()).relay;
    // Carol's inbox takes items only with a token of a card she gave out: the token alice shows must be
    // the one for carol's guardian 0, not for alice's own guardian 0.
    await carol.card("carol");
    expect((await carol.registerTokens()).registeredAt).toEqual([0]);
    await alice.addContact((await carol.card("carol")).text);
    const sent = await alice.send("carol", "hello across federations");
    expect(sent.storedAt).toEqual([0]);
    const read = await carol.read();
    expect(read.letters).toHaveLength(1);
    expect(read.letters[0]).toMatchObject({
      text: "hello across federations",
      from: toHex(alice.keys.inbox),
      foundAt: [0],
      missingAt: [],
    });
    await carol.addContact((await alice.card("alice")).text);
    const reply = await carol.send("alice", "hello back");
    expect(reply.storedAt).toEqual([0, 1, 2, 3]);
    expect((await alice.read()).letters.map((l) => l.text)).toEqual(["hello back"]);
  });

  it("refuses a card whose guardians serve another federation than the one it names, and sends nothing", async () => {
    const alice = (await fed.wallet()).relay;
    const carol = (await other.wallet()).relay;
    const real = decodeCard((await carol.card("carol")).text);
    // Signed by carol's own key (a stale or mistaken card, or one a phisher got her to sign): her
    // federation's id with the URLs of alice's federation's guardians.
    const { sig: _sig, ...body } = real;
    const crossed = signCard(
      { ...body, guardians: fed.files.config.guardians.map((g) => g.api!.url) },
      carol.keys.inboxSeed,
    );
    await alice.addContact(encodeCard(crossed));
    await expect(alice.send("carol", "to the wrong guardians")).rejects.toMatchObject({
      code: "other_federation_unreachable",
    });
    // A card of another federation that names no guardians cannot be reached at all.
    const { guardians: _g, ...bare } = body;
    await alice.addContact(encodeCard(signCard(bare, carol.keys.inboxSeed)));
    await expect(alice.send("carol", "nowhere")).rejects.toMatchObject({ code: "other_federation" });
    expect((await carol.read()).letters).toEqual([]);
  });
});
