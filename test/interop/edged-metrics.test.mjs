// Prometheus metrics of the real edged binary (issue 5, must-show 2): a
// short chat with the official client through the chat plugin (two users,
// one upgrading from polling, one on websocket: nicknames, a room, messages,
// a private message, volatile typing), a hot reload, then /metrics shows
// every family with the values the chat produced. Also: --metrics-addr
// serves /metrics on its own listener.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { ack, Clients, TEST_TIMEOUT_MS, unique, waitMatching } from "../lib/harness.mjs";
import { startEdged } from "../lib/edged.mjs";

/**
 * Parses the Prometheus text format into {help: Set of family names,
 * samples: [{name, labels, value}]}.
 */
function parseMetrics(text) {
  const help = new Set();
  const samples = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("# HELP ")) {
      help.add(line.split(" ")[2]);
      continue;
    }
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)$/.exec(line);
    assert.ok(m, `exposition line ${JSON.stringify(line)}`);
    const labels = {};
    for (const [, k, v] of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k] = JSON.parse(`"${v}"`);
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return { help, samples };
}

/** The sum of the samples of name whose labels include `labels`. */
function sum(metrics, name, labels = {}) {
  const matching = metrics.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.ok(matching.length > 0, `a sample ${name}${JSON.stringify(labels)}`);
  return matching.reduce((acc, s) => acc + s.value, 0);
}

async function scrape(url) {
  const res = await fetch(url);
  assert.equal(res.status, 200, `GET ${url}`);
  assert.match(res.headers.get("content-type"), /^text\/plain; version=0\.0\.4/);
  return parseMetrics(await res.text());
}

/** Every family of issue 5's list, each with its HELP line. */
const FAMILIES = [
  "edged_connections_total", "edged_connections", "edged_upgrades_total",
  "edged_namespaces", "edged_sockets", "edged_rooms", "edged_socket_connections_total",
  "edged_packets_received_total", "edged_packets_sent_total", "edged_received_bytes_total", "edged_sent_bytes_total",
  "edged_broadcast_recipients", "edged_ack_latency_seconds", "edged_volatile_dropped_total",
  "edged_slow_consumer_disconnects_total",
  "edged_plugin_calls_total", "edged_plugin_call_duration_seconds", "edged_plugin_reloads_total",
  "edged_store_operations_total", "edged_store_operation_duration_seconds",
  "go_goroutines", "process_resident_memory_bytes",
];

describe("/metrics after a short chat", () => {
  let edged, dataDir;
  before(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), "edged-metrics-data-"));
    edged = await startEdged({ plugins: ["chat"], flags: ["--data", dataDir] });
  });
  after(async () => {
    const { code } = await edged.stop();
    rmSync(dataDir, { recursive: true, force: true });
    assert.equal(code, 0, `edged exit code\n${edged.logTail()}`);
  });

  it("shows the families with the values the chat produced", { timeout: TEST_TIMEOUT_MS }, async () => {
    const version = (await edged.waitForLog({ msg: "plugin loaded", plugin: "chat" })).version;
    const upgrading = new Clients(edged, "upgrade");
    const ws = new Clients(edged, "websocket");
    try {
      const room = unique("r-");
      const [alice, bob] = await Promise.all([
        upgrading.connect("/chat", { auth: { nick: unique("alice_") } }),
        ws.connect("/chat", { auth: { nick: unique("bob_") } }),
      ]);
      let acks = 0;
      const call = async (s, ...args) => {
        acks++;
        const [res] = await ack(s, ...args);
        assert.equal(res.ok, true, `${args[0]}: ${JSON.stringify(res)}`);
        return res;
      };
      await call(alice, "join", room);
      await call(bob, "join", room);
      for (const [from, to, text] of [[alice, bob, "hi bob"], [bob, alice, "hi alice"], [alice, bob, "how are you?"]]) {
        const arrives = waitMatching(to, "message", (m) => m.text === text);
        await call(from, "message", { room, text });
        await arrives;
      }
      const whisper = waitMatching(bob, "private", (p) => p.text === "psst");
      await call(alice, "private", { to: bob.id, text: "psst" });
      await whisper;
      await call(bob, "typing", { room, typing: true }); // volatile to alice
      await call(bob, "typing", { room, typing: false });

      // a hot reload: a plugin dropped into the directory
      const mark = edged.mark();
      edged.install("echo.wasm", "echo");
      await edged.waitForLog({ msg: "plugin loaded", plugin: "echo" }, { since: mark });

      const m = await scrape(`${edged.url}/metrics`);
      for (const f of FAMILIES) assert.ok(m.help.has(f), `family ${f} with HELP`);

      // connections by transport: alice opened on polling and upgraded, bob on websocket
      assert.ok(sum(m, "edged_connections_total", { transport: "polling" }) >= 1);
      assert.ok(sum(m, "edged_connections_total", { transport: "websocket" }) >= 1);
      assert.ok(sum(m, "edged_connections_total") >= 2);
      assert.ok(sum(m, "edged_upgrades_total") >= 1);
      assert.equal(sum(m, "edged_connections", { transport: "websocket" }), 2, "both on websocket now");
      assert.equal(sum(m, "edged_connections", { transport: "polling" }), 0);

      // namespaces, sockets, rooms
      assert.ok(sum(m, "edged_namespaces") >= 2, "/ and /chat");
      assert.equal(sum(m, "edged_sockets", { namespace: "/chat" }), 2);
      assert.ok(sum(m, "edged_rooms", { namespace: "/chat" }) >= 1, "the chat room");
      assert.ok(sum(m, "edged_socket_connections_total", { namespace: "/chat" }) >= 2);

      // packets and bytes: at least the events and acks above
      assert.ok(sum(m, "edged_packets_received_total") >= acks, "a packet per event");
      assert.ok(sum(m, "edged_packets_sent_total") >= acks + 3 * 2 + 1, "acks, the messages to both, the private");
      assert.ok(sum(m, "edged_received_bytes_total") > 0);
      assert.ok(sum(m, "edged_sent_bytes_total") > sum(m, "edged_received_bytes_total") / 2);

      // broadcast fan-out: three room messages reached both members
      assert.ok(sum(m, "edged_broadcast_recipients_count", { namespace: "/chat" }) >= 4, "messages, private, typing");
      assert.ok(sum(m, "edged_broadcast_recipients_sum", { namespace: "/chat" }) >= 3 * 2 + 1);

      // ack latency: the server answered every ack
      assert.ok(sum(m, "edged_ack_latency_seconds_count", { namespace: "/chat", side: "server" }) >= acks);
      assert.ok(sum(m, "edged_ack_latency_seconds_sum", { namespace: "/chat", side: "server" }) > 0);

      assert.ok(sum(m, "edged_volatile_dropped_total") >= 0);
      assert.equal(sum(m, "edged_slow_consumer_disconnects_total"), 0);

      // plugin calls of chat at its version, all ok; the reload of echo
      assert.ok(sum(m, "edged_plugin_calls_total", { plugin: "chat", version, kind: "event", outcome: "ok" }) >= acks);
      assert.equal(m.samples.filter((s) => s.name === "edged_plugin_calls_total" && s.labels.plugin === "chat" && s.labels.outcome !== "ok" && s.value > 0).length, 0, "no failed call");
      assert.ok(sum(m, "edged_plugin_call_duration_seconds_count", { plugin: "chat", version }) >= acks);
      assert.equal(sum(m, "edged_plugin_reloads_total", { plugin: "echo", result: "ok" }), 1);

      // the chat keeps its history in the data directory's key-value data
      const kvOps = m.samples.filter((s) => s.name === "edged_store_operations_total" && s.labels.op.startsWith("kv_") && s.labels.result === "ok");
      assert.ok(kvOps.reduce((a, s) => a + s.value, 0) >= 3, `kv ops: ${JSON.stringify(kvOps)}`);
      assert.ok(sum(m, "edged_store_operation_duration_seconds_count") > 0);

      // bob leaves: the disconnections are counted (the engine's a moment
      // after the socket's), and the gauges go back
      const bye = waitMatching(alice, "notice", (n) => n.type === "leave");
      bob.disconnect();
      await bye;
      let m2;
      for (let i = 0; i < 50; i++) {
        m2 = await scrape(`${edged.url}/metrics`);
        if (m2.help.has("edged_disconnections_total") && sum(m2, "edged_connections") === 1) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(sum(m2, "edged_sockets", { namespace: "/chat" }), 1);
      assert.ok(sum(m2, "edged_socket_disconnections_total", { namespace: "/chat", reason: "client namespace disconnect" }) >= 1);
      assert.equal(sum(m2, "edged_disconnections_total", { transport: "websocket" }), 1);
      assert.equal(sum(m2, "edged_connections", { transport: "websocket" }), 1);
    } finally {
      upgrading.cleanup();
      ws.cleanup();
    }
  });
});

describe("--metrics-addr", () => {
  let edged;
  before(async () => {
    edged = await startEdged({ flags: ["--metrics-addr", "127.0.0.1:0"] });
  });
  after(async () => {
    const { code } = await edged.stop();
    assert.equal(code, 0, `edged exit code\n${edged.logTail()}`);
  });

  it("serves /metrics on its own listener", { timeout: TEST_TIMEOUT_MS }, async () => {
    const { addr } = await edged.waitForLog({ msg: "metrics listening" });
    const m = await scrape(`http://${addr}/metrics`);
    assert.ok(m.help.has("edged_connections_total"));
    assert.equal(sum(m, "edged_namespaces"), 1, "the main namespace");
    assert.equal((await fetch(`${edged.url}/metrics`)).status, 404, "not on the main listener");
  });
});
