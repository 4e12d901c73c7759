// Hot reload under load (docs/ABI.md §8): 500 websocket clients emit with
// acks continuously on a plugin namespace while the plugin's file is
// replaced several times. No client is disconnected, every ack is answered,
// and after each swap every client sees the new behaviour; a broken file
// keeps the old version serving and the log says why.
//
// The plugin is test/fixtures/reload.wat: it acks "ver" with "ver-0". Each
// version is that module with the digit replaced, so versions differ in one
// byte and in what they answer.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { io } from "socket.io-client";
import { startEdged, wasmPath } from "../lib/edged.mjs";

const CLIENTS = 500;
const BATCH = 50; // clients connecting at once
const PACE_MS = 50; // each client waits this long between an ack and its next emit
const ACK_TIMEOUT_MS = 10000;
const MAX_PER_CLIENT = 1000; // bound on the messages of one client
const WAIT_SWAP_MS = 15000; // deadline for a swap to be logged and seen by every client

/** The reload fixture answering "ver-<digit>". */
function variant(digit) {
  const base = readFileSync(wasmPath("reload"));
  const at = base.indexOf("ver-0");
  assert.ok(at > 0 && base.indexOf("ver-0", at + 1) < 0, "one ver-0 in reload.wasm");
  const out = Buffer.from(base);
  out[at + 4] = 0x30 + digit;
  return out;
}

/** The version edged logs for a module: the first 12 hex digits of its sha256. */
const versionOf = (wasm) => createHash("sha256").update(wasm).digest("hex").slice(0, 12);

describe("hot reload under load", () => {
  let edged;
  before(async () => {
    edged = await startEdged({ plugins: ["reload"] });
  });
  after(async () => {
    const { code } = await edged.stop();
    assert.equal(code, 0, `edged exit code\n${edged.logTail()}`);
  });

  it(`${CLIENTS} clients emitting with acks while the plugin is swapped: no disconnect, every ack answered, each new version seen; a broken file is refused`, { timeout: 60000 }, async (t) => {
    const started = performance.now();
    // phase: what an emit sent now must be answered with (null: either, during a swap)
    let expected = "ver-0";
    let stopping = false;
    let disconnects = 0;
    const problems = [];
    let sent = 0;
    let answered = 0;
    const clients = [];
    const sockets = [];

    const loop = async (c) => {
      while (!stopping && c.count < MAX_PER_CLIENT) {
        const want = expected;
        sent++;
        c.count++;
        let answer;
        try {
          answer = await c.s.timeout(ACK_TIMEOUT_MS).emitWithAck("ver");
        } catch (err) {
          problems.push(`client ${c.i}: no ack within ${ACK_TIMEOUT_MS} ms (${err.message})`);
          return;
        }
        answered++;
        if (want !== null && answer !== want) {
          problems.push(`client ${c.i}: sent while ${want} served, answered ${JSON.stringify(answer)}`);
        }
        c.last = answer;
        for (const w of c.waiters.splice(0)) w(answer);
        if (!stopping) await new Promise((r) => setTimeout(r, PACE_MS)); // pacing, bounded load
      }
    };

    /** Resolves once every client got `value` for an emit sent after this call. */
    const everyClientSees = (value) =>
      Promise.all(
        clients.map(
          (c) =>
            new Promise((resolve) => {
              const check = (answer) => (answer === value ? resolve() : c.waiters.push(check));
              c.waiters.push(check);
            }),
        ),
      );

    const withDeadline = (p, ms, what) => {
      let timer;
      return Promise.race([p, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)))]).finally(() => clearTimeout(timer));
    };

    try {
      // connect in batches
      for (let i = 0; i < CLIENTS; i += BATCH) {
        const batch = [];
        for (let j = i; j < Math.min(i + BATCH, CLIENTS); j++) {
          const s = io(`${edged.url}/reload`, { forceNew: true, reconnection: false, transports: ["websocket"] });
          sockets.push(s);
          batch.push(
            new Promise((resolve, reject) => {
              s.once("connect", resolve);
              s.once("connect_error", reject);
            }).then(() => {
              s.on("disconnect", (reason) => {
                if (!stopping) {
                  disconnects++;
                  problems.push(`client ${j} disconnected: ${reason}`);
                }
              });
              return { i: j, s, count: 0, last: undefined, waiters: [] };
            }),
          );
        }
        clients.push(...(await withDeadline(Promise.all(batch), 20000, `connecting clients ${i}..${i + BATCH - 1}`)));
      }
      const connectedMs = performance.now() - started;
      const loops = clients.map(loop);
      await withDeadline(everyClientSees("ver-0"), WAIT_SWAP_MS, "every client answered by the first version");

      // swaps: new versions of the module (atomic rename, in-place write), and one settings-only change
      const swaps = [
        { digit: 1, atomic: true },
        { digit: 2, atomic: false },
        { settings: { pool_size: 1 } },
        { digit: 3, atomic: true },
        { digit: 1, atomic: false }, // back to an earlier version's bytes: still a change
      ];
      let current = "ver-0";
      for (const swap of swaps) {
        const mark = edged.mark();
        if (swap.settings) {
          const before = sent;
          edged.install("reload.json", Buffer.from(JSON.stringify(swap.settings)));
          await edged.waitForLog({ msg: "plugin loaded", plugin: "reload" }, { since: mark, timeoutMs: WAIT_SWAP_MS, what: "the reload of a settings change" });
          await withDeadline(everyClientSees(current), WAIT_SWAP_MS, "every client answered after the settings change");
          t.diagnostic(`settings change reloaded; ${sent - before} emits meanwhile`);
          continue;
        }
        const wasm = variant(swap.digit);
        const next = `ver-${swap.digit}`;
        expected = null; // either version may answer while the swap is under way
        const t0 = performance.now();
        edged.install("reload.wasm", wasm, { atomic: swap.atomic });
        const line = await edged.waitForLog({ msg: "plugin loaded", plugin: "reload", version: versionOf(wasm) }, { since: mark, timeoutMs: WAIT_SWAP_MS, what: `the swap to ${next}` });
        assert.equal(line.namespaces, "[/reload]");
        // from now on every emit must be answered by the new version
        expected = next;
        current = next;
        await withDeadline(everyClientSees(next), WAIT_SWAP_MS, `every client answered by ${next}`);
        t.diagnostic(`swap to ${next} (${swap.atomic ? "rename" : "in-place write"}): logged and seen by all ${CLIENTS} clients in ${(performance.now() - t0).toFixed(0)} ms`);
        assert.deepEqual(problems, []);
      }

      // a broken file: the old version keeps serving, the log says why
      const mark = edged.mark();
      edged.install("reload.wasm", Buffer.from("this is not a WebAssembly module\n"), { atomic: true });
      const failed = await edged.waitForLog({ msg: "plugin reload failed", plugin: "reload" }, { since: mark, timeoutMs: WAIT_SWAP_MS });
      assert.equal(failed.level, "ERROR");
      assert.match(failed.err, /^plugin reload: not a WebAssembly module: /);
      await withDeadline(everyClientSees(current), WAIT_SWAP_MS, `every client still answered by ${current}`);
      // a module cut short fails the same way
      const mark2 = edged.mark();
      const whole = variant(7);
      edged.install("reload.wasm", whole.subarray(0, Math.floor(whole.length / 2)), { atomic: false });
      const failed2 = await edged.waitForLog({ msg: "plugin reload failed", plugin: "reload" }, { since: mark2, timeoutMs: WAIT_SWAP_MS });
      assert.match(failed2.err, /^plugin reload: not a WebAssembly module: /);
      await withDeadline(everyClientSees(current), WAIT_SWAP_MS, `every client still answered by ${current} after a truncated file`);
      assert.equal(edged.logs({ msg: "plugin loaded", plugin: "reload" }, mark).length, 0, "no version was loaded from the broken files");

      stopping = true;
      await withDeadline(Promise.all(loops), ACK_TIMEOUT_MS + 2000, "the emit loops to end");
      const elapsed = performance.now() - started;
      t.diagnostic(`${CLIENTS} clients connected in ${connectedMs.toFixed(0)} ms; ${sent} emits, ${answered} acks, ${disconnects} disconnects in ${(elapsed / 1000).toFixed(1)} s`);
      assert.deepEqual(problems, []);
      assert.equal(disconnects, 0, "no client was disconnected");
      assert.equal(answered, sent, "every emit was answered");
      assert.ok(clients.every((c) => c.s.connected), "every client is still connected");
      assert.ok(clients.every((c) => c.count < MAX_PER_CLIENT), "the run ended before any client reached its message bound");
    } finally {
      stopping = true;
      for (const s of sockets) s.disconnect();
    }
  });
});
