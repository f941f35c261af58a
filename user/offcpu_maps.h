/* SPDX-License-Identifier: GPL-2.0 */
/* Reads offcpu's BPF maps into a symbolized profile. */
#ifndef WAITSCOPE_OFFCPU_MAPS_H
#define WAITSCOPE_OFFCPU_MAPS_H

#include <stdbool.h>
#include "profile.h"
#include "syms.h"
#include <linux/types.h>
#include "offcpu.h"

struct offcpu_maps {
	int threads, periods, hists, stacks, full_of, wakes, counters;
	int prog;   /* the attached program, for its recursion-miss count */
	bool reset; /* reading empties the aggregations (interval reports) */
	bool whole; /* -m/-M: periods cut by the trace's end are left out */
};

/* Thread totals at the last interval report, which the next one subtracts. */
struct offcpu_prev {
	struct pthread *threads; /* sorted by tid */
	size_t n;
};

/* Tasks as the task iterator (link fd) finds them now. Returns 0 or -errno. */
int offcpu_snapshot(int iter_link, struct task_snap **out, size_t *n);

/*
 * Fills p's threads, stacks, wakers, stuck threads and lost counters;
 * periods still open at p->end_ns are closed there. snaps: the tasks at the
 * end. Returns 0 or -errno.
 */
int offcpu_read(const struct offcpu_maps *m, struct syms *syms, struct profile *p,
		const struct task_snap *snaps, size_t nsnaps);

/*
 * An interval report: what was aggregated since the last one (the maps are
 * emptied as they are read), threads blocked now; open periods are not closed.
 */
int offcpu_read_reset(const struct offcpu_maps *m, struct syms *syms, struct profile *p,
		      const struct task_snap *snaps, size_t nsnaps, struct offcpu_prev *prev);
void offcpu_prev_free(struct offcpu_prev *prev);

/* Only the threads blocked now (offcpu --stuck): no trace ran. */
int offcpu_read_stuck(const struct offcpu_maps *m, struct syms *syms, struct profile *p,
		      const struct task_snap *snaps, size_t nsnaps);

/* Blocked periods recorded and everything dropped so far, for the live status line. */
void offcpu_progress(const struct offcpu_maps *m, uint64_t *periods, uint64_t *drops);

#endif
