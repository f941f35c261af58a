/* SPDX-License-Identifier: GPL-2.0 */
/* A small streaming JSON writer: correct escaping, commas and nesting, nothing more. */
#ifndef WAITSCOPE_JSON_H
#define WAITSCOPE_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json {
	FILE *f;
	int depth;
	bool pretty;
	bool first[JSON_MAX_DEPTH]; /* nothing written yet at this level */
};

void json_init(struct json *j, FILE *f, bool pretty);
/* key is NULL inside arrays and for the top-level value. */
void json_object_begin(struct json *j, const char *key);
void json_object_end(struct json *j);
void json_array_begin(struct json *j, const char *key);
void json_array_end(struct json *j);
void json_string(struct json *j, const char *key, const char *val); /* NULL writes null */
void json_u64(struct json *j, const char *key, uint64_t val);
void json_i64(struct json *j, const char *key, int64_t val);
void json_double(struct json *j, const char *key, double val); /* fixed "%.1f"-like, never locale */
void json_bool(struct json *j, const char *key, bool val);
/* Ends the document with a newline. */
void json_end(struct json *j);

#endif
