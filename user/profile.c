// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "profile.h"

static const char *const lost_names[LOST_NR] = {
	[LOST_THREADS_FULL] = "threads_full",	 [LOST_PERIODS_FULL] = "periods_full",
	[LOST_HISTS_FULL] = "hists_full",	 [LOST_STACKS_FULL] = "stacks_full",
	[LOST_USTACK_FAILED] = "ustack_failed",	 [LOST_KSTACK_FAILED] = "kstack_failed",
	[LOST_EVENTS] = "events_lost",		 [LOST_WAKES_FULL] = "wakes_full",
	[LOST_SCHED_FULL] = "sched_frames_full", [LOST_RECURSION] = "recursion_misses",
	[LOST_NO_MAPS] = "frames_without_maps",
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

uint64_t pthread_offcpu_ns(const struct pthread *t)
{
	return reason_sum(t->offcpu_ns);
}

static int by_thread_offcpu(const void *a, const void *b)
{
	uint64_t x = pthread_offcpu_ns(a), y = pthread_offcpu_ns(b);

	return x < y   ? 1
	       : x > y ? -1
		       : ((const struct pthread *)a)->tid - ((const struct pthread *)b)->tid;
}

static int by_stack_total(const void *a, const void *b)
{
	const struct pstack *x = a, *y = b;

	return x->total_ns < y->total_ns ? 1 : x->total_ns > y->total_ns ? -1 : 0;
}

void profile_finish(struct profile *p)
{
	memset(p->reason_ns, 0, sizeof(p->reason_ns));
	memset(p->reason_hist, 0, sizeof(p->reason_hist));
	p->periods = 0;
	for (size_t i = 0; i < p->nthreads; i++) {
		struct pthread *t = &p->threads[i];

		actor_of(t->comm, t->actor, sizeof(t->actor));
		for (int r = 0; r < REASON_NR; r++) {
			p->reason_ns[r] += t->offcpu_ns[r];
			p->periods += t->periods[r];
			hist_merge(&p->reason_hist[r], &t->hist[r]);
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

static bool is_separator(char c)
{
	return c == '-' || c == '_' || c == '/' || c == ':' || c == '.' || c == '#' || c == ' ';
}

/*
 * Folds the trailing run of separated numbers: "pool-3-thread-7" ->
 * "pool-3-thread-*", "kworker/0:1" -> "kworker/" + "*". A number glued to the
 * name ("python3") is part of the name.
 */
void actor_of(const char *comm, char *out, size_t n)
{
	size_t len = strlen(comm), end = len;

	while (end > 0) {
		size_t d = end;

		while (d > 0 && isdigit((unsigned char)comm[d - 1]))
			d--;
		if (d == end || d == 0 || !is_separator(comm[d - 1]))
			break;
		end = d - 1;
	}
	if (end == len)
		snprintf(out, n, "%s", comm);
	else
		snprintf(out, n, "%.*s%c*", (int)end, comm, comm[end]);
}
