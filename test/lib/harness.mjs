// Harness of the interop suite: builds the Go test server (test/server) once,
// starts it on a free port of 127.0.0.1, and creates official socket.io-client
// clients whose events can be awaited with a deadline that fails the test.
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, renameSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { io, Manager } from "socket.io-client";

const testDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const repoRoot = path.resolve(testDir, "..");
const binary = path.join(testDir, ".tmp", "server");

/** Default deadline of one awaited event or ack, in ms. */
export const WAIT_MS = 5000;
/** Deadline of one test, in ms. */
export const TEST_TIMEOUT_MS = 20000;

/** The three ways a client reaches the server; every behavioural suite runs once per mode. */
export const MODES = {
  polling: { transports: ["polling"], expected: "polling", initial: "polling" },
  websocket: { transports: ["websocket"], expected: "websocket", initial: "websocket" },
  // polling first, then the upgrade to websocket (the client's default)
  upgrade: { transports: ["polling", "websocket"], expected: "websocket", initial: "polling" },
};

let built = false;

/** Builds the test server binary into test/.tmp/server (once per process; go caches the rest). */
export function buildServer() {
  if (built) return binary;
  mkdirSync(path.dirname(binary), { recursive: true });
  const tmp = `${binary}.${process.pid}`;
  execFileSync("go", ["build", "-o", tmp, "./test/server"], { cwd: repoRoot, stdio: ["ignore", "inherit", "inherit"] });
  renameSync(tmp, binary); // atomic, should several test files build at once
  built = true;
  return binary;
}

/**
 * Starts the test server with extra flags and resolves once it prints its
 * LISTENING line.
 * @param {string[]} flags
 */
export async function startServer(flags = []) {
  buildServer();
  const server = new TestServer(spawn(binary, ["-addr", "127.0.0.1:0", ...flags], { stdio: ["ignore", "pipe", "pipe"] }));
  await server.ready;
  return server;
}

/** A running test server process. */
export class TestServer {
  #child;
  #lines = [];
  #stderr = [];
  #waiters = new Set();
  #exitCode = undefined;

  constructor(child) {
    this.#child = child;
    this.exited = new Promise((resolve) => {
      child.on("close", (code, signal) => { // after stdout was read to its end
        this.#exitCode = code ?? signal;
        for (const w of this.#waiters) w.fail(new Error(`test server exited (${code ?? signal}) while waiting for ${w.what}\n${this.stderrTail()}`));
        resolve({ code, signal });
      });
    });
    createInterface({ input: child.stderr }).on("line", (line) => {
      this.#stderr.push(line);
      if (this.#stderr.length > 200) this.#stderr.shift();
    });
    createInterface({ input: child.stdout }).on("line", (line) => {
      this.#lines.push(line);
      for (const w of this.#waiters) w.check(line);
    });
    this.ready = this.waitForLine((l) => l.startsWith("LISTENING "), { what: "the LISTENING line", timeoutMs: 20000 }).then((line) => {
      const addr = line.slice("LISTENING ".length).trim();
      this.port = Number(addr.slice(addr.lastIndexOf(":") + 1));
      this.host = `127.0.0.1:${this.port}`;
      this.url = `http://${this.host}`;
    });
  }

  /** The last lines the server wrote to stderr. */
  stderrTail() {
    return this.#stderr.slice(-30).join("\n");
  }

  /**
   * Resolves with the first stdout line (past or future) matching the predicate.
   * @param {(line: string) => boolean} predicate
   */
  waitForLine(predicate, { what = "a line", timeoutMs = WAIT_MS } = {}) {
    const past = this.#lines.find(predicate);
    if (past !== undefined) return Promise.resolve(past);
    if (this.#exitCode !== undefined) return Promise.reject(new Error(`test server has exited; no ${what}`));
    return new Promise((resolve, reject) => {
      const w = {
        what,
        check: (line) => {
          if (predicate(line)) {
            done();
            resolve(line);
          }
        },
        fail: (err) => {
          done();
          reject(err);
        },
      };
      const timer = setTimeout(() => w.fail(new Error(`timed out after ${timeoutMs} ms waiting for ${what} on the server's stdout`)), timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(w);
      };
      this.#waiters.add(w);
    });
  }

  /** Resolves with the server-side report of a socket's disconnection ({id, nsp, reason, ...}). */
  async disconnectReport(id, nsp = "/") {
    const line = await this.waitForLine((l) => {
      if (!l.startsWith("DISCONNECT ")) return false;
      const r = JSON.parse(l.slice("DISCONNECT ".length));
      return r.id === id && r.nsp === nsp;
    }, { what: `the disconnection of ${nsp}#${id}` });
    return JSON.parse(line.slice("DISCONNECT ".length));
  }

  /** Sends a signal (SIGTERM: graceful close) without waiting. */
  signal(sig = "SIGTERM") {
    if (this.#exitCode === undefined) this.#child.kill(sig);
  }

  /** Stops the server gracefully, killing it if it does not exit in time. Resolves with its exit. */
  async stop() {
    if (this.#exitCode === undefined) {
      this.#child.kill("SIGTERM");
      const timer = setTimeout(() => this.#child.kill("SIGKILL"), 8000);
      await this.exited;
      clearTimeout(timer);
    }
    return this.exited;
  }
}

/**
 * Resolves with the arguments of the next `event` of an emitter (socket,
 * manager, engine), or rejects after timeoutMs. Events listed in failOn
 * reject at once.
 */
export function waitEvent(emitter, event, { timeoutMs = WAIT_MS, failOn = [] } = {}) {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      emitter.off(event, onEvent);
      for (const [name, h] of failHandlers) emitter.off(name, h);
    };
    const onEvent = (...args) => {
      cleanup();
      resolve(args);
    };
    const failHandlers = failOn.map((name) => [
      name,
      (...args) => {
        cleanup();
        const detail = args[0] instanceof Error ? args[0].message : JSON.stringify(args);
        reject(new Error(`got "${name}" (${detail}) while waiting for "${event}"`));
      },
    ]);
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for "${event}"`));
    }, timeoutMs);
    emitter.on(event, onEvent);
    for (const [name, h] of failHandlers) emitter.on(name, h);
  });
}

/**
 * Resolves with the arguments of the first `event` whose arguments satisfy
 * the predicate; the listener stays attached until then, so no occurrence is
 * missed. Rejects after timeoutMs.
 */
export function waitMatching(emitter, event, predicate, { timeoutMs = WAIT_MS } = {}) {
  return new Promise((resolve, reject) => {
    const onEvent = (...args) => {
      if (!predicate(...args)) return;
      cleanup();
      resolve(args);
    };
    const cleanup = () => {
      clearTimeout(timer);
      emitter.off(event, onEvent);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for a matching "${event}"`));
    }, timeoutMs);
    emitter.on(event, onEvent);
  });
}

/**
 * Resolves with the argument lists of every `event` a socket received before
 * the "marker" event carrying this value (the test server sends it after the
 * broadcast under test, on the same connection, so an event that was not
 * delivered before it was never sent).
 */
export async function eventsBeforeMarker(socket, event, marker) {
  const got = [];
  const onEvent = (...args) => got.push(args);
  socket.on(event, onEvent);
  try {
    await waitMatching(socket, "marker", (m) => m === marker);
    return got;
  } finally {
    socket.off(event, onEvent);
  }
}

/**
 * Emits an event with an ack callback and resolves with every argument of
 * the server's answer; rejects when no answer comes within timeoutMs.
 */
export function ack(socket, event, ...args) {
  return ackWithin(WAIT_MS, socket, event, ...args);
}

export function ackWithin(timeoutMs, socket, event, ...args) {
  return new Promise((resolve, reject) => {
    socket.timeout(timeoutMs).emit(event, ...args, (err, ...answer) => {
      if (err) reject(new Error(`no ack for "${event}" within ${timeoutMs} ms (${err.message})`));
      else resolve(answer);
    });
  });
}

/** Records every occurrence of an event on a socket: an array of argument lists. */
export function record(socket, event) {
  const got = [];
  socket.on(event, (...args) => got.push(args));
  return got;
}

/** Normalises a binary value the client received (Buffer, ArrayBuffer, typed array) to a Buffer. */
export function bytes(v) {
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof ArrayBuffer) return Buffer.from(v);
  if (ArrayBuffer.isView(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  throw new assert.AssertionError({ message: `expected binary data, got ${typeof v}: ${JSON.stringify(v)}` });
}

/** A short random suffix for names (rooms, dynamic namespaces) unique to one test. */
export function unique(prefix) {
  return `${prefix}${Math.random().toString(36).slice(2, 10)}`;
}

/**
 * Creates clients for one transport mode and closes them all in cleanup().
 */
export class Clients {
  #open = [];

  /** @param {TestServer} server @param {keyof MODES} mode */
  constructor(server, mode) {
    this.server = server;
    this.mode = mode;
    this.spec = MODES[mode];
  }

  #options(opts) {
    return { forceNew: true, reconnection: false, transports: this.spec.transports, ...opts };
  }

  /** A socket that is not yet known to be connected (for connect_error tests). */
  socket(nsp = "/", opts = {}) {
    const s = io(this.server.url + nsp, this.#options(opts));
    this.#open.push(s.io);
    return s;
  }

  /** A Manager for several namespaces on one connection. */
  manager(opts = {}) {
    const m = new Manager(this.server.url, this.#options(opts));
    this.#open.push(m);
    return m;
  }

  /**
   * Connects a socket and resolves once it is connected over the mode's
   * final transport (for "upgrade": after the upgrade to websocket).
   */
  async connect(nsp = "/", opts = {}) {
    return this.connected(this.socket(nsp, opts));
  }

  /** Waits until a socket (of socket() or manager().socket()) is connected over the expected transport. */
  async connected(s) {
    const engine = s.io.engine;
    const upgraded = this.mode === "upgrade" && engine.transport?.name !== "websocket" ? waitEvent(engine, "upgrade", { failOn: ["upgradeError"] }) : null;
    if (!s.connected) await waitEvent(s, "connect", { failOn: ["connect_error"] });
    if (upgraded) await upgraded;
    assert.equal(s.io.engine.transport.name, this.spec.expected, "transport in use");
    return s;
  }

  /** Closes every client created so far. */
  cleanup() {
    for (const m of this.#open.splice(0)) {
      m.reconnection(false);
      for (const nsp of Object.keys(m.nsps)) m.nsps[nsp].disconnect();
      m.engine?.close();
    }
  }
}

/**
 * Declares a suite that starts one test server with flags and runs body once
 * per transport mode. body gets { mode, test, clients, server }: test declares
 * a test with the suite's deadline; clients and server are valid inside tests.
 */
export function perModeSuite(title, flags, body) {
  describe(title, () => {
    let server;
    before(async () => {
      server = await startServer(flags);
    });
    after(async () => {
      const { code } = await server.stop();
      assert.equal(code, 0, `test server exit code\n${server.stderrTail()}`);
    });
    for (const mode of Object.keys(MODES)) {
      describe(`over ${mode}`, () => {
        const suite = {
          mode,
          test: (name, fn) => it(name, { timeout: TEST_TIMEOUT_MS }, fn),
          clients: undefined,
          get server() {
            return server;
          },
        };
        before(() => {
          suite.clients = new Clients(server, mode);
        });
        afterEach(() => suite.clients.cleanup());
        body(suite);
      });
    }
  });
}
