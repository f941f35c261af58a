/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small streaming JSON writer: correct escaping, commas and nesting, nothing more.
 * Write errors are not reported per call: check ferror(f) after json_end().
 */
#ifndef WAITSCOPE_JSON_H
#define WAITSCOPE_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "hist.h"

#define JSON_MAX_DEPTH 32

struct json {
	FILE *f;
	int depth;
	bool pretty;
	bool first[JSON_MAX_DEPTH]; /* nothing written yet at this level */
	char close[JSON_MAX_DEPTH]; /* '}' or ']': what ends each open level */
	int overflow;		    /* levels opened beyond JSON_MAX_DEPTH - 1, being dropped */
};

void json_init(struct json *j, FILE *f, bool pretty);
/*
 * key is NULL inside arrays and for the top-level value (a key given there is
 * ignored; a NULL key inside an object is written as ""). Containers nested
 * deeper than JSON_MAX_DEPTH - 1 are dropped whole, with their key, so the
 * document stays valid. Strings are bytes in UTF-8: control characters are
 * escaped and each byte of an invalid UTF-8 sequence becomes U+FFFD.
 */
void json_object_begin(struct json *j, const char *key);
void json_object_end(struct json *j);
void json_array_begin(struct json *j, const char *key);
void json_array_end(struct json *j);
void json_string(struct json *j, const char *key, const char *val); /* NULL writes null */
void json_u64(struct json *j, const char *key, uint64_t val);
void json_i64(struct json *j, const char *key, int64_t val);
/* Fixed "%.1f"-like format that ignores the locale; NaN and infinities are written as null. */
void json_double(struct json *j, const char *key, double val);
void json_bool(struct json *j, const char *key, bool val);
/* Closes whatever is still open, then ends the document with a newline. */
void json_end(struct json *j);

/* A histogram as an object: count, total_us, p50/p90/p99/max_us, its log2 slots. */
void json_hist(struct json *j, const char *key, const struct hist *h);

#endif
