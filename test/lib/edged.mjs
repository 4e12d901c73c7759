// Harness for the plugin interop suites: builds the real edged binary
// (cmd/edged) once into test/.tmp/edged, starts it on a free port of
// 127.0.0.1 with --plugins pointing at a fresh temporary directory holding
// only the plugins a test asks for, and parses its structured log (slog text
// on stderr) so tests can await log lines with a deadline.
import { execFileSync, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { WAIT_MS } from "./harness.mjs";

const testDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const repoRoot = path.resolve(testDir, "..");
const binary = path.join(testDir, ".tmp", "edged");
const cacheDir = path.join(testDir, ".tmp", "plugin-cache");
/** build/plugins: the example plugins (`make plugins`). */
export const PLUGINS_DIR = path.join(repoRoot, "build", "plugins");
/** build/fixtures: the compiled WAT fixtures of test/fixtures (`make plugins`). */
export const FIXTURES_DIR = path.join(repoRoot, "build", "fixtures");

let built = false;

/**
 * Builds cmd/edged into test/.tmp/edged (once per process; go caches the
 * rest). EDGED_BIN=/path/to/edged uses that binary instead of building.
 */
export function buildEdged() {
  if (process.env.EDGED_BIN) return process.env.EDGED_BIN;
  if (built) return binary;
  mkdirSync(path.dirname(binary), { recursive: true });
  const tmp = `${binary}.${process.pid}`;
  execFileSync("go", ["build", "-o", tmp, "./cmd/edged"], { cwd: repoRoot, stdio: ["ignore", "inherit", "inherit"] });
  renameSync(tmp, binary); // atomic, should several test files build at once
  built = true;
  return binary;
}

/** The path of a built plugin (build/plugins/NAME.wasm) or fixture (build/fixtures/NAME.wasm). */
export function wasmPath(name) {
  for (const dir of [PLUGINS_DIR, FIXTURES_DIR]) {
    const p = path.join(dir, `${name}.wasm`);
    if (existsSync(p)) return p;
  }
  throw new Error(`no ${name}.wasm in build/plugins or build/fixtures: run \`make plugins\` first`);
}

/**
 * Parses one line of Go's slog text handler (`key=value key="quoted value"`)
 * into an object of strings; quoted values are unquoted. Other lines give {}.
 */
export function parseLogLine(line) {
  const out = {};
  let i = 0;
  const n = line.length;
  while (i < n) {
    while (i < n && line[i] === " ") i++;
    const eq = line.indexOf("=", i);
    if (eq < 0) break;
    const key = line.slice(i, eq);
    if (key === "" || key.includes(" ") || key.includes('"')) return out; // not logfmt (any more)
    i = eq + 1;
    if (line[i] === '"') {
      let j = i + 1;
      while (j < n && line[j] !== '"') j += line[j] === "\\" ? 2 : 1;
      const raw = line.slice(i, j + 1);
      try {
        out[key] = JSON.parse(raw); // Go's strconv.Quote is JSON for everything edged logs
      } catch {
        out[key] = raw.slice(1, -1);
      }
      i = j + 1;
    } else {
      let j = line.indexOf(" ", i);
      if (j < 0) j = n;
      out[key] = line.slice(i, j);
      i = j;
    }
  }
  return out;
}

/**
 * Starts edged with a fresh plugin directory and resolves once it logs
 * "edged listening".
 * @param {object} opts
 * @param {string[]} [opts.plugins] names to copy in from build/plugins or build/fixtures (with NAME.json when build/plugins has one)
 * @param {Record<string, object>} [opts.settings] NAME -> settings file content written as NAME.json (replaces a copied one)
 * @param {string[]} [opts.flags] extra edged flags (they override the defaults
 *   `--listen 127.0.0.1:0 --data ""`, e.g. `--data DIR` for persistence)
 * @param {Record<string, string>} [opts.env] extra environment variables (e.g. EDGED_PING_INTERVAL)
 */
export async function startEdged(opts = {}) {
  const e = launchEdged(opts);
  await e.ready;
  return e;
}

/**
 * Starts edged like startEdged but does not wait for it to listen: for a
 * start-up that is expected to fail (await `exited`).
 */
export function launchEdged({ plugins = [], settings = {}, flags = [], env = {} } = {}) {
  const bin = buildEdged();
  mkdirSync(cacheDir, { recursive: true });
  const dir = mkdtempSync(path.join(os.tmpdir(), "edged-plugins-"));
  for (const name of plugins) {
    copyFileSync(wasmPath(name), path.join(dir, `${name}.wasm`));
    const json = path.join(PLUGINS_DIR, `${name}.json`);
    if (existsSync(json) && !(name in settings)) copyFileSync(json, path.join(dir, `${name}.json`));
  }
  for (const [name, value] of Object.entries(settings)) {
    writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(value));
  }
  // --data "": in memory unless a test passes its own --data (a later flag wins),
  // so that suites never share ./data nor its lock
  const child = spawn(bin, ["--listen", "127.0.0.1:0", "--data", "", "--plugins", dir, "--plugin-cache", cacheDir, ...flags], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  return new Edged(child, dir);
}

/** A running edged process and its plugin directory. */
export class Edged {
  #child;
  #entries = []; // {line, ...fields}
  #waiters = new Set();
  #exitCode = undefined;

  constructor(child, dir) {
    this.#child = child;
    this.dir = dir;
    this.pid = child.pid;
    this.exited = new Promise((resolve) => {
      child.on("close", (code, signal) => {
        this.#exitCode = code ?? signal;
        for (const w of this.#waiters) w.fail(new Error(`edged exited (${code ?? signal}) while waiting for ${w.what}\n${this.logTail()}`));
        resolve({ code, signal });
      });
    });
    const onLine = (line) => {
      const entry = { line, ...parseLogLine(line) };
      this.#entries.push(entry); // kept whole: edged logs little (no line per event)
      for (const w of this.#waiters) w.check(entry);
    };
    createInterface({ input: child.stderr }).on("line", onLine);
    createInterface({ input: child.stdout }).on("line", onLine);
    this.ready = this.waitForLog((l) => l.msg === "edged listening", { what: "the \"edged listening\" line", timeoutMs: 60000 }).then((l) => {
      this.port = Number(l.addr.slice(l.addr.lastIndexOf(":") + 1));
      this.host = `127.0.0.1:${this.port}`;
      this.url = `http://${this.host}`;
    });
    this.ready.catch(() => {}); // a start-up expected to fail awaits `exited` instead
  }

  /** The last lines edged wrote. */
  logTail(n = 40) {
    return this.#entries.slice(-n).map((e) => e.line).join("\n");
  }

  /** Every log entry that matches (see waitForLog), since a mark. */
  logs(match, since = 0) {
    return this.#entries.slice(since).filter(toPredicate(match));
  }

  /**
   * Resolves with the first log entry (past or future, parsed: {line, msg,
   * level, plugin, err, ...}) that matches: a predicate, or an object of
   * fields that must all be equal (a RegExp value must match). With
   * `since: edged.mark()`, only entries logged after the mark count.
   */
  waitForLog(match, { what = describe(match), timeoutMs = WAIT_MS, since = 0 } = {}) {
    const p = toPredicate(match);
    const past = this.#entries.slice(since).find(p);
    if (past !== undefined) return Promise.resolve(past);
    if (this.#exitCode !== undefined) return Promise.reject(new Error(`edged has exited; no ${what}\n${this.logTail()}`));
    return new Promise((resolve, reject) => {
      const w = {
        what,
        check: (entry) => {
          if (p(entry)) {
            done();
            resolve(entry);
          }
        },
        fail: (err) => {
          done();
          reject(err);
        },
      };
      const timer = setTimeout(() => w.fail(new Error(`timed out after ${timeoutMs} ms waiting for log ${what}\n${this.logTail()}`)), timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(w);
      };
      this.#waiters.add(w);
    });
  }

  /** A position in the log: pass it as `since` to waitForLog to ignore what came before. */
  mark() {
    return this.#entries.length;
  }

  /** Resident set size of the edged process in KiB (VmRSS of /proc/PID/status). */
  rssKiB() {
    const status = readFileSync(`/proc/${this.pid}/status`, "utf8");
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    if (!m) throw new Error("no VmRSS in /proc status");
    return Number(m[1]);
  }

  /**
   * Puts bytes (or a copy of a built plugin/fixture, by name) into the plugin
   * directory as FILE (e.g. "echo.wasm"). atomic: written beside it and
   * renamed over it, as a deployment would; otherwise written in place.
   */
  install(file, source, { atomic = true } = {}) {
    const data = typeof source === "string" ? readFileSync(wasmPath(source)) : source;
    const dest = path.join(this.dir, file);
    if (atomic) {
      const tmp = path.join(this.dir, `.${file}.tmp`);
      writeFileSync(tmp, data);
      renameSync(tmp, dest);
    } else {
      writeFileSync(dest, data);
    }
  }

  /** Sends a signal without waiting. */
  signal(sig) {
    if (this.#exitCode === undefined) this.#child.kill(sig);
  }

  /** Stops edged with SIGTERM (SIGKILL after 10 s) and removes its plugin directory; resolves with {code, signal}. */
  async stop() {
    if (this.#exitCode === undefined) {
      this.#child.kill("SIGTERM");
      const timer = setTimeout(() => this.#child.kill("SIGKILL"), 10000);
      await this.exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
    return this.exited;
  }
}

function describe(match) {
  if (typeof match === "function") return "a matching line";
  return Object.entries(match).map(([k, v]) => `${k}=${v instanceof RegExp ? v : JSON.stringify(v)}`).join(" ");
}

function toPredicate(match) {
  if (typeof match === "function") return match;
  return (entry) => Object.entries(match).every(([k, v]) => (v instanceof RegExp ? v.test(entry[k] ?? "") : entry[k] === v));
}
