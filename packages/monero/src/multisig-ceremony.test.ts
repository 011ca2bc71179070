// The key ceremony's Monero exchange, against a fake wallet-rpc: peers' messages are checked before
// they reach the wallet, local settings are validated, and an interrupted step is never repeated
// blindly (the wallet's is_multisig decides). The real run is apps/guardiand/src/setup-monero.test.ts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MoneroMultisigError } from "./errors.js";
import { jsonRpcResults, startFakeRpcServer } from "./fake-rpc-server.js";
import type { FakeRpcServer } from "./fake-rpc-server.js";
import { moneroMultisigExchange, parseMoneroSetupLocal } from "./multisig-ceremony.js";
import type { MultisigCeremonyContext } from "./multisig-ceremony.js";
import { KEX_MESSAGE_CHARS_MAX } from "./multisig.js";

// A real mainnet address (the Monero general fund's), standing in for the multisig address.
const ADDRESS =
  "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A";
const MSG = (k: number): string => `MultisigxV2R1${"A".repeat(40)}${k}`;

let fake: FakeRpcServer;
let ctx: (over?: Partial<MultisigCeremonyContext>) => MultisigCeremonyContext;
beforeAll(async () => {
  fake = await startFakeRpcServer();
  ctx = (over = {}) => ({
    config: { network: "mainnet", confirmations: 2 },
    local: {
      walletRpcUrl: fake.url,
      walletName: "g0",
      walletPassword: "pw",
      walletDir: "/nonexistent/wallets",
    },
    self: 0,
    guardians: 4,
    threshold: 3,
    retry: false,
    log: () => undefined,
    ...over,
  });
});
afterAll(() => fake.close());

const methods = (): string[] => fake.received.map((b) => (JSON.parse(b) as { method: string }).method);

describe("Monero multisig exchange of the key ceremony", () => {
  it("refuses peers' messages that are oversized or not Monero multisig messages, before any wallet call", () => {
    const exchange = moneroMultisigExchange();
    expect(exchange.messageBytesMax).toBe(KEX_MESSAGE_CHARS_MAX);
    expect(exchange.checkMessage(0, MSG(1))).toBeUndefined();
    expect(exchange.checkMessage(0, "hello")).toMatch(/not a Monero multisig message/);
    expect(exchange.checkMessage(1, "Multisig has spaces")).toMatch(/not a Monero multisig message/);
    expect(exchange.checkMessage(1, `Multisig${"A".repeat(KEX_MESSAGE_CHARS_MAX)}`)).toMatch(/characters/);
  });

  it("validates this guardian's local settings and says what is missing", () => {
    expect(() => parseMoneroSetupLocal(undefined, 2)).toThrow(/instance 2\) needs this guardian's wallet/);
    const good = { walletRpcUrl: "http://127.0.0.1:1", walletName: "w", walletPassword: "", walletDir: "/w" };
    expect(parseMoneroSetupLocal(good)).toEqual(good);
    // walletDir (for monero-wallet-cli, no longer run) may be left out.
    const { walletDir: _unused, ...withoutDir } = good;
    expect(parseMoneroSetupLocal(withoutDir)).toEqual(withoutDir);
    expect(() => parseMoneroSetupLocal({ ...good, walletDir: "relative" })).toThrow(
      /walletDir: an absolute path/,
    );
    expect(() => parseMoneroSetupLocal({ ...good, walletName: "../x" })).toThrow(/walletName/);
    expect(() => parseMoneroSetupLocal({ ...good, walletPassword: "a\nb" })).toThrow(/line breaks/);
    expect(() => parseMoneroSetupLocal({ ...good, pollMs: 5 })).toThrow(MoneroMultisigError);
  });

  it("round 0 turns on enable-multisig-experimental with prepare_multisig's flag (no monero-wallet-cli, no close and reopen), and again right before make_multisig", async () => {
    fake.handle(
      jsonRpcResults({
        open_wallet: "{}",
        is_multisig: `{"multisig":false,"ready":false,"threshold":0,"total":0}`,
        prepare_multisig: `{"multisig_info":"${MSG(0)}"}`,
        make_multisig: `{"address":"","multisig_info":"${MSG(9)}"}`,
      }),
    );
    fake.received.length = 0;
    const exchange = moneroMultisigExchange();
    expect(await exchange.start(ctx())).toBe(MSG(0));
    expect(methods()).toEqual(["open_wallet", "is_multisig", "prepare_multisig"]);
    fake.received.length = 0;
    expect(await exchange.step(ctx(), 0, [MSG(0), MSG(1), MSG(2), MSG(3)])).toEqual({ message: MSG(9) });
    expect(methods()).toEqual(["is_multisig", "prepare_multisig", "make_multisig", "is_multisig"]);
    const params = fake.received.map((b) => (JSON.parse(b) as { params: Record<string, unknown> }).params);
    expect(params[1]).toEqual({ enable_multisig_experimental: true });
    expect(params[2]).toMatchObject({ multisig_info: [MSG(1), MSG(2), MSG(3)], threshold: 3 });
  });

  it("never runs make_multisig on a wallet that is already multisig (an interrupted earlier run): it says to replace the wallet", async () => {
    fake.handle(
      jsonRpcResults({
        open_wallet: "{}",
        is_multisig: `{"multisig":true,"ready":false,"threshold":3,"total":4}`,
      }),
    );
    fake.received.length = 0;
    const exchange = moneroMultisigExchange();
    const e = await exchange
      .step(ctx({ retry: true }), 0, [MSG(0), MSG(1), MSG(2), MSG(3)])
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(MoneroMultisigError);
    expect((e as Error).message).toMatch(
      /make_multisig already ran .* stopped in the middle of it.*fresh one/,
    );
    expect(methods()).toEqual(["open_wallet", "is_multisig"]);
  });

  it("an interrupted final exchange is not repeated when the wallet is already ready: the address is read back", async () => {
    fake.handle(
      jsonRpcResults({
        open_wallet: "{}",
        is_multisig: `{"multisig":true,"ready":true,"threshold":3,"total":4}`,
        get_address: `{"address":"${ADDRESS}","addresses":[{"address":"${ADDRESS}","address_index":0,"label":"","used":false}]}`,
      }),
    );
    fake.received.length = 0;
    const exchange = moneroMultisigExchange();
    const out = await exchange.step(ctx({ retry: true }), 2, [MSG(0), MSG(1), MSG(2), MSG(3)]);
    expect(out).toEqual({ result: { address: ADDRESS, guardians: 4 } });
    expect(methods()).not.toContain("exchange_multisig_keys");
  });

  it("refuses a result address of another network than the module's config", async () => {
    const exchange = moneroMultisigExchange();
    fake.received.length = 0;
    await expect(
      exchange.step(ctx({ retry: true, config: { network: "stagenet" } }), 2, [
        MSG(0),
        MSG(1),
        MSG(2),
        MSG(3),
      ]),
    ).rejects.toThrow(/stagenet|network/);
  });
});
