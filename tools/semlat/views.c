// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "actors.h"
#include "json.h"
#include "units.h"
#include "views.h"

/* A lock's part of a group's waits. */
struct part {
	const char *lock, *kind;
	uint64_t ns;
};

/* The waits of one thread, actor, or (stack, lock). */
struct group {
	char label[ACTOR_LEN];
	int tgid, tid;
	const struct wait_row *first; /* a row of it: the stack view's frames */
	int *tids;		      /* the threads in it */
	size_t ntids;
	uint64_t waits, ns;
	struct part *parts;
	size_t nparts;
};

struct groups {
	struct group *v;
	size_t n;
};

static bool same(const struct group *g, const struct wait_row *w, const char *label,
		 enum semlat_by by)
{
	switch (by) {
	case BY_THREAD:
		return g->tid == w->tid && g->tgid == w->tgid;
	case BY_ACTOR:
		return !strcmp(g->label, label);
	default: /* a stack waits on one lock: group by both */
		return g->first->ustack == w->ustack && g->tgid == w->tgid &&
		       g->first->lock == w->lock;
	}
}

static struct group *group_of(struct groups *gs, const struct wait_row *w, enum semlat_by by)
{
	char label[ACTOR_LEN];
	struct group *g;

	if (by == BY_THREAD)
		snprintf(label, sizeof(label), "%s", w->comm);
	else
		actor_of(w->comm, label, sizeof(label));
	for (size_t i = 0; i < gs->n; i++)
		if (same(&gs->v[i], w, label, by))
			return &gs->v[i];
	g = realloc(gs->v, (gs->n + 1) * sizeof(*g));
	if (!g)
		return NULL;
	gs->v = g;
	g = &gs->v[gs->n++];
	memset(g, 0, sizeof(*g));
	memcpy(g->label, label, sizeof(label));
	g->tgid = w->tgid;
	g->tid = w->tid;
	g->first = w;
	return g;
}

static int add_part(struct group *g, const struct wait_row *w)
{
	struct part *p;

	for (size_t i = 0; i < g->nparts; i++)
		if (g->parts[i].lock == w->lock) {
			g->parts[i].ns += w->ns;
			return 0;
		}
	p = realloc(g->parts, (g->nparts + 1) * sizeof(*p));
	if (!p)
		return -1;
	g->parts = p;
	g->parts[g->nparts++] = (struct part){w->lock, w->kind, w->ns};
	return 0;
}

static int part_by_ns(const void *a, const void *b)
{
	uint64_t x = ((const struct part *)a)->ns, y = ((const struct part *)b)->ns;

	return x < y ? 1 : x > y ? -1 : 0;
}

static int group_by_ns(const void *a, const void *b)
{
	uint64_t x = ((const struct group *)a)->ns, y = ((const struct group *)b)->ns;

	return x < y ? 1 : x > y ? -1 : 0;
}

static int build(struct groups *gs, const struct semlat_report *r, enum semlat_by by)
{
	for (size_t i = 0; i < r->nrows; i++) {
		const struct wait_row *w = &r->rows[i];
		struct group *g = group_of(gs, w, by);

		if (!g || add_part(g, w) || semlat_add_tid(&g->tids, &g->ntids, w->tid))
			return -1;
		g->waits += w->count;
		g->ns += w->ns;
	}
	for (size_t i = 0; i < gs->n; i++)
		qsort(gs->v[i].parts, gs->v[i].nparts, sizeof(struct part), part_by_ns);
	qsort(gs->v, gs->n, sizeof(*gs->v), group_by_ns);
	return 0;
}

static void free_groups(struct groups *gs)
{
	for (size_t i = 0; i < gs->n; i++) {
		free(gs->v[i].parts);
		free(gs->v[i].tids);
	}
	free(gs->v);
}

/* "g_mutex (mutex) 1.5 s, g_sem (semaphore) 20 ms", the three biggest */
static void print_parts(FILE *f, const struct group *g)
{
	char b[32];

	for (size_t i = 0; i < g->nparts && i < 3; i++)
		fprintf(f, "%s%s (%s) %s", i ? ", " : "", g->parts[i].lock ? g->parts[i].lock : "?",
			g->parts[i].kind, fmt_duration(b, sizeof(b), g->parts[i].ns));
	if (g->nparts > 3)
		fprintf(f, ", %zu more", g->nparts - 3);
	fprintf(f, "\n");
}

static void print_stack_group(FILE *f, const struct group *g, size_t rank, int frames)
{
	const struct wait_row *w = g->first;
	int from = w->nframes > frames ? w->nframes - frames : 0;
	char b[32];

	fprintf(f, "\n#%zu %s in %" PRIu64 " waits on %s (%s), by %zu thread%s (%s)\n", rank,
		fmt_duration(b, sizeof(b), g->ns), g->waits, w->lock ? w->lock : "?", w->kind,
		g->ntids, g->ntids == 1 ? "" : "s", g->ntids == 1 ? w->comm : g->label);
	if (!w->nframes)
		fprintf(f, "        [no stack]\n");
	for (int i = w->nframes - 1; i >= from; i--)
		fprintf(f, "        %s\n", w->frames[i]);
}

static const char *const by_names[] = {"lock", "thread", "actor", "stack"};

void views_text(FILE *f, const struct semlat_report *r, enum semlat_by by, int top, int frames)
{
	struct groups gs = {0};
	size_t shown;
	char b[32];

	if (build(&gs, r, by)) {
		fprintf(f, "(out of memory grouping the waits)\n");
		free_groups(&gs);
		return;
	}
	shown = top && (size_t)top < gs.n ? (size_t)top : gs.n;
	if (by == BY_THREAD)
		fprintf(f, "\n%-16s %8s %7s %9s  %s\n", "THREAD", "TID", "WAITS", "TOTAL",
			"WAITED ON");
	else if (by == BY_ACTOR)
		fprintf(f, "\n%-16s %8s %7s %9s  %s\n", "ACTOR", "THREADS", "WAITS", "TOTAL",
			"WAITED ON");
	else
		fprintf(f, "\nWAITER STACKS (biggest first, innermost frame first)\n");
	for (size_t i = 0; i < shown; i++) {
		const struct group *g = &gs.v[i];

		if (by == BY_STACK) {
			print_stack_group(f, g, i + 1, frames);
			continue;
		}
		fprintf(f, "%-16s %8d %7" PRIu64 " %9s  ", g->label,
			by == BY_THREAD ? g->tid : (int)g->ntids, g->waits,
			fmt_duration(b, sizeof(b), g->ns));
		print_parts(f, g);
	}
	free_groups(&gs);
}

static void json_group(struct json *j, const struct group *g, enum semlat_by by)
{
	json_object_begin(j, NULL);
	json_string(j, "label", by == BY_STACK && g->ntids == 1 ? g->first->comm : g->label);
	json_i64(j, "pid", g->tgid);
	if (by == BY_THREAD)
		json_i64(j, "tid", g->tid);
	json_u64(j, "threads", g->ntids);
	json_u64(j, "waits", g->waits);
	json_double(j, "wait_us", g->ns / 1000.0);
	json_object_begin(j, "locks");
	for (size_t i = 0; i < g->nparts; i++)
		json_double(j, g->parts[i].lock ? g->parts[i].lock : "?", g->parts[i].ns / 1000.0);
	json_object_end(j);
	if (by == BY_STACK) {
		json_array_begin(j, "frames");
		for (int i = 0; i < g->first->nframes; i++)
			json_string(j, NULL, g->first->frames[i]);
		json_array_end(j);
	}
	json_object_end(j);
}

void views_json(struct json *j, const struct semlat_report *r, enum semlat_by by)
{
	struct groups gs = {0};
	int err = by == BY_LOCK ? 0 : build(&gs, r, by);

	if (by == BY_LOCK || err) {
		free_groups(&gs);
		return;
	}
	json_object_begin(j, "groups");
	json_string(j, "by", by_names[by]);
	json_array_begin(j, "groups");
	for (size_t i = 0; i < gs.n; i++)
		json_group(j, &gs.v[i], by);
	json_array_end(j);
	json_object_end(j);
	free_groups(&gs);
}
