/* SPDX-License-Identifier: GPL-2.0 */
/* Reads offcpu's BPF maps into a symbolized profile. */
#ifndef WAITSCOPE_OFFCPU_MAPS_H
#define WAITSCOPE_OFFCPU_MAPS_H

#include <stdbool.h>
#include "profile.h"
#include "syms.h"
#include <linux/types.h>
#include "offcpu.h"
#include "deltas.h"
#include "idle.h"

struct offcpu_prev;

struct offcpu_maps {
	int threads, periods, hists, stacks, full_of, wakes, counters;
	int prog;		   /* the attached program, for its recursion-miss count */
	bool whole;		   /* -m/-M: periods cut by the trace's start or end are left out */
	struct offcpu_prev *since; /* interval reports: what the last one read */
	const struct idle_rules
		*idle; /* users' rules for the idle reason, beside the built-in ones */
};

enum { PREV_PERIODS, PREV_HISTS, PREV_WAKES, PREV_NR };

/* Thread counters since a thread's start, for interval reports to subtract. */
struct prev_thread {
	int tid, pid;
	uint64_t oncpu_ns;
	uint64_t offcpu_ns[REASON_NR], periods[REASON_NR], rq_after_ns[REASON_NR];
};

/* What the last interval report read: the next one is the difference. */
struct offcpu_prev {
	struct prev_thread *threads; /* sorted by (tid, pid) */
	size_t n;
	struct deltas last[PREV_NR], next[PREV_NR];
};

/* Tasks as the task iterator (link fd) finds them now. Returns 0 or -errno. */
int offcpu_snapshot(int iter_link, struct task_snap **out, size_t *n);

/*
 * Fills p's threads, stacks, wakers, stuck threads and lost counters, and
 * p->end_ns: when the thread records were read, where periods still open
 * are cut. snaps: the tasks at the end. With m->since (interval reports), only what happened since
 * the last read: each interval holds its own part of a period that spans several, histograms count
 * a period when it ends, and a period's max_us stays the largest since the start. Returns 0 or
 * -errno.
 */
int offcpu_read(const struct offcpu_maps *m, struct syms *syms, struct profile *p,
		const struct task_snap *snaps, size_t nsnaps);
void offcpu_prev_init(struct offcpu_prev *prev);
void offcpu_prev_free(struct offcpu_prev *prev);

/* Only the threads blocked now (offcpu --stuck): no trace ran. */
int offcpu_read_stuck(const struct offcpu_maps *m, struct syms *syms, struct profile *p,
		      const struct task_snap *snaps, size_t nsnaps);

/* Blocked periods recorded and everything dropped so far, for the live status line. */
void offcpu_progress(const struct offcpu_maps *m, uint64_t *periods, uint64_t *drops);

#endif
