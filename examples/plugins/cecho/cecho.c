/* cecho: an edged plugin in C with no SDK, the ABI v1 (docs/ABI.md) by example.
 *
 * Namespace /c:
 *   connect middleware   refuses with "c says no", data {"reason":"deny"}
 *                        when the handshake's auth.deny is true
 *   echo (...args, ack)  acks with the same args (binary re-attached in order);
 *                        without an ack, emits "echo" back with the same args
 *   join (room, ack)     joins room, acks []
 *   broadcast (room, payload, ack)
 *                        emits "msg" (payload) to room, sender included; acks []
 *   kv-put (key, value, ack)
 *                        stores the JSON text of value under key in the
 *                        plugin's key-value data (op kv_set); acks []
 *   kv-get (key, ack)    acks [value] as stored by kv-put, or [null]
 *
 * Everything crosses the boundary as JSON bytes in our own memory: the host
 * never writes where we did not give it a buffer, and we export no allocator.
 * The plugin keeps no state between calls (any instance may serve any socket).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* ---- the host functions: import module edged_v1 (docs/ABI.md §4) ---- */

#define HOST(name) __attribute__((import_module("edged_v1"), import_name(name)))

/* (buf, limit) -> needed: copies only when needed <= limit (§4.1) */
HOST("input_read") int32_t input_read(void *buf, int32_t limit);
HOST("attachment_read") int32_t attachment_read(int32_t index, void *buf, int32_t limit);
HOST("result_read") int32_t result_read(void *buf, int32_t limit);
/* stages bytes for the next call; returns their placeholder number (§4.2) */
HOST("attach") int32_t attach(const void *ptr, int32_t len);
/* runs an op: result length (>= 0) or a negative ERR_* (§4.3) */
HOST("call") int32_t call(int32_t op, const void *req, int32_t req_len);
HOST("log") void host_log(int32_t level, const void *ptr, int32_t len);

/* ---- the numbers of plugins/abi ---- */

enum { KIND_CONNECT = 1, KIND_EVENT = 3 };
enum { STATUS_OK = 0, STATUS_REJECT = 1, STATUS_ERROR = -1, STATUS_UNKNOWN_KIND = -2 };
enum { OP_DECLARE = 1, OP_REJECT = 2, OP_EMIT = 3, OP_ACK = 4, OP_JOIN = 5, OP_HANDSHAKE = 15 };
enum { OP_KV_GET = 20, OP_KV_SET = 21 };
enum { LOG_INFO = 1 };

/* ---- a growable byte buffer ---- */

typedef struct {
  char *p;
  size_t n, cap;
  int oom; /* an allocation failed: the buffer is incomplete */
} buf;

static void add(buf *b, const void *s, size_t n) {
  if (b->oom) return;
  if (b->n + n > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + n) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
      b->oom = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
}

static void adds(buf *b, const char *s) { add(b, s, strlen(s)); }
static void addspan(buf *b, json_span v) { add(b, v.p, v.n); }

/* read_all fills b with the data of a (buf, limit) -> needed host function
 * (input_read, result_read): a buffer of the expected size, and one retry
 * with the size the host asked for if that was not enough. */
static int read_all(buf *b, int32_t (*read)(void *, int32_t), int32_t size) {
  for (int try = 0; try < 2; try++) {
    if (size < 0) return 0;
    if ((size_t)size > b->cap) {
      char *p = realloc(b->p, (size_t)size);
      if (!p) return 0;
      b->p = p;
      b->cap = (size_t)size;
    }
    int32_t need = read(b->p, (int32_t)b->cap);
    if (need >= 0 && (size_t)need <= b->cap) {
      b->n = (size_t)need;
      return 1;
    }
    size = need;
  }
  return 0;
}

/* op runs an operation whose request is b. */
static int32_t op(int32_t code, const buf *b) {
  if (b->oom) return -1;
  return call(code, b->p, (int32_t)b->n);
}

/* fail sets the error text of this call (op reject) and returns
 * STATUS_ERROR: for an event with ack the client gets {"error": text}.
 * text must need no JSON escaping. */
static int32_t fail(const char *text) {
  buf b = {0};
  adds(&b, "{\"message\":\"");
  adds(&b, text);
  adds(&b, "\"}");
  op(OP_REJECT, &b);
  free(b.p);
  return STATUS_ERROR;
}

/* add_escaped appends text as the inside of a JSON string. */
static void add_escaped(buf *b, const char *p, size_t n) {
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)p[i];
    if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      add(b, e, 2);
    } else if (c < 0x20) {
      char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      add(b, e, 6);
    } else {
      add(b, &p[i], 1);
    }
  }
}

/* fail_host sets the host's error text of the last call (result_read)
 * as the error of this call: the client gets {"error": "<host text>"}. */
static int32_t fail_host(const char *what) {
  buf text = {0}, b = {0};
  int32_t n = result_read(NULL, 0); /* the length of the error text */
  adds(&b, "{\"message\":\"");
  if (n > 0 && read_all(&text, result_read, n)) {
    add_escaped(&b, text.p, text.n);
  } else {
    adds(&b, what);
  }
  adds(&b, "\"}");
  op(OP_REJECT, &b);
  free(text.p);
  free(b.p);
  return STATUS_ERROR;
}

/* ---- base64, standard alphabet with padding: how the key-value ops carry
 * values (docs/ABI.md §4.5) ---- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void add_base64(buf *b, const unsigned char *p, size_t n) {
  char q[4];
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)p[i] << 16;
    if (i + 1 < n) v |= (uint32_t)p[i + 1] << 8;
    if (i + 2 < n) v |= p[i + 2];
    q[0] = b64[v >> 18];
    q[1] = b64[(v >> 12) & 63];
    q[2] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
    q[3] = i + 2 < n ? b64[v & 63] : '=';
    add(b, q, 4);
  }
}

static int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

/* unbase64 decodes the JSON string s (quotes included; the host writes no
 * escapes in base64) into out. 0 when it is not padded base64. */
static int unbase64(json_span s, buf *out) {
  if (s.n < 2 || s.p[0] != '"' || s.p[s.n - 1] != '"' || (s.n - 2) % 4) return 0;
  const char *p = s.p + 1;
  size_t n = s.n - 2;
  for (size_t i = 0; i < n; i += 4) {
    int a = b64_value(p[i]), b = b64_value(p[i + 1]);
    int pad2 = p[i + 2] == '=', pad3 = p[i + 3] == '=';
    int c = pad2 ? 0 : b64_value(p[i + 2]), d = pad3 ? 0 : b64_value(p[i + 3]);
    if (a < 0 || b < 0 || c < 0 || d < 0 || (pad2 && !pad3) || ((pad2 || pad3) && i + 4 != n)) return 0;
    uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
    char bytes[3] = {(char)(v >> 16), (char)(v >> 8), (char)v};
    add(out, bytes, pad2 ? 1 : pad3 ? 2 : 3);
  }
  return !out->oom;
}

/* reattach stages every attachment of the input again, in order, so the
 * placeholders {"_placeholder":true,"num":N} of the args keep their numbers
 * in the next call. 0 when one cannot be read or the host refuses it (attach
 * returns a negative error: more than 10, or over the output limit). */
static int reattach(void) {
  for (int32_t i = 0;; i++) {
    int32_t n = attachment_read(i, NULL, 0); /* the size; -1: no such index */
    if (n < 0) return 1;
    void *p = malloc(n ? (size_t)n : 1);
    if (!p) return 0;
    int ok = attachment_read(i, p, n) == n && attach(p, n) == i;
    free(p); /* attach copied the bytes */
    if (!ok) return 0;
  }
}

/* ---- exports (build.sh: -Wl,--export=...) ---- */

/* The marker: never called, its name says which ABI we speak. */
void edged_abi_v1(void) {}

static const char declaration[] =
    "{\"namespaces\":[\"/c\"],\"events\":[\"echo\",\"join\",\"broadcast\",\"kv-put\",\"kv-get\"],"
    "\"connect\":true}";

/* edged_init runs once per instance; the input is {"name","version","config"},
 * which cecho does not need. */
int32_t edged_init(int32_t input_len) {
  (void)input_len;
  if (call(OP_DECLARE, declaration, sizeof declaration - 1) < 0) return STATUS_ERROR;
  static const char hello[] = "cecho ready on /c";
  host_log(LOG_INFO, hello, sizeof hello - 1);
  return STATUS_OK;
}

/* on_connect: the namespace middleware. Reads the handshake (it is not in the
 * input) and refuses when auth.deny is true. */
static int32_t on_connect(void) {
  static const char empty[] = "{}";
  int32_t n = call(OP_HANDSHAKE, empty, sizeof empty - 1);
  if (n < 0) return STATUS_REJECT; /* fail closed; the host says why */
  buf hs = {0};
  int32_t status = STATUS_OK;
  json_span all, auth, deny;
  if (!read_all(&hs, result_read, n)) {
    status = STATUS_REJECT;
  } else {
    all.p = hs.p;
    all.n = hs.n;
    if (json_member(all, "auth", &auth) && json_member(auth, "deny", &deny) &&
        json_is(deny, "true")) {
      static const char no[] = "{\"message\":\"c says no\",\"data\":{\"reason\":\"deny\"}}";
      call(OP_REJECT, no, sizeof no - 1);
      status = STATUS_REJECT;
    }
  }
  free(hs.p);
  return status;
}

/* echo answers the event with args: an ack when the client asked for
 * one, else (echo only) an "echo" event back; attachments re-staged first. */
static int32_t echo(json_span args, int ack) {
  buf req = {0};
  if (ack) {
    adds(&req, "{\"args\":");
  } else {
    adds(&req, "{\"event\":\"echo\",\"args\":");
  }
  addspan(&req, args);
  adds(&req, "}");
  int32_t status = STATUS_OK;
  if (req.oom) {
    status = fail("out of memory");
  } else if (!reattach()) {
    status = fail("attachments refused");
  } else if (op(ack ? OP_ACK : OP_EMIT, &req) < 0) {
    status = fail(ack ? "ack refused" : "emit refused");
  }
  free(req.p);
  return status;
}

/* ack_empty acks [] when asked to. */
static int32_t ack_empty(int ack) {
  static const char empty[] = "{\"args\":[]}";
  if (ack && call(OP_ACK, empty, sizeof empty - 1) < 0) return fail("ack refused");
  return STATUS_OK;
}

static int32_t on_join(json_span args, int ack) {
  json_span room;
  if (!json_index(args, 0, &room) || room.p[0] != '"') return fail("join wants a room name");
  buf req = {0};
  adds(&req, "{\"rooms\":[");
  addspan(&req, room);
  adds(&req, "]}");
  int32_t rc = op(OP_JOIN, &req);
  free(req.p);
  if (rc < 0) return fail("join refused");
  return ack_empty(ack);
}

static int32_t on_broadcast(json_span args, int ack) {
  json_span room, payload;
  if (!json_index(args, 0, &room) || room.p[0] != '"') return fail("broadcast wants a room name");
  if (!json_index(args, 1, &payload)) return fail("broadcast wants a payload");
  /* to(room) from this socket: "broadcast" is false, so the sender, if in
   * the room, gets it too */
  buf req = {0};
  adds(&req, "{\"rooms\":[");
  addspan(&req, room);
  adds(&req, "],\"event\":\"msg\",\"args\":[");
  addspan(&req, payload);
  adds(&req, "]}");
  int32_t status = STATUS_OK;
  if (req.oom) {
    status = fail("out of memory");
  } else if (!reattach()) {
    status = fail("attachments refused");
  } else if (op(OP_EMIT, &req) < 0) {
    status = fail("emit refused");
  }
  free(req.p);
  return status == STATUS_OK ? ack_empty(ack) : status;
}

/* on_kv_put stores the JSON text of args[1] under the key args[0] with op
 * kv_set {"key":KEY,"value":BASE64}. The key is pasted as it came: a JSON
 * string is a JSON string. The host's limits (key 1-1024 bytes, value up to
 * 1 MiB, the request within max_output_bytes) come back as its error text. */
static int32_t on_kv_put(json_span args, int ack) {
  json_span key, value;
  if (!json_index(args, 0, &key) || key.p[0] != '"') return fail("kv-put wants a key");
  if (!json_index(args, 1, &value)) return fail("kv-put wants a value");
  /* sized once: a doubling buffer would need twice the memory */
  size_t size = key.n + (value.n + 2) / 3 * 4 + 32;
  buf req = {malloc(size), 0, size, 0};
  if (!req.p) return fail("out of memory");
  adds(&req, "{\"key\":");
  addspan(&req, key);
  adds(&req, ",\"value\":\"");
  add_base64(&req, (const unsigned char *)value.p, value.n);
  adds(&req, "\"}");
  if (req.oom) {
    free(req.p);
    return fail("out of memory");
  }
  int32_t rc = op(OP_KV_SET, &req);
  free(req.p);
  if (rc < 0) return fail_host("kv_set refused");
  return ack_empty(ack);
}

/* on_kv_get acks [value] with the JSON text kv-put stored, or [null]: op
 * kv_get {"key":KEY} gives {"found":bool,"value":BASE64|null}. */
static int32_t on_kv_get(json_span args, int ack) {
  json_span key;
  if (!json_index(args, 0, &key) || key.p[0] != '"') return fail("kv-get wants a key");
  buf req = {0}, res = {0}, out = {0};
  adds(&req, "{\"key\":");
  addspan(&req, key);
  adds(&req, "}");
  int32_t status = STATUS_OK;
  int32_t n = op(OP_KV_GET, &req);
  json_span all, found, value;
  if (n < 0) {
    status = fail_host("kv_get refused");
  } else if (!read_all(&res, result_read, n)) {
    status = fail("cannot read result");
  } else {
    all.p = res.p;
    all.n = res.n;
    adds(&out, "{\"args\":[");
    if (json_member(all, "found", &found) && json_is(found, "true")) {
      if (!json_member(all, "value", &value) || !unbase64(value, &out)) status = fail("bad kv_get result");
    } else {
      adds(&out, "null");
    }
    adds(&out, "]}");
    if (status == STATUS_OK && ack && op(OP_ACK, &out) < 0) status = fail("ack refused");
  }
  free(req.p);
  free(res.p);
  free(out.p);
  return status;
}

/* on_event: the input is {"socket": S, "event": "name", "args": [...], "ack": bool}. */
static int32_t on_event(json_span in) {
  json_span event, args, ack;
  if (!json_member(in, "event", &event) || !json_member(in, "args", &args) ||
      args.p[0] != '[')
    return fail("bad input");
  int want_ack = json_member(in, "ack", &ack) && json_is(ack, "true");
  if (json_is(event, "\"echo\"")) return echo(args, want_ack);
  if (json_is(event, "\"join\"")) return on_join(args, want_ack);
  if (json_is(event, "\"broadcast\"")) return on_broadcast(args, want_ack);
  if (json_is(event, "\"kv-put\"")) return on_kv_put(args, want_ack);
  if (json_is(event, "\"kv-get\"")) return on_kv_get(args, want_ack);
  return fail("unknown event"); /* we declared only these five */
}

/* edged_on is the dispatcher: one call per host event (§3). */
int32_t edged_on(int32_t kind, int32_t input_len) {
  if (kind == KIND_CONNECT) return on_connect();
  if (kind != KIND_EVENT) return STATUS_UNKNOWN_KIND;
  buf in = {0};
  int32_t status;
  if (!read_all(&in, input_read, input_len)) {
    status = fail("cannot read input");
  } else {
    json_span all = {in.p, in.n};
    status = on_event(all);
  }
  free(in.p);
  return status;
}
