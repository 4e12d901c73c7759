// Helpers of the restart suites (test/interop/restart-*.test.mjs): edged on a
// fixed port and a data directory that outlive one process, so that official
// clients reconnect to the restarted server by themselves.
import net from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { io } from "socket.io-client";
import { startEdged } from "./edged.mjs";
import { ack, waitEvent } from "./harness.mjs";

/** The store's default flush interval (edged --data-flush-interval): its durability window. */
export const FLUSH_INTERVAL_MS = 50;

/** Resolves with a port of 127.0.0.1 in 20000-32000 that was free when probed. */
export async function freePort() {
  for (let i = 0; i < 50; i++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    const ok = await new Promise((resolve) => {
      const srv = net.createServer();
      srv.once("error", () => resolve(false));
      srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
    });
    if (ok) return port;
  }
  throw new Error("no free port found in 20000-32000");
}

/**
 * An edged that can be stopped and started again on the same port and data
 * directory: start() launches a process (with the chat plugin), kill(signal)
 * stops it and waits for its exit.
 */
export class RestartableEdged {
  /** @param {string[]} flags extra edged flags (e.g. --connection-state-recovery) */
  constructor(flags = []) {
    this.flags = flags;
    this.dataDir = mkdtempSync(path.join(os.tmpdir(), "edged-data-"));
    this.edged = undefined;
  }

  async start() {
    this.port ??= await freePort();
    this.edged = await startEdged({
      plugins: ["chat"],
      flags: ["--listen", `127.0.0.1:${this.port}`, "--data", this.dataDir, ...this.flags],
    });
    this.url = this.edged.url;
    return this.edged;
  }

  /** Stops edged with a signal; resolves with {code, signal}. */
  async kill(sig) {
    const e = this.edged;
    e.signal(sig);
    const result = await e.exited;
    await e.stop(); // removes its plugin directory
    return result;
  }

  /** Stops edged (if running) and removes the data directory. */
  async cleanup() {
    if (this.edged) await this.edged.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/**
 * A chat client (namespace /chat, websocket) that reconnects quickly; it
 * records every "message" it receives as [text, ...] in `messages`.
 */
export async function chatClient(url, auth = {}) {
  const s = io(`${url}/chat`, {
    forceNew: true,
    transports: ["websocket"],
    auth,
    reconnectionDelay: 50,
    reconnectionDelayMax: 200,
    randomizationFactor: 0,
  });
  s.messages = [];
  s.on("message", (m) => s.messages.push(m.text));
  await waitEvent(s, "connect", { failOn: ["connect_error"] });
  return s;
}

/** Joins a chat room and checks the ack. */
export async function joinRoom(s, room) {
  const [r] = await ack(s, "join", room);
  if (!r?.ok) throw new Error(`join ${room}: ${JSON.stringify(r)}`);
}

/** Sends a chat message to room and resolves with its id. */
export async function say(s, room, text) {
  const [r] = await ack(s, "message", { room, text });
  if (!r?.ok) throw new Error(`message to ${room}: ${JSON.stringify(r)}`);
  return r.id;
}

/** The members of a chat room as sorted "id:nick" strings (chat's presence). */
export async function presence(s, room) {
  const [r] = await ack(s, "presence", room);
  if (!r?.ok) throw new Error(`presence of ${room}: ${JSON.stringify(r)}`);
  return r.members.map((m) => `${m.id}:${m.nick}`).sort();
}

/** Closes clients without letting them reconnect. */
export function closeAll(sockets) {
  for (const s of sockets) {
    s.io.reconnection(false);
    s.disconnect();
  }
}
