// The echo contract (examples/plugins/echo/README.md, examples/plugins/cecho/README.md)
// against the real edged binary with plugins: the Go plugin `echo` on "/" and
// the C plugin `cecho` on "/c", each over every transport mode.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { ack, Clients, MODES, TEST_TIMEOUT_MS, unique, waitEvent, waitMatching, WAIT_MS } from "../lib/harness.mjs";
import { startEdged } from "../lib/edged.mjs";

/** Replaces every binary value (Buffer, ArrayBuffer, view) by a Buffer, recursively, for deepEqual. */
function normalize(v) {
  if (Buffer.isBuffer(v)) return Buffer.from(v);
  if (v instanceof ArrayBuffer) return Buffer.from(v);
  if (ArrayBuffer.isView(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]));
  return v;
}

/** Arguments mixing every JSON type, unicode and binary (top level and nested). */
function sampleArgs() {
  return [
    1,
    "two",
    { nested: { list: [true, null, 3.5, -7], text: "ünïcödé ✓ \"quoted\" \\ back" } },
    Buffer.from([0, 1, 2, 253, 254, 255]),
    [Buffer.from("inner"), { deeper: Buffer.alloc(3, 7) }],
    [],
    {},
  ];
}

const PLUGINS = [
  { title: "echo (Go SDK) on /", nsp: "/", joinError: "invalid arguments", broadcastError: "invalid arguments" },
  { title: "cecho (C, no SDK) on /c", nsp: "/c", joinError: "join wants a room name", broadcastError: "broadcast wants a room name" },
];

describe("echo plugins", () => {
  let edged;
  before(async () => {
    edged = await startEdged({ plugins: ["echo", "cecho"] });
    await edged.waitForLog({ msg: "plugin loaded", plugin: "echo" });
    await edged.waitForLog({ msg: "plugin loaded", plugin: "cecho" });
  });
  after(async () => {
    const { code } = await edged.stop();
    assert.equal(code, 0, `edged exit code\n${edged.logTail()}`);
  });

  for (const p of PLUGINS) {
    describe(p.title, () => {
      for (const mode of Object.keys(MODES)) {
        describe(`over ${mode}`, () => {
          let clients;
          before(() => {
            clients = new Clients(edged, mode);
          });
          afterEach(() => clients.cleanup());
          const test = (name, fn) => it(name, { timeout: TEST_TIMEOUT_MS }, fn);

          test("echo with an ack answers the arguments unchanged, binary included", async () => {
            const s = await clients.connect(p.nsp);
            const answer = await ack(s, "echo", ...sampleArgs());
            assert.deepEqual(normalize(answer), sampleArgs());
            assert.deepEqual(await ack(s, "echo"), [], "no arguments: an empty ack");
            assert.deepEqual(await ack(s, "echo", "x".repeat(100000)), ["x".repeat(100000)], "a 100 kB string");
          });

          test("echo without an ack emits echo back to the sender only", async () => {
            const s = await clients.connect(p.nsp);
            const other = await clients.connect(p.nsp);
            const otherGot = [];
            other.on("echo", (...a) => otherGot.push(a));
            const got = waitEvent(s, "echo");
            s.emit("echo", ...sampleArgs());
            assert.deepEqual(normalize(await got), sampleArgs());
            // the other socket's own echo is the marker: had the first echo gone to it, it would have come first
            const marker = unique("marker-");
            const own = waitMatching(other, "echo", (m) => m === marker);
            other.emit("echo", marker);
            await own;
            assert.deepEqual(otherGot, [[marker]], "the other socket got only its own echo");
          });

          test("join then broadcast reaches every member of the room, the sender included, and nobody else", async () => {
            const [a, b, c] = await Promise.all([clients.connect(p.nsp), clients.connect(p.nsp), clients.connect(p.nsp)]);
            const room = unique("room-");
            const elsewhere = unique("elsewhere-");
            assert.deepEqual(await ack(a, "join", room), []);
            assert.deepEqual(await ack(b, "join", room), []);
            assert.deepEqual(await ack(c, "join", elsewhere), []);
            const cGot = [];
            c.on("msg", (...m) => cGot.push(m));
            const payload = { text: "hello room", bin: Buffer.from([9, 8, 7]), n: 42 };
            const aGets = waitEvent(a, "msg");
            const bGets = waitEvent(b, "msg");
            assert.deepEqual(await ack(a, "broadcast", room, payload), []);
            assert.deepEqual(normalize(await aGets), [payload], "the sender, in the room, gets msg");
            assert.deepEqual(normalize(await bGets), [payload], "the other member gets msg");
            // marker: a broadcast from the same sender to the room c is in, sent after the first
            const marker = unique("marker-");
            const cMarker = waitMatching(c, "msg", (m) => m === marker);
            assert.deepEqual(await ack(a, "broadcast", elsewhere, marker), []);
            await cMarker;
            assert.deepEqual(cGot, [[marker]], "the socket outside the room got nothing before the marker");
          });

          test("join and broadcast without a room name answer an error ack", async () => {
            const s = await clients.connect(p.nsp);
            assert.deepEqual(await ack(s, "join", 42), [{ error: p.joinError }]);
            assert.deepEqual(await ack(s, "broadcast", { not: "a room" }, "payload"), [{ error: p.broadcastError }]);
            // the socket is still served
            assert.deepEqual(await ack(s, "echo", "still here"), ["still here"]);
            assert.ok(s.connected);
          });

          if (p.nsp === "/c") {
            test("the connect middleware refuses auth.deny with its message and data", async () => {
              const s = clients.socket(p.nsp, { auth: { deny: true } });
              const [err] = await waitEvent(s, "connect_error", { failOn: ["connect"] });
              assert.equal(err.message, "c says no");
              assert.deepEqual(err.data, { reason: "deny" });
              const ok = await clients.connect(p.nsp, { auth: { deny: false } });
              assert.deepEqual(await ack(ok, "echo", "admitted"), ["admitted"]);
            });
          }
        });
      }
    });
  }

  it("an unknown namespace is refused with \"Invalid namespace\"", { timeout: TEST_TIMEOUT_MS }, async () => {
    const clients = new Clients(edged, "websocket");
    try {
      const s = clients.socket(unique("/nobody-"));
      const [err] = await waitEvent(s, "connect_error", { failOn: ["connect"], timeoutMs: WAIT_MS });
      assert.equal(err.message, "Invalid namespace");
    } finally {
      clients.cleanup();
    }
  });
});
