// The bridge's key-ceremony step: each guardian's EVM key made once in its own file (0600), its
// address sent, and the set and threshold every guardian derives from the same messages.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { ModuleExchangeContext } from "@conclave/core-server";
import { evmAddressOfKey } from "./eip712-mint.js";
import { bridgeKeyExchange, readEvmKey } from "./keys.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const ctx = (local: Record<string, unknown> | undefined, self = 0): ModuleExchangeContext => ({
  instanceId: 3,
  config: {},
  local,
  self,
  guardians: 4,
  threshold: 3,
  retry: false,
  log: () => {},
});

describe("bridge key exchange", () => {
  it("makes the guardian's key once (0600), sends its address, and puts the set and t in the config", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bridge-keys-"));
    dirs.push(dir);
    const files = [0, 1, 2, 3].map((i) => join(dir, `evm-${i}.json`));
    const messages = await Promise.all(
      files.map((f, i) => bridgeKeyExchange.start(ctx({ evmKeyFile: f }, i))),
    );
    expect(statSync(files[0]!).mode & 0o777).toBe(0o600);
    expect(messages[0]).toBe(evmAddressOfKey(readEvmKey(files[0]!)));
    // A restart (retry) reads the same key: the same address.
    expect(await bridgeKeyExchange.start({ ...ctx({ evmKeyFile: files[0]! }), retry: true })).toBe(
      messages[0],
    );
    const step = await bridgeKeyExchange.step(ctx({ evmKeyFile: files[0]! }), 0, messages);
    expect(step).toEqual({ result: { guardians: messages, threshold: 3 } });
  });

  it("refuses a guardian without evmKeyFile, a duplicate address and a message that is no address", async () => {
    await expect(bridgeKeyExchange.start(ctx(undefined))).rejects.toThrow(/evmKeyFile/);
    const a = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    await expect(bridgeKeyExchange.step(ctx({}), 0, [a, a.toLowerCase()])).rejects.toThrow(
      /same EVM address/,
    );
    expect(bridgeKeyExchange.checkMessage?.(0, "hello")).toBe("not an EVM address");
    expect(bridgeKeyExchange.checkMessage?.(0, a)).toBeUndefined();
  });
});
