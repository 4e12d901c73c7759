// Issue 4, must-show 2: connection state recovery across a graceful stop
// (SIGTERM: sockets are disconnected with "server shutting down", their
// sessions persisted, the store closed; exit 0), and a session older than
// --max-disconnection-duration is not recovered (a fresh id, no stale rooms,
// fresh data).
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { ack, unique, waitEvent, waitMatching } from "../lib/harness.mjs";
import { RestartableEdged, chatClient, closeAll, joinRoom, presence, say } from "../lib/restart.mjs";

const allGot = (sockets, text) => Promise.all(sockets.map((s) => waitMatching(s, "message", (m) => m.text === text)));

describe("restart after SIGTERM (--data, --connection-state-recovery)", () => {
  const servers = [];
  let sockets = [];
  after(async () => {
    closeAll(sockets);
    for (const s of servers) await s.cleanup();
  });

  it("every client recovers id, rooms and data; the cut client gets what it missed once, in order", { timeout: 60000 }, async () => {
    const server = new RestartableEdged(["--connection-state-recovery"]);
    servers.push(server);
    await server.start();
    const r1 = unique("r1-");
    const [na, nc] = [unique("a_"), unique("c_")];
    const a = await chatClient(server.url, { nick: na });
    const c = await chatClient(server.url, { nick: nc });
    sockets = [a, c];
    await joinRoom(a, r1);
    await joinRoom(c, r1);
    let got = allGot([a, c], "before");
    await say(a, r1, "before");
    await got;
    const ids = { a: a.id, c: c.id };

    c.io.reconnection(false);
    const cLeft = waitMatching(a, "notice", (n) => n.type === "leave" && n.id === ids.c);
    c.io.engine.close();
    await cLeft;
    got = allGot([a], "m2");
    for (const text of ["m1", "m2"]) await say(a, r1, text);
    await got;

    const aBack = waitEvent(a, "connect", { timeoutMs: 30000 });
    const { code } = await server.kill("SIGTERM");
    assert.equal(code, 0, "graceful stop exits 0");
    await server.start();
    await aBack;
    assert.equal(a.recovered, true, "a recovered");
    assert.equal(a.id, ids.a);
    c.io.reconnection(true);
    const cBack = waitEvent(c, "connect", { timeoutMs: 30000 });
    c.connect();
    await cBack;
    assert.equal(c.recovered, true, "the cut client recovered");
    assert.equal(c.id, ids.c);
    assert.deepEqual(await presence(a, r1), [`${ids.a}:${na}`, `${ids.c}:${nc}`].sort());
    got = allGot([a, c], "after");
    await say(a, r1, "after");
    await got;
    assert.deepEqual(c.messages, ["before", "m1", "m2", "after"], "the cut client: every missed message, in order, once");
    assert.deepEqual(a.messages, ["before", "m1", "m2", "after"]);
    closeAll(sockets);
  });

  it("a session older than --max-disconnection-duration is not recovered", { timeout: 60000 }, async () => {
    const server = new RestartableEdged(["--connection-state-recovery", "--max-disconnection-duration", "1s"]);
    servers.push(server);
    await server.start();
    const r1 = unique("r1-");
    const a = await chatClient(server.url);
    sockets = [a];
    assert.equal((await ack(a, "nick", unique("a_")))[0].ok, true);
    await joinRoom(a, r1);
    const got = allGot([a], "hello");
    await say(a, r1, "hello");
    await got; // a has an offset to present
    const oldID = a.id;

    const aBack = waitEvent(a, "connect", { timeoutMs: 30000 });
    const { code } = await server.kill("SIGTERM");
    assert.equal(code, 0);
    // a real time requirement: the session must outlive --max-disconnection-duration (1s)
    await sleep(1500);
    await server.start();
    await aBack;
    assert.equal(a.recovered, false, "not recovered");
    assert.notEqual(a.id, oldID, "a fresh id");
    assert.deepEqual(await presence(a, r1), [], "no stale rooms");
    assert.equal((await ack(a, "nick", unique("a_")))[0].ok, true, "fresh data: no nick yet");
  });
});
