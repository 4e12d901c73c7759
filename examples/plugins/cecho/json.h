/* json.h: the little JSON scanning cecho needs. Not a parser: it finds the
 * raw bytes of a value (a span) inside a JSON text the host produced, without
 * copying or decoding. Iterative (no recursion), bounds-checked, so odd input
 * gives "not found", never a crash. Keys are compared byte for byte (a key
 * written with escapes does not match). */
#ifndef CECHO_JSON_H
#define CECHO_JSON_H

#include <stddef.h>

typedef struct {
  const char *p; /* first byte of the value */
  size_t n;      /* its length */
} json_span;

/* json_member finds the value of key in the object v. 1 if found. */
int json_member(json_span v, const char *key, json_span *out);

/* json_index finds element i (from 0) of the array v. 1 if found. */
int json_index(json_span v, size_t i, json_span *out);

/* json_is says whether v is exactly the raw text lit (e.g. "true", "\"echo\""). */
int json_is(json_span v, const char *lit);

#endif
