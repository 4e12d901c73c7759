// The plugins' key-value data (docs/ABI.md §4.5) end to end in the real
// edged binary with --data in a temp dir: chat history (Go plugin, sdk.KV)
// survives a hot reload and a SIGKILL restart; the C plugin stores and reads
// with the raw ops (kv-put/kv-get); chat and cecho use the same key name
// without seeing each other's value; the limits come back as clear errors.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { ack, Clients, TEST_TIMEOUT_MS, unique, waitEvent } from "../lib/harness.mjs";
import { buildEdged, startEdged, wasmPath } from "../lib/edged.mjs";

// --data arrives with the Badger store; without it there is nothing to test
let help = "";
try {
  help = execFileSync(buildEdged(), ["-h"], { stdio: ["ignore", "pipe", "pipe"] }).toString();
} catch (err) {
  help = `${err.stdout ?? ""}${err.stderr ?? ""}`;
}
const skip = help.includes("-data") ? false : "this edged has no --data flag (store not wired yet)";

const roomName = () => unique("r-");
/** A copy of a plugin with a custom section appended: another version, same behaviour. */
const newVersion = (name) => Buffer.concat([readFileSync(wasmPath(name)), Buffer.from([0, 5, 2, 0x6b, 0x76, 0x30 + (Date.now() % 10), 0x78])]);

describe("plugin key-value data", { skip }, () => {
  let dataDir, edged, clients;
  const start = async () => {
    edged = await startEdged({ plugins: ["chat", "cecho"], flags: ["--data", dataDir] });
    clients = new Clients(edged, "websocket");
  };
  before(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), "edged-kv-"));
    await start();
  });
  after(async () => {
    clients?.cleanup();
    await edged?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const test = (name, fn) => it(name, { timeout: TEST_TIMEOUT_MS * 2 }, fn);

  /** Joins room on a new chat socket; resolves with the history payload. */
  async function joinWithHistory(room) {
    const s = await clients.connect("/chat", { auth: { nick: unique("u") } });
    const order = [];
    s.on("history", () => order.push("history"));
    s.on("notice", (n) => order.push(`notice:${n.type}`));
    const history = waitEvent(s, "history");
    const notice = waitEvent(s, "notice");
    s.emit("join", room, (r) => order.push(`ack:${r.ok}`));
    const [[h]] = await Promise.all([history, notice]);
    assert.deepEqual(order, ["ack:true", "history", "notice:join"], "the ack, then the history, then the join notice");
    return { s, h };
  }

  const room = roomName();
  const sent = [];

  test("chat: a joiner gets the room's last messages, oldest first", async () => {
    const { s, h } = await joinWithHistory(room);
    assert.deepEqual(h, { room, messages: [] });
    for (const text of ["one", "two", "three"]) {
      const [r] = await ack(s, "message", { room, text });
      assert.equal(r.ok, true);
      sent.push({ id: r.id, text });
    }
    const { h: h2 } = await joinWithHistory(room);
    assert.equal(h2.room, room);
    assert.deepEqual(h2.messages.map((m) => [m.id, m.text, m.room, m.from]), sent.map((m) => [m.id, m.text, room, s.id]));
  });

  test("chat: history survives a hot reload of the plugin", async () => {
    const mark = edged.mark();
    edged.install("chat.wasm", newVersion("chat"));
    await edged.waitForLog({ msg: "plugin loaded", plugin: "chat" }, { since: mark });
    const { h } = await joinWithHistory(room);
    assert.deepEqual(h.messages.map((m) => m.text), ["one", "two", "three"]);
  });

  test("cecho (C, raw ops): kv-put then kv-get; absent keys are null", async () => {
    const c = await clients.connect("/c");
    const value = { n: 1, s: "C \"quoted\" ✓", list: [true, null] };
    assert.deepEqual(await ack(c, "kv-put", "k1", value), []);
    assert.deepEqual(await ack(c, "kv-get", "k1"), [value]);
    assert.deepEqual(await ack(c, "kv-get", "missing"), [null]);
    assert.deepEqual(await ack(c, "kv-put", "k1", "replaced"), []);
    assert.deepEqual(await ack(c, "kv-get", "k1"), ["replaced"]);
  });

  test("isolation: chat's key name used by cecho holds cecho's value, and chat's history is untouched", async () => {
    const key = `history/${room}/000000000001`; // chat's first message of room
    const c = await clients.connect("/c");
    assert.deepEqual(await ack(c, "kv-get", key), [null], "cecho cannot read chat's key");
    assert.deepEqual(await ack(c, "kv-put", key, "from C"), []);
    assert.deepEqual(await ack(c, "kv-get", key), ["from C"]);
    const { h } = await joinWithHistory(room);
    assert.deepEqual(h.messages.map((m) => m.text), ["one", "two", "three"], "chat still sees its own value");
  });

  test("limits come back as clear errors", async () => {
    const c = await clients.connect("/c");
    assert.deepEqual(await ack(c, "kv-put", "k".repeat(1025), 1), [{ error: "key must be 1 to 1024 bytes (got 1025)" }]);
    assert.deepEqual(await ack(c, "kv-get", ""), [{ error: "key must be 1 to 1024 bytes" }]);
    assert.deepEqual(await ack(c, "kv-put", "k".repeat(1024), 1), []);
    // 800 KB of text is over 1 MiB once base64-encoded: over the output limit
    assert.deepEqual(await ack(c, "kv-put", "big", "x".repeat(800000)), [{ error: "request exceeds the plugin's output limit" }]);
  });

  test("everything survives SIGKILL and a restart on the same --data", async () => {
    await new Promise((r) => setTimeout(r, 500)); // past the store's durability window
    clients.cleanup();
    edged.signal("SIGKILL");
    const { signal } = await edged.exited;
    assert.equal(signal, "SIGKILL");
    await start();
    const { h } = await joinWithHistory(room);
    assert.deepEqual(h.messages.map((m) => [m.id, m.text]), sent.map((m) => [m.id, m.text]));
    const c = await clients.connect("/c");
    assert.deepEqual(await ack(c, "kv-get", "k1"), ["replaced"]);
    assert.deepEqual(await ack(c, "kv-get", `history/${room}/000000000001`), ["from C"]);
  });
});
