// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "folded.h"
#include "json.h"
#include "report.h"
#include "unwind.h"
#include "views.h"
#include "units.h"

#define NS_PER_US 1000.0

static uint64_t total_offcpu(const struct profile *p)
{
	return reason_sum(p->reason_ns);
}

static size_t blocked_threads(const struct profile *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->nthreads; i++)
		n += pthread_offcpu_ns(&p->threads[i]) > 0;
	return n;
}

void report_scope(FILE *f, const struct profile *p)
{
	if (!p->npids) {
		fprintf(f, "whole system");
	} else {
		for (int i = 0; i < p->npids; i++)
			fprintf(f, "%sPID %d (%s)", i ? ", " : "", p->pids[i], p->target_comm[i]);
	}
	if (p->tid)
		fprintf(f, ", thread %d", p->tid);
}

static void text_summary(FILE *f, const struct profile *p)
{
	char a[32];

	fprintf(f, "%s: ", p->tool);
	report_scope(f, p);
	fprintf(f, ", %.2f s traced: %s off-CPU in %" PRIu64 " blocked periods across %zu threads",
		p->duration, fmt_duration(a, sizeof(a), total_offcpu(p)), p->periods,
		blocked_threads(p));
	if (p->reason_ns[REASON_IDLE])
		fprintf(f, "; %s of it (%.1f%%) idle, workers waiting for work",
			fmt_duration(a, sizeof(a), p->reason_ns[REASON_IDLE]),
			100.0 * p->reason_ns[REASON_IDLE] / total_offcpu(p));
	fprintf(f, "\n");
	for (int i = 0; i < p->npids; i++)
		if (p->exited[i])
			fprintf(f,
				"PID %d (%s) exited during the trace; this is what was gathered\n",
				p->pids[i], p->target_comm[i]);
	fprintf(f, "lost:%s", lost_total(p) ? "" : " nothing");
	for (int i = 0; i < LOST_NR; i++)
		if (p->lost[i])
			fprintf(f, " %s %" PRIu64, lost_name(i), p->lost[i]);
	fprintf(f, "\n");
	unwind_quality_print(f, &p->unwind);
}

static void text_reason(FILE *f, const struct profile *p, int r)
{
	const struct hist *h = &p->reason_hist[r];
	char t[32], p50[32], p90[32], p99[32], mx[32];

	fprintf(f, "%-9s %10s %5.1f%% %8" PRIu64 " %10s %10s %10s %10s\n", reason_name(r),
		fmt_duration(t, sizeof(t), p->reason_ns[r]),
		100.0 * p->reason_ns[r] / total_offcpu(p), h->count,
		hist_fmt_percentile(p50, sizeof(p50), h, 50),
		hist_fmt_percentile(p90, sizeof(p90), h, 90),
		hist_fmt_percentile(p99, sizeof(p99), h, 99),
		fmt_duration(mx, sizeof(mx), h->max_ns));
}

/* Real waits, then idle under a rule of its own: parked workers wait for nothing. */
static void text_reasons(FILE *f, const struct profile *p)
{
	fprintf(f, "\n%-9s %10s %6s %8s %10s %10s %10s %10s\n", "REASON", "OFF-CPU", "SHARE",
		"PERIODS", "P50", "P90", "P99", "MAX");
	for (int r = 0; r < REASON_NR; r++)
		if (p->reason_ns[r] && r != REASON_IDLE)
			text_reason(f, p, r);
	if (!p->reason_ns[REASON_IDLE])
		return;
	fprintf(f, "- - - - - workers parked, waiting for work:\n");
	text_reason(f, p, REASON_IDLE);
}

static size_t rows(size_t n, const struct report_opts *o)
{
	return o->top && (size_t)o->top < n ? (size_t)o->top : n;
}

static void text_stack(FILE *f, const struct pstack *s)
{
	char t[32], mx[32], rq[32], why[64];

	fprintf(f, "\n%s %s, %" PRIu64 " periods, max %s", fmt_duration(t, sizeof(t), s->total_ns),
		views_reason_label(s->reason, s->syscall, why, sizeof(why)), s->count,
		fmt_duration(mx, sizeof(mx), s->max_ns));
	if (s->rq_ns)
		fprintf(f, ", +%s waiting for a CPU once woken",
			fmt_duration(rq, sizeof(rq), s->rq_ns));
	fprintf(f, " - %s [%d] pid %d\n", s->comm, s->tid, s->pid);
	views_top_waker_text(f, s);
	views_frames_text(f, s->frames, s->nframes, s->nkernel);
}

static void text_stacks(FILE *f, const struct profile *p, const struct report_opts *o)
{
	fprintf(f, "\nTOP STACKS (%zu of %zu, by off-CPU time, idle last, innermost frame first)\n",
		rows(p->nstacks, o), p->nstacks);
	for (size_t i = 0; i < rows(p->nstacks, o); i++) {
		/* profile_finish sorted idle stacks last */
		if (p->stacks[i].reason == REASON_IDLE &&
		    (!i || p->stacks[i - 1].reason != REASON_IDLE))
			fprintf(f, "\n- - - - - idle: workers parked, waiting for work\n");
		text_stack(f, &p->stacks[i]);
	}
}

static void text_breakdown(FILE *f, const struct pthread *t)
{
	char d[32];
	const char *sep = "";

	for (int r = 0; r < REASON_NR; r++) {
		if (!t->offcpu_ns[r])
			continue;
		fprintf(f, "%s%s %s", sep, reason_name(r),
			fmt_duration(d, sizeof(d), t->offcpu_ns[r]));
		sep = ", ";
	}
}

static void text_threads(FILE *f, const struct profile *p, const struct report_opts *o)
{
	char on[32], off[32];

	fprintf(f, "\nTHREADS (%zu of %zu, by off-CPU time)\n", rows(p->nthreads, o), p->nthreads);
	fprintf(f, "%8s %8s %-16s %-16s %10s %10s  %s\n", "TID", "PID", "COMM", "ACTOR", "ON-CPU",
		"OFF-CPU", "REASONS");
	for (size_t i = 0; i < rows(p->nthreads, o); i++) {
		const struct pthread *t = &p->threads[i];

		fprintf(f, "%8d %8d %-16s %-16s %10s %10s  ", t->tid, t->pid, t->comm, t->actor,
			fmt_duration(on, sizeof(on), t->oncpu_ns),
			fmt_duration(off, sizeof(off), pthread_offcpu_ns(t)));
		text_breakdown(f, t);
		fprintf(f, "\n");
	}
}

static void text_histograms(FILE *f, const struct profile *p)
{
	for (int r = 0; r < REASON_NR; r++) {
		if (!p->reason_hist[r].count)
			continue;
		fprintf(f, "\n%s: blocked periods\n", reason_name(r));
		hist_print(f, &p->reason_hist[r], "  ");
	}
}

void report_text(FILE *f, const struct profile *p, const struct report_opts *o)
{
	text_summary(f, p);
	if (!p->periods) {
		/* a hung process has no period that ended: what blocks it is the answer */
		fprintf(f, "no blocked periods were recorded\n");
		views_stuck_text(f, p, o->top);
		return;
	}
	text_reasons(f, p);
	switch (o->by) {
	case BY_STACK:
		text_stacks(f, p, o);
		break;
	case BY_THREAD:
		text_threads(f, p, o);
		break;
	case BY_REASON:
		text_histograms(f, p);
		break;
	case BY_ACTOR:
		views_actors_text(f, p, o->top);
		break;
	}
	views_stuck_text(f, p, o->top);
}

static void json_reasons(struct json *j, const char *key, const uint64_t *ns)
{
	json_object_begin(j, key);
	for (int r = 0; r < REASON_NR; r++)
		json_double(j, reason_name(r), ns[r] / NS_PER_US);
	json_object_end(j);
}

static void json_targets(struct json *j, const struct profile *p)
{
	json_array_begin(j, "targets");
	for (int i = 0; i < p->npids; i++) {
		json_object_begin(j, NULL);
		json_i64(j, "pid", p->pids[i]);
		json_string(j, "comm", p->target_comm[i]);
		json_bool(j, "exited", p->exited[i]);
		json_object_end(j);
	}
	json_array_end(j);
}

static void json_thread(struct json *j, const struct pthread *t, uint64_t start_ns, uint64_t end_ns)
{
	json_object_begin(j, NULL);
	json_i64(j, "tid", t->tid);
	json_i64(j, "pid", t->pid);
	json_string(j, "comm", t->comm);
	json_string(j, "actor", t->actor);
	json_bool(j, "kernel", t->kernel);
	json_double(j, "offcpu_us", pthread_offcpu_ns(t) / NS_PER_US);
	json_double(j, "oncpu_us", t->oncpu_ns / NS_PER_US);
	json_u64(j, "periods", reason_sum(t->periods));
	json_reasons(j, "reasons", t->offcpu_ns);
	json_double(j, "blocked_us",
		    (pthread_offcpu_ns(t) - t->offcpu_ns[REASON_RUNQUEUE]) / NS_PER_US);
	json_double(j, "runqueue_us", t->offcpu_ns[REASON_RUNQUEUE] / NS_PER_US);
	json_reasons(j, "runqueue_after", t->rq_after_ns);
	if (t->end_ns && t->end_ns < end_ns)
		end_ns = t->end_ns; /* it exited */
	if (t->first_ns > start_ns)
		start_ns = t->first_ns;
	/* one that exited as the last window closed shows in this one for nothing */
	json_double(j, "traced_us", end_ns > start_ns ? (end_ns - start_ns) / NS_PER_US : 0);
	json_object_end(j);
}

static void json_stack(struct json *j, const struct pstack *s, bool wakers)
{
	json_object_begin(j, NULL);
	json_i64(j, "pid", s->pid);
	json_i64(j, "tid", s->tid);
	json_string(j, "comm", s->comm);
	json_string(j, "reason", reason_name(s->reason));
	char sb[32];

	json_string(j, "syscall",
		    s->syscall >= 0 ? syscall_label(s->syscall, sb, sizeof(sb)) : NULL);
	views_frames_json(j, s->frames, s->nframes, s->nkernel);
	json_double(j, "total_us", s->total_ns / NS_PER_US);
	json_u64(j, "count", s->count);
	json_double(j, "max_us", s->max_ns / NS_PER_US);
	json_double(j, "runqueue_us", s->rq_ns / NS_PER_US);
	json_string(j, "actor", s->actor);
	json_bool(j, "open", s->open);
	if (wakers)
		views_wakers_json(j, s);
	json_object_end(j);
}

void report_json(FILE *f, const struct profile *p)
{
	struct json j;

	json_init(&j, f, false);
	json_object_begin(&j, NULL);
	json_string(&j, "tool", p->tool);
	json_double(&j, "duration_us", p->duration * 1e6);
	json_object_begin(&j, "window");
	json_u64(&j, "start_ns", p->start_ns);
	json_u64(&j, "end_ns", p->end_ns);
	json_object_end(&j);
	json_targets(&j, p);
	json_reasons(&j, "reasons", p->reason_ns);
	json_u64(&j, "periods", p->periods);
	json_array_begin(&j, "threads");
	for (size_t i = 0; i < p->nthreads; i++)
		json_thread(&j, &p->threads[i], p->start_ns, p->end_ns);
	json_array_end(&j);
	json_array_begin(&j, "stacks");
	for (size_t i = 0; i < p->nstacks; i++)
		json_stack(&j, &p->stacks[i], p->wakers);
	json_array_end(&j);
	json_object_begin(&j, "histograms");
	for (int r = 0; r < REASON_NR; r++)
		json_hist(&j, reason_name(r), &p->reason_hist[r]);
	json_object_end(&j);
	views_actors_json(&j, p);
	views_stuck_json_array(&j, p);
	unwind_quality_json(&j, &p->unwind);
	json_object_begin(&j, "lost");
	for (int i = 0; i < LOST_NR; i++)
		json_u64(&j, lost_name(i), p->lost[i]);
	json_object_end(&j);
	json_object_end(&j);
	json_end(&j);
}

/* "[lock]"; "other" keeps its syscall ("[other:ioctl]") so that nothing is hidden */
static void folded_reason(const struct pstack *s, char *buf, size_t n)
{
	char sb[32];

	if (s->reason == REASON_OTHER && s->syscall >= 0)
		snprintf(buf, n, "[other:%s]", syscall_label(s->syscall, sb, sizeof(sb)));
	else
		snprintf(buf, n, "[%s]", reason_name(s->reason));
}

/* comm;user frames;kernel frames_[k];[reason] us, and [runqueue] for the wait after wakeups */
static void add_stack_folded(struct folded *fd, const struct pstack *s, const char **frames,
			     char **kernel)
{
	char reason[48];
	int n = 0, nk = 0;

	frames[n++] = s->comm;
	for (int k = 0; k < s->nframes; k++) {
		if (k < s->nframes - s->nkernel)
			frames[n++] = s->frames[k];
		else if (asprintf(&kernel[nk], "%s_[k]", s->frames[k]) >= 0)
			frames[n++] = kernel[nk++];
	}
	folded_reason(s, reason, sizeof(reason));
	frames[n] = reason;
	folded_add(fd, frames, n + 1, s->total_ns);
	frames[n] = "[runqueue]";
	folded_add(fd, frames, n + 1, s->rq_ns);
	while (nk)
		free(kernel[--nk]);
}

static void report_stacks_folded(FILE *f, const struct profile *p)
{
	struct folded fd;

	folded_init(&fd);
	for (size_t i = 0; i < p->nstacks; i++) {
		const struct pstack *s = &p->stacks[i];
		/* as many frames as the stack has: inlined ones make it longer than its walk */
		const char **frames = malloc((s->nframes + 2) * sizeof(*frames));
		char **kernel = malloc((s->nkernel + 1) * sizeof(*kernel));

		if (frames && kernel)
			add_stack_folded(&fd, s, frames, kernel);
		free(frames);
		free(kernel);
	}
	/* one line per distinct stack: same-named threads add up */
	folded_write(&fd, f, 1000);
}

void report_folded(FILE *f, const struct profile *p)
{
	if (p->wakers) {
		views_offwake_folded(f, p);
		return;
	}
	report_stacks_folded(f, p);
}

void report_stuck_json(FILE *f, const struct profile *p)
{
	struct json j;

	json_init(&j, f, false);
	json_object_begin(&j, NULL);
	json_string(&j, "tool", p->tool);
	json_u64(&j, "time_ns", p->end_ns);
	json_targets(&j, p);
	views_stuck_json_array(&j, p);
	json_object_end(&j);
	json_end(&j);
}
