// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of user/pprof.c: each profile is written to a temporary file, gunzipped, and
 * walked by a small protobuf reader of its own, so that the writer's encoder is not checked
 * against itself.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <cmocka.h>

#include "pprof.h"

#define ARRAY_SIZE(a) ((int)(sizeof(a) / sizeof((a)[0])))

#define MAX_VALUES 4
#define MAX_LABELS 8
#define MAX_LINES  4
#define MAX_FRAMES 1024

/* The bytes of one field, or a message to read. */
struct rd {
	const uint8_t *p, *end;
};

struct label {
	int64_t key, str, num;
};

struct sample {
	uint64_t *locs;
	size_t nlocs;
	int64_t values[MAX_VALUES];
	int nvalues;
	struct label labels[MAX_LABELS];
	int nlabels;
};

struct location {
	uint64_t id, mapping_id;
	uint64_t funcs[MAX_LINES]; /* function_id of each Line */
	int nlines;
};

struct function {
	uint64_t id;
	int64_t name;
};

struct value_type {
	int64_t type, unit;
};

struct mapping {
	uint64_t id, has_functions;
};

/* What the tests look at of a Profile; string indices are resolved with str(). */
struct profile {
	struct value_type sample_types[MAX_VALUES];
	int nsample_types;
	struct sample *samples;
	size_t nsamples;
	struct mapping mappings[MAX_VALUES];
	int nmappings;
	struct location *locs;
	size_t nlocs;
	struct function *funcs;
	size_t nfuncs;
	char **strs;
	size_t nstrs;
	int64_t time_nanos, duration_nanos, default_sample_type;
	struct value_type period_type;
	int64_t comments[MAX_VALUES];
	int ncomments;
};

/* Makes room for one more element of size sz in *v, which holds n. */
static void *grow(void *v, size_t n, size_t sz)
{
	/* doubling at powers of two keeps the reading of big profiles linear */
	if (!(n & (n - 1))) {
		void *grown = realloc(v, (n ? 2 * n : 1) * sz);

		assert_non_null(grown);
		return grown;
	}
	return v;
}

static uint64_t rd_varint(struct rd *r)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		uint8_t b;

		assert_true(r->p < r->end);
		b = *r->p++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	fail_msg("varint longer than ten bytes");
	return 0;
}

/*
 * Next field of a message: its number, and either its varint (wire type 0) in *v or its
 * bytes (wire type 2) in *sub. False at the end of the message.
 */
static bool rd_field(struct rd *r, int *field, int *wire, uint64_t *v, struct rd *sub)
{
	uint64_t key;

	if (r->p == r->end)
		return false;
	key = rd_varint(r);
	*field = (int)(key >> 3);
	*wire = (int)(key & 7);
	assert_true(*field > 0);
	if (*wire == 0) {
		*v = rd_varint(r);
		return true;
	}
	assert_int_equal(*wire, 2); /* the writer has no use for fixed-size fields */
	*v = rd_varint(r);
	assert_true(*v <= (uint64_t)(r->end - r->p));
	sub->p = r->p;
	sub->end = r->p + *v;
	r->p += *v;
	return true;
}

/* A repeated integer field, packed (wire type 2) or not: calls add for each value. */
static void rd_repeated(int wire, uint64_t v, struct rd *sub, void (*add)(void *, uint64_t),
			void *ctx)
{
	if (wire == 0) {
		add(ctx, v);
		return;
	}
	while (sub->p < sub->end)
		add(ctx, rd_varint(sub));
}

static void read_value_type(struct rd *r, struct value_type *vt)
{
	int field, wire;
	uint64_t v;
	struct rd sub;

	memset(vt, 0, sizeof(*vt));
	while (rd_field(r, &field, &wire, &v, &sub)) {
		if (field == 1)
			vt->type = (int64_t)v;
		else if (field == 2)
			vt->unit = (int64_t)v;
	}
}

static void read_label(struct rd *r, struct label *l)
{
	int field, wire;
	uint64_t v;
	struct rd sub;

	memset(l, 0, sizeof(*l));
	while (rd_field(r, &field, &wire, &v, &sub)) {
		if (field == 1)
			l->key = (int64_t)v;
		else if (field == 2)
			l->str = (int64_t)v;
		else if (field == 3)
			l->num = (int64_t)v;
	}
}

static void add_loc(void *ctx, uint64_t v)
{
	struct sample *s = ctx;

	s->locs = grow(s->locs, s->nlocs, sizeof(*s->locs));
	s->locs[s->nlocs++] = v;
}

static void add_value(void *ctx, uint64_t v)
{
	struct sample *s = ctx;

	assert_true(s->nvalues < MAX_VALUES);
	s->values[s->nvalues++] = (int64_t)v;
}

static void read_sample(struct rd *r, struct sample *s)
{
	int field, wire;
	uint64_t v;
	struct rd sub;

	memset(s, 0, sizeof(*s));
	while (rd_field(r, &field, &wire, &v, &sub)) {
		if (field == 1) {
			rd_repeated(wire, v, &sub, add_loc, s);
		} else if (field == 2) {
			rd_repeated(wire, v, &sub, add_value, s);
		} else if (field == 3) {
			assert_true(s->nlabels < MAX_LABELS);
			read_label(&sub, &s->labels[s->nlabels++]);
		}
	}
}

static void read_line(struct rd *r, struct location *l)
{
	int field, wire;
	uint64_t v;
	struct rd sub;

	assert_true(l->nlines < MAX_LINES);
	l->funcs[l->nlines] = 0;
	while (rd_field(r, &field, &wire, &v, &sub)) {
		if (field == 1)
			l->funcs[l->nlines] = v;
	}
	l->nlines++;
}

static void read_location(struct rd *r, struct location *l)
{
	int field, wire;
	uint64_t v;
	struct rd sub;

	memset(l, 0, sizeof(*l));
	while (rd_field(r, &field, &wire, &v, &sub)) {
		if (field == 1)
			l->id = v;
		else if (field == 2)
			l->mapping_id = v;
		else if (field == 4)
			read_line(&sub, l);
	}
}

static void read_mapping(struct rd *r, struct mapping *m)
{
	int field, wire;
	uint64_t v;
	struct rd sub;

	memset(m, 0, sizeof(*m));
	while (rd_field(r, &field, &wire, &v, &sub)) {
		if (field == 1)
			m->id = v;
		else if (field == 7)
			m->has_functions = v;
	}
}

static void read_function(struct rd *r, struct function *f)
{
	int field, wire;
	uint64_t v;
	struct rd sub;

	memset(f, 0, sizeof(*f));
	while (rd_field(r, &field, &wire, &v, &sub)) {
		if (field == 1)
			f->id = v;
		else if (field == 2)
			f->name = (int64_t)v;
	}
}

static void add_comment(void *ctx, uint64_t v)
{
	struct profile *p = ctx;

	assert_true(p->ncomments < MAX_VALUES);
	p->comments[p->ncomments++] = (int64_t)v;
}

static void read_string(struct profile *p, const struct rd *sub)
{
	size_t len = sub->end - sub->p;
	char *s = malloc(len + 1);

	assert_non_null(s);
	memcpy(s, sub->p, len);
	s[len] = '\0';
	p->strs = grow(p->strs, p->nstrs, sizeof(*p->strs));
	p->strs[p->nstrs++] = s;
}

/* The fields of Profile that hold messages; false for any other. */
static bool read_message_field(struct profile *p, int field, struct rd *sub)
{
	switch (field) {
	case 1:
		assert_true(p->nsample_types < MAX_VALUES);
		read_value_type(sub, &p->sample_types[p->nsample_types++]);
		return true;
	case 2:
		p->samples = grow(p->samples, p->nsamples, sizeof(*p->samples));
		read_sample(sub, &p->samples[p->nsamples++]);
		return true;
	case 3:
		assert_true(p->nmappings < MAX_VALUES);
		read_mapping(sub, &p->mappings[p->nmappings++]);
		return true;
	case 4:
		p->locs = grow(p->locs, p->nlocs, sizeof(*p->locs));
		read_location(sub, &p->locs[p->nlocs++]);
		return true;
	case 5:
		p->funcs = grow(p->funcs, p->nfuncs, sizeof(*p->funcs));
		read_function(sub, &p->funcs[p->nfuncs++]);
		return true;
	case 6:
		read_string(p, sub);
		return true;
	case 11:
		read_value_type(sub, &p->period_type);
		return true;
	}
	return false;
}

static void read_profile(const uint8_t *buf, size_t len, struct profile *p)
{
	struct rd r = {buf, buf + len}, sub;
	int field, wire;
	uint64_t v;

	memset(p, 0, sizeof(*p));
	while (rd_field(&r, &field, &wire, &v, &sub)) {
		if (wire == 2 && read_message_field(p, field, &sub))
			continue;
		if (field == 9)
			p->time_nanos = (int64_t)v;
		else if (field == 10)
			p->duration_nanos = (int64_t)v;
		else if (field == 13)
			rd_repeated(wire, v, &sub, add_comment, p);
		else if (field == 14)
			p->default_sample_type = (int64_t)v;
	}
}

static void free_profile(struct profile *p)
{
	for (size_t i = 0; i < p->nsamples; i++)
		free(p->samples[i].locs);
	for (size_t i = 0; i < p->nstrs; i++)
		free(p->strs[i]);
	free(p->samples);
	free(p->locs);
	free(p->funcs);
	free(p->strs);
}

/* Everything f holds, from its start. */
static uint8_t *slurp(FILE *f, size_t *len)
{
	long size;
	uint8_t *buf;

	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	assert_true(size > 0);
	rewind(f);
	buf = malloc(size);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, size, f), (size_t)size);
	*len = size;
	return buf;
}

static uint8_t *gunzip(const uint8_t *in, size_t inlen, size_t *outlen)
{
	z_stream z = {0};
	size_t cap = 4096, len = 0;
	uint8_t *out = malloc(cap);
	int rc;

	assert_non_null(out);
	/* a gzip header, not zlib's: pprof files are .pb.gz */
	assert_true(inlen >= 2 && in[0] == 0x1f && in[1] == 0x8b);
	assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (uint8_t *)in;
	z.avail_in = (uInt)inlen;
	do {
		if (cap == len) {
			uint8_t *grown = realloc(out, cap *= 2);

			assert_non_null(grown);
			out = grown;
		}
		z.next_out = out + len;
		z.avail_out = (uInt)(cap - len);
		rc = inflate(&z, Z_NO_FLUSH);
		assert_true(rc == Z_OK || rc == Z_STREAM_END);
		len = cap - z.avail_out;
	} while (rc != Z_STREAM_END);
	assert_int_equal(z.avail_in, 0); /* one gzip member, nothing after it */
	inflateEnd(&z);
	*outlen = len;
	return out;
}

static void write_and_read(const struct pprof_sample *s, size_t n, uint64_t start_ns,
			   uint64_t duration_ns, struct profile *p)
{
	FILE *f = tmpfile();
	uint8_t *gz, *raw;
	size_t gzlen, rawlen;

	assert_non_null(f);
	assert_int_equal(pprof_write(f, s, n, start_ns, duration_ns), 0);
	gz = slurp(f, &gzlen);
	fclose(f);
	raw = gunzip(gz, gzlen, &rawlen);
	read_profile(raw, rawlen, p);
	free(gz);
	free(raw);
}

static const char *str(const struct profile *p, int64_t i)
{
	assert_true(i >= 0 && (size_t)i < p->nstrs);
	return p->strs[i];
}

static const struct location *find_location(const struct profile *p, uint64_t id)
{
	for (size_t i = 0; i < p->nlocs; i++) {
		if (p->locs[i].id == id)
			return &p->locs[i];
	}
	fail_msg("no location %llu", (unsigned long long)id);
	return NULL;
}

static const struct function *find_function(const struct profile *p, uint64_t id)
{
	for (size_t i = 0; i < p->nfuncs; i++) {
		if (p->funcs[i].id == id)
			return &p->funcs[i];
	}
	fail_msg("no function %llu", (unsigned long long)id);
	return NULL;
}

/* Frame name of a location id: Location -> its one Line -> Function -> name. */
static const char *frame_name(const struct profile *p, uint64_t loc_id)
{
	const struct location *l = find_location(p, loc_id);

	assert_int_equal(l->nlines, 1);
	return str(p, find_function(p, l->funcs[0])->name);
}

/* Frames of a sample, leaf first as pprof keeps them, against want, outermost first. */
static void assert_frames(const struct profile *p, const struct sample *s, const char *const *want,
			  int nwant)
{
	assert_int_equal(s->nlocs, nwant);
	for (int i = 0; i < nwant; i++)
		assert_string_equal(frame_name(p, s->locs[i]), want[nwant - 1 - i]);
}

static const struct label *find_label(const struct profile *p, const struct sample *s,
				      const char *key)
{
	for (int i = 0; i < s->nlabels; i++) {
		if (!strcmp(str(p, s->labels[i].key), key))
			return &s->labels[i];
	}
	return NULL;
}

static void assert_str_label(const struct profile *p, const struct sample *s, const char *key,
			     const char *want)
{
	const struct label *l = find_label(p, s, key);

	if (!want) {
		assert_null(l);
		return;
	}
	assert_non_null(l);
	assert_int_equal(l->num, 0);
	assert_true(l->str > 0); /* a string label: index 0 ("") would read as numeric */
	assert_string_equal(str(p, l->str), want);
}

static void assert_num_label(const struct profile *p, const struct sample *s, const char *key,
			     int64_t want)
{
	const struct label *l = find_label(p, s, key);

	assert_non_null(l);
	assert_int_equal(l->str, 0);
	assert_int_equal(l->num, want);
}

static void assert_values(const struct sample *s, int64_t ns, int64_t count)
{
	assert_int_equal(s->nvalues, 2);
	assert_int_equal(s->values[0], ns);
	assert_int_equal(s->values[1], count);
}

static size_t count_functions_named(const struct profile *p, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < p->nfuncs; i++)
		n += !strcmp(str(p, p->funcs[i].name), name);
	return n;
}

/*
 * Ids from 1, each Location one Line to the Function of the same id and in the one Mapping,
 * which pprof must not try to symbolize.
 */
static void assert_tables(const struct profile *p)
{
	assert_true(p->nstrs >= 1);
	assert_string_equal(p->strs[0], "");
	for (size_t i = 1; i < p->nstrs; i++)
		assert_string_not_equal(p->strs[i], "");
	assert_int_equal(p->nmappings, 1);
	assert_int_equal(p->mappings[0].id, 1);
	assert_int_equal(p->mappings[0].has_functions, 1);
	assert_int_equal(p->nlocs, p->nfuncs);
	for (size_t i = 0; i < p->nfuncs; i++) {
		assert_int_equal(p->locs[i].id, i + 1);
		assert_int_equal(p->locs[i].mapping_id, 1);
		assert_int_equal(p->funcs[i].id, i + 1);
		assert_int_equal(p->locs[i].nlines, 1);
		assert_int_equal(p->locs[i].funcs[0], i + 1);
		assert_true(p->funcs[i].name > 0);
	}
}

/* The string table has no duplicates: checked by sorting a copy. */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void assert_strings_unique(const struct profile *p)
{
	char **sorted = malloc(p->nstrs * sizeof(*sorted));

	assert_non_null(sorted);
	memcpy(sorted, p->strs, p->nstrs * sizeof(*sorted));
	qsort(sorted, p->nstrs, sizeof(*sorted), cmp_str);
	for (size_t i = 1; i < p->nstrs; i++)
		assert_string_not_equal(sorted[i - 1], sorted[i]);
	free(sorted);
}

static void assert_header(const struct profile *p)
{
	assert_int_equal(p->nsample_types, 2);
	assert_string_equal(str(p, p->sample_types[0].type), "offcpu");
	assert_string_equal(str(p, p->sample_types[0].unit), "nanoseconds");
	assert_string_equal(str(p, p->sample_types[1].type), "periods");
	assert_string_equal(str(p, p->sample_types[1].unit), "count");
	assert_string_equal(str(p, p->period_type.type), "offcpu");
	assert_string_equal(str(p, p->period_type.unit), "nanoseconds");
	assert_string_equal(str(p, p->default_sample_type), "offcpu");
	assert_int_equal(p->ncomments, 1);
	assert_non_null(strstr(str(p, p->comments[0]), "waitscope"));
}

static void test_samples(void **state)
{
	static const char *const a[] = {"main", "worker", "pthread_mutex_lock", "futex_wait"};
	static const char *const b[] = {"main", "worker", "read", "vfs_read"};
	static const char *const c[] = {"start_thread", "poller", "epoll_wait"};
	const struct pprof_sample s[] = {
		{a, ARRAY_SIZE(a), 1500000, 3, "lock", "w-mutex-1", 4242, 4200},
		{b, ARRAY_SIZE(b), 250, 1, "io", "w-io-2", 4243, 4200},
		{c, ARRAY_SIZE(c), 7000000000ULL, 70, "poll", "w-poll", 17, 1},
	};
	struct profile p;

	(void)state;
	write_and_read(s, ARRAY_SIZE(s), 1700000000123456789ULL, 5000000000ULL, &p);
	assert_header(&p);
	assert_tables(&p);
	assert_strings_unique(&p);
	assert_int_equal(p.time_nanos, 1700000000123456789LL);
	assert_int_equal(p.duration_nanos, 5000000000LL);
	assert_int_equal(p.nsamples, 3);
	for (int i = 0; i < ARRAY_SIZE(s); i++) {
		const struct sample *got = &p.samples[i];

		assert_frames(&p, got, s[i].frames, s[i].nframes);
		assert_values(got, (int64_t)s[i].value_ns, (int64_t)s[i].count);
		assert_str_label(&p, got, "reason", s[i].reason);
		assert_str_label(&p, got, "thread", s[i].thread);
		assert_num_label(&p, got, "tid", s[i].tid);
		assert_num_label(&p, got, "pid", s[i].pid);
		assert_int_equal(got->nlabels, 4);
	}
	/* 11 frames, 9 names: "main" and "worker" are shared by the first two stacks */
	assert_int_equal(p.nfuncs, 9);
	assert_int_equal(count_functions_named(&p, "main"), 1);
	assert_int_equal(count_functions_named(&p, "worker"), 1);
	assert_int_equal(p.samples[0].locs[3], p.samples[1].locs[3]);
	assert_int_equal(p.samples[0].locs[2], p.samples[1].locs[2]);
	free_profile(&p);
}

static void test_empty(void **state)
{
	struct profile p;

	(void)state;
	write_and_read(NULL, 0, 0, 0, &p);
	assert_header(&p);
	assert_tables(&p);
	assert_int_equal(p.nsamples, 0);
	assert_int_equal(p.nfuncs, 0);
	assert_int_equal(p.time_nanos, 0);
	assert_int_equal(p.duration_nanos, 0);
	free_profile(&p);
}

static void test_unknown_frames(void **state)
{
	static const char *const holes[] = {"main", NULL, "", "leaf"};
	static const char *const want_holes[] = {"main", "[unknown]", "[unknown]", "leaf"};
	static const char *const want_none[] = {"[unknown]"};
	const struct pprof_sample s[] = {
		{holes, ARRAY_SIZE(holes), 10, 1, "lock", "t", 1, 1},
		{NULL, 0, 20, 2, "sleep", "t", 1, 1},
		{holes, 0, 30, 3, "sleep", "t", 1, 1},
		{NULL, 5, 40, 4, "sleep", "t", 1, 1},
	};
	struct profile p;

	(void)state;
	write_and_read(s, ARRAY_SIZE(s), 1, 2, &p);
	assert_tables(&p);
	assert_int_equal(p.nsamples, 4);
	assert_frames(&p, &p.samples[0], want_holes, 4);
	/* a sample without frames keeps its value under one "[unknown]" frame */
	for (int i = 1; i < 4; i++) {
		assert_frames(&p, &p.samples[i], want_none, 1);
		assert_values(&p.samples[i], 10 * (i + 1), i + 1);
	}
	assert_int_equal(count_functions_named(&p, "[unknown]"), 1);
	assert_int_equal(p.nfuncs, 3);
	free_profile(&p);
}

/* Zero-valued samples go; absent labels are left out; extremes survive the int64 fields. */
static void test_edges(void **state)
{
	static const char *const only_zero[] = {"never_seen"};
	static const char *const f[] = {"main", "x"};
	const struct pprof_sample s[] = {
		{only_zero, 1, 0, 5, "lock", "t", 1, 1},
		{f, 2, UINT64_MAX, UINT64_MAX, NULL, "", -1, 0},
		{f, 2, 1, 0, "", NULL, INT64_MIN, INT64_MAX},
	};
	struct profile p;

	(void)state;
	write_and_read(s, ARRAY_SIZE(s), UINT64_C(1) << 62, 1, &p);
	assert_tables(&p);
	assert_int_equal(p.nsamples, 2);
	assert_int_equal(count_functions_named(&p, "never_seen"), 0);
	assert_int_equal(p.time_nanos, INT64_C(1) << 62);
	assert_values(&p.samples[0], INT64_MAX, INT64_MAX);
	assert_values(&p.samples[1], 1, 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(p.samples[i].nlabels, 2);
		assert_str_label(&p, &p.samples[i], "reason", NULL);
		assert_str_label(&p, &p.samples[i], "thread", NULL);
	}
	assert_num_label(&p, &p.samples[0], "tid", -1);
	assert_num_label(&p, &p.samples[0], "pid", 0);
	assert_num_label(&p, &p.samples[1], "tid", INT64_MIN);
	assert_num_label(&p, &p.samples[1], "pid", INT64_MAX);
	free_profile(&p);
}

/*
 * Tens of thousands of names and deep stacks: the hash tables grow many times, the packed
 * location ids outgrow a one-byte length, and the output is flushed in pieces.
 */
static void test_large(void **state)
{
	enum { NSAMPLES = 100, DEPTH = MAX_FRAMES / 2 };
	static char names[NSAMPLES][DEPTH][24];
	static const char *frames[NSAMPLES][DEPTH];
	static struct pprof_sample s[NSAMPLES];
	struct profile p;

	(void)state;
	for (int i = 0; i < NSAMPLES; i++) {
		for (int d = 0; d < DEPTH; d++) {
			/* the outer half of every stack is shared, the inner half its own */
			if (d < DEPTH / 2)
				snprintf(names[i][d], sizeof(names[i][d]), "shared_%d", d);
			else
				snprintf(names[i][d], sizeof(names[i][d]), "fn_%d_%d", i, d);
			frames[i][d] = names[i][d];
		}
		s[i] = (struct pprof_sample){frames[i], DEPTH, 1000 + i, 1, "lock", "t", i, 1};
	}
	write_and_read(s, NSAMPLES, 1, 1, &p);
	assert_tables(&p);
	assert_int_equal(p.nsamples, NSAMPLES);
	assert_int_equal(p.nfuncs, DEPTH / 2 + NSAMPLES * (DEPTH / 2));
	for (int i = 0; i < NSAMPLES; i += 33) {
		assert_frames(&p, &p.samples[i], frames[i], DEPTH);
		assert_values(&p.samples[i], 1000 + i, 1);
		assert_num_label(&p, &p.samples[i], "tid", i);
	}
	assert_strings_unique(&p);
	free_profile(&p);
}

static void test_errors(void **state)
{
	static const char *const f[] = {"main"};
	const struct pprof_sample s = {f, 1, 1, 1, "lock", "t", 1, 1};
	FILE *ro = fopen("/dev/null", "r"), *full;

	(void)state;
	assert_int_equal(pprof_write(NULL, &s, 1, 0, 0), -EINVAL);
	assert_int_equal(pprof_write(stdout, NULL, 1, 0, 0), -EINVAL);
	/* a stream that cannot be written to */
	assert_non_null(ro);
	assert_int_equal(pprof_write(ro, &s, 1, 0, 0), -EIO);
	fclose(ro);
	/* a disk that is full: the error surfaces at the latest when f is flushed */
	full = fopen("/dev/full", "w");
	if (full) {
		assert_int_equal(pprof_write(full, &s, 1, 0, 0), -EIO);
		fclose(full);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_samples),	       cmocka_unit_test(test_empty),
		cmocka_unit_test(test_unknown_frames), cmocka_unit_test(test_edges),
		cmocka_unit_test(test_large),	       cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
