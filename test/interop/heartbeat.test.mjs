// Heartbeat and connect timeout, with short settings: the server pings every
// PING_INTERVAL and closes a client that does not answer within PING_TIMEOUT;
// a connection that joins no namespace is closed after CONNECT_TIMEOUT.
import assert from "node:assert/strict";
import { ack, perModeSuite, waitEvent } from "../lib/harness.mjs";

const PING_INTERVAL = 200;
const PING_TIMEOUT = 400;
const CONNECT_TIMEOUT = 600;

perModeSuite(`heartbeat (ping every ${PING_INTERVAL} ms, timeout ${PING_TIMEOUT} ms) and connect timeout (${CONNECT_TIMEOUT} ms)`, [
      "-ping-interval", `${PING_INTERVAL}ms`,
      "-ping-timeout", `${PING_TIMEOUT}ms`,
      "-connect-timeout", `${CONNECT_TIMEOUT}ms`,
    ], (suite) => {
  const { mode, test } = suite;

  test("the handshake announces the ping settings", async () => {
    const s = await suite.clients.connect();
    assert.equal(s.io.engine._pingInterval, PING_INTERVAL);
    assert.equal(s.io.engine._pingTimeout, PING_TIMEOUT);
  });

  test("a client that answers the pings stays connected across several of them", async () => {
    const s = await suite.clients.connect();
    const engineId = s.io.engine.id;
    for (let i = 0; i < 4; i++) await waitEvent(s.io, "ping", { timeoutMs: PING_INTERVAL + PING_TIMEOUT + 2000 });
    assert.equal(s.connected, true);
    assert.equal(s.io.engine.id, engineId, "same Engine.IO session");
    assert.deepEqual(await ack(s, "echo", "alive"), ["alive"]);
  });

  test("a client that stops answering pings is closed with \"ping timeout\"", async () => {
    const s = await suite.clients.connect();
    const id = s.id;
    const engine = s.io.engine;
    let pings = 0;
    engine.on("ping", () => pings++);
    // the client freezes: it still reads, but no longer answers pings
    const send = engine._sendPacket;
    engine._sendPacket = function (type, ...rest) {
      if (type === "pong") return undefined;
      return send.call(this, type, ...rest);
    };
    const disconnected = waitEvent(s, "disconnect", { timeoutMs: 4 * (PING_INTERVAL + PING_TIMEOUT) + 2000 });
    assert.equal((await suite.server.disconnectReport(id)).reason, "ping timeout");
    assert.equal((await disconnected)[0], "transport close");
    assert.ok(pings >= 1, "the server pinged before giving up");
  });

  test("a connection that joins no namespace is closed after connectTimeout", async () => {
    const started = Date.now();
    const m = suite.clients.manager(); // opens the Engine.IO connection, joins no namespace
    await waitEvent(m, "open");
    const [reason] = await waitEvent(m, "close", { timeoutMs: CONNECT_TIMEOUT + 3000 });
    const elapsed = Date.now() - started;
    assert.equal(reason, "transport close");
    assert.ok(elapsed >= CONNECT_TIMEOUT - 50, `closed after ${elapsed} ms`);
  });
});
