// Issue 5: edged as a product. Its configuration (flag > EDGED_* env >
// --config file > default) seen from a client, a bad value exits 2 naming
// the option, /healthz and /readyz, SIGHUP re-reads the config file, and
// SIGTERM under load: every client sees the server close, edged exits 0
// within --shutdown-timeout, and no acknowledged chat message is lost from
// the data directory.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { io } from "socket.io-client";
import { launchEdged, startEdged } from "../lib/edged.mjs";
import { unique, waitEvent } from "../lib/harness.mjs";
import { freePort } from "../lib/restart.mjs";

const tmp = mkdtempSync(path.join(os.tmpdir(), "edged-config-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

function configFile(content) {
  const p = path.join(tmp, `${unique("cfg")}.json`);
  writeFileSync(p, JSON.stringify(content));
  return p;
}

/** The open packet of a raw polling handshake, and the response. */
async function handshake(url, pathPrefix = "/socket.io/") {
  const res = await fetch(`${url}${pathPrefix}?EIO=4&transport=polling`);
  const body = await res.text();
  assert.equal(body[0], "0", body);
  return { open: JSON.parse(body.slice(1)), res };
}

describe("edged configuration", () => {
  const running = [];
  after(async () => {
    for (const e of running) await e.stop();
  });

  const cases = [
    { name: "default", want: 25000 },
    { name: "config file (a number is milliseconds)", file: { pingInterval: 1500 }, want: 1500 },
    { name: "EDGED_CONFIG names the file", fileEnv: { pingInterval: "1600ms" }, want: 1600 },
    { name: "env over file", file: { pingInterval: 1500 }, env: { EDGED_PING_INTERVAL: "2500ms" }, want: 2500 },
    { name: "flag over env over file", file: { pingInterval: 1500 }, env: { EDGED_PING_INTERVAL: "2500ms" }, flags: ["--ping-interval", "3500ms"], want: 3500 },
  ];
  for (const c of cases) {
    it(`pingInterval from ${c.name}: the handshake and the official client agree`, { timeout: 30000 }, async () => {
      const flags = [...(c.flags ?? [])];
      const env = { ...(c.env ?? {}) };
      if (c.file) flags.unshift("--config", configFile(c.file));
      if (c.fileEnv) env.EDGED_CONFIG = configFile(c.fileEnv);
      const e = await startEdged({ plugins: ["echo"], flags, env });
      running.push(e);
      const { open } = await handshake(e.url);
      assert.equal(open.pingInterval, c.want);
      const s = io(e.url, { forceNew: true, transports: ["polling"] });
      try {
        await waitEvent(s, "connect", { failOn: ["connect_error"] });
        const engine = s.io.engine;
        assert.equal(engine._pingInterval ?? engine.pingInterval, c.want);
      } finally {
        s.disconnect();
      }
      await e.stop();
    });
  }

  it("the file's sections reach the wire: path, cookie, cors, maxHttpBufferSize, transports", { timeout: 30000 }, async () => {
    const file = configFile({
      path: "/rt/",
      maxHttpBufferSize: "2kB",
      transports: ["polling"],
      cookie: { name: "edged-sid", sameSite: "strict" },
      cors: { origins: ["https://app.example"], credentials: true },
      pingTimeout: 4000,
    });
    const e = await startEdged({ plugins: ["echo"], flags: ["--config", file] });
    running.push(e);
    const res0 = await fetch(`${e.url}/socket.io/?EIO=4&transport=polling`);
    assert.notEqual(res0.status, 200, "the default path is not served");
    const res = await fetch(`${e.url}/rt/?EIO=4&transport=polling`, { headers: { Origin: "https://app.example" } });
    const body = await res.text();
    const open = JSON.parse(body.slice(1));
    assert.deepEqual(open.upgrades, [], "polling only: no upgrade offered");
    assert.equal(open.maxPayload, 2000);
    assert.equal(open.pingTimeout, 4000);
    assert.match(res.headers.get("set-cookie") ?? "", /^edged-sid=[\w-]+;.*SameSite=Strict/);
    assert.equal(res.headers.get("access-control-allow-origin"), "https://app.example");
    assert.equal(res.headers.get("access-control-allow-credentials"), "true");
    const ws = await fetch(`${e.url}/rt/?EIO=4&transport=websocket`);
    assert.equal(ws.status, 400, "websocket is not an allowed transport");
    await e.stop();
  });

  const bad = [
    { flags: ["--ping-interval", "abc"], want: 'edged: invalid value "abc" for --ping-interval (EDGED_PING_INTERVAL): time: invalid duration "abc"' },
    { env: { EDGED_MAX_HTTP_BUFFER_SIZE: "lots" }, want: 'edged: invalid value "lots" for EDGED_MAX_HTTP_BUFFER_SIZE (--max-http-buffer-size)' },
    { file: { cookie: { sameSite: "sometimes" } }, want: 'for "cookie.sameSite" in' },
    { file: { pingIntervall: 5 }, want: 'unknown option "pingIntervall"' },
  ];
  for (const b of bad) {
    it(`a bad value exits 2 and names it: ${b.want}`, { timeout: 30000 }, async () => {
      const flags = [...(b.flags ?? [])];
      if (b.file) flags.push("--config", configFile(b.file));
      const e = launchEdged({ flags, env: b.env });
      const { code } = await e.exited;
      assert.equal(code, 2, e.logTail());
      assert.ok(e.logTail().includes(b.want), `${e.logTail()}\nlacks ${b.want}`);
      await e.stop();
    });
  }

  it("edged version and --help", { timeout: 30000 }, async () => {
    const v = launchEdged({ flags: ["version"] });
    // launchEdged prepends its own flags, so "version" is an argument here: an error
    assert.equal((await v.exited).code, 2);
    await v.stop();
    const h = launchEdged({ flags: ["--help"] });
    assert.equal((await h.exited).code, 0);
    for (const want of ["--ping-interval DURATION", "EDGED_PING_INTERVAL", "default 25s", "--shutdown-timeout", "EDGED_METRICS_ADDR"]) {
      assert.ok(h.logTail(400).includes(want), `--help lacks ${want}`);
    }
    await h.stop();
  });

  it("/healthz and /readyz on the main listener and on --metrics-addr", { timeout: 30000 }, async () => {
    const port = await freePort();
    const e = await startEdged({ plugins: ["echo"], flags: ["--metrics-addr", `127.0.0.1:${port}`, "--pprof"] });
    running.push(e);
    for (const base of [e.url, `http://127.0.0.1:${port}`]) {
      for (const p of ["/healthz", "/readyz"]) {
        const res = await fetch(base + p);
        assert.equal(res.status, 200, `${base}${p}`);
      }
    }
    const pp = await fetch(`http://127.0.0.1:${port}/debug/pprof/cmdline`);
    assert.equal(pp.status, 200, "pprof on the metrics listener");
    const nopp = await fetch(`${e.url}/debug/pprof/cmdline`);
    assert.equal(nopp.status, 404, "never on the main listener");
    await e.stop();
  });

  it("a slow consumer (--max-queued-messages) is disconnected and logged at warn with its session id", { timeout: 30000 }, async () => {
    const e = await startEdged({ plugins: ["echo"], flags: ["--max-queued-messages", "3"] });
    running.push(e);
    // a raw polling session that joins room r, then stops polling
    const base = `${e.url}/socket.io/?EIO=4&transport=polling`;
    const { open } = await handshake(e.url);
    const url = `${base}&sid=${open.sid}`;
    const post = (body) => fetch(url, { method: "POST", body }).then((r) => assert.equal(r.status, 200));
    await post("40");
    assert.match(await (await fetch(url)).text(), /^40/);
    await post('420["join","r"]');
    assert.match(await (await fetch(url)).text(), /430\[\]/);
    const s = io(e.url, { forceNew: true, transports: ["websocket"] });
    try {
      await waitEvent(s, "connect", { failOn: ["connect_error"] });
      await s.emitWithAck("join", "r");
      for (let i = 0; i < 6; i++) await s.emitWithAck("broadcast", "r", `m${i}`);
      const l = await e.waitForLog({ msg: "session closed: write queue full", sid: open.sid });
      assert.equal(l.level, "WARN");
      assert.equal(l.reason, "slow consumer");
      assert.equal(s.connected, true, "the fast client stays");
      assert.equal((await fetch(url)).status, 400, "the slow session is gone");
    } finally {
      s.disconnect();
    }
    await e.stop();
  });

  it("SIGHUP re-reads the config file: the log level applies, the others are reported", { timeout: 30000 }, async () => {
    const file = path.join(tmp, "reload.json");
    writeFileSync(file, JSON.stringify({ logLevel: "info", pingInterval: 25000 }));
    const e = await startEdged({ plugins: ["echo"], flags: ["--config", file] });
    running.push(e);
    writeFileSync(file, JSON.stringify({ logLevel: "debug", pingInterval: 20000 }));
    const mark = e.mark();
    e.signal("SIGHUP");
    const l = await e.waitForLog({ msg: "configuration reloaded" }, { since: mark });
    assert.equal(l.applied, "--log-level: info -> debug");
    const r = await e.waitForLog({ msg: "changed options need a restart to apply" }, { since: mark });
    assert.equal(r.options, "--ping-interval: 25s -> 20s");
    writeFileSync(file, "{ broken");
    const m2 = e.mark();
    e.signal("SIGHUP");
    await e.waitForLog({ msg: /configuration reload failed/ }, { since: m2 });
    assert.equal((await handshake(e.url)).res.status, 200, "still serving");
    await e.stop();
  });
});

describe("SIGTERM under load", () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "edged-data-"));
  const sockets = [];
  after(() => {
    for (const s of sockets) {
      s.io.reconnection(false);
      s.disconnect();
    }
    rmSync(dataDir, { recursive: true, force: true });
  });
  const settings = { chat: { config: { rate_limit: { messages: 10000, window_ms: 1000 }, history: 1000 } } };

  it("clients see the server close, edged exits 0 within --shutdown-timeout, no acknowledged message is lost", { timeout: 90000 }, async () => {
    const port = await freePort();
    const flags = ["--listen", `127.0.0.1:${port}`, "--data", dataDir, "--shutdown-timeout", "5s"];
    const e = await startEdged({ plugins: ["chat"], settings, flags });
    const room = unique("load");
    const N = 60;
    const perClient = 15; // at most N * perClient = 900 < history 1000
    const acked = new Set();
    const clients = await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const s = io(`${e.url}/chat`, { forceNew: true, transports: i % 3 === 0 ? ["polling"] : ["websocket"], auth: { nick: `u${i}` }, reconnection: false });
        sockets.push(s);
        await waitEvent(s, "connect", { failOn: ["connect_error"], timeoutMs: 15000 });
        const [r] = await s.timeout(10000).emitWithAck("join", room).then((a) => [a]);
        assert.equal(r.ok, true);
        return s;
      }),
    );
    const closed = clients.map((s) => waitEvent(s, "disconnect", { timeoutMs: 15000 }));
    // every client sends acked messages one after the other until the server goes away
    const senders = clients.map(async (s, i) => {
      for (let k = 0; k < perClient && s.connected; k++) {
        const text = `c${i}-m${k}`;
        try {
          const r = await s.timeout(5000).emitWithAck("message", { room, text });
          if (r?.ok) acked.add(text);
        } catch {
          return; // no ack: the server closed first; such a message may or may not be stored
        }
      }
    });
    while (acked.size < 150) await new Promise((r) => setTimeout(r, 5));
    const t0 = Date.now();
    e.signal("SIGTERM");
    const { code } = await e.exited;
    const took = Date.now() - t0;
    assert.equal(code, 0, e.logTail());
    assert.ok(took < 5000, `exited after ${took} ms`);
    assert.ok(e.logs({ msg: "shut down" }).length === 1, e.logTail());
    const reasons = await Promise.all(closed);
    for (const [reason] of reasons) assert.ok(["transport close", "transport error"].includes(reason), reason);
    await Promise.all(senders);
    await e.stop();

    // the same data directory: the room's history holds every acked message
    const e2 = await startEdged({ plugins: ["chat"], settings, flags });
    try {
      const s = io(`${e2.url}/chat`, { forceNew: true, transports: ["websocket"], auth: { nick: "late" }, reconnection: false });
      sockets.push(s);
      await waitEvent(s, "connect", { failOn: ["connect_error"] });
      const history = waitEvent(s, "history");
      s.emit("join", room);
      const [[h]] = await Promise.all([history]);
      const stored = new Set(h.messages.map((m) => m.text));
      const lost = [...acked].filter((t) => !stored.has(t));
      assert.deepEqual(lost, [], `${lost.length} of ${acked.size} acked messages lost`);
    } finally {
      await e2.stop();
    }
  });
});
