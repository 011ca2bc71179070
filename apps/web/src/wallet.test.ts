// The wallet page (/wallet) in Debian's Chromium (playwright-core) against four real guardian
// processes (dummy faucet + mint) that serve it: one test per flow (the page itself; create with the
// invite the serving guardian fills in; receive notes as text; send as text and QR code, read back
// from a picture by a second browser wallet at another guardian's copy of the page; backup and
// restore from the recovery phrase; keyboard and phone). The other wallet is a Node wallet of the
// SDK. Deposit and withdraw against monerod: wallet-monero.test.ts. Screenshots: docs/web/wallet-*.
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NOTES_PREFIX, nodeWallets } from "@conclave/wallet-standard/node";
import type { Wallet } from "@conclave/wallet-standard/node";
import { buildWalletPage } from "../../../scripts/build-web.mjs";
import { ensureChromiumInstalled, launchChromium, startFederation } from "./harness.js";
import type { TestFederation } from "./harness.js";
import { DESKTOP, PHONE, balanceOf, createInPage, openPage, shotBoth } from "./wallet-harness.js";

const XMR = 1_000_000_000_000n;

let tmp: string;
let fed: TestFederation;
let browser: Browser;
let node: Wallet;
const pageErrors: string[] = [];

beforeAll(async () => {
  ensureChromiumInstalled();
  tmp = mkdtempSync(join(tmpdir(), "conclave-wallet-page-"));
  [fed, browser] = await Promise.all([startFederation(join(tmp, "federation")), launchChromium()]);
  node = (await nodeWallets().joinWallet(join(tmp, "node-wallet"), fed.invite)).wallet;
  await node.devFaucet(10n * XMR);
}, 180_000);

afterAll(async () => {
  await node?.close();
  await browser?.close();
  await fed?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const open = (url: string, viewport = DESKTOP, scale = 1) =>
  openPage(browser, url, pageErrors, viewport, scale);

/** Two frames and a task in the page: whatever an effect scheduled after paint has run by then. */
const FRAMES_LATER =
  "new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r))))";

/**
 * Moves the page to `#/VIEW`. `now`: the focused element's id when the page's own hashchange
 * listener has run (and with it the render that shows the view); `focus` (a control of the new
 * view), if given, is focused right then, as a quick user or test would. `later`: the focused id
 * two frames later, after anything the page does after painting.
 */
async function goToView(page: Page, view: string, focus = ""): Promise<{ now: string; later: string }> {
  return page.evaluate<{ now: string; later: string }>(`new Promise((resolve) => {
    addEventListener("hashchange", () => {
      const now = document.activeElement?.id ?? "";
      if (${JSON.stringify(focus)}) document.getElementById(${JSON.stringify(focus)}).focus();
      ${FRAMES_LATER}.then(() => resolve({ now, later: document.activeElement?.id ?? "" }));
    }, { once: true });
    location.hash = "#/${view}";
  })`);
}

describe("the wallet page", () => {
  let alice: Page;
  let aliceMnemonic: string;

  it("is its own reproducible file, served by every guardian at /wallet with its hash in /v1/web", async () => {
    const a = await buildWalletPage();
    const b = await buildWalletPage();
    expect(Buffer.from(a.html).equals(Buffer.from(b.html))).toBe(true);
    for (const url of fed.urls) {
      const r = await fetch(`${url}/wallet`);
      expect(r.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
      const bytes = Buffer.from(await r.arrayBuffer());
      expect(createHash("sha256").update(bytes).digest("hex")).toBe(a.sha256);
      const web = (await (await fetch(`${url}/v1/web`)).json()) as { wallet?: { sha256: string } };
      expect(web.wallet?.sha256).toBe(a.sha256);
      const html = bytes.toString("utf8");
      expect(html).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'; style-src 'sha256-[A-Za-z0-9+/=]+'/);
      expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
    }
  });

  it("create: the serving guardian's invite filled in, a new recovery phrase shown once, balance 0, kept across a reload", async () => {
    // A screen of twice the CSS pixels (a phone's or a laptop's): the QR code below is read from it.
    alice = await open(`${fed.urls[1]!}/wallet`, DESKTOP, 2);
    await expect.poll(() => alice.locator("#invite").inputValue(), { timeout: 15_000 }).toBe(fed.invite);
    await shotBoth(alice, "wallet-setup", tmp);
    aliceMnemonic = await createInPage(alice, tmp);
    expect(aliceMnemonic.split(" ")).toHaveLength(12);
    expect(await balanceOf(alice)).toBe("0 XMR");
    await expect(alice.locator("#federation-line").innerText()).resolves.toContain(
      "4 guardians, any 3 must agree",
    );
    // Kept in the browser's IndexedDB: a reload opens the same wallet, no phrase asked or shown.
    await alice.reload();
    await expect.poll(() => balanceOf(alice), { timeout: 15_000 }).toBe("0 XMR");
    expect(await alice.locator("#mnemonic").count()).toBe(0);
  });

  it("receive: notes from another wallet, pasted as text, become this wallet's balance; bad text is refused", async () => {
    await alice.evaluate('location.hash = "#/receive"');
    await alice.locator("#receive-notes").fill(`${NOTES_PREFIX}not-notes`);
    await alice.getByRole("button", { name: "Receive", exact: true }).click();
    await expect
      .poll(() => alice.getByRole("alert").innerText(), { timeout: 15_000 })
      .toMatch(/malformed_notes/);
    const sent = await node.spend(3n * XMR);
    await alice.locator("#receive-notes").fill(sent.notes);
    await alice.getByRole("button", { name: "Receive", exact: true }).click();
    await expect
      .poll(() => alice.locator("#received").innerText(), { timeout: 60_000 })
      .toContain("Received 3 XMR");
    await shotBoth(alice, "wallet-receive", tmp);
    // The sender's notes are spent: the Node wallet cannot take them back.
    await expect(node.cancel(sent.id)).rejects.toThrow();
    await alice.evaluate('location.hash = "#/balance"');
    await expect.poll(() => balanceOf(alice)).toBe("3 XMR");
    await shotBoth(alice, "wallet-balance", tmp);
  });

  it("send: notes as text (Copy puts them on the clipboard; a refused copy says so and selects them) and QR code; a second browser wallet at another guardian's page reads the QR picture", async () => {
    await alice.evaluate('location.hash = "#/send"');
    await alice.locator("#send-amount").fill("1.25");
    await alice.getByRole("button", { name: "Create notes" }).click();
    await expect
      .poll(() => alice.locator("#sent-notes").inputValue(), { timeout: 60_000 })
      .toMatch(/^cnotes1/);
    const notes = await alice.locator("#sent-notes").inputValue();
    expect(await alice.locator("#sent-qr").getAttribute("role")).toBe("img");
    // Copy: with the permission, the clipboard holds the notes; a copy the browser refuses says so and
    // selects the text for the user to copy by hand.
    await alice.context().grantPermissions(["clipboard-read", "clipboard-write"], {
      origin: new URL(fed.urls[1]!).origin,
    });
    await alice.getByRole("button", { name: "Copy" }).click();
    await expect.poll(() => alice.getByRole("button", { name: "Copied" }).count()).toBe(1);
    expect(await alice.evaluate("navigator.clipboard.readText()")).toBe(notes);
    await alice.evaluate(
      'navigator.clipboard.writeText = () => Promise.reject(new DOMException("denied", "NotAllowedError"))',
    );
    await alice.getByRole("button", { name: "Copied" }).click();
    await expect.poll(() => alice.locator("#sent-notes-copy-failed").count()).toBe(1);
    expect(await alice.locator("#sent-notes-copy-failed").innerText()).toContain("copy it yourself");
    expect(
      await alice.evaluate(
        '(() => { const a = document.getElementById("sent-notes"); return a.value.slice(a.selectionStart, a.selectionEnd); })()',
      ),
    ).toBe(notes);
    await shotBoth(alice, "wallet-send", tmp);
    const qrPng = await alice.locator("#sent-qr").screenshot();
    await alice.evaluate('location.hash = "#/balance"');
    await expect.poll(() => balanceOf(alice)).toBe("1.75 XMR");
    expect(await alice.locator(".outgoing li").innerText()).toContain("1.25 XMR");

    // Bob: his own browser, guardian 3's copy of the page.
    const bob = await open(`${fed.urls[3]!}/wallet`);
    await expect.poll(() => bob.locator("#invite").inputValue(), { timeout: 15_000 }).toBe(fed.invite);
    await createInPage(bob);
    await bob.evaluate('location.hash = "#/receive"');
    await bob
      .locator("#receive-picture")
      .setInputFiles({ name: "qr.png", mimeType: "image/png", buffer: qrPng });
    await expect
      .poll(() => bob.locator("#received").innerText(), { timeout: 60_000 })
      .toContain("Received 1.25 XMR");
    expect(await bob.locator("#receive-notes").inputValue()).toBe("");
    await bob.evaluate('location.hash = "#/balance"');
    await expect.poll(() => balanceOf(bob)).toBe("1.25 XMR");
    // Received by Bob: the same text is worth nothing now.
    await expect(node.reissue(notes)).rejects.toThrow(/spent/);
    await bob.context().close();
  });

  it("backup and restore: a backup at the guardians, the wallet removed, restored from the phrase in a new browser", async () => {
    await alice.evaluate('location.hash = "#/backup"');
    await alice.getByRole("button", { name: "Back up now" }).click();
    await expect
      .poll(() => alice.locator("#backup-done").innerText(), { timeout: 30_000 })
      .toMatch(/Backup version \d+ stored by [34] guardians/);
    await shotBoth(alice, "wallet-backup", tmp);
    await alice.getByLabel("I have my recovery phrase").check();
    await alice.getByRole("button", { name: "Remove the wallet from this browser" }).click();
    await expect.poll(() => alice.locator("#setup-h").count(), { timeout: 15_000 }).toBe(1);
    await alice.reload();
    await expect.poll(() => alice.locator("#setup-h").count(), { timeout: 15_000 }).toBe(1);
    await alice.context().close();

    const again = await open(`${fed.urls[0]!}/wallet`);
    await expect.poll(() => again.locator("#invite").inputValue(), { timeout: 15_000 }).toBe(fed.invite);
    await again.getByLabel("Restore a wallet from its recovery phrase").check();
    await again.locator("#phrase").fill(aliceMnemonic);
    await shotBoth(again, "wallet-restore", tmp);
    await again.getByRole("button", { name: "Restore wallet" }).click();
    await expect
      .poll(() => again.locator("#restored").innerText(), { timeout: 120_000 })
      .toContain("Restored 1.75 XMR");
    expect(await balanceOf(again)).toBe("1.75 XMR");
    await again.context().close();
  });

  it("keyboard and phone: every view reachable by keyboard, controls labelled, nothing wider than a phone", async () => {
    const page = await open(`${fed.urls[2]!}/wallet`, PHONE);
    await expect.poll(() => page.locator("#invite").inputValue(), { timeout: 15_000 }).toBe(fed.invite);
    // Create with the keyboard alone: Tab to the button, Enter.
    await page.getByLabel("Create a new wallet").focus();
    // The invite, its QR reader (a picture, the camera), the button.
    const path: unknown[] = [];
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press("Tab");
      path.push(await page.evaluate("document.activeElement?.id"));
    }
    expect(path).toEqual(["invite", "invite-picture", "invite-scan", "setup-submit"]);
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator("#mnemonic li").count(), { timeout: 30_000 }).toBe(12);
    await page.keyboard.press("Tab");
    await page.keyboard.press("Space");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await expect.poll(() => balanceOf(page), { timeout: 15_000 }).toBe("0 XMR");
    // The view's heading has the focus. Loaded afresh: the skip link, then the views in order.
    expect(await page.evaluate("document.activeElement?.id")).toBe("balance-h");
    await page.reload();
    await expect.poll(() => balanceOf(page), { timeout: 15_000 }).toBe("0 XMR");
    const reached: string[] = [];
    for (let i = 0; i < 10 && reached.at(-1) !== "Federation status"; i++) {
      await page.keyboard.press("Tab");
      reached.push(String(await page.evaluate("document.activeElement?.textContent ?? ''")));
    }
    expect(reached).toEqual([
      "Skip to content",
      "Balance",
      "Send",
      "Receive",
      "Deposit XMR",
      "Withdraw XMR",
      "wXMR",
      "Backup",
      "Federation status",
    ]);
    // Enter on "Send" opens it, its heading focused.
    for (let i = 0; i < 6; i++) await page.keyboard.press("Shift+Tab");
    expect(await page.evaluate("document.activeElement?.textContent")).toBe("Send");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.evaluate("document.activeElement?.id")).toBe("send-h");
    // The skip link (#main) moves the focus to the content and leaves the view as it is.
    await page.getByRole("link", { name: "Skip to content" }).focus();
    await page.keyboard.press("Enter");
    await expect.poll(() => page.evaluate("location.hash")).toBe("#main");
    await page.evaluate(FRAMES_LATER);
    expect(await page.evaluate("document.activeElement?.id")).toBe("main");
    expect(await page.locator("#send-h").count()).toBe(1);
    // Each view's heading is focused as the view shows (not later) and keeps the focus.
    for (const view of ["balance", "send", "receive", "deposit", "withdraw", "wxmr", "backup"]) {
      expect(await goToView(page, view), view).toEqual({ now: `${view}-h`, later: `${view}-h` });
      const width = Number(await page.evaluate("document.documentElement.scrollWidth"));
      expect(width, view).toBeLessThanOrEqual(PHONE.width);
      // Every input and textarea has a label.
      const unlabelled = await page.evaluate(
        '[...document.querySelectorAll("input, textarea")].filter((e) => e.labels.length === 0).map((e) => e.outerHTML)',
      );
      expect(unlabelled, view).toEqual([]);
    }
    // A control of the new view focused as soon as it shows keeps the focus, and the keys typed.
    expect(await goToView(page, "receive", "receive-notes")).toEqual({
      now: "receive-h",
      later: "receive-notes",
    });
    await page.keyboard.type("cnotes1");
    expect(await page.locator("#receive-notes").inputValue()).toBe("cnotes1");
    await page.context().close();
    // No script error in any test. The browser logs each 429 answer as an error: every context here
    // is 127.0.0.1, one client to the guardians' per-IP rate limit; the SDK asks again or asks
    // another guardian (the flows above passed).
    expect(pageErrors.filter((e) => !/status of 429 \(Too Many Requests\)/.test(e))).toEqual([]);
  });
});
