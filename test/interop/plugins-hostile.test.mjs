// Hostile plugins (test/fixtures/README.md) in the real edged binary, driven
// by socket.io-client: a fault fails that call only (ack {"error": "plugin
// error"}, docs/ABI.md §7) and is logged; other sockets are served meanwhile;
// host memory stays bounded; the next call runs on a fresh instance. Modules
// that must not load are refused with the exact messages of ABI §2, at
// start-up (edged exits 1) and on hot reload (the rest keeps serving).
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { ack, ackWithin, Clients, unique, waitEvent } from "../lib/harness.mjs";
import { launchEdged, startEdged } from "../lib/edged.mjs";

const TIMEOUT = 30000;

/** The faults: what the ack says and what the log's err says. */
const FAULTS = [
  { name: "spin", error: "plugin error", err: /deadline|timeout|timed out|closed/i, minMs: 900 },
  { name: "trap", error: "plugin error", err: /wasm error: unreachable/ },
  { name: "membomb", error: "plugin error", err: /wasm error: unreachable/ },
];

/** The modules that must fail to load, with the exact messages of docs/ABI.md §2. */
const INVALID = {
  noexports: 'plugin noexports: missing export "edged_on"',
  wrongabi: "plugin wrongabi: speaks ABI edged_v2, this host speaks edged_v1",
  initfail: "plugin initfail: init failed with status -1: init refused",
  badsig: 'plugin badsig: export "edged_on" has signature (i32) -> i32, want (i32, i32) -> i32',
};

/**
 * Emits echo acks on a bystander socket until `until` settles; resolves with
 * the number of answers and the slowest round trip. Every answer is checked.
 */
async function echoWhile(socket, until) {
  let done = false;
  until.then(() => (done = true), () => (done = true));
  let n = 0;
  let slowest = 0;
  while (!done) {
    const t0 = performance.now();
    const v = unique("e");
    assert.deepEqual(await ackWithin(2000, socket, "echo", v), [v], "bystander echo");
    slowest = Math.max(slowest, performance.now() - t0);
    n++;
  }
  return { n, slowest };
}

describe("hostile plugins at run time", () => {
  let edged;
  let clients;
  before(async () => {
    // default limits: call_timeout_ms 1000, memory_pages 512 (32 MiB), max_output_bytes 1 MiB
    edged = await startEdged({ plugins: ["echo", "spin", "trap", "membomb", "hugeoutput"] });
    clients = new Clients(edged, "websocket");
  });
  afterEach(() => clients.cleanup());
  after(async () => {
    const { code } = await edged.stop();
    assert.equal(code, 0, `edged exit code\n${edged.logTail()}`);
  });

  for (const f of FAULTS) {
    it(`${f.name}: the ack says "plugin error", the log says why, a bystander is served meanwhile, and the next call fails the same clean way`, { timeout: TIMEOUT }, async (t) => {
      const mark = edged.mark();
      const bystander = await clients.connect("/");
      const hostile = await clients.connect(`/hostile-${f.name}`);
      let disconnected = null;
      hostile.on("disconnect", (r) => (disconnected = r));

      const t0 = performance.now();
      const answer = ackWithin(5000, hostile, "go");
      const during = await echoWhile(bystander, answer);
      assert.deepEqual(await answer, [{ error: f.error }]);
      const took = performance.now() - t0;
      if (f.minMs) assert.ok(took >= f.minMs, `${f.name} was stopped at the call deadline, not before (${took.toFixed(0)} ms)`);
      assert.ok(took < 4000, `${f.name} answered within the deadline (${took.toFixed(0)} ms)`);
      assert.ok(during.n >= 1, "the bystander was answered while the fault ran");
      assert.ok(during.slowest < 1000, `bystander round trips stayed fast (slowest ${during.slowest.toFixed(0)} ms)`);

      const line = await edged.waitForLog({ msg: "plugin call failed", plugin: f.name, kind: "3" }, { since: mark });
      assert.equal(line.level, "ERROR");
      assert.match(line.version, /^[0-9a-f]{12}$/);
      assert.match(line.err, f.err);
      t.diagnostic(`${f.name}: ack after ${took.toFixed(0)} ms; ${during.n} bystander echoes meanwhile (slowest ${during.slowest.toFixed(1)} ms); log err=${line.err}`);

      // the next call runs on a fresh instance and fails the same way (it does not hang)
      assert.deepEqual(await ackWithin(5000, hostile, "go"), [{ error: f.error }]);
      await edged.waitForLog((l) => edged.logs({ msg: "plugin call failed", plugin: f.name }, mark).length >= 2, { what: "a second failure logged" });
      assert.equal(disconnected, null, "the faulting socket stays connected");
      assert.ok(hostile.connected);
      assert.deepEqual(await ack(bystander, "echo", "after"), ["after"]);
    });
  }

  it("hugeoutput: a 4 MiB emit is refused as too large, the guest's error reaches the ack, nothing big is delivered, the instance stays", { timeout: TIMEOUT }, async () => {
    const mark = edged.mark();
    const bystander = await clients.connect("/");
    const hostile = await clients.connect("/hostile-hugeoutput");
    const big = [];
    hostile.on("big", (...a) => big.push(a));
    for (let i = 0; i < 3; i++) {
      const answer = ackWithin(5000, hostile, "go");
      await echoWhile(bystander, answer);
      assert.deepEqual(await answer, [{ error: "hugeoutput: refused as too large" }]);
    }
    const line = await edged.waitForLog({ msg: "plugin handler failed", plugin: "hugeoutput" }, { since: mark });
    assert.equal(line.err, "hugeoutput: refused as too large");
    assert.equal(edged.logs({ msg: "plugin call failed", plugin: "hugeoutput" }, mark).length, 0, "not a fault");
    // marker: a later answer on the same connection; a "big" sent by the refused emits would have come first
    assert.deepEqual(await ack(hostile, "go"), [{ error: "hugeoutput: refused as too large" }]);
    assert.deepEqual(big, [], "no big event was delivered");
    assert.ok(hostile.connected);
  });

  it("membomb: host memory stays bounded over repeated and concurrent memory bombs", { timeout: TIMEOUT }, async (t) => {
    const before = edged.rssKiB();
    const sockets = await Promise.all([0, 1, 2, 3].map(() => clients.connect("/hostile-membomb")));
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all(sockets.map((s) => ackWithin(8000, s, "go")));
      for (const a of answers) assert.deepEqual(a, [{ error: "plugin error" }]);
    }
    const afterKiB = edged.rssKiB();
    t.diagnostic(`edged RSS ${Math.round(before / 1024)} MiB before, ${Math.round(afterKiB / 1024)} MiB after 12 memory bombs`);
    // 12 bombs of 32 MiB each; a host without the cap would grow each to 4 GiB
    assert.ok(afterKiB < 600 * 1024, `edged RSS ${Math.round(afterKiB / 1024)} MiB (< 600 MiB); before ${Math.round(before / 1024)} MiB`);
    const bystander = await clients.connect("/");
    assert.deepEqual(await ack(bystander, "echo", "fine"), ["fine"]);
  });
});

describe("modules that must not load", () => {
  for (const [name, message] of Object.entries(INVALID)) {
    it(`${name} at start-up: edged exits 1 with "${message}"`, { timeout: TIMEOUT }, async () => {
      const edged = launchEdged({ plugins: ["echo", name] });
      const { code } = await edged.exited;
      await edged.stop();
      assert.equal(code, 1, `exit code\n${edged.logTail()}`);
      assert.ok(edged.logs((l) => l.line === `edged: ${message}`).length === 1, `stderr has "edged: ${message}"\n${edged.logTail()}`);
    });
  }

  it("several bad modules at start-up: edged exits 1 and the error lists every failing file (docs/ABI.md §2, all-or-nothing)", { timeout: TIMEOUT }, async () => {
    const edged = launchEdged({ plugins: ["echo", "noexports", "badsig", "initfail"] });
    const { code } = await edged.exited;
    await edged.stop();
    assert.equal(code, 1, `exit code\n${edged.logTail()}`);
    const text = edged.logs(() => true).map((l) => l.line).join("\n");
    for (const name of ["noexports", "badsig", "initfail"]) assert.ok(text.includes(INVALID[name]), `the error names ${name}: ${INVALID[name]}\n${text}`);
    assert.equal(edged.logs({ msg: "edged listening" }).length, 0, "edged never listened");
  });

  describe("on hot reload", () => {
    let edged;
    let clients;
    before(async () => {
      edged = await startEdged({ plugins: ["echo"] });
      clients = new Clients(edged, "websocket");
    });
    afterEach(() => clients.cleanup());
    after(async () => {
      const { code } = await edged.stop();
      assert.equal(code, 0, `edged exit code\n${edged.logTail()}`);
    });

    for (const [name, message] of Object.entries(INVALID)) {
      it(`${name} added to the directory: "plugin reload failed" with the exact message, echo keeps serving`, { timeout: TIMEOUT }, async () => {
        const s = await clients.connect("/");
        const mark = edged.mark();
        edged.install(`${name}.wasm`, name);
        const line = await edged.waitForLog({ msg: "plugin reload failed", plugin: name }, { since: mark });
        assert.equal(line.level, "ERROR");
        assert.equal(line.err, message);
        assert.deepEqual(await ack(s, "echo", "still"), ["still"]);
        if (name === "initfail") {
          // the declaration made before the failure did not take effect
          const c = clients.socket("/hostile-initfail");
          const [err] = await waitEvent(c, "connect_error", { failOn: ["connect"] });
          assert.equal(err.message, "Invalid namespace");
        }
      });
    }

    it("an invalid module written over echo.wasm: the old echo keeps serving its connected and new sockets", { timeout: TIMEOUT }, async () => {
      const s = await clients.connect("/");
      const mark = edged.mark();
      edged.install("echo.wasm", "badsig");
      const line = await edged.waitForLog({ msg: "plugin reload failed", plugin: "echo" }, { since: mark });
      assert.equal(line.err, INVALID.badsig.replace("plugin badsig", "plugin echo"));
      assert.deepEqual(await ack(s, "echo", "old one"), ["old one"]);
      const fresh = await clients.connect("/");
      assert.deepEqual(await ack(fresh, "echo", 1, Buffer.from([1])).then((a) => [a[0], Buffer.from(a[1])]), [1, Buffer.from([1])]);
      assert.ok(s.connected);
    });
  });
});
