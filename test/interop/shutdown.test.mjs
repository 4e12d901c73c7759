// Graceful close: Server.Close disconnects every socket with "server shutting
// down", waits for the disconnect handlers, and the clients see their
// transport close.
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { ack, Clients, MODES, startServer, TEST_TIMEOUT_MS, waitEvent } from "../lib/harness.mjs";

describe("server close", () => {
  let clients;
  afterEach(() => clients?.cleanup());

  for (const mode of Object.keys(MODES)) {
    it(`over ${mode}: every socket is disconnected: the client sees its transport close, the server says "server shutting down"`, { timeout: TEST_TIMEOUT_MS }, async () => {
      // slow disconnect handlers: Close must wait for them before it returns
      const server = await startServer(["-disconnect-handler-delay", "150ms"]);
      try {
        clients = new Clients(server, mode);
        const m = clients.manager();
        const [main, chat] = [m.socket("/"), m.socket("/chat")];
        await Promise.all([clients.connected(main), clients.connected(chat)]);
        const other = await clients.connect();
        await ack(main, "join", "some-room");
        const ids = [[main.id, "/"], [chat.id, "/chat"], [other.id, "/"]];
        const reasons = Promise.all([main, chat, other].map((s) => waitEvent(s, "disconnect")));

        server.signal("SIGTERM"); // the test server calls Server.Close
        for (const [reason] of await reasons) {
          if (mode === "polling") {
            // A pending GET gets the close packet ("transport close"). A client
            // between two GETs finds its session gone (HTTP 400) and reports
            // "transport error": the Node.js server does the same on close.
            assert.ok(["transport close", "transport error"].includes(reason), reason);
          } else {
            assert.equal(reason, "transport close");
          }
        }
        for (const [id, nsp] of ids) {
          const report = await server.disconnectReport(id, nsp).catch((err) => {
            throw new assert.AssertionError({ message: `Server.Close returned before the disconnect handler of ${nsp}#${id} finished (${err.message})` });
          });
          assert.equal(report.reason, "server shutting down", `${nsp}#${id}`);
        }
        await server.waitForLine((l) => l === "CLOSED", { what: "the end of Server.Close" });
        const { code } = await server.exited;
        assert.equal(code, 0, server.stderrTail());
      } finally {
        await server.stop();
      }
    });
  }
});
