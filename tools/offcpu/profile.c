// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>
#include "profile.h"

static const char *const lost_names[LOST_NR] = {
	[LOST_THREADS_FULL] = "threads_full",	  [LOST_PERIODS_FULL] = "periods_full",
	[LOST_STACKS_FULL] = "stacks_full",	  [LOST_USTACK_FAILED] = "ustack_failed",
	[LOST_KSTACK_FAILED] = "kstack_failed",	  [LOST_EVENTS] = "events_lost",
	[LOST_WAKES_FULL] = "wakes_full",	  [LOST_SCHED_FULL] = "sched_frames_full",
	[LOST_RECURSION] = "recursion_misses",	  [LOST_NO_MAPS] = "frames_without_maps",
	[LOST_SWITCH_UNSEEN] = "switches_unseen",
};

const char *lost_name(int i)
{
	return lost_names[i];
}

uint64_t lost_total(const struct profile *p)
{
	uint64_t n = 0;

	for (int i = 0; i < LOST_NR; i++)
		n += p->lost[i];
	return n;
}

uint64_t reason_sum(const uint64_t v[REASON_NR])
{
	uint64_t n = 0;

	for (int r = 0; r < REASON_NR; r++)
		n += v[r];
	return n;
}

uint64_t reason_sum_waits(const uint64_t v[REASON_NR])
{
	return reason_sum(v) - v[REASON_IDLE];
}

uint64_t pthread_offcpu_ns(const struct pthread *t)
{
	return reason_sum(t->offcpu_ns);
}

/* larger first */
static int by_larger(uint64_t x, uint64_t y)
{
	return x < y ? 1 : x > y ? -1 : 0;
}

/* Real waits lead; idle time, shown but apart, only breaks ties. */
static int by_thread_offcpu(const void *a, const void *b)
{
	const struct pthread *x = a, *y = b;
	int c = by_larger(reason_sum_waits(x->offcpu_ns), reason_sum_waits(y->offcpu_ns));

	if (!c)
		c = by_larger(x->offcpu_ns[REASON_IDLE], y->offcpu_ns[REASON_IDLE]);
	return c ? c : x->tid - y->tid;
}

static int by_stack_total(const void *a, const void *b)
{
	const struct pstack *x = a, *y = b;
	int idle = (x->reason == REASON_IDLE) - (y->reason == REASON_IDLE);

	return idle ? idle : by_larger(x->total_ns, y->total_ns);
}

void profile_move_to_idle(struct profile *p, struct pstack *s, struct pthread *t)
{
	int r = s->reason;

	if (t) {
		t->offcpu_ns[r] -= s->total_ns < t->offcpu_ns[r] ? s->total_ns : t->offcpu_ns[r];
		t->offcpu_ns[REASON_IDLE] += s->total_ns;
		t->periods[r] -= s->count < t->periods[r] ? s->count : t->periods[r];
		t->periods[REASON_IDLE] += s->count;
		t->rq_after_ns[r] -= s->rq_ns < t->rq_after_ns[r] ? s->rq_ns : t->rq_after_ns[r];
		t->rq_after_ns[REASON_IDLE] += s->rq_ns;
	}
	hist_move_slots(&p->reason_hist[r], &p->reason_hist[REASON_IDLE], s->log2, HIST_MAX_SLOTS,
			s->total_ns, s->max_ns);
	s->reason = REASON_IDLE;
}

void profile_settle_max(struct profile *p, int reason)
{
	struct hist *h = &p->reason_hist[reason];
	uint64_t max = 0;

	for (size_t i = 0; i < p->nstacks; i++)
		if (p->stacks[i].reason == reason && p->stacks[i].max_ns > max)
			max = p->stacks[i].max_ns;
	if (max < h->max_ns)
		h->max_ns = h->count ? max : 0;
}

void profile_finish(struct profile *p)
{
	memset(p->reason_ns, 0, sizeof(p->reason_ns));
	p->periods = 0;
	for (size_t i = 0; i < p->nthreads; i++) {
		struct pthread *t = &p->threads[i];

		actor_of(t->comm, t->actor, sizeof(t->actor));
		for (int r = 0; r < REASON_NR; r++) {
			p->reason_ns[r] += t->offcpu_ns[r];
			p->periods += t->periods[r];
		}
	}
	if (p->nthreads)
		qsort(p->threads, p->nthreads, sizeof(*p->threads), by_thread_offcpu);
	if (p->nstacks)
		qsort(p->stacks, p->nstacks, sizeof(*p->stacks), by_stack_total);
}

void profile_free(struct profile *p)
{
	for (size_t i = 0; i < p->nstacks; i++) {
		for (size_t w = 0; w < p->stacks[i].nwakers; w++)
			free(p->stacks[i].wakers[w].frames);
		free(p->stacks[i].wakers);
		free(p->stacks[i].frames);
	}
	for (size_t i = 0; i < p->nstuck; i++)
		free(p->stuck[i].frames);
	free(p->stuck);
	p->stuck = NULL;
	p->nstuck = 0;
	free(p->stacks);
	free(p->threads);
	p->stacks = NULL;
	p->threads = NULL;
	p->nstacks = p->nthreads = 0;
}

static int by_stuck_time(const void *a, const void *b)
{
	const struct pstuck *x = a, *y = b;
	int idle = (x->reason == REASON_IDLE) - (y->reason == REASON_IDLE);

	/* parked workers after the threads that wait for something */
	if (idle)
		return idle;
	/* unknown since (0) sorts last; otherwise the longest first */
	if (!x->since_ns || !y->since_ns)
		return !x->since_ns - !y->since_ns;
	return x->since_ns < y->since_ns ? -1 : x->since_ns > y->since_ns ? 1 : x->tid - y->tid;
}

void profile_sort_stuck(struct profile *p)
{
	qsort(p->stuck, p->nstuck, sizeof(*p->stuck), by_stuck_time);
}
