// The wallet page's camera, for real in Debian's Chromium: its fake capture device plays a video file
// this test writes (fake-camera.ts: Y4M frames showing one QR code), so getUserMedia, the <video>
// element, the canvas and the page's decoder all run as with a phone's camera. Four real guardian
// processes (dummy faucet + mint). Scanned: an invite code (a copy of the page hosted elsewhere, so
// nothing is filled in), e-cash notes from a Node wallet (received), a `monero:` address into the
// withdraw form's address field (MoneroAddressField, whose errors are checked here too). Without a
// camera: permission denied, and no device; each says so and pasting works.
// Screenshots: docs/web/wallet-camera-*, wallet-withdraw-address-*.
import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ed25519 } from "@noble/curves/ed25519.js";
import { chromium } from "playwright-core";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeAddress } from "@conclave/monero";
import { nodeWallets } from "@conclave/wallet-standard/node";
import type { Wallet } from "@conclave/wallet-standard/node";
import { writeWalletPage } from "../../../scripts/build-web.mjs";
import { writeQrVideo } from "./fake-camera.js";
import {
  CHROMIUM,
  CHROMIUM_ARGS,
  ensureChromiumInstalled,
  launchChromium,
  serveFile,
  startFederation,
} from "./harness.js";
import type { TestFederation } from "./harness.js";
import { DESKTOP, balanceOf, createInPage, openPage, shotBoth } from "./wallet-harness.js";

const XMR = 1_000_000_000_000n;
// 1280x720: a 1.5 XMR note string is a QR code of about 100 modules, 6 pixels each here.
const VIDEO = { width: 1280, height: 720 };

let tmp: string;
let video: string;
let fed: TestFederation;
let node: Wallet;
let host: { server: Server; url: string };
/** A camera that shows whatever `video` holds when the page starts it (permission granted). */
let camera: Browser;
/** A camera whose permission the user did not give (no --use-fake-ui-for-media-stream, none granted). */
let denied: Browser;
/** No camera at all (the test machine has none). */
let none: Browser;
const pageErrors: string[] = [];
/** The copy hosted elsewhere: its own origin is no guardian, so its GET /v1/federation is a 404. */
const hostErrors: string[] = [];

beforeAll(async () => {
  ensureChromiumInstalled();
  tmp = mkdtempSync(join(tmpdir(), "conclave-wallet-camera-"));
  video = join(tmp, "camera.y4m");
  writeQrVideo(video, "not yet", VIDEO);
  const fake = ["--use-fake-device-for-media-stream", `--use-file-for-fake-video-capture=${video}`];
  const launch = (args: string[]) =>
    chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, ...args] });
  const page = await writeWalletPage(join(tmp, "wallet.html"));
  [fed, camera, denied, none, host] = await Promise.all([
    startFederation(join(tmp, "federation")),
    launch(["--use-fake-ui-for-media-stream", ...fake]),
    launch(fake),
    launchChromium(),
    serveFile(page.path),
  ]);
  node = (await nodeWallets().joinWallet(join(tmp, "node-wallet"), fed.invite)).wallet;
  await node.devFaucet(10n * XMR);
}, 180_000);

afterAll(async () => {
  await node?.close();
  await Promise.all([camera?.close(), denied?.close(), none?.close()]);
  host?.server.close();
  await fed?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const alerts = (page: Page) =>
  page
    .getByRole("alert")
    .allInnerTexts()
    .then((t) => t.join("\n"));

describe("the wallet page's camera", () => {
  let page: Page;

  it("scans an invite code into the setup form of a copy hosted elsewhere, and the wallet joins with it", async () => {
    writeQrVideo(video, fed.invite, VIDEO);
    page = await openPage(camera, host.url, hostErrors);
    await expect.poll(() => page.locator("#setup-h").count(), { timeout: 15_000 }).toBe(1);
    expect(await page.locator("#invite").inputValue()).toBe("");
    await page.getByRole("button", { name: "Scan an invite code with the camera" }).click();
    await expect.poll(() => page.locator("#invite").inputValue(), { timeout: 30_000 }).toBe(fed.invite);
    // The camera is off again once the code was read.
    expect(await page.locator("#invite-camera").count()).toBe(0);
    await shotBoth(page, "wallet-camera-invite", tmp);
    await createInPage(page);
    await expect(page.locator("#federation-line").innerText()).resolves.toContain(
      "4 guardians, any 3 must agree",
    );
  });

  it("scans e-cash notes shown as a QR code and receives them", async () => {
    const sent = await node.spend(1_500_000_000_000n);
    writeQrVideo(video, sent.notes, VIDEO);
    await page.evaluate('location.hash = "#/receive"');
    await page.getByRole("button", { name: "Scan the notes with the camera" }).click();
    await expect
      .poll(
        () =>
          page
            .locator("#received")
            .innerText()
            .catch(() => ""),
        { timeout: 60_000 },
      )
      .toContain("Received 1.5 XMR");
    await expect(node.cancel(sent.id)).rejects.toThrow();
    await page.evaluate('location.hash = "#/balance"');
    await expect.poll(() => balanceOf(page)).toBe("1.5 XMR");
  });

  it("scans a monero: address into the withdraw form; a mistyped address is named at the field and nothing is spent", async () => {
    const address = encodeAddress({
      network: "mainnet",
      kind: "standard",
      publicSpendKey: ed25519.getPublicKey(new Uint8Array(32).fill(7)),
      publicViewKey: ed25519.getPublicKey(new Uint8Array(32).fill(8)),
    });
    writeQrVideo(video, `monero:${address}?tx_amount=0.25`, VIDEO);
    await page.evaluate('location.hash = "#/withdraw"');
    const field = page.getByLabel("Monero address", { exact: true });
    await page.getByRole("button", { name: "Scan a Monero address with the camera" }).click();
    await expect.poll(() => field.inputValue(), { timeout: 30_000 }).toBe(address);
    expect(await field.getAttribute("aria-invalid")).toBe("false");
    expect(await page.locator("#withdraw-address-problem").count()).toBe(0);

    // One character off: the checksum catches it, at the field, tied to it for screen readers.
    const typo = address.slice(0, 40) + (address[40] === "x" ? "y" : "x") + address.slice(41);
    await field.fill(typo);
    await page.locator("#withdraw-amount").fill("0.25");
    await page.getByRole("button", { name: "Withdraw", exact: true }).click();
    await expect
      .poll(() =>
        page
          .locator("#withdraw-address-problem")
          .innerText()
          .catch(() => ""),
      )
      .toMatch(/has a wrong checksum: check it for a typo\.$/);
    expect(await field.getAttribute("aria-invalid")).toBe("true");
    expect(await page.evaluate("document.activeElement?.id")).toBe("withdraw-address");
    expect(await field.getAttribute("aria-describedby")).toBe("withdraw-address-problem");
    // The form is blocked too (the browser's own validation carries the same sentence).
    expect(await page.evaluate('document.getElementById("withdraw-address").validationMessage')).toMatch(
      /wrong checksum/,
    );
    await shotBoth(page, "wallet-withdraw-address", tmp);
    expect(await page.locator("#withdraw-progress, #withdraw-done").count()).toBe(0);
    await page.evaluate('location.hash = "#/balance"');
    expect(await balanceOf(page)).toBe("1.5 XMR");
    expect(await page.locator(".outgoing li").count()).toBe(0);
    await page.context().close();
  });

  it("permission denied: says so, and the invite and the notes pasted as text work", async () => {
    const p = await openPage(denied, `${fed.urls[1]!}/wallet`, pageErrors);
    await expect.poll(() => p.locator("#invite").inputValue(), { timeout: 15_000 }).toBe(fed.invite);
    await p.getByRole("button", { name: "Scan an invite code with the camera" }).click();
    await expect
      .poll(() => alerts(p), { timeout: 15_000 })
      .toContain("The camera is not allowed (permission denied)");
    expect(await p.locator("#invite-camera").count()).toBe(0);
    await shotBoth(p, "wallet-camera-denied", tmp);
    await p.locator("#invite").fill(fed.invite);
    await createInPage(p);
    await p.evaluate('location.hash = "#/receive"');
    await p.getByRole("button", { name: "Scan the notes with the camera" }).click();
    await expect.poll(() => alerts(p), { timeout: 15_000 }).toContain("permission denied");
    const sent = await node.spend(XMR);
    await p.locator("#receive-notes").fill(sent.notes);
    await p.getByRole("button", { name: "Receive", exact: true }).click();
    await expect
      .poll(
        () =>
          p
            .locator("#received")
            .innerText()
            .catch(() => ""),
        { timeout: 60_000 },
      )
      .toContain("Received 1 XMR");
    await p.context().close();
  });

  it("no camera on the device: says so; the picture and text inputs stay", async () => {
    const context = await none.newContext({ viewport: DESKTOP, permissions: ["camera"] });
    const p = await context.newPage();
    p.on("pageerror", (e) => pageErrors.push(e.message));
    await p.goto(`${fed.urls[2]!}/wallet`);
    await expect.poll(() => p.locator("#invite").inputValue(), { timeout: 15_000 }).toBe(fed.invite);
    await p.getByRole("button", { name: "Scan an invite code with the camera" }).click();
    await expect
      .poll(() => alerts(p), { timeout: 15_000 })
      .toContain("No camera found on this device: paste the text or read a picture of the QR code instead.");
    expect(await p.getByLabel("Read an invite code from a picture of a QR code").count()).toBe(1);
    expect(await p.getByLabel("Invite code of the federation").isEditable()).toBe(true);
    await context.close();
    expect(pageErrors.filter((e) => !/status of 429 \(Too Many Requests\)/.test(e))).toEqual([]);
    expect(
      hostErrors.filter((e) => !/status of (404 \(Not Found\)|429 \(Too Many Requests\))/.test(e)),
    ).toEqual([]);
  });
});
