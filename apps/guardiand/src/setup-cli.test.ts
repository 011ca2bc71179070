// The key ceremony between four guardians over real TLS links on 127.0.0.1: no trusted dealer,
// identical federation configs, a threshold key that t guardians can sign with and t-1 cannot.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { encodeSetupCode, fromHex, parseFederationConfig } from "@conclave/core-common";
import { combineSignature, signPartial } from "@conclave/core-common/threshold";
import { freePort } from "./local-federation.js";
import { setupInit, setupRun } from "./setup-cli.js";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("key ceremony", () => {
  it("four guardians set up a federation with no dealer: same config everywhere, working threshold key", async () => {
    const root = mkdtempSync(join(tmpdir(), "conclave-ceremony-"));
    dirs.push(root);
    const n = 4;
    const dataDirs = Array.from({ length: n }, (_, i) => join(root, `g${i}`));
    const codes: string[] = [];
    for (let i = 0; i < n; i++) {
      const code = setupInit(
        dataDirs[i]!,
        `guardian-${i}`,
        `127.0.0.1:${await freePort()}`,
        `http://127.0.0.1:${await freePort()}`,
      );
      codes.push(encodeSetupCode(code));
    }
    const results = await Promise.all(
      dataDirs.map((dataDir) =>
        setupRun({
          dataDir,
          codes,
          federationName: "test",
          environment: "dev",
          heightsPerSession: 4,
          modules: [],
        }),
      ),
    );
    const invites = new Set(results.map((r) => r.invite));
    expect(invites.size).toBe(1);
    const configs = results.map((r) => parseFederationConfig(r.config));
    for (const c of configs) expect(c).toEqual(configs[0]);
    const threshold = configs[0]!.threshold!;
    expect(threshold.publicKeyShares).toHaveLength(n);

    // Each guardian signs with its own share from its own secret file; any 3 combine, 2 do not.
    const { readFileSync } = await import("node:fs");
    const shares = dataDirs.map((d) =>
      BigInt(
        "0x" +
          (JSON.parse(readFileSync(join(d, "guardian.secret.json"), "utf8")) as { thresholdShare: string })
            .thresholdShare,
      ),
    );
    const message = new TextEncoder().encode("federation says hello");
    // A guardian's index is its place in the config (codes sorted by key), not the directory order.
    const indexOf = results.map((_, d) => configs[0]!.guardians.findIndex((g) => g.name === `guardian-${d}`));
    const partials = shares.map((s, d) => ({ guardian: indexOf[d]!, signature: signPartial(s, message) }));
    const input = {
      message,
      threshold: 3,
      publicKey: fromHex(threshold.publicKey),
      publicKeyShares: threshold.publicKeyShares.map(fromHex),
    };
    expect(combineSignature({ ...input, partials: [partials[3]!, partials[0]!, partials[2]!] }).ok).toBe(
      true,
    );
    expect(combineSignature({ ...input, partials: partials.slice(0, 2) }).ok).toBe(false);
  });

  it("gives each module the threshold keys it asks for: public halves in its config, shares in the secret files", async () => {
    const root = mkdtempSync(join(tmpdir(), "conclave-ceremony-"));
    dirs.push(root);
    const n = 4;
    const dataDirs = Array.from({ length: n }, (_, i) => join(root, `g${i}`));
    const codes: string[] = [];
    for (let i = 0; i < n; i++) {
      codes.push(
        encodeSetupCode(
          setupInit(
            dataDirs[i]!,
            `guardian-${i}`,
            `127.0.0.1:${await freePort()}`,
            `http://127.0.0.1:${await freePort()}`,
          ),
        ),
      );
    }
    // A module kind that needs `keys` threshold keys (as the mint needs one per denomination).
    const moduleSetups = {
      keyed: {
        keyCount: (config: Record<string, unknown>) => Number(config.keys),
        finish: (
          config: Record<string, unknown>,
          keys: readonly { publicKey: string; publicKeyShares: readonly string[] }[],
        ) => ({
          ...config,
          publicKeys: keys.map((k) => k.publicKey),
          shares: keys.map((k) => k.publicKeyShares),
        }),
      },
    };
    const modules = [{ instanceId: 5, kind: "keyed", config: { keys: 2 } }];
    const results = await Promise.all(
      dataDirs.map((dataDir) =>
        setupRun({
          dataDir,
          codes,
          federationName: "k",
          environment: "dev",
          heightsPerSession: 4,
          modules,
          moduleSetups,
        }),
      ),
    );
    const config = parseFederationConfig(results[0]!.config);
    const moduleConfig = config.modules[0]!.config as { publicKeys: string[]; shares: string[][] };
    expect(moduleConfig.publicKeys).toHaveLength(2);
    expect(moduleConfig.publicKeys[0]).not.toBe(moduleConfig.publicKeys[1]);
    expect(moduleConfig.publicKeys).not.toContain(config.threshold!.publicKey);
    const { readFileSync } = await import("node:fs");
    const message = new TextEncoder().encode("a module key signs");
    const partials = dataDirs.map((d, dir) => {
      const secret = JSON.parse(readFileSync(join(d, "guardian.secret.json"), "utf8")) as {
        moduleShares: Record<string, string[]>;
      };
      const guardian = config.guardians.findIndex((g) => g.name === `guardian-${dir}`);
      return { guardian, signature: signPartial(BigInt("0x" + secret.moduleShares["5"]![1]!), message) };
    });
    const combined = combineSignature({
      message,
      threshold: 3,
      publicKey: fromHex(moduleConfig.publicKeys[1]!),
      publicKeyShares: moduleConfig.shares[1]!.map(fromHex),
      partials: partials.slice(1),
    });
    expect(combined.ok).toBe(true);
  });

  it("refuses setup codes of another software version before any key is made", async () => {
    const root = mkdtempSync(join(tmpdir(), "conclave-ceremony-"));
    dirs.push(root);
    const a = setupInit(join(root, "a"), "a", "127.0.0.1:1", "http://127.0.0.1:2");
    const b = { ...setupInit(join(root, "b"), "b", "127.0.0.1:3", "http://127.0.0.1:4"), software: "9.9.9" };
    await expect(
      setupRun({
        dataDir: join(root, "a"),
        codes: [encodeSetupCode(a), encodeSetupCode(b)],
        federationName: "x",
        environment: "dev",
        heightsPerSession: 4,
        modules: [],
      }),
    ).rejects.toThrow(/runs software 9.9.9/);
  });
});
