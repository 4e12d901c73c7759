// End-to-end test of the chat page (web/chat) in a real browser: Debian's
// chromium driven by playwright-core, against the real edged binary with the
// real chat plugin and the official client bundle edged serves at
// /socket.io/socket.io.js. No mocks: every step waits, with a deadline, for
// what a user would see on the page.
//
// Run with `make browser` (test/browser/setup.sh installs chromium and the npm
// packages). Screenshots go to test/browser/artifacts/.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { io } from "socket.io-client"; // test/node_modules (make test-deps): the moderator
import { repoRoot, startEdged } from "../lib/edged.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const ARTIFACTS = path.join(here, "artifacts");
const WEB_DIR = path.join(repoRoot, "web", "chat");
const CHROMIUM = process.env.CHROMIUM_BIN || "/usr/bin/chromium";
/** Deadline of one awaited step on a page, in ms. */
const STEP_MS = 5000;
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const MOD_TOKEN = "browser-test-moderator";

let edged;
let browser;
const pageErrors = [];

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  edged = await startEdged({
    plugins: ["chat"],
    settings: { chat: { config: { moderator_token: MOD_TOKEN, rate_limit: { messages: 5, window_ms: 2000 } } } },
    flags: ["--static", WEB_DIR],
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    timeout: 30000,
  });
});

after(async () => {
  await browser?.close();
  await edged?.stop();
});

/** A user: their own browser context (own storage), one page. */
async function openUser(name, viewport = DESKTOP) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, locale: "en-GB", timezoneId: "UTC", reducedMotion: "reduce" });
  context.setDefaultTimeout(STEP_MS);
  const page = await context.newPage();
  page.on("pageerror", (err) => pageErrors.push(`${name}: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error") pageErrors.push(`${name}: console: ${msg.text()}`);
  });
  const res = await page.goto(edged.url + "/");
  assert.equal(res.status(), 200);
  return page;
}

/** Signs in with a nickname and waits for the app (the lobby is joined on connect). */
async function signIn(page, nick) {
  await page.getByLabel("Nickname").fill(nick);
  await page.getByRole("button", { name: "Join chat" }).click();
  await page.locator("#conv-title", { hasText: "#lobby" }).waitFor();
  await member(page, nick).waitFor();
}

const member = (page, nick) => page.locator(`#member-list [data-member="${nick}"]`);
const message = (page, from, text) => page.locator(`#messages article.msg`).filter({ hasText: text }).and(page.locator(`[data-from="${from}"]`));
const composer = (page) => page.getByLabel("Message", { exact: true });

/** Types like a user (key by key, so the page sees input events) and sends with Enter. */
async function say(page, text) {
  await composer(page).pressSequentially(text, { delay: 5 });
  await composer(page).press("Enter");
}

/** Waits until the members list of the current room holds exactly these nicks. */
async function waitMembers(page, nicks) {
  const want = [...nicks].sort().join(",");
  try {
    await page.waitForFunction(
      (w) => [...document.querySelectorAll("#member-list [data-member]")].map((li) => li.dataset.member).sort().join(",") === w,
      want, { timeout: STEP_MS });
  } catch (err) {
    const got = await page.locator("#member-list [data-member]").evaluateAll((els) => els.map((e) => e.dataset.member));
    throw new Error(`members: want [${want}], have [${got}]: ${err.message}`);
  }
}

test("the static files and the client bundle are served by edged", async () => {
  for (const [p, type] of [["/", "text/html"], ["/app.css", "text/css"], ["/app.js", "text/javascript"], ["/socket.io/socket.io.js", "javascript"]]) {
    const res = await fetch(edged.url + p);
    assert.equal(res.status, 200, p);
    assert.match(res.headers.get("content-type"), new RegExp(type), p);
    await res.arrayBuffer();
  }
  assert.equal((await fetch(edged.url + "/nope.txt")).status, 404);
});

test("two people chat in a room, in chromium", async (t) => {
  const ann = await openUser("ann");
  const bob = await openUser("bob");

  await t.test("sign in; a taken nickname is refused on the page", async () => {
    await signIn(ann, "ann");
    await bob.getByLabel("Nickname").fill("ann");
    await bob.getByRole("button", { name: "Join chat" }).click();
    await bob.locator("#login-error", { hasText: "That nickname is taken" }).waitFor();
    const login = path.join(ARTIFACTS, "chat-login.png");
    await bob.screenshot({ path: login });
    console.log(`screenshot: ${login}`);
    await signIn(bob, "bob");
  });

  await t.test("both join #general (from the room list and from the join form) and see each other", async () => {
    await ann.locator('#room-list [data-room="general"]').click();
    await ann.locator("#conv-title", { hasText: "#general" }).waitFor();
    await bob.getByLabel("Join or create a room").fill("general");
    await bob.getByLabel("Join or create a room").press("Enter");
    await bob.locator("#conv-title", { hasText: "#general" }).waitFor();
    await waitMembers(ann, ["ann", "bob"]);
    await waitMembers(bob, ["ann", "bob"]);
    await ann.locator(".notice", { hasText: "bob joined #general" }).waitFor();
    await ann.locator("#conv-sub", { hasText: "2 members online" }).waitFor();
  });

  await t.test("typing shows on the other page, messages reach both", async () => {
    await composer(bob).pressSequentially("Morning", { delay: 5 });
    await ann.locator("#typing", { hasText: "bob is typing" }).waitFor();
    await composer(bob).pressSequentially(" ann! Is the release still on for Friday?", { delay: 2 });
    await composer(bob).press("Enter");
    await message(ann, "bob", "Morning ann! Is the release still on for Friday?").waitFor();
    await message(bob, "bob", "Morning ann! Is the release still on for Friday?").waitFor();
    await ann.locator("#typing").filter({ hasText: /^$/ }).waitFor();
    await say(ann, "Yes, all green. @bob can you write the release notes?");
    await message(bob, "ann", "can you write the release notes?").waitFor();
    await bob.locator("article.msg.mention", { hasText: "release notes" }).waitFor();
    await say(bob, "On it, draft by noon.");
    await message(ann, "bob", "On it, draft by noon.").waitFor();
    // the time of each message is shown
    const time = await ann.locator("article.msg time").first().getAttribute("datetime");
    assert.ok(Date.parse(time) > Date.now() - 60000, time);
  });

  await t.test("a late joiner gets the history; presence updates when they come and go", async () => {
    const cat = await openUser("cat");
    await signIn(cat, "cat");
    await cat.locator('#room-list [data-room="general"]').click();
    await message(cat, "bob", "Is the release still on for Friday?").waitFor();
    await message(cat, "ann", "can you write the release notes?").waitFor();
    assert.equal(await cat.locator("article.msg.history").count() >= 3, true);
    await waitMembers(ann, ["ann", "bob", "cat"]);
    await cat.getByRole("button", { name: "Leave room" }).click();
    await cat.locator("#conv-title", { hasText: "#lobby" }).waitFor();
    await waitMembers(ann, ["ann", "bob"]);
    await ann.locator(".notice", { hasText: "cat left #general" }).waitFor();
    await cat.context().close();
  });

  await t.test("private messages: click a member, and /msg", async () => {
    await bob.getByRole("button", { name: "Message ann privately" }).click();
    await bob.locator("#conv-title", { hasText: "@ann" }).waitFor();
    await say(bob, "psst: cake in the kitchen at 3");
    await message(bob, "bob", "cake in the kitchen").waitFor();
    // ann is in #general: the conversation appears in her sidebar, unread
    const dm = ann.locator('#dm-list [data-dm="bob"]');
    await dm.locator(".badge", { hasText: "1" }).waitFor();
    await dm.click();
    await ann.locator("#conv-title", { hasText: "@bob" }).waitFor();
    await message(ann, "bob", "psst: cake in the kitchen at 3").waitFor();
    // a private message is not in the room
    await ann.locator('#room-list [data-room="general"]').click();
    assert.equal(await message(ann, "bob", "cake in the kitchen").count(), 0);
    await say(ann, "/msg bob on my way");
    await ann.locator("#conv-title", { hasText: "@bob" }).waitFor();
    await message(bob, "ann", "on my way").waitFor();
    const dmShot = path.join(ARTIFACTS, "chat-private.png");
    await bob.screenshot({ path: dmShot });
    console.log(`screenshot: ${dmShot}`);
    // an error ack is shown inline, and the text is kept
    await say(bob, "/msg nobody hello?");
    await bob.locator("#composer-error", { hasText: "nobody is not online." }).waitFor();
    assert.equal(await composer(bob).inputValue(), "/msg nobody hello?");
    await composer(bob).fill("");
  });

  await t.test("screenshots: desktop and phone width", async () => {
    await ann.locator('#room-list [data-room="general"]').click();
    await ann.locator("#conv-title", { hasText: "#general" }).waitFor();
    await bob.locator('#room-list [data-room="general"]').click();
    await bob.locator("#conv-title", { hasText: "#general" }).waitFor();
    await composer(bob).pressSequentially("Sounds good", { delay: 5 });
    await ann.locator("#typing", { hasText: "bob is typing" }).waitFor();
    const desktop = path.join(ARTIFACTS, "chat.png");
    await ann.screenshot({ path: desktop });
    console.log(`screenshot: ${desktop}`);
    await composer(bob).fill("");

    await ann.setViewportSize(PHONE);
    await ann.locator("#open-sidebar").waitFor({ state: "visible" });
    assert.equal(await ann.locator("#sidebar").evaluate((e) => e.getBoundingClientRect().right <= 0), true, "the sidebar is collapsed at phone width");
    const mobile = path.join(ARTIFACTS, "chat-mobile.png");
    await ann.screenshot({ path: mobile });
    console.log(`screenshot: ${mobile}`);
    await ann.getByRole("button", { name: "Open sidebar" }).click();
    await ann.waitForFunction(() => document.getElementById("sidebar").getBoundingClientRect().left >= 0); // no transition: reducedMotion
    const drawer = path.join(ARTIFACTS, "chat-mobile-menu.png");
    await ann.screenshot({ path: drawer });
    console.log(`screenshot: ${drawer}`);
    await ann.getByRole("button", { name: "Close sidebar" }).click();
    await ann.setViewportSize(DESKTOP);
  });

  await t.test("bob leaves: ann's presence updates", async () => {
    await bob.getByRole("button", { name: "Leave room" }).click();
    await bob.locator("#conv-title", { hasText: "#lobby" }).waitFor();
    await waitMembers(ann, ["ann"]);
    await ann.locator(".notice", { hasText: "bob left #general" }).waitFor();
    await ann.locator("#conv-sub", { hasText: "1 member online" }).waitFor();
  });

  await t.test("error acks show inline: rate limited, then muted by a moderator", async () => {
    // bob is in #lobby; the rate limit is 5 messages per 2 s per socket
    let limited = false;
    for (let i = 1; i <= 12 && !limited; i++) {
      await say(bob, `ping ${i}`);
      const limitedNote = bob.locator("#composer-error", { hasText: "sending messages too fast" });
      await message(bob, "bob", `ping ${i}`).or(limitedNote).first().waitFor();
      limited = await limitedNote.isVisible();
      if (limited) assert.equal(await composer(bob).inputValue(), `ping ${i}`, "the refused text is kept");
    }
    assert.ok(limited, "12 quick messages hit the rate limit");
    await composer(bob).fill("");

    // a moderator (a plain socket.io-client with the moderator token) mutes bob
    const mod = io(`${edged.url}/chat`, { auth: { nick: "mod", token: MOD_TOKEN }, transports: ["websocket"] });
    try {
      const res = await mod.timeout(STEP_MS).emitWithAck("mute", { target: "bob", seconds: 60 });
      assert.equal(res.ok, true, JSON.stringify(res));
    } finally {
      mod.disconnect();
    }
    await bob.locator(".notice.warn", { hasText: "You are muted until" }).waitFor();
    await bob.locator("#composer-error", { hasText: "You are muted until" }).waitFor();
    await say(bob, "hello?");
    await bob.locator("#composer-error", { hasText: "You are muted and cannot send messages" }).waitFor();
  });

  assert.deepEqual(pageErrors, [], "no errors on the pages");
});
