// The web page in Debian's Chromium (playwright-core) against four real guardian processes that
// serve it at their API origins: one test per flow (the federation's status, live over WebSocket;
// proof of reserves; look-up; the page's hash; hosted elsewhere and pointed at the guardians by an
// invite code; keyboard and a phone-sized screen; a guardian going down). Screenshots of each page
// at desktop and phone size: docs/web/ (see SHOTS_TO_DOCS).
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGuardian, stopGuardian } from "../../guardiand/src/index.js";
import { REPO_ROOT } from "../../guardiand/src/npm-start-harness.js";
import { buildWebPage, writeWebPage } from "../../../scripts/build-web.mjs";
import { ensureChromiumInstalled, faucet, launchChromium, serveFile, startFederation } from "./harness.js";
import type { TestFederation } from "./harness.js";

const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
/**
 * Screenshots go to docs/web/ only when asked (`CONCLAVE_WEB_SCREENSHOTS=1 npx vitest run
 * apps/web/src/web.test.ts`), so that a test run leaves the repository's files alone; else to a
 * temporary directory.
 */
const SHOTS_TO_DOCS = process.env["CONCLAVE_WEB_SCREENSHOTS"] === "1";

let tmp: string;
let fed: TestFederation;
let browser: Browser;
let staticServer: Server | undefined;
const pageErrors: string[] = [];

async function open(url: string, viewport = DESKTOP): Promise<Page> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.on("pageerror", (e) => pageErrors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") pageErrors.push(m.text());
  });
  await page.goto(url);
  return page;
}

async function shot(page: Page, name: string): Promise<void> {
  const dir = SHOTS_TO_DOCS ? join(REPO_ROOT, "docs", "web") : join(tmp, "screenshots");
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

/** The number in a guardian row's column. */
async function cell(page: Page, guardian: number, col: string): Promise<string> {
  return (await page.locator(`tr[data-guardian="${guardian}"] td[data-col="${col}"]`).innerText()).trim();
}

beforeAll(async () => {
  ensureChromiumInstalled();
  tmp = mkdtempSync(join(tmpdir(), "conclave-web-"));
  [fed, browser] = await Promise.all([startFederation(join(tmp, "federation")), launchChromium()]);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await fed?.stop();
  staticServer?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("the web page", () => {
  it("is built reproducibly and every guardian serves those bytes at / under a content security policy", async () => {
    const a = await buildWebPage();
    const b = await buildWebPage();
    expect(Buffer.from(a.html).equals(Buffer.from(b.html))).toBe(true);
    expect(a.sha256).toBe(createHash("sha256").update(a.html).digest("hex"));
    for (const url of fed.urls) {
      const r = await fetch(`${url}/`);
      expect(r.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(r.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
      const bytes = Buffer.from(await r.arrayBuffer());
      expect(createHash("sha256").update(bytes).digest("hex")).toBe(a.sha256);
      const web = (await (await fetch(`${url}/v1/web`)).json()) as {
        sha256: string;
        bytes: number;
        wallet?: { sha256: string; bytes: number };
      };
      // The status page's hash and size; the wallet page (its own file since 2e9f60a) beside it.
      expect({ sha256: web.sha256, bytes: web.bytes }).toEqual({ sha256: a.sha256, bytes: a.html.length });
      // The policy inside the page allows no script or style but its own (by hash).
      const html = bytes.toString("utf8");
      expect(html).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'; style-src 'sha256-[A-Za-z0-9+/=]+'/);
      expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
    }
  });

  it("the page a guardian serves connects to its federation's guardians and nowhere else (connect-src)", async () => {
    // A server outside the federation that counts what reaches it.
    let reached = 0;
    const outside = createServer((_req, res) => {
      reached++;
      res.writeHead(200, { "access-control-allow-origin": "*" }).end("{}");
    });
    await new Promise<void>((ok) => outside.listen(0, "127.0.0.1", ok));
    const outsideUrl = `http://127.0.0.1:${(outside.address() as AddressInfo).port}/`;
    const r = await fetch(`${fed.urls[0]!}/`);
    const policy = r.headers.get("content-security-policy") ?? "";
    for (const url of fed.urls) {
      const { host } = new URL(url);
      expect(policy).toContain(`http://${host}`);
      expect(policy).toContain(`ws://${host}`);
    }
    // Its own context without the page-error listener: the refusal is logged as a console error.
    const context = await browser.newContext({ viewport: DESKTOP });
    try {
      const page = await context.newPage();
      await page.goto(fed.urls[0]!);
      await expect
        .poll(() => page.locator("#quorum").innerText(), { timeout: 15_000 })
        .toContain("4 of 4 guardians up");
      // A string: the test's TypeScript has no DOM types (the page's code has them).
      const result: unknown = await page.evaluate(`(async () => {
        const violations = [];
        document.addEventListener("securitypolicyviolation", (e) => violations.push(e.effectiveDirective));
        const fetched = await fetch(${JSON.stringify(outsideUrl)}).then(() => "fetched", () => "refused");
        await new Promise((ok) => setTimeout(ok, 100));
        return { fetched, violations };
      })()`);
      expect(result).toEqual({ fetched: "refused", violations: ["connect-src"] });
      expect(reached).toBe(0);
      // The same server is reachable from outside the page: the refusal was the policy's.
      expect((await fetch(outsideUrl)).status).toBe(200);
      expect(reached).toBe(1);
    } finally {
      await context.close();
      outside.close();
    }
  });

  it("status: shows every guardian as the browser sees it, the threshold, and heights pushed live", async () => {
    const page = await open(fed.urls[1]!);
    await expect
      .poll(() => page.locator("#quorum").innerText(), { timeout: 15_000 })
      .toContain("4 of 4 guardians up");
    await expect(page.locator("#quorum").innerText()).resolves.toContain("any 3 must agree");
    await expect(page.locator("#federation-line").innerText()).resolves.toContain(
      "4 guardians, any 3 must agree",
    );
    expect(await page.locator("#agreement").count()).toBe(1);
    for (let i = 0; i < 4; i++) expect(await cell(page, i, "state")).toBe("up");
    // A transaction makes new blocks: the page learns the new heights without reloading or polling.
    const before = Number(await cell(page, 0, "height"));
    const requests: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    await faucet(fed.urls[0]!, 5_000_000_000_000n);
    await expect
      .poll(async () => Number(await cell(page, 0, "height")), { timeout: 15_000 })
      .toBeGreaterThan(before);
    expect(requests.filter((u) => u.includes("/v1/status"))).toEqual([]);
    // Every guardian serves the same page: no disagreement, and each row shows the same hash.
    const hashes = await Promise.all([0, 1, 2, 3].map((i) => cell(page, i, "page")));
    expect(new Set(hashes).size).toBe(1);
    await shot(page, "status-desktop");
    await page.setViewportSize(PHONE);
    await shot(page, "status-phone");
    await page.context().close();
  });

  it("reserves: what the federation owes beside what backs it, per guardian, with the commands to check", async () => {
    const page = await open(`${fed.urls[2]!}/#/reserves`);
    const table = page.locator("#audit");
    await expect.poll(() => table.innerText(), { timeout: 15_000 }).toContain("mint #1");
    await expect
      .poll(() => page.locator("td[data-total]").allInnerTexts(), { timeout: 15_000 })
      .toEqual([
        expect.stringContaining("covered"),
        expect.stringContaining("covered"),
        expect.stringContaining("covered"),
        expect.stringContaining("covered"),
      ]);
    // The faucet's 5 XMR (test 2) are owed by the dummy module at every guardian.
    const text = await table.innerText();
    expect(text).toContain("dummy #0");
    expect(text).toContain("5 XMR");
    expect(await page.getByText("curl -s").first().innerText()).toContain("/v1/audit");
    await shot(page, "reserves-desktop");
    await page.setViewportSize(PHONE);
    await shot(page, "reserves-phone");
    await page.context().close();
  });

  it("look-up: a transaction id shows its life cycle as t guardians agree; unknown ids and EVM addresses say why", async () => {
    const txid = await faucet(fed.urls[3]!, 1_000_000_000n);
    const page = await open(`${fed.urls[0]!}/#/lookup/`);
    const input = page.getByLabel(
      "Monero deposit txid, federation transaction id, deposit id, EVM burn tx hash or EVM address",
    );
    await input.fill(txid);
    await page.getByRole("button", { name: "Look up" }).click();
    const result = page.locator("#lookup-result");
    await expect.poll(() => result.innerText(), { timeout: 15_000 }).toContain("Federation transaction");
    const text = await result.innerText();
    expect(text).toContain("4 of 4 answering guardians agree");
    expect(await result.locator('li[data-state="done"]').allInnerTexts()).toEqual([
      expect.stringContaining("Submitted"),
      expect.stringContaining("Accepted in a block"),
    ]);
    // Nothing private: the amount is not shown.
    expect(text).not.toContain("1000000000");
    expect(text).not.toContain("0.001");
    expect(page.url()).toContain(`#/lookup/${txid}`);
    await shot(page, "lookup-desktop");
    await page.setViewportSize(PHONE);
    await shot(page, "lookup-phone");

    await input.fill("ab".repeat(32));
    await page.getByRole("button", { name: "Look up" }).click();
    await expect.poll(() => result.innerText(), { timeout: 15_000 }).toContain("Not found");
    await input.fill("0x" + "12".repeat(20));
    await page.getByRole("button", { name: "Look up" }).click();
    await expect.poll(() => result.innerText(), { timeout: 15_000 }).toContain("runs no bridge");
    await page.context().close();
  });

  it("verify: the page hashes its own bytes and compares them with what every guardian serves", async () => {
    const page = await open(`${fed.urls[0]!}/#/verify`);
    const expected = (await buildWebPage()).sha256;
    await expect.poll(() => page.locator("#own-hash").innerText(), { timeout: 15_000 }).toBe(expected);
    await expect
      .poll(() => page.locator("#served-hashes li").allInnerTexts(), { timeout: 15_000 })
      .toEqual([0, 1, 2, 3].map((i) => `guardian-${i} serves ${expected} (same as this copy)`));
    await shot(page, "verify-desktop");
    await page.context().close();
  });

  it("hosted anywhere: the static build asks for an invite code, then talks to the guardians directly", async () => {
    const { path } = await writeWebPage(join(tmp, "static", "index.html"));
    const served = await serveFile(path);
    staticServer = served.server;
    const page = await open(served.url);
    const input = page.getByLabel("Invite code (conclave1:…) or guardian URLs");
    await input.fill("conclave1:garbage:00000000");
    await page.getByRole("button", { name: "Open" }).click();
    await expect.poll(() => page.getByRole("alert").innerText()).toContain("checksum");
    await input.fill(fed.invite);
    await page.getByRole("button", { name: "Open" }).click();
    await expect
      .poll(() => page.locator("#quorum").innerText(), { timeout: 15_000 })
      .toContain("4 of 4 guardians up");
    expect(await page.locator("#federation-line").innerText()).toContain("learned from the invite code");
    await page.context().close();
    // Or with the invite in the address, to bookmark.
    const linked = await open(`${served.url}?invite=${encodeURIComponent(fed.invite)}#/status`);
    await expect
      .poll(() => linked.locator("#quorum").innerText(), { timeout: 15_000 })
      .toContain("4 of 4 guardians up");
    await linked.context().close();
  });

  it("keyboard and phone: every page is reachable by keyboard, labelled, and fits a phone screen", async () => {
    const page = await open(fed.urls[0]!, PHONE);
    await expect
      .poll(() => page.locator("#quorum").innerText(), { timeout: 15_000 })
      .toContain("guardians up");
    await page.keyboard.press("Tab");
    expect(await page.evaluate("document.activeElement?.textContent")).toBe("Skip to content");
    const reached: string[] = [];
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press("Tab");
      reached.push(String(await page.evaluate("document.activeElement?.textContent ?? ''")));
    }
    expect(reached).toEqual(["Status", "Reserves", "Look up", "Verify this page"]);
    // Back to "Look up" and open it with Enter; type an id and submit with Enter.
    await page.keyboard.press("Shift+Tab");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator("#lookup-h").count()).toBe(1);
    await page.getByLabel(/Monero deposit txid/).focus();
    await page.keyboard.type("0x" + "34".repeat(20));
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator("#lookup-result").innerText()).toContain("runs no bridge");
    // The skip link (#main) moves the focus to the content and leaves the page shown as it is.
    await page.getByRole("link", { name: "Skip to content" }).focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => page.evaluate("location.hash")).toBe("#main");
    await page.evaluate(
      "new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r))))",
    );
    expect(await page.evaluate("document.activeElement?.id")).toBe("main");
    expect(await page.locator("#lookup-h").count()).toBe(1);
    // Nothing wider than the screen, on every page (measured once its heading is shown).
    for (const [route, heading] of [
      ["#/status", "status-h"],
      ["#/reserves", "reserves-h"],
      ["#/lookup/", "lookup-h"],
      ["#/verify", "verify-h"],
    ] as const) {
      await page.evaluate(`location.hash = ${JSON.stringify(route)}`);
      await expect.poll(() => page.locator(`#${heading}`).count(), { timeout: 15_000 }).toBe(1);
      const width = Number(await page.evaluate("document.documentElement.scrollWidth"));
      expect(width, route).toBeLessThanOrEqual(PHONE.width);
    }
    // The tables have captions and header cells; the live line is announced.
    await page.evaluate('location.hash = "#/status"');
    expect(await page.locator("#guardians caption").count()).toBe(1);
    expect(await page.locator("#quorum").getAttribute("aria-live")).toBe("polite");
    await page.context().close();
  });

  it("a guardian going down is shown as down; back with another page, the disagreement is shown as such", async () => {
    const page = await open(fed.urls[0]!);
    await expect
      .poll(() => page.locator("#quorum").innerText(), { timeout: 15_000 })
      .toContain("4 of 4 guardians up");
    expect(await page.locator("#disagreements").count()).toBe(0);
    await stopGuardian(fed.guardians[3]!, "SIGKILL");
    await expect.poll(() => cell(page, 3, "state"), { timeout: 15_000 }).toContain("down");
    const quorum = await page.locator("#quorum").innerText();
    expect(quorum).toContain("3 of 4 guardians up");
    expect(quorum).toContain("the federation can act");
    await shot(page, "status-guardian-down-desktop");
    // Guardian 3 comes back serving an altered page: the page reconnects by itself (2 s, doubling)
    // and names the guardian whose page differs.
    const altered = join(tmp, "altered.html");
    writeFileSync(altered, "<!doctype html><title>not the real page</title>\n");
    const alteredHash = createHash("sha256").update(readFileSync(altered)).digest("hex");
    fed.guardians[3] = await startGuardian(fed.files, 3, { runArgs: ["--web", altered] });
    await expect.poll(() => cell(page, 3, "state"), { timeout: 40_000 }).toBe("up");
    await expect
      .poll(
        () =>
          page
            .locator("#disagreements")
            .innerText()
            .catch(() => ""),
        { timeout: 15_000 },
      )
      .toContain("Guardians serve different pages");
    const text = await page.locator("#disagreements").innerText();
    expect(text).toContain(`${alteredHash.slice(0, 16)}… (guardian-3)`);
    expect(text).toContain("(guardian-0, guardian-1, guardian-2)");
    await shot(page, "status-disagreement-desktop");
    await page.context().close();
    // What the browser logs by itself: the look-ups' 404 answers (unknown ids) and the dead guardian.
    const expected = (e: string) =>
      e.includes("status of 404") || e.includes("net::ERR_CONNECTION_") || e.includes("WebSocket");
    expect(pageErrors.filter((e) => !expected(e))).toEqual([]);
  });
});
