// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <stdlib.h>
#include "flame.h"
#include "folded.h"
#include "json.h"
#include "holds.h"
#include "report.h"
#include "units.h"
#include "symbols.h"
#include "taxonomy.h"

#define NS_PER_US 1000.0

static void report_symbols_text(FILE *f, const struct semlat_report *r);
static void report_symbols_json(struct json *j, const struct semlat_report *r);
static void report_holds_text(FILE *f, const struct semlat_report *r, const struct report_opts *o);
static void report_holds_json(struct json *j, const struct semlat_report *r);

static uint64_t total_wait(const struct semlat_report *r, uint64_t *waits)
{
	uint64_t ns = 0;

	*waits = 0;
	for (size_t i = 0; i < r->nlocks; i++) {
		ns += r->locks[i].wait_ns;
		*waits += r->locks[i].waits;
	}
	return ns;
}

static uint64_t total_idle(const struct semlat_report *r)
{
	uint64_t ns = 0;

	for (size_t i = 0; i < r->nlocks; i++)
		ns += r->locks[i].idle_ns;
	return ns;
}

static void print_lost(FILE *f, const struct semlat_report *r)
{
	bool any = false;

	fprintf(f, "lost:");
	for (int i = 0; i < SL_LOST_NR; i++)
		if (r->lost[i]) {
			fprintf(f, " %s %" PRIu64, semlat_lost_name(i), r->lost[i]);
			any = true;
		}
	fprintf(f, "%s\n", any ? "" : " nothing");
}

static void print_stack(FILE *f, const struct lock_stack *s, const char *what, int max_frames)
{
	char b[32], m[32], who[32];
	int from = s->nframes > max_frames ? s->nframes - max_frames : 0;

	if (s->ntids > 1)
		snprintf(who, sizeof(who), "%zu threads", s->ntids);
	else
		snprintf(who, sizeof(who), "tid %d", s->tid);
	if (s->max_ns) /* holds */
		fprintf(f, "    %s %s (%s): %s in %" PRIu64 " holds, longest %s\n", what, s->comm,
			who, fmt_duration(b, sizeof(b), s->ns), s->count,
			fmt_duration(m, sizeof(m), s->max_ns));
	else
		fprintf(f, "    %s %s (%s): %s in %" PRIu64 " waits\n", what, s->comm, who,
			fmt_duration(b, sizeof(b), s->ns), s->count);
	if (!s->nframes)
		fprintf(f, "        [no stack]\n");
	/* innermost first, as a person reads a stack */
	for (int i = s->nframes - 1; i >= from; i--)
		fprintf(f, "        %s\n", s->frames[i]);
}

static void print_lock(FILE *f, const struct lock *l)
{
	char t[32], m[32], p50[32], p99[32], mx[32], rq[32];

	fprintf(f, "%-40.40s %-9s %7" PRIu64 " %9s %9s %9s %9s %9s %9s %6" PRIu64 " %6" PRIu64 "\n",
		l->name ? l->name : "?", l->kind, l->waits, fmt_duration(t, sizeof(t), l->wait_ns),
		fmt_duration(m, sizeof(m), l->waits ? l->wait_ns / l->waits : 0),
		hist_fmt_percentile(p50, sizeof(p50), &l->hist, 50),
		hist_fmt_percentile(p99, sizeof(p99), &l->hist, 99),
		fmt_duration(mx, sizeof(mx), l->max_ns),
		fmt_duration(rq, sizeof(rq), l->wait_ns - l->blocked_ns), l->outcomes[OUT_AGAIN],
		l->outcomes[OUT_TIMEOUT]);
}

static void print_detail(FILE *f, const struct lock *l, const struct report_opts *o)
{
	fprintf(f, "\n%s (%s, pid %d, %#" PRIx64 "):\n", l->name ? l->name : "?", l->kind, l->pid,
		l->addr);
	for (size_t i = 0; i < l->nwaiters && i < (size_t)o->stacks; i++)
		print_stack(f, &l->waiters[i], "waited:", o->frames);
	for (size_t i = 0; i < l->nwakers && i < (size_t)o->stacks; i++)
		print_stack(f, &l->wakers[i], "released by", o->frames);
	hist_print(f, &l->hist, "    ");
}

static void report_locks_text(FILE *f, const struct semlat_report *r, const struct report_opts *o);

void report_text(FILE *f, const struct semlat_report *r, const struct report_opts *o)
{
	uint64_t waits, ns = total_wait(r, &waits);
	char b[32];

	fprintf(f, "semlat: ");
	for (int i = 0; i < r->npids; i++)
		fprintf(f, "%sPID %d%s", i ? ", " : "", r->pids[i],
			r->exited && r->exited[i] ? " (exited)" : "");
	fprintf(f,
		"%s%.2f s traced: %s waited on %zu locks in %" PRIu64 " waits (%" PRIu64
		" calls that could block)\n",
		r->npids ? ", " : "", r->duration, fmt_duration(b, sizeof(b), ns), r->nlocks, waits,
		r->calls);
	if (total_idle(r))
		fprintf(f,
			"idle: %s of it (%.1f%%) is workers parked waiting for work, not "
			"contention\n",
			fmt_duration(b, sizeof(b), total_idle(r)), 100.0 * total_idle(r) / ns);
	if (r->async_obj)
		fprintf(f, "tokio: async waits traced (%s), %" PRIu64 " acquires queued\n",
			r->async_obj, r->async_waits);
	else if (r->async_note)
		fprintf(f, "tokio: %s\n", r->async_note);
	if (r->min_ns)
		fprintf(f, "-m: %" PRIu64 " waits and holds shorter than %s left out\n",
			r->short_waits, fmt_duration(b, sizeof(b), r->min_ns));
	print_lost(f, r);
	unwind_quality_print(f, &r->unwind);
	report_symbols_text(f, r);
	if (o->by == BY_LOCK || !r->nlocks)
		report_locks_text(f, r, o);
	else
		views_text(f, r, o->by, o->top, o->frames);
	report_holds_text(f, r, o);
}

static void report_locks_text(FILE *f, const struct semlat_report *r, const struct report_opts *o)
{
	size_t shown = o->top && (size_t)o->top < r->nlocks ? (size_t)o->top : r->nlocks;

	if (!r->nlocks) {
		fprintf(f, "no thread waited on a lock: no contention\n");
		return;
	}
	fprintf(f, "\n%-40s %-9s %7s %9s %9s %9s %9s %9s %9s %6s %6s\n", "LOCK", "KIND", "WAITS",
		"TOTAL", "MEAN", "P50", "P99", "MAX", "RUNQ", "NEAR", "TMOUT");
	for (size_t i = 0; i < shown; i++) {
		/* semlat_read sorted parked workers' futexes last */
		if (lock_is_idle(&r->locks[i]) && (!i || !lock_is_idle(&r->locks[i - 1])))
			fprintf(f, "- - - - - idle: workers parked, waiting for work\n");
		print_lock(f, &r->locks[i]);
	}
	for (size_t i = 0; i < shown && i < (size_t)o->detail; i++)
		print_detail(f, &r->locks[i], o);
}

/* unit: "wait_us", or "hold_us" for holders (with their longest hold) */
static void json_stacks(struct json *j, const char *key, const struct lock_stack *s, size_t n,
			const char *unit)
{
	json_array_begin(j, key);
	for (size_t i = 0; i < n; i++) {
		json_object_begin(j, NULL);
		json_i64(j, "pid", s[i].tgid);
		json_i64(j, "tid", s[i].tid);
		json_u64(j, "threads", s[i].ntids);
		json_string(j, "comm", s[i].comm);
		json_array_begin(j, "frames");
		for (int k = 0; k < s[i].nframes; k++)
			json_string(j, NULL, s[i].frames[k]);
		json_array_end(j);
		json_u64(j, "count", s[i].count);
		json_double(j, unit, s[i].ns / NS_PER_US);
		if (s[i].max_ns)
			json_double(j, "max_us", s[i].max_ns / NS_PER_US);
		json_object_end(j);
	}
	json_array_end(j);
}

static void json_percentiles(struct json *j, const struct hist *h)
{
	json_double(j, "p50_us", hist_percentile_us(h, 50));
	json_double(j, "p90_us", hist_percentile_us(h, 90));
	json_double(j, "p99_us", hist_percentile_us(h, 99));
}

/* Opens a lock's object: what locks and holds begin with. */
static void json_lock_begin(struct json *j, uint64_t addr, const char *name, const char *kind,
			    int pid)
{
	char a[32];

	snprintf(a, sizeof(a), "%#" PRIx64, addr);
	json_object_begin(j, NULL);
	json_string(j, "addr", a);
	json_string(j, "name", name);
	json_string(j, "kind", kind);
	json_i64(j, "pid", pid);
}

static void json_lock(struct json *j, const struct lock *l)
{
	json_lock_begin(j, l->addr, l->name, l->kind, l->pid);
	json_u64(j, "waits", l->waits);
	json_double(j, "wait_us", l->wait_ns / NS_PER_US);
	json_double(j, "max_us", l->max_ns / NS_PER_US);
	json_percentiles(j, &l->hist);
	json_double(j, "blocked_us", l->blocked_ns / NS_PER_US);
	json_double(j, "idle_us", l->idle_ns / NS_PER_US);
	json_bool(j, "idle", lock_is_idle(l));
	json_double(j, "runqueue_us", (l->wait_ns - l->blocked_ns) / NS_PER_US);
	json_u64(j, "near_misses", l->outcomes[OUT_AGAIN]);
	json_u64(j, "timeouts", l->outcomes[OUT_TIMEOUT]);
	json_u64(j, "interrupted", l->outcomes[OUT_INTR]);
	json_u64(j, "cancelled", l->outcomes[OUT_CANCELLED]);
	if (l->op == OP_ASYNC)
		json_i64(j, "max_queued", l->max_queued);
	json_u64(j, "errors", l->outcomes[OUT_OTHER]);
	json_hist(j, "histogram", &l->hist);
	json_stacks(j, "waiter_stacks", l->waiters, l->nwaiters, "wait_us");
	json_stacks(j, "waker_stacks", l->wakers, l->nwakers, "wait_us");
	json_object_end(j);
}

void report_json(FILE *f, const struct semlat_report *r, enum semlat_by by)
{
	struct json j;

	json_init(&j, f, false);
	json_object_begin(&j, NULL);
	json_string(&j, "tool", "semlat");
	json_double(&j, "duration_us", r->duration * 1e6);
	json_object_begin(&j, "window");
	json_u64(&j, "start_ns", r->start_ns);
	json_u64(&j, "end_ns", r->end_ns);
	json_object_end(&j);
	json_array_begin(&j, "targets");
	for (int i = 0; i < r->npids; i++) {
		json_object_begin(&j, NULL);
		json_i64(&j, "pid", r->pids[i]);
		json_bool(&j, "exited", r->exited && r->exited[i]);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_u64(&j, "calls", r->calls);
	json_double(&j, "min_us", r->min_ns / NS_PER_US);
	json_u64(&j, "short_waits", r->short_waits);
	json_object_begin(&j, "async");
	json_string(&j, "runtime", r->async_obj ? "tokio" : NULL);
	json_string(&j, "object", r->async_obj);
	json_string(&j, "note", r->async_note);
	json_u64(&j, "queued", r->async_waits);
	json_object_end(&j);
	json_array_begin(&j, "locks");
	for (size_t i = 0; i < r->nlocks; i++)
		json_lock(&j, &r->locks[i]);
	json_array_end(&j);
	report_symbols_json(&j, r);
	report_holds_json(&j, r);
	views_json(&j, r, by);
	unwind_quality_json(&j, &r->unwind);
	json_object_begin(&j, "lost");
	for (int i = 0; i < SL_LOST_NR; i++)
		json_u64(&j, semlat_lost_name(i), r->lost[i]);
	json_object_end(&j);
	json_object_end(&j);
	json_end(&j);
}

/*
 * One row per waiter stack: the thread's name, its frames, then the lock's kind and name as the
 * last frame: what a flame graph wants. Calls add(ctx, frames, n, ns) for each; stops at an error.
 */
static int each_waiter_stack(const struct semlat_report *r,
			     int (*add)(void *ctx, const char *const *frames, int n, uint64_t ns),
			     void *ctx)
{
	int err = 0;

	for (size_t i = 0; i < r->nlocks && !err; i++) {
		const struct lock *l = &r->locks[i];
		char lock[160];

		snprintf(lock, sizeof(lock), "[%s %s]", l->kind, l->name ? l->name : "?");
		for (size_t k = 0; k < l->nwaiters && !err; k++) {
			const struct lock_stack *s = &l->waiters[k];
			const char *frames[SYMS_STACK_NAMES(MAX_STACK_DEPTH) + 2];
			int n = 0;

			frames[n++] = s->comm;
			for (int x = 0; x < s->nframes && n <= SYMS_STACK_NAMES(MAX_STACK_DEPTH);
			     x++)
				frames[n++] = s->frames[x];
			frames[n++] = lock;
			err = add(ctx, frames, n, s->ns);
		}
	}
	return err;
}

static int add_folded(void *ctx, const char *const *frames, int n, uint64_t ns)
{
	return folded_add(ctx, frames, n, ns);
}

void report_folded(FILE *f, const struct semlat_report *r)
{
	struct folded fd;

	folded_init(&fd);
	each_waiter_stack(r, add_folded, &fd);
	folded_write(&fd, f, 1000);
}

struct flame_rows {
	struct flame_row *v;
	size_t n;
	const char **names; /* the frames' arrays, kept until the graph is drawn */
};

static int add_flame(void *ctx, const char *const *frames, int n, uint64_t ns)
{
	struct flame_rows *fr = ctx;
	struct flame_row *v = realloc(fr->v, (fr->n + 1) * sizeof(*v));
	const char **copy = malloc((n + 1) * sizeof(*copy));

	if (v)
		fr->v = v;
	if (!v || !copy) {
		free(copy);
		return -ENOMEM;
	}
	memcpy(copy, frames, n * sizeof(*copy));
	/* the lock frame is the caller's buffer: it goes as the row's own */
	copy[n - 1] = strdup(frames[n - 1]);
	copy[n] = NULL;
	v[fr->n++] = (struct flame_row){.frames = copy, .nframes = n, .value = ns, .kind = "lock"};
	return copy[n - 1] ? 0 : -ENOMEM;
}

int report_svg(FILE *f, const struct semlat_report *r)
{
	struct flame_rows fr = {0};
	char title[128];
	int err = each_waiter_stack(r, add_flame, &fr);

	snprintf(title, sizeof(title), "semlat: lock waits, PID %d%s, %.1f s",
		 r->npids ? r->pids[0] : 0, r->npids > 1 ? " and others" : "", r->duration);
	if (!err)
		err = flame_svg(f, title, fr.v, fr.n);
	for (size_t i = 0; i < fr.n; i++) {
		free((char *)fr.v[i].frames[fr.v[i].nframes - 1]);
		free((void *)fr.v[i].frames);
	}
	free(fr.v);
	return err;
}

/* ---- --symbol ---- */

/* Mean concurrency, by Little's law: time spent inside over the window. */
static double mean_inside(const struct symbol *s, double duration)
{
	return duration > 0 ? s->total_ns / 1e9 / duration : 0;
}

static void print_part(FILE *f, const char *what, const char *name, uint64_t ns, uint64_t total)
{
	char b[32];

	if (ns)
		fprintf(f, "    %-10s %-40.40s %9s %5.1f%%\n", what, name,
			fmt_duration(b, sizeof(b), ns), total ? 100.0 * ns / total : 0);
}

static void print_symbol(FILE *f, const struct symbol *s, double duration)
{
	char p50[32], p90[32], p99[32], mx[32], tot[32];

	fprintf(f,
		"\n%s (%s): %" PRIu64 " calls, %s inside; p50 %s p90 %s p99 %s max %s; "
		"concurrency max %" PRId64 ", mean %.1f\n",
		s->name, s->obj, s->calls, fmt_duration(tot, sizeof(tot), s->total_ns),
		hist_fmt_percentile(p50, sizeof(p50), &s->hist, 50),
		hist_fmt_percentile(p90, sizeof(p90), &s->hist, 90),
		hist_fmt_percentile(p99, sizeof(p99), &s->hist, 99),
		fmt_duration(mx, sizeof(mx), s->max_ns), s->max_inside, mean_inside(s, duration));
	if (!s->calls)
		return;
	if (s->is_async)
		fprintf(f,
			"    async fn: a call is a future, first poll to drop; %.1f polls per "
			"call; "
			"%" PRIu64 " dropped before completing%s\n",
			(double)s->polls / s->calls, s->cancelled,
			s->completion_unknown ? " (not told apart in this build)" : "");
	print_part(f, s->is_async ? "polled" : "on-CPU", "", symbol_oncpu_ns(s), s->total_ns);
	for (size_t i = 0; i < s->nlocks; i++)
		print_part(f, "lock", s->locks[i].name, s->locks[i].ns, s->total_ns);
	for (int r = 0; r < REASON_NR; r++)
		if (r != REASON_RUNQUEUE)
			print_part(f, reason_name(r), "", s->off_ns[r], s->total_ns);
	print_part(f, "runqueue", "", s->off_ns[REASON_RUNQUEUE], s->total_ns);
	print_part(f, "pending", "", s->pending_ns, s->total_ns);
}

static void report_symbols_text(FILE *f, const struct semlat_report *r)
{
	if (!r->symbols)
		return;
	fprintf(f, "\nFUNCTIONS (wall time of the outermost calls that ended: on-CPU, each lock, "
		   "other waits, runqueue)\n");
	for (size_t i = 0; i < r->symbols->n; i++)
		print_symbol(f, &r->symbols->v[i], r->duration);
}

static void json_symbol(struct json *j, const struct symbol *s, double duration)
{
	json_object_begin(j, NULL);
	json_string(j, "name", s->name);
	json_string(j, "object", s->obj);
	json_u64(j, "calls", s->calls);
	json_double(j, "total_us", s->total_ns / NS_PER_US);
	json_percentiles(j, &s->hist);
	json_double(j, "max_us", s->max_ns / NS_PER_US);
	json_i64(j, "concurrency_max", s->max_inside);
	json_double(j, "concurrency_mean", mean_inside(s, duration));
	json_hist(j, "histogram", &s->hist);
	json_bool(j, "async", s->is_async);
	json_double(j, "polls_per_call", s->calls ? (double)s->polls / s->calls : 0);
	json_u64(j, "cancelled", s->cancelled);
	json_object_begin(j, "breakdown");
	json_double(j, "oncpu", symbol_oncpu_ns(s) / NS_PER_US);
	json_double(j, "pending", s->pending_ns / NS_PER_US);
	for (int r = 0; r < REASON_NR; r++)
		json_double(j, reason_name(r), s->off_ns[r] / NS_PER_US);
	json_object_begin(j, "locks");
	for (size_t i = 0; i < s->nlocks; i++)
		json_double(j, s->locks[i].name, s->locks[i].ns / NS_PER_US);
	json_object_end(j);
	json_object_end(j);
	json_object_end(j);
}

static void report_symbols_json(struct json *j, const struct semlat_report *r)
{
	json_array_begin(j, "symbols");
	for (size_t i = 0; r->symbols && i < r->symbols->n; i++)
		json_symbol(j, &r->symbols->v[i], r->duration);
	json_array_end(j);
}

/* ---- --hold ---- */

static void print_hold(FILE *f, const struct hold *h)
{
	char t[32], m[32], p50[32], p99[32], mx[32];

	fprintf(f, "%-40.40s %-12s %7" PRIu64 " %9s %9s %9s %9s %9s\n", h->name ? h->name : "?",
		hold_kind_name(h->kind), h->holds, fmt_duration(t, sizeof(t), h->hold_ns),
		fmt_duration(m, sizeof(m), h->holds ? h->hold_ns / h->holds : 0),
		hist_fmt_percentile(p50, sizeof(p50), &h->hist, 50),
		hist_fmt_percentile(p99, sizeof(p99), &h->hist, 99),
		fmt_duration(mx, sizeof(mx), h->max_ns));
}

static void report_holds_text(FILE *f, const struct semlat_report *r, const struct report_opts *o)
{
	size_t shown = o->top && (size_t)o->top < r->nholds ? (size_t)o->top : r->nholds;

	if (!r->hold)
		return;
	fprintf(f, "\nHELD (--hold: from the lock call's return to the unlock, by thread)\n");
	if (!r->nholds) {
		fprintf(f, "no glibc lock was taken and given back in the window\n");
		return;
	}
	fprintf(f, "%-40s %-12s %7s %9s %9s %9s %9s %9s\n", "LOCK", "KIND", "HOLDS", "TOTAL",
		"MEAN", "P50", "P99", "MAX");
	for (size_t i = 0; i < shown; i++)
		print_hold(f, &r->holds[i]);
	for (size_t i = 0; i < shown && i < (size_t)o->detail; i++) {
		const struct hold *h = &r->holds[i];

		fprintf(f, "\n%s (%s, pid %d, %#" PRIx64 "), held longest by:\n",
			h->name ? h->name : "?", hold_kind_name(h->kind), h->pid, h->addr);
		for (size_t k = 0; k < h->nholders && k < (size_t)o->stacks; k++)
			print_stack(f, &h->holders[k], "held by", o->frames);
		hist_print(f, &h->hist, "    ");
	}
}

static void json_hold(struct json *j, const struct hold *h)
{
	json_lock_begin(j, h->addr, h->name, hold_kind_name(h->kind), h->pid);
	json_u64(j, "holds", h->holds);
	json_double(j, "hold_us", h->hold_ns / NS_PER_US);
	json_double(j, "max_us", h->max_ns / NS_PER_US);
	json_percentiles(j, &h->hist);
	json_hist(j, "histogram", &h->hist);
	json_stacks(j, "holder_stacks", h->holders, h->nholders, "hold_us");
	json_object_end(j);
}

static void report_holds_json(struct json *j, const struct semlat_report *r)
{
	if (!r->hold)
		return;
	json_array_begin(j, "holds");
	for (size_t i = 0; i < r->nholds; i++)
		json_hold(j, &r->holds[i]);
	json_array_end(j);
}
