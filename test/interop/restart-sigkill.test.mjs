// Issue 4, must-show 1: connection state recovery survives a crash. Official
// clients of the chat plugin are in rooms with data (their nick); one
// client's transport is cut; messages are broadcast to its room; edged (with
// --data and --connection-state-recovery) is killed with SIGKILL after the
// store's durability window and started again on the same port and data
// directory. Every client reconnects by itself with socket.recovered, the
// same id, rooms and data, and the cut client gets every message it missed,
// in order, exactly once.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { ack, unique, waitEvent, waitMatching } from "../lib/harness.mjs";
import { FLUSH_INTERVAL_MS, RestartableEdged, chatClient, closeAll, joinRoom, presence, say } from "../lib/restart.mjs";

/** Resolves once every socket got the chat message text. */
const allGot = (sockets, text) => Promise.all(sockets.map((s) => waitMatching(s, "message", (m) => m.text === text)));

describe("restart after SIGKILL (--data, --connection-state-recovery)", () => {
  const server = new RestartableEdged(["--connection-state-recovery"]);
  let sockets = [];
  before(() => server.start());
  after(async () => {
    closeAll(sockets);
    await server.cleanup();
  });

  it("every client recovers id, rooms and data; the cut client gets what it missed once, in order", { timeout: 60000 }, async () => {
    const r1 = unique("r1-");
    const r2 = unique("r2-");
    const [na, nb, nc] = [unique("a_"), unique("b_"), unique("c_")];
    const a = await chatClient(server.url, { nick: na });
    const b = await chatClient(server.url, { nick: nb });
    const c = await chatClient(server.url, { nick: nc });
    sockets = [a, b, c];
    await joinRoom(a, r1);
    await joinRoom(b, r1);
    await joinRoom(b, r2);
    await joinRoom(c, r1);
    // every client gets a recoverable packet: its offset is what it presents when it comes back
    let got = allGot([a, b, c], "before");
    await say(a, r1, "before");
    await got;
    const ids = { a: a.id, b: b.id, c: c.id };

    // cut c's transport and keep it away until told
    c.io.reconnection(false);
    const cLeft = waitMatching(a, "notice", (n) => n.type === "leave" && n.id === ids.c); // the server saw it go
    c.io.engine.close();
    await cLeft;
    got = allGot([a, b], "m3");
    for (const text of ["m1", "m2", "m3"]) await say(a, r1, text);
    await got;

    // The store writes session snapshots and packets every --data-flush-interval
    // (50 ms, the documented durability window): wait past it, so that the
    // SIGKILL below loses nothing that a client was told.
    await sleep(FLUSH_INTERVAL_MS * 4);
    const back = [a, b].map((s) => waitEvent(s, "connect", { timeoutMs: 30000 }));
    const { signal } = await server.kill("SIGKILL");
    assert.equal(signal, "SIGKILL");
    await server.start();
    await Promise.all(back);
    for (const [name, s] of Object.entries({ a, b })) {
      assert.equal(s.recovered, true, `${name} recovered`);
      assert.equal(s.id, ids[name], `${name} keeps its id`);
    }
    c.io.reconnection(true);
    const cBack = waitEvent(c, "connect", { timeoutMs: 30000 });
    c.connect();
    await cBack;
    assert.equal(c.recovered, true, "the cut client recovered");
    assert.equal(c.id, ids.c, "the cut client keeps its id");

    // rooms and data (nick) came back: chat's presence reads both
    assert.deepEqual(await presence(a, r1), [`${ids.a}:${na}`, `${ids.b}:${nb}`, `${ids.c}:${nc}`].sort());
    assert.deepEqual(await presence(b, r2), [`${ids.b}:${nb}`]);
    assert.deepEqual(await ack(c, "nick", unique("x_")), [{ error: "nick already set" }], "c's data kept its nick");
    // a message after the replay reaches every member of r1; what came before it is all there is
    got = allGot([a, b, c], "after");
    await say(b, r1, "after");
    await got;
    assert.deepEqual(c.messages, ["before", "m1", "m2", "m3", "after"], "the cut client: every missed message, in order, once");
    assert.deepEqual(a.messages, ["before", "m1", "m2", "m3", "after"]);
    assert.deepEqual(b.messages, ["before", "m1", "m2", "m3", "after"]);
  });
});
