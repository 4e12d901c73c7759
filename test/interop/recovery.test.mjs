// Connection state recovery (server started with -recovery): a client whose
// transport is cut gets back its id, rooms and data, and every packet it
// missed, in order, exactly once.
import assert from "node:assert/strict";
import { ack, perModeSuite, unique, waitEvent } from "../lib/harness.mjs";

// The client reconnects by itself after this delay, long enough for the test
// to send the packets it misses (which takes milliseconds).
const RECONNECT_DELAY_MS = 1000;

perModeSuite("connection state recovery", ["-recovery"], (suite) => {
  const { mode, test } = suite;

  /**
   * The news values a socket receives. With recovery on, the server appends
   * the packet's offset as a last string argument (the client keeps the last
   * one to present when it reconnects); values without it are marked.
   */
  function newsLog(socket) {
    const values = [];
    socket.on("news", (value, offset) => values.push(typeof offset === "string" ? value : `${value} (no offset)`));
    return values;
  }

  async function recoverAfter(cut, expectedClientReason, expectedServerReason) {
    const room = unique("room-");
    const broadcaster = await suite.clients.connect();
    const s = await suite.clients.connect("/", { reconnection: true, reconnectionDelay: RECONNECT_DELAY_MS, randomizationFactor: 0 });
    const news = newsLog(s);
    await ack(s, "join", room);
    await ack(s, "set-data", { nick: "sam" });
    // a first packet gives the client an offset to present when it comes back
    const first = waitEvent(s, "news");
    await ack(broadcaster, "broadcast", { to: room, event: "news", args: ["before"] });
    await first;
    const id = s.id;

    const disconnected = waitEvent(s, "disconnect");
    cut(s);
    assert.equal((await disconnected)[0], expectedClientReason);
    assert.equal((await suite.server.disconnectReport(id)).reason, expectedServerReason);
    let reconnectStarted = false;
    s.io.once("reconnect_attempt", () => (reconnectStarted = true));
    const reconnected = waitEvent(s, "connect", { timeoutMs: RECONNECT_DELAY_MS + 5000 });

    // sent while the client is away
    for (const value of ["missed-1", "missed-2", "missed-3"]) {
      await ack(broadcaster, "broadcast", { to: room, event: "news", args: [value] });
    }
    await ack(broadcaster, "broadcast", { to: unique("other-"), event: "news", args: ["another room"] });
    await ack(broadcaster, "broadcast", { except: room, event: "news", args: ["room excluded"] });
    await ack(broadcaster, "broadcast", { to: room, volatile: true, event: "news", args: ["volatile"] });
    assert.equal(reconnectStarted, false, "the client came back before the missed packets were sent; raise RECONNECT_DELAY_MS");

    await reconnected;
    assert.equal(s.recovered, true, "socket.recovered");
    assert.equal(s.id, id, "same socket id");
    // acks come after the replayed packets on the connection
    assert.deepEqual(await ack(s, "echo", "sync"), ["sync"]);
    assert.deepEqual(news, ["before", "missed-1", "missed-2", "missed-3"], "missed packets replayed in order, exactly once");

    const [me] = await ack(s, "whoami");
    assert.equal(me.recovered, true);
    assert.equal(me.id, id);
    assert.deepEqual(me.rooms, [id, room].sort(), "rooms restored");
    assert.deepEqual(me.data, { nick: "sam" }, "socket.data restored");

    // and the restored room membership is live
    const live = waitEvent(s, "news");
    await ack(broadcaster, "broadcast", { to: room, event: "news", args: ["after"] });
    await live;
    assert.deepEqual(await ack(s, "echo", "sync"), ["sync"]);
    assert.deepEqual(news, ["before", "missed-1", "missed-2", "missed-3", "after"]);
  }

  test("the client's transport is cut: same id, rooms, data, and the missed packets replayed", async () => {
    await recoverAfter((s) => s.io.engine.close(), "forced close", "transport close");
  });

  test("the server closes the transport: same id, rooms, data, and the missed packets replayed", async () => {
    await recoverAfter((s) => s.emit("cut-transport"), "transport close", "forced close");
  });

  test("a client that disconnected on purpose starts a new session", async () => {
    const s = await suite.clients.connect();
    const room = unique("room-");
    await ack(s, "join", room);
    const first = waitEvent(s, "news");
    await ack(s, "broadcast", { to: room, event: "news", args: ["x"] });
    await first;
    const id = s.id;
    s.disconnect();
    assert.equal((await suite.server.disconnectReport(id)).reason, "client namespace disconnect");
    s.connect();
    await suite.clients.connected(s);
    assert.equal(s.recovered, false, "socket.recovered");
    assert.notEqual(s.id, id);
    const [me] = await ack(s, "whoami");
    assert.deepEqual(me.rooms, [s.id]);
    assert.equal(me.recovered, false);
  });
});
