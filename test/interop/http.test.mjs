// What an HTTP client sees of the Engine.IO endpoint: engine error codes,
// allowRequest refusals, CORS (preflight and actual requests) and the client
// bundles.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { ack, Clients, MODES, startServer, TEST_TIMEOUT_MS, waitEvent } from "../lib/harness.mjs";

const ALLOWED = "http://allowed.test";
const test = (name, fn) => it(name, { timeout: TEST_TIMEOUT_MS }, fn);

describe("HTTP endpoint", () => {
  let server;
  before(async () => {
    server = await startServer(["-cors-origin", `${ALLOWED},http://other.test`, "-cors-credentials"]);
  });
  after(async () => {
    const { code } = await server.stop();
    assert.equal(code, 0, `test server exit code\n${server.stderrTail()}`);
  });

  async function request(method, query, headers = {}, body = undefined) {
    const res = await fetch(`${server.url}/socket.io/${query}`, { method, headers, body, signal: AbortSignal.timeout(5000) });
    return { status: res.status, headers: res.headers, body: await res.text() };
  }

  /** Opens a polling session with a raw handshake and returns its sid. */
  async function handshake() {
    const res = await request("GET", "?EIO=4&transport=polling");
    assert.equal(res.status, 200);
    assert.equal(res.body[0], "0", `open packet expected, got ${res.body}`);
    return JSON.parse(res.body.slice(1)).sid;
  }

  describe("engine error codes", () => {
    const cases = [
      ["0 Transport unknown", "GET", "?EIO=4&transport=carrier-pigeon", {}, 400, { code: 0, message: "Transport unknown" }],
      ["1 Session ID unknown (GET)", "GET", "?EIO=4&transport=polling&sid=no-such-session", {}, 400, { code: 1, message: "Session ID unknown" }],
      ["1 Session ID unknown (POST)", "POST", "?EIO=4&transport=polling&sid=no-such-session", {}, 400, { code: 1, message: "Session ID unknown" }],
      ["2 Bad handshake method", "POST", "?EIO=4&transport=polling", {}, 400, { code: 2, message: "Bad handshake method" }],
      ["3 Bad request (websocket handshake without upgrade)", "GET", "?EIO=4&transport=websocket", {}, 400, { code: 3, message: "Bad request" }],
      ["4 Forbidden (allowRequest without message)", "GET", "?EIO=4&transport=polling", { "x-deny": "" }, 403, { code: 4, message: "Forbidden" }],
      ["4 Forbidden (allowRequest with its message)", "GET", "?EIO=4&transport=polling", { "x-deny": "banned client" }, 403, { code: 4, message: "banned client" }],
      ["5 Unsupported protocol version (EIO=3)", "GET", "?EIO=3&transport=polling", {}, 400, { code: 5, message: "Unsupported protocol version" }],
      ["5 Unsupported protocol version (no EIO)", "GET", "?transport=polling", {}, 400, { code: 5, message: "Unsupported protocol version" }],
    ];
    for (const [name, method, query, headers, status, body] of cases) {
      test(`code ${name}: HTTP ${status} with the exact JSON body`, async () => {
        const res = await request(method, query, headers, method === "POST" ? "1:6" : undefined);
        assert.equal(res.status, status);
        assert.match(res.headers.get("content-type"), /^application\/json/);
        assert.equal(res.body, JSON.stringify(body));
      });
    }

    test("code 3 Bad request: a polling session asked for with another transport", async () => {
      const sid = await handshake();
      const res = await request("GET", `?EIO=4&transport=websocket&sid=${sid}`);
      assert.equal(res.status, 400);
      assert.equal(res.body, JSON.stringify({ code: 3, message: "Bad request" }));
    });
  });

  describe("allowRequest refusal seen by the client", () => {
    const expected = { polling: "xhr poll error", websocket: "websocket error", upgrade: "xhr poll error" };
    for (const mode of Object.keys(MODES)) {
      test(`over ${mode}: connect_error "${expected[mode]}"`, async () => {
        const clients = new Clients(server, mode);
        try {
          const s = clients.socket("/", { extraHeaders: { "x-deny": "go away" } });
          const [err] = await waitEvent(s, "connect_error", { failOn: ["connect"] });
          assert.equal(err.message, expected[mode]);
          if (mode !== "websocket") assert.equal(err.description, 403, "HTTP status of the refused handshake");
          assert.equal(s.connected, false);
        } finally {
          clients.cleanup();
        }
      });
    }
  });

  describe("CORS", () => {
    test("a preflight from an allowed origin gets 204 with the allow headers", async () => {
      const res = await request("OPTIONS", "?EIO=4&transport=polling", {
        origin: ALLOWED,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,x-custom",
      });
      assert.equal(res.status, 204);
      assert.equal(res.body, "");
      assert.equal(res.headers.get("access-control-allow-origin"), ALLOWED);
      assert.equal(res.headers.get("access-control-allow-credentials"), "true");
      assert.equal(res.headers.get("access-control-allow-methods"), "GET,HEAD,PUT,PATCH,POST,DELETE");
      assert.equal(res.headers.get("access-control-allow-headers"), "content-type,x-custom");
      assert.match(res.headers.get("vary") ?? "", /\bOrigin\b/);
    });

    test("a preflight from another origin gets no Access-Control-Allow-Origin", async () => {
      const res = await request("OPTIONS", "?EIO=4&transport=polling", {
        origin: "http://evil.test",
        "access-control-request-method": "POST",
      });
      assert.equal(res.status, 204);
      assert.equal(res.headers.get("access-control-allow-origin"), null);
      assert.match(res.headers.get("vary") ?? "", /\bOrigin\b/);
    });

    test("a cross-origin handshake is answered with the allowed origin only", async () => {
      const allowed = await request("GET", "?EIO=4&transport=polling", { origin: "http://other.test" });
      assert.equal(allowed.status, 200);
      assert.equal(allowed.body[0], "0");
      assert.equal(allowed.headers.get("access-control-allow-origin"), "http://other.test");
      assert.equal(allowed.headers.get("access-control-allow-credentials"), "true");
      const other = await request("GET", "?EIO=4&transport=polling", { origin: "http://evil.test" });
      assert.equal(other.status, 200);
      assert.equal(other.headers.get("access-control-allow-origin"), null);
    });

    test("the socket of a cross-origin client has xdomain set", async () => {
      const clients = new Clients(server, "polling");
      try {
        const s = await clients.connect("/", { extraHeaders: { origin: ALLOWED } });
        const [hs] = await ack(s, "handshake");
        assert.equal(hs.xdomain, true);
        assert.equal(hs.headers.origin, ALLOWED);
      } finally {
        clients.cleanup();
      }
    });
  });

  describe("client bundles", () => {
    const dist = path.dirname(createRequire(import.meta.url).resolve("socket.io-client/dist/socket.io.js"));
    for (const name of ["socket.io.js", "socket.io.min.js", "socket.io.msgpack.min.js"]) {
      test(`${name} is served byte for byte as published in socket.io-client 4.8.1`, async () => {
        const res = await fetch(`${server.url}/socket.io/${name}`, { signal: AbortSignal.timeout(5000) });
        assert.equal(res.status, 200, "bundle missing: run make client-dist");
        assert.match(res.headers.get("content-type"), /javascript/);
        assert.equal(res.headers.get("etag"), '"4.8.1"');
        const served = Buffer.from(await res.arrayBuffer());
        assert.ok(served.equals(readFileSync(path.join(dist, name))), "served bundle differs from the npm package");
        const cached = await fetch(`${server.url}/socket.io/${name}`, { headers: { "if-none-match": '"4.8.1"' }, signal: AbortSignal.timeout(5000) });
        assert.equal(cached.status, 304);
      });
    }
  });
});
