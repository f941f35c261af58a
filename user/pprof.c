// SPDX-License-Identifier: GPL-2.0
/*
 * A gzipped pprof profile, its protobuf wire format encoded by hand: the few message kinds
 * of profile.proto that an off-CPU profile needs do not justify a protobuf dependency.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "pprof.h"

/* Field numbers, from proto/profile.proto. */
enum {
	PROFILE_SAMPLE_TYPE = 1,
	PROFILE_SAMPLE = 2,
	PROFILE_MAPPING = 3,
	PROFILE_LOCATION = 4,
	PROFILE_FUNCTION = 5,
	PROFILE_STRING_TABLE = 6,
	PROFILE_TIME_NANOS = 9,
	PROFILE_DURATION_NANOS = 10,
	PROFILE_PERIOD_TYPE = 11,
	PROFILE_COMMENT = 13,
	PROFILE_DEFAULT_SAMPLE_TYPE = 14,
	VALUE_TYPE_TYPE = 1,
	VALUE_TYPE_UNIT = 2,
	SAMPLE_LOCATION_ID = 1,
	SAMPLE_VALUE = 2,
	SAMPLE_LABEL = 3,
	LABEL_KEY = 1,
	LABEL_STR = 2,
	LABEL_NUM = 3,
	MAPPING_ID = 1,
	MAPPING_HAS_FUNCTIONS = 7,
	LOCATION_ID = 1,
	LOCATION_MAPPING_ID = 2,
	LOCATION_LINE = 4,
	LINE_FUNCTION_ID = 1,
	FUNCTION_ID = 1,
	FUNCTION_NAME = 2,
};

enum { WIRE_VARINT = 0, WIRE_LEN = 2 };

/* Encoded bytes waiting for deflate: flushed at this size so big profiles need little memory. */
#define FLUSH_AT (64 * 1024)

#define UNKNOWN_FRAME "[unknown]"

struct buf {
	uint8_t *p;
	size_t len, cap;
	bool oom; /* sticky, so that the encoders need no error paths of their own */
};

struct str {
	const char *s; /* the caller's, or a literal: the table lives only during pprof_write */
	size_t len;
	uint64_t hash;
	uint64_t func; /* id of the Function of this name, 0 if no frame has it */
};

/* The string table in order of first use, with an open-addressing index over it. */
struct strtab {
	struct str *v;
	size_t n, cap;
	size_t *slot;  /* index + 1 into v, 0 for an empty slot */
	size_t nslots; /* a power of two, kept at least twice n so that probes stay short */
	bool oom;
};

struct writer {
	struct buf b;
	struct strtab st;
	size_t *funcs; /* string index of each Function's name: id i + 1 is funcs[i] */
	size_t nfuncs, capfuncs;
	bool oom;
	z_stream z;
	FILE *f;
	int err; /* first -EIO from zlib or f */
};

static bool buf_reserve(struct buf *b, size_t more)
{
	size_t cap;
	uint8_t *p;

	if (b->oom)
		return false;
	if (b->cap - b->len >= more)
		return true;
	for (cap = b->cap ? b->cap : 4096; cap - b->len < more; cap *= 2)
		;
	p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

static int varint_len(uint64_t v)
{
	int n = 1;

	for (; v >= 0x80; v >>= 7)
		n++;
	return n;
}

static void encode_varint(uint8_t *p, uint64_t v)
{
	for (; v >= 0x80; v >>= 7)
		*p++ = (uint8_t)v | 0x80;
	*p = (uint8_t)v;
}

static void put_varint(struct buf *b, uint64_t v)
{
	if (!buf_reserve(b, 10))
		return;
	encode_varint(b->p + b->len, v);
	b->len += varint_len(v);
}

static void put_key(struct buf *b, int field, int wire)
{
	put_varint(b, (uint64_t)field << 3 | wire);
}

/* int64 fields take the same bytes as uint64 ones: negatives are ten-byte varints. */
static void put_uint(struct buf *b, int field, uint64_t v)
{
	/* proto3 leaves zero scalars out: a reader's default is zero anyway */
	if (!v)
		return;
	put_key(b, field, WIRE_VARINT);
	put_varint(b, v);
}

static void put_bytes(struct buf *b, int field, const char *s, size_t len)
{
	put_key(b, field, WIRE_LEN);
	put_varint(b, len);
	if (!buf_reserve(b, len))
		return;
	memcpy(b->p + b->len, s, len);
	b->len += len;
}

/*
 * A nested message (or packed field) is preceded by its length, known only at its end: one
 * byte is reserved, enough for most, and msg_end shifts the body along when it is not.
 * Returns where the length goes.
 */
static size_t msg_begin(struct buf *b, int field)
{
	size_t at;

	put_key(b, field, WIRE_LEN);
	at = b->len;
	if (buf_reserve(b, 1))
		b->len++;
	return at;
}

static void msg_end(struct buf *b, size_t at)
{
	size_t body, extra;

	if (b->oom)
		return;
	body = b->len - at - 1;
	extra = varint_len(body) - 1;
	if (extra && !buf_reserve(b, extra))
		return;
	memmove(b->p + at + 1 + extra, b->p + at + 1, body);
	b->len += extra;
	encode_varint(b->p + at, body);
}

/* 64-bit FNV-1a: short, and good enough for symbol names. */
static uint64_t hash_bytes(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}

static size_t *st_find(struct strtab *t, const char *s, size_t len, uint64_t hash)
{
	size_t mask = t->nslots - 1, i = hash & mask;

	for (;; i = (i + 1) & mask) {
		const struct str *e;

		if (!t->slot[i])
			return &t->slot[i];
		e = &t->v[t->slot[i] - 1];
		if (e->hash == hash && e->len == len && !memcmp(e->s, s, len))
			return &t->slot[i];
	}
}

static bool st_rehash(struct strtab *t, size_t nslots)
{
	size_t *slot = calloc(nslots, sizeof(*slot));

	if (!slot)
		return false;
	free(t->slot);
	t->slot = slot;
	t->nslots = nslots;
	for (size_t i = 0; i < t->n; i++)
		*st_find(t, t->v[i].s, t->v[i].len, t->v[i].hash) = i + 1;
	return true;
}

/* Room for one more string in the table and in its index. */
static bool st_grow(struct strtab *t)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 256;
		struct str *v = realloc(t->v, cap * sizeof(*v));

		if (!v)
			return false;
		t->v = v;
		t->cap = cap;
	}
	if (2 * (t->n + 1) > t->nslots)
		return st_rehash(t, t->nslots ? 2 * t->nslots : 512);
	return true;
}

/* Index of s in the string table, added if new; 0 ("") once memory has run out. */
static size_t intern(struct strtab *t, const char *s)
{
	size_t len = strlen(s), *slot;
	uint64_t hash = hash_bytes(s, len);

	if (t->oom || !st_grow(t)) {
		t->oom = true;
		return 0;
	}
	slot = st_find(t, s, len, hash);
	if (!*slot) {
		t->v[t->n] = (struct str){.s = s, .len = len, .hash = hash};
		*slot = ++t->n;
	}
	return *slot - 1;
}

/* Function (and Location) id of a frame name, given one at its first sight. */
static uint64_t frame_id(struct writer *w, const char *name)
{
	size_t i = intern(&w->st, name && *name ? name : UNKNOWN_FRAME);

	if (w->st.oom)
		return 0;
	if (w->st.v[i].func)
		return w->st.v[i].func;
	if (w->nfuncs == w->capfuncs) {
		size_t cap = w->capfuncs ? 2 * w->capfuncs : 256;
		size_t *funcs = realloc(w->funcs, cap * sizeof(*funcs));

		if (!funcs) {
			w->oom = true;
			return 0;
		}
		w->funcs = funcs;
		w->capfuncs = cap;
	}
	w->funcs[w->nfuncs++] = i;
	w->st.v[i].func = w->nfuncs;
	return w->nfuncs;
}

/* Hands the encoded bytes to deflate and writes out what it makes of them. */
static void flush(struct writer *w, int mode)
{
	unsigned char out[16384];

	if (w->err || w->b.oom) {
		/* nothing more is written after an error: dropping the bytes bounds the buffer */
		w->b.len = 0;
		return;
	}
	w->z.next_in = w->b.p;
	/* fits: maybe_flush keeps the buffer near FLUSH_AT */
	w->z.avail_in = (uInt)w->b.len;
	do {
		size_t have;

		w->z.next_out = out;
		w->z.avail_out = sizeof(out);
		if (deflate(&w->z, mode) == Z_STREAM_ERROR) {
			w->err = -EIO;
			return;
		}
		have = sizeof(out) - w->z.avail_out;
		if (fwrite(out, 1, have, w->f) != have) {
			w->err = -EIO;
			return;
		}
	} while (w->z.avail_out == 0);
	w->b.len = 0;
}

/* Called between top-level fields only: a nested message's length is still to be patched. */
static void maybe_flush(struct writer *w)
{
	if (w->b.len >= FLUSH_AT)
		flush(w, Z_NO_FLUSH);
}

static void put_value_type(struct writer *w, int field, const char *type, const char *unit)
{
	size_t at = msg_begin(&w->b, field);

	put_uint(&w->b, VALUE_TYPE_TYPE, intern(&w->st, type));
	put_uint(&w->b, VALUE_TYPE_UNIT, intern(&w->st, unit));
	msg_end(&w->b, at);
}

static void put_str_label(struct writer *w, const char *key, const char *val)
{
	size_t at;

	if (!val || !*val)
		return;
	at = msg_begin(&w->b, SAMPLE_LABEL);
	put_uint(&w->b, LABEL_KEY, intern(&w->st, key));
	put_uint(&w->b, LABEL_STR, intern(&w->st, val));
	msg_end(&w->b, at);
}

static void put_num_label(struct writer *w, const char *key, int64_t val)
{
	size_t at = msg_begin(&w->b, SAMPLE_LABEL);

	put_uint(&w->b, LABEL_KEY, intern(&w->st, key));
	put_uint(&w->b, LABEL_NUM, (uint64_t)val);
	msg_end(&w->b, at);
}

/* Sample values are int64: a larger count must not read back as negative. */
static uint64_t clamp_i64(uint64_t v)
{
	return v > INT64_MAX ? INT64_MAX : v;
}

static void put_sample(struct writer *w, const struct pprof_sample *s)
{
	size_t msg = msg_begin(&w->b, PROFILE_SAMPLE);
	size_t packed = msg_begin(&w->b, SAMPLE_LOCATION_ID);
	int n = s->frames ? s->nframes : 0;

	if (n <= 0)
		put_varint(&w->b, frame_id(w, NULL));
	for (int i = n - 1; i >= 0; i--)
		put_varint(&w->b, frame_id(w, s->frames[i]));
	msg_end(&w->b, packed);
	packed = msg_begin(&w->b, SAMPLE_VALUE);
	put_varint(&w->b, clamp_i64(s->value_ns));
	put_varint(&w->b, clamp_i64(s->count));
	msg_end(&w->b, packed);
	put_str_label(w, "reason", s->reason);
	put_str_label(w, "thread", s->thread);
	put_num_label(w, "tid", s->tid);
	put_num_label(w, "pid", s->pid);
	msg_end(&w->b, msg);
}

/*
 * One Mapping that says its functions are known already: without it pprof makes up one of
 * no file name, tries to symbolize through it and warns "Main binary filename not available".
 */
static void put_mapping(struct writer *w)
{
	size_t at = msg_begin(&w->b, PROFILE_MAPPING);

	put_uint(&w->b, MAPPING_ID, 1);
	put_uint(&w->b, MAPPING_HAS_FUNCTIONS, 1);
	msg_end(&w->b, at);
}

/* Location i and Function i share id and name: a frame here is nothing but its name. */
static void put_frames(struct writer *w)
{
	for (size_t i = 0; i < w->nfuncs; i++) {
		size_t loc = msg_begin(&w->b, PROFILE_LOCATION), line;

		put_uint(&w->b, LOCATION_ID, i + 1);
		put_uint(&w->b, LOCATION_MAPPING_ID, 1);
		line = msg_begin(&w->b, LOCATION_LINE);
		put_uint(&w->b, LINE_FUNCTION_ID, i + 1);
		msg_end(&w->b, line);
		msg_end(&w->b, loc);
		maybe_flush(w);
	}
	for (size_t i = 0; i < w->nfuncs; i++) {
		size_t fn = msg_begin(&w->b, PROFILE_FUNCTION);

		put_uint(&w->b, FUNCTION_ID, i + 1);
		put_uint(&w->b, FUNCTION_NAME, w->funcs[i]);
		msg_end(&w->b, fn);
		maybe_flush(w);
	}
}

static bool out_of_memory(const struct writer *w)
{
	return w->b.oom || w->st.oom || w->oom;
}

static void put_profile(struct writer *w, const struct pprof_sample *s, size_t n, uint64_t start_ns,
			uint64_t duration_ns)
{
	size_t offcpu = intern(&w->st, "offcpu"), comment;

	put_value_type(w, PROFILE_SAMPLE_TYPE, "offcpu", "nanoseconds");
	put_value_type(w, PROFILE_SAMPLE_TYPE, "periods", "count");
	for (size_t i = 0; i < n && !w->err && !out_of_memory(w); i++) {
		if (!s[i].value_ns)
			continue;
		put_sample(w, &s[i]);
		maybe_flush(w);
	}
	put_mapping(w);
	put_frames(w);
	/* the string table goes out now: every string the fields after it need is in it */
	comment = intern(&w->st, "generated by waitscope offcpu");
	for (size_t i = 0; i < w->st.n; i++) {
		put_bytes(&w->b, PROFILE_STRING_TABLE, w->st.v[i].s, w->st.v[i].len);
		maybe_flush(w);
	}
	put_uint(&w->b, PROFILE_TIME_NANOS, start_ns);
	put_uint(&w->b, PROFILE_DURATION_NANOS, duration_ns);
	put_value_type(w, PROFILE_PERIOD_TYPE, "offcpu", "nanoseconds");
	put_uint(&w->b, PROFILE_COMMENT, comment);
	/* pprof would show the last sample type, the period count, by default */
	put_uint(&w->b, PROFILE_DEFAULT_SAMPLE_TYPE, offcpu);
}

int pprof_write(FILE *f, const struct pprof_sample *s, size_t n, uint64_t start_ns,
		uint64_t duration_ns)
{
	struct writer w = {.f = f};
	int err;

	if (!f || (!s && n))
		return -EINVAL;
	/* 15 + 16: a gzip wrapper, which is what pprof files are, rather than raw zlib */
	if (deflateInit2(&w.z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return -ENOMEM;
	intern(&w.st, "");
	put_profile(&w, s, n, start_ns, duration_ns);
	if (!out_of_memory(&w))
		flush(&w, Z_FINISH);
	err = out_of_memory(&w) ? -ENOMEM : w.err;
	if (!err && fflush(f))
		err = -EIO;
	deflateEnd(&w.z);
	free(w.b.p);
	free(w.st.v);
	free(w.st.slot);
	free(w.funcs);
	return err;
}
