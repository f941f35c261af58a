// SPDX-License-Identifier: GPL-2.0
/* A streaming JSON writer. */
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "json.h"

void json_init(struct json *j, FILE *f, bool pretty)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
	j->pretty = pretty;
	j->first[0] = true;
}

/*
 * Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), 0 if it is not one. s is
 * NUL-terminated and NUL is no continuation byte, so this never reads past it.
 */
static int utf8_len(const unsigned char *s)
{
	unsigned char lo = 0x80, hi = 0xbf;
	int n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	if (s[0] < 0xe0) {
		n = 2;
	} else if (s[0] < 0xf0) {
		n = 3;
		lo = s[0] == 0xe0 ? 0xa0 : lo;
		hi = s[0] == 0xed ? 0x9f : hi;
	} else {
		n = 4;
		lo = s[0] == 0xf0 ? 0x90 : lo;
		hi = s[0] == 0xf4 ? 0x8f : hi;
	}
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (int i = 2; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	}
	return n;
}

static void write_escape(FILE *f, unsigned char c)
{
	switch (c) {
	case '"':
		fputs("\\\"", f);
		break;
	case '\\':
		fputs("\\\\", f);
		break;
	case '\b':
		fputs("\\b", f);
		break;
	case '\f':
		fputs("\\f", f);
		break;
	case '\n':
		fputs("\\n", f);
		break;
	case '\r':
		fputs("\\r", f);
		break;
	case '\t':
		fputs("\\t", f);
		break;
	default:
		/* a byte of broken UTF-8 must not reach a strict parser as is */
		if (c >= 0x80)
			fputs("\\ufffd", f);
		else
			fprintf(f, "\\u%04x", c);
	}
}

/* Plain bytes go out in runs; only what needs an escape is written byte by byte. */
static void write_string(FILE *f, const char *str)
{
	const unsigned char *p = (const unsigned char *)str, *run = p;

	fputc('"', f);
	while (*p) {
		int n = 0;

		if (*p >= 0x20 && *p != '"' && *p != '\\')
			n = utf8_len(p);
		if (n) {
			p += n;
			continue;
		}
		fwrite(run, 1, p - run, f);
		write_escape(f, *p++);
		run = p;
	}
	fwrite(run, 1, p - run, f);
	fputc('"', f);
}

static void newline_indent(struct json *j)
{
	fprintf(j->f, "\n%*s", 2 * j->depth, "");
}

/* Comma, indentation and key in front of a value; false while a too-deep subtree is dropped. */
static bool begin_value(struct json *j, const char *key)
{
	if (j->overflow)
		return false;
	if (!j->first[j->depth])
		fputc(j->depth ? ',' : '\n', j->f);
	j->first[j->depth] = false;
	if (!j->depth)
		return true;
	if (j->pretty)
		newline_indent(j);
	if (j->close[j->depth] == '}') {
		write_string(j->f, key ? key : "");
		fputs(j->pretty ? ": " : ":", j->f);
	}
	return true;
}

static void container_begin(struct json *j, const char *key, char open, char close)
{
	if (j->overflow || j->depth >= JSON_MAX_DEPTH - 1) {
		j->overflow++;
		return;
	}
	begin_value(j, key);
	fputc(open, j->f);
	j->depth++;
	j->first[j->depth] = true;
	j->close[j->depth] = close;
}

/* Closes the innermost level with the bracket that opened it, whichever end was called. */
static void container_end(struct json *j)
{
	bool empty;

	if (j->overflow) {
		j->overflow--;
		return;
	}
	if (!j->depth)
		return;
	empty = j->first[j->depth];
	j->depth--;
	if (j->pretty && !empty)
		newline_indent(j);
	fputc(j->close[j->depth + 1], j->f);
}

void json_object_begin(struct json *j, const char *key)
{
	container_begin(j, key, '{', '}');
}

void json_object_end(struct json *j)
{
	container_end(j);
}

void json_array_begin(struct json *j, const char *key)
{
	container_begin(j, key, '[', ']');
}

void json_array_end(struct json *j)
{
	container_end(j);
}

void json_string(struct json *j, const char *key, const char *val)
{
	if (!begin_value(j, key))
		return;
	if (val)
		write_string(j->f, val);
	else
		fputs("null", j->f);
}

void json_u64(struct json *j, const char *key, uint64_t val)
{
	if (begin_value(j, key))
		fprintf(j->f, "%" PRIu64, val);
}

void json_i64(struct json *j, const char *key, int64_t val)
{
	if (begin_value(j, key))
		fprintf(j->f, "%" PRId64, val);
}

/*
 * printf's "%f" takes its decimal point from LC_NUMERIC, so tenths are
 * formatted as integers, which no locale touches. Beyond 1e15 a double has
 * no meaningful tenths left, and "%.0f" prints no decimal point at all.
 */
void json_double(struct json *j, const char *key, double val)
{
	long long tenths;

	if (!begin_value(j, key))
		return;
	if (!isfinite(val)) {
		fputs("null", j->f);
		return;
	}
	if (val >= 1e15 || val <= -1e15) {
		fprintf(j->f, "%.0f", val);
		return;
	}
	tenths = (long long)(val * 10 + (val < 0 ? -0.5 : 0.5));
	if (tenths < 0) {
		fputc('-', j->f);
		tenths = -tenths;
	}
	fprintf(j->f, "%lld.%lld", tenths / 10, tenths % 10);
}

void json_bool(struct json *j, const char *key, bool val)
{
	if (begin_value(j, key))
		fputs(val ? "true" : "false", j->f);
}

void json_end(struct json *j)
{
	j->overflow = 0;
	while (j->depth)
		container_end(j);
	fputc('\n', j->f);
}

void json_hist(struct json *j, const char *key, const struct hist *h)
{
	json_object_begin(j, key);
	json_u64(j, "count", h->count);
	json_double(j, "total_us", h->total_ns / 1000.0);
	json_double(j, "p50_us", hist_percentile_us(h, 50));
	json_double(j, "p90_us", hist_percentile_us(h, 90));
	json_double(j, "p99_us", hist_percentile_us(h, 99));
	json_double(j, "max_us", h->max_ns / 1000.0);
	json_array_begin(j, "slots");
	for (int i = 0; i < HIST_MAX_SLOTS; i++)
		json_u64(j, NULL, h->slots[i]);
	json_array_end(j);
	json_object_end(j);
}
