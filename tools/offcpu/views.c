// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "flame.h"
#include "folded.h"
#include "views.h"
#include "pprof.h"
#include "units.h"

#define NS_PER_US 1000.0

const char *views_reason_label(int reason, int syscall, char *buf, size_t n)
{
	char sb[32];

	if (syscall >= 0)
		snprintf(buf, n, "%s (%s)", reason_name(reason),
			 syscall_label(syscall, sb, sizeof(sb)));
	else
		snprintf(buf, n, "%s", reason_name(reason));
	return buf;
}

void views_frames_text(FILE *f, const char *const *frames, int n, int nkernel)
{
	for (int i = n - 1; i >= 0; i--) {
		fprintf(f, "    %s\n", frames[i]);
		if (i == n - nkernel && nkernel && nkernel < n)
			fprintf(f, "    --\n");
	}
	if (!n)
		fprintf(f, "    [no stack]\n");
}

void views_frames_json(struct json *j, const char *const *frames, int n, int nkernel)
{
	json_array_begin(j, "frames");
	for (int i = 0; i < n; i++)
		json_string(j, NULL, frames[i]);
	json_array_end(j);
	json_i64(j, "kernel_frames", nkernel);
}

void views_assign_actors(struct profile *p, const struct actor_rules *r)
{
	for (size_t i = 0; i < p->nthreads; i++)
		actor_match(r, p->threads[i].comm, NULL, 0, p->threads[i].actor, ACTOR_LEN);
	for (size_t i = 0; i < p->nstacks; i++) {
		struct pstack *s = &p->stacks[i];

		actor_match(r, s->comm, s->frames, s->nframes - s->nkernel, s->actor, ACTOR_LEN);
	}
	for (size_t i = 0; i < p->nstuck; i++) {
		struct pstuck *s = &p->stuck[i];

		actor_match(r, s->comm, s->frames, s->nframes - s->nkernel, s->actor, ACTOR_LEN);
	}
}

static struct pactor *find_actor(struct pactor *a, size_t *n, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(a[i].name, name))
			return &a[i];
	memset(&a[*n], 0, sizeof(*a));
	snprintf(a[*n].name, ACTOR_LEN, "%s", name);
	return &a[(*n)++];
}

static uint64_t actor_offcpu(const struct pactor *a)
{
	return reason_sum(a->reason_ns);
}

/* real waits first, as threads are sorted */
static int by_actor_offcpu(const void *x, const void *y)
{
	uint64_t a = reason_sum_waits(((const struct pactor *)x)->reason_ns),
		 b = reason_sum_waits(((const struct pactor *)y)->reason_ns);

	if (a == b) {
		a = actor_offcpu(x);
		b = actor_offcpu(y);
	}
	return a < b   ? 1
	       : a > b ? -1
		       : strcmp(((const struct pactor *)x)->name, ((const struct pactor *)y)->name);
}

static void add_stack_to_actor(struct pactor *a, const struct pstack *s, size_t idx)
{
	a->reason_ns[s->reason] += s->total_ns;
	a->reason_ns[REASON_RUNQUEUE] += s->rq_ns;
	/* the actor's chart is of its waits: parked time is no wait */
	if (s->reason != REASON_RUNQUEUE && s->reason != REASON_IDLE)
		hist_add_slots(&a->hist, s->log2, HIST_MAX_SLOTS, s->total_ns, s->max_ns);
	a->stacks[a->nstacks++] = idx;
}

struct pactor *views_actors(const struct profile *p, size_t *n)
{
	struct pactor *a = calloc(p->nthreads + p->nstacks + 1, sizeof(*a));

	*n = 0;
	if (!a)
		return NULL;
	for (size_t i = 0; i < p->nthreads; i++) {
		struct pactor *x = find_actor(a, n, p->threads[i].actor);

		x->nthreads++;
		x->oncpu_ns += p->threads[i].oncpu_ns;
	}
	for (size_t i = 0; i < p->nstacks; i++)
		find_actor(a, n, p->stacks[i].actor);
	for (size_t i = 0; i < *n; i++)
		a[i].stacks = calloc(p->nstacks + 1, sizeof(*a[i].stacks));
	/* profile_finish sorted the stacks by time: each actor's list is sorted too */
	for (size_t i = 0; i < p->nstacks; i++) {
		struct pactor *x = find_actor(a, n, p->stacks[i].actor);

		if (x->stacks)
			add_stack_to_actor(x, &p->stacks[i], i);
	}
	qsort(a, *n, sizeof(*a), by_actor_offcpu);
	return a;
}

void views_actors_free(struct pactor *a, size_t n)
{
	for (size_t i = 0; a && i < n; i++)
		free(a[i].stacks);
	free(a);
}

static void text_actor_reasons(FILE *f, const struct pactor *a)
{
	const char *sep = "";
	char d[32];

	for (int r = 0; r < REASON_NR; r++) {
		if (!a->reason_ns[r])
			continue;
		fprintf(f, "%s%s %s", sep, reason_name(r),
			fmt_duration(d, sizeof(d), a->reason_ns[r]));
		sep = ", ";
	}
	fprintf(f, "\n");
}

static void text_actor_stack(FILE *f, const struct pstack *s)
{
	int nu = s->nframes - s->nkernel;
	char t[32];

	/* the innermost user frames say what the actor waits in; the kernel's say how */
	fprintf(f, "    %10s %-8s", fmt_duration(t, sizeof(t), s->total_ns),
		reason_name(s->reason));
	for (int i = nu - 1, shown = 0; i >= 0 && shown < 3; i--, shown++)
		fprintf(f, "%s%s", shown ? " <- " : " ", s->frames[i]);
	if (!nu && s->nkernel)
		fprintf(f, " %s", s->frames[s->nframes - 1]);
	fprintf(f, " [%d]\n", s->tid);
}

static void text_actor(FILE *f, const struct profile *p, const struct pactor *a)
{
	char on[32], p50[32], p90[32], p99[32], mx[32];
	const struct hist *h = &a->hist;

	fprintf(f, "\n%s: %d thread%s, on-CPU %s\n  ", a->name, a->nthreads,
		a->nthreads == 1 ? "" : "s", fmt_duration(on, sizeof(on), a->oncpu_ns));
	text_actor_reasons(f, a);
	if (h->count)
		fprintf(f, "  blocked periods: %" PRIu64 ", p50 %s, p90 %s, p99 %s, max %s\n",
			h->count, hist_fmt_percentile(p50, sizeof(p50), h, 50),
			hist_fmt_percentile(p90, sizeof(p90), h, 90),
			hist_fmt_percentile(p99, sizeof(p99), h, 99),
			fmt_duration(mx, sizeof(mx), h->max_ns));
	for (size_t i = 0; i < a->nstacks && i < 3; i++)
		text_actor_stack(f, &p->stacks[a->stacks[i]]);
}

void views_actors_text(FILE *f, const struct profile *p, int top)
{
	size_t n;
	struct pactor *a = views_actors(p, &n);
	size_t rows = top && (size_t)top < n ? (size_t)top : n;

	fprintf(f,
		"\nACTORS (%zu of %zu, by off-CPU time; top stacks innermost user frame first)\n",
		rows, n);
	for (size_t i = 0; i < rows; i++) {
		text_actor(f, p, &a[i]);
		if (!a[i].nthreads)
			fprintf(f, "  (stacks matched by a sym: rule; on-CPU time stays with the "
				   "thread's own actor)\n");
	}
	views_actors_free(a, n);
}

static void json_actor(struct json *j, const struct pactor *a)
{
	json_object_begin(j, NULL);
	json_string(j, "actor", a->name);
	json_i64(j, "threads", a->nthreads);
	json_double(j, "oncpu_us", a->oncpu_ns / NS_PER_US);
	json_double(j, "offcpu_us", actor_offcpu(a) / NS_PER_US);
	json_double(j, "runqueue_us", a->reason_ns[REASON_RUNQUEUE] / NS_PER_US);
	json_object_begin(j, "reasons");
	for (int r = 0; r < REASON_NR; r++)
		json_double(j, reason_name(r), a->reason_ns[r] / NS_PER_US);
	json_object_end(j);
	json_hist(j, "histogram", &a->hist);
	json_array_begin(j, "stacks"); /* indexes into the document's stacks */
	for (size_t i = 0; i < a->nstacks; i++)
		json_u64(j, NULL, a->stacks[i]);
	json_array_end(j);
	json_object_end(j);
}

void views_actors_json(struct json *j, const struct profile *p)
{
	size_t n;
	struct pactor *a = views_actors(p, &n);

	json_array_begin(j, "actors");
	for (size_t i = 0; i < n; i++)
		json_actor(j, &a[i]);
	json_array_end(j);
	views_actors_free(a, n);
}

static uint64_t stuck_for(const struct profile *p, const struct pstuck *s)
{
	return s->since_ns && s->since_ns < p->end_ns ? p->end_ns - s->since_ns : 0;
}

static void text_stuck_one(FILE *f, const struct profile *p, const struct pstuck *s)
{
	char d[32], why[64];

	if (s->since_ns)
		fprintf(f, "\n%s%s", s->since_exact ? "" : "~",
			fmt_duration(d, sizeof(d), stuck_for(p, s)));
	else
		fprintf(f, "\n?");
	fprintf(f, " %s - %s [%d] pid %d, actor %s\n",
		views_reason_label(s->reason, s->syscall, why, sizeof(why)), s->comm, s->tid,
		s->pid, s->actor);
	views_frames_text(f, s->frames, s->nframes, s->nkernel);
}

void views_stuck_text(FILE *f, const struct profile *p, int top)
{
	size_t rows = top && (size_t)top < p->nstuck ? (size_t)top : p->nstuck;

	if (!p->nstuck) {
		fprintf(f, "\nBLOCKED NOW: no thread\n");
		return;
	}
	fprintf(f,
		"\nBLOCKED NOW (%zu of %zu threads, longest first; ~: since it last got a CPU)\n",
		rows, p->nstuck);
	for (size_t i = 0; i < rows; i++)
		text_stuck_one(f, p, &p->stuck[i]);
}

void views_stuck_json_array(struct json *j, const struct profile *p)
{
	char sb[32];

	json_array_begin(j, "stuck");
	for (size_t i = 0; i < p->nstuck; i++) {
		const struct pstuck *s = &p->stuck[i];

		json_object_begin(j, NULL);
		json_i64(j, "tid", s->tid);
		json_i64(j, "pid", s->pid);
		json_string(j, "comm", s->comm);
		json_string(j, "actor", s->actor);
		json_string(j, "reason", reason_name(s->reason));
		json_string(j, "syscall",
			    s->syscall >= 0 ? syscall_label(s->syscall, sb, sizeof(sb)) : NULL);
		if (s->since_ns)
			json_double(j, "blocked_us", stuck_for(p, s) / NS_PER_US);
		else
			json_string(j, "blocked_us", NULL);
		json_bool(j, "exact", s->since_exact);
		views_frames_json(j, s->frames, s->nframes, s->nkernel);
		json_object_end(j);
	}
	json_array_end(j);
}

static const char *context_name(enum wake_context c)
{
	return c == WAKE_HARDIRQ ? "hardirq" : c == WAKE_SOFTIRQ ? "softirq" : "thread";
}

void views_top_waker_text(FILE *f, const struct pstack *s)
{
	const struct pwaker *w = s->nwakers ? &s->wakers[0] : NULL;
	int nu;
	char t[32];

	if (!w)
		return;
	nu = w->nframes - w->nkernel;
	fprintf(f, "    woken by: ");
	if (w->context != WAKE_THREAD)
		fprintf(f, "[%s]", context_name(w->context));
	else
		fprintf(f, "%s [%d] pid %d", w->comm, w->tid, w->pid);
	fprintf(f, ", %s of %zu waker%s", fmt_duration(t, sizeof(t), w->total_ns), s->nwakers,
		s->nwakers == 1 ? "" : "s");
	/* the waker's innermost user frames: what it did that woke us */
	for (int i = nu - 1, shown = 0; i >= 0 && shown < 3; i--, shown++)
		fprintf(f, "%s%s", shown ? " <- " : ": ", w->frames[i]);
	fprintf(f, "\n");
}

void views_wakers_json(struct json *j, const struct pstack *s)
{
	json_array_begin(j, "wakers");
	for (size_t i = 0; i < s->nwakers; i++) {
		const struct pwaker *w = &s->wakers[i];

		json_object_begin(j, NULL);
		json_string(j, "context", context_name(w->context));
		json_i64(j, "pid", w->pid);
		json_i64(j, "tid", w->tid);
		json_string(j, "comm", w->context == WAKE_THREAD ? w->comm : NULL);
		views_frames_json(j, w->frames, w->nframes, w->nkernel);
		json_double(j, "total_us", w->total_ns / NS_PER_US);
		json_u64(j, "count", w->count);
		json_object_end(j);
	}
	json_array_end(j);
}

/* The waker's name in folded and flame stacks: its comm, or the interrupt context. */
static const char *waker_label(const struct pwaker *w, char *buf, size_t n)
{
	if (w->context != WAKE_THREAD)
		snprintf(buf, n, "[%s]", context_name(w->context));
	else
		snprintf(buf, n, "%s", w->comm);
	return buf;
}

/* waiter comm;waiter frames;--;waker frames innermost first;waker comm */
static int offwake_frames(const struct pstack *s, const struct pwaker *w, const char **out,
			  char *label, size_t n)
{
	int k = 0;

	out[k++] = s->comm;
	for (int i = 0; i < s->nframes; i++)
		out[k++] = s->frames[i];
	out[k++] = "--";
	for (int i = w ? w->nframes - 1 : -1; i >= 0; i--)
		out[k++] = w->frames[i];
	out[k++] = w ? waker_label(w, label, n) : "[no waker seen]";
	return k;
}

typedef int (*offwake_fn)(void *ctx, const char **frames, int n, uint64_t ns, const char *kind);

/*
 * Every off-wake stack: one per waiter stack and waker, and the blocked time
 * no waker was seen for (preemptions, periods cut by the trace's edges).
 */
static int for_each_offwake(const struct profile *p, offwake_fn emit, void *ctx)
{
	int err = 0;

	for (size_t i = 0; !err && i < p->nstacks; i++) {
		const struct pstack *s = &p->stacks[i];
		int most = 0;
		uint64_t left = s->total_ns;
		const char **frames;
		char label[COMM_LEN + 16];

		for (size_t w = 0; w < s->nwakers; w++)
			most = s->wakers[w].nframes > most ? s->wakers[w].nframes : most;
		frames = malloc((s->nframes + most + 4) * sizeof(*frames));
		if (!frames)
			return -ENOMEM;
		for (size_t w = 0; !err && w < s->nwakers; w++) {
			int k = offwake_frames(s, &s->wakers[w], frames, label, sizeof(label));

			err = emit(ctx, frames, k, s->wakers[w].total_ns, reason_name(s->reason));
			left -= s->wakers[w].total_ns < left ? s->wakers[w].total_ns : left;
		}
		if (!err && left)
			err = emit(ctx, frames, offwake_frames(s, NULL, frames, NULL, 0), left,
				   reason_name(s->reason));
		free(frames);
	}
	return err;
}

static int emit_folded(void *ctx, const char **frames, int n, uint64_t ns, const char *kind)
{
	(void)kind;
	return folded_add(ctx, frames, n, ns);
}

void views_offwake_folded(FILE *f, const struct profile *p)
{
	struct folded fd;

	folded_init(&fd);
	for_each_offwake(p, emit_folded, &fd);
	folded_write(&fd, f, 1000);
}

/* Flame graph rows, each with its own copy of the frames. */
struct rows {
	struct flame_row *v;
	size_t n, cap;
};

static int emit_row(void *ctx, const char **frames, int n, uint64_t ns, const char *kind)
{
	struct rows *r = ctx;
	struct flame_row *row;
	const char **copy;

	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 256;
		struct flame_row *v = realloc(r->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		r->v = v;
		r->cap = cap;
	}
	copy = malloc((n + 1) * sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	memcpy(copy, frames, n * sizeof(*copy));
	row = &r->v[r->n++];
	row->frames = copy;
	row->nframes = n;
	row->value = ns;
	row->kind = kind;
	return 0;
}

/* comm;frames, blocked under its reason, then the wait for a CPU after its wakeups */
static int stack_rows(const struct profile *p, struct rows *r)
{
	int err = 0;

	for (size_t i = 0; !err && i < p->nstacks; i++) {
		const struct pstack *s = &p->stacks[i];
		const char **fr = malloc((s->nframes + 1) * sizeof(*fr));

		if (!fr)
			return -ENOMEM;
		fr[0] = s->comm;
		memcpy(fr + 1, s->frames, s->nframes * sizeof(*fr));
		err = emit_row(r, fr, s->nframes + 1, s->total_ns, reason_name(s->reason));
		if (!err && s->rq_ns)
			err = emit_row(r, fr, s->nframes + 1, s->rq_ns, "runqueue");
		free(fr);
	}
	return err;
}

int views_svg(FILE *f, const struct profile *p)
{
	struct rows r = {0};
	char title[160];
	int err;

	if (p->npids)
		snprintf(title, sizeof(title), "offcpu%s: PID %d (%s)%s, %.1f s traced",
			 p->wakers ? " (off-wake)" : "", p->pids[0], p->target_comm[0],
			 p->npids > 1 ? " and more" : "", p->duration);
	else
		snprintf(title, sizeof(title), "offcpu%s: whole system, %.1f s traced",
			 p->wakers ? " (off-wake)" : "", p->duration);
	err = p->wakers ? for_each_offwake(p, emit_row, &r) : stack_rows(p, &r);
	if (!err)
		err = flame_svg(f, title, r.v, r.n);
	for (size_t i = 0; i < r.n; i++)
		free((void *)r.v[i].frames);
	free(r.v);
	return err;
}

int views_pprof(FILE *f, const struct profile *p)
{
	struct pprof_sample *s = calloc(2 * p->nstacks + 1, sizeof(*s));
	size_t n = 0;
	int err;

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < p->nstacks; i++) {
		const struct pstack *st = &p->stacks[i];
		struct pprof_sample x = {
			st->frames, st->nframes, st->total_ns, st->count, reason_name(st->reason),
			st->comm,   st->tid,	 st->pid};

		s[n++] = x;
		if (st->rq_ns) {
			x.value_ns = st->rq_ns;
			x.reason = "runqueue";
			s[n++] = x;
		}
	}
	err = pprof_write(f, s, n, p->wall_start_ns, p->end_ns - p->start_ns);
	free(s);
	return err;
}
