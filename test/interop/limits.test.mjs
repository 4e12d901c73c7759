// maxHttpBufferSize: a message larger than the limit closes the connection.
import assert from "node:assert/strict";
import { ack, perModeSuite, waitEvent } from "../lib/harness.mjs";

const LIMIT = 10_000;

// What the official client reports when the server refuses its oversized
// message: the polling POST fails (HTTP 413), a websocket is closed.
const CLIENT_REASON = { polling: "transport error", websocket: "transport close", upgrade: "transport close" };

perModeSuite(`maxHttpBufferSize (${LIMIT} bytes)`, ["-max-http-buffer-size", String(LIMIT)], (suite) => {
  const { mode, test } = suite;

  test("the handshake announces the limit as maxPayload", async () => {
    const s = await suite.clients.connect();
    assert.equal(s.io.engine._maxPayload, LIMIT);
  });

  test("a message under the limit goes through", async () => {
    const s = await suite.clients.connect();
    const text = "a".repeat(LIMIT - 1000);
    assert.deepEqual(await ack(s, "echo", text), [text]);
  });

  test("a message over the limit closes the connection", async () => {
    const s = await suite.clients.connect();
    const id = s.id;
    const disconnected = waitEvent(s, "disconnect");
    let acked = false;
    s.emit("echo", "b".repeat(2 * LIMIT), () => (acked = true));
    assert.equal((await disconnected)[0], CLIENT_REASON[mode]);
    const report = await suite.server.disconnectReport(id);
    if (mode !== "polling") assert.equal(report.reason, "transport error"); // as the Node.js server reports it
    assert.equal(acked, false, "the oversized event was handled");
    assert.equal(s.connected, false);
  });
});
