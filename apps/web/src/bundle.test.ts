// What the pages' bundles carry (esbuild's metafile through scripts/build-web.mjs): zod's error
// messages in English only in the wallet page (its 63 other languages were 194 KB of the script), no
// zod in the status page, and the same bytes from two builds.
import { describe, expect, it } from "vitest";
import { buildWalletPage, buildWebPage } from "../../../scripts/build-web.mjs";

describe("the pages' bundles", () => {
  it("the wallet page bundles zod's English locale and no other; the status page no zod", async () => {
    const wallet = await buildWalletPage();
    const locales = wallet.modules.filter((m) => m.path.includes("node_modules/zod/v4/locales/"));
    expect(locales.map((m) => m.path)).toEqual(["node_modules/zod/v4/locales/en.js"]);
    expect(wallet.modules.some((m) => m.path.startsWith("node_modules/zod/v4/classic/"))).toBe(true);
    const again = await buildWalletPage();
    expect(again.sha256).toBe(wallet.sha256);
    const web = await buildWebPage();
    expect(web.modules.filter((m) => m.path.includes("node_modules/zod/"))).toEqual([]);
  });
});
