/* json.c: see json.h. */
#include "json.h"

#include <string.h>

static const char *skip_ws(const char *p, const char *end) {
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
  return p;
}

/* skip_string: p at the opening quote; returns the byte after the closing
 * quote, or NULL. */
static const char *skip_string(const char *p, const char *end) {
  for (p++; p < end; p++) {
    if (*p == '\\') {
      p++;
      continue;
    }
    if (*p == '"') return p + 1;
  }
  return NULL;
}

/* skip_value: p at the first byte of a value; returns the byte after it, or
 * NULL. Containers are matched by depth; strings are skipped whole. */
static const char *skip_value(const char *p, const char *end) {
  if (p >= end) return NULL;
  if (*p == '"') return skip_string(p, end);
  if (*p == '[' || *p == '{') {
    size_t depth = 0;
    while (p < end) {
      char c = *p;
      if (c == '"') {
        if (!(p = skip_string(p, end))) return NULL;
        continue;
      }
      p++;
      if (c == '[' || c == '{') depth++;
      if (c == ']' || c == '}') {
        if (--depth == 0) return p;
      }
    }
    return NULL;
  }
  /* a number, true, false or null: up to the next delimiter */
  const char *start = p;
  while (p < end && *p != ',' && *p != ']' && *p != '}' && *p != ' ' &&
         *p != '\t' && *p != '\n' && *p != '\r')
    p++;
  return p > start ? p : NULL;
}

int json_member(json_span v, const char *key, json_span *out) {
  const char *end = v.p + v.n;
  const char *p = skip_ws(v.p, end);
  size_t klen = strlen(key);
  if (p >= end || *p != '{') return 0;
  p++;
  for (;;) {
    p = skip_ws(p, end);
    if (p >= end || *p != '"') return 0; /* also the end of an empty object */
    const char *k = p + 1;
    if (!(p = skip_string(p, end))) return 0;
    size_t n = (size_t)(p - 1 - k);
    p = skip_ws(p, end);
    if (p >= end || *p != ':') return 0;
    const char *val = skip_ws(p + 1, end);
    if (!(p = skip_value(val, end))) return 0;
    if (n == klen && memcmp(k, key, n) == 0) {
      out->p = val;
      out->n = (size_t)(p - val);
      return 1;
    }
    p = skip_ws(p, end);
    if (p >= end || *p != ',') return 0;
    p++;
  }
}

int json_index(json_span v, size_t i, json_span *out) {
  const char *end = v.p + v.n;
  const char *p = skip_ws(v.p, end);
  if (p >= end || *p != '[') return 0;
  p++;
  for (size_t at = 0;; at++) {
    const char *val = skip_ws(p, end);
    if (!(p = skip_value(val, end))) return 0; /* also the end of an empty array */
    if (at == i) {
      out->p = val;
      out->n = (size_t)(p - val);
      return 1;
    }
    p = skip_ws(p, end);
    if (p >= end || *p != ',') return 0;
    p++;
  }
}

int json_is(json_span v, const char *lit) {
  size_t n = strlen(lit);
  return v.n == n && memcmp(v.p, lit, n) == 0;
}
