/* SPDX-License-Identifier: GPL-2.0 */
/* Reads offcpu's BPF maps into a symbolized profile. */
#ifndef WAITSCOPE_OFFCPU_MAPS_H
#define WAITSCOPE_OFFCPU_MAPS_H

#include "profile.h"
#include "syms.h"

struct offcpu_maps {
	int threads, periods, hists, stacks, full_of, counters;
	int prog; /* the attached program, for its recursion-miss count */
};

/* Fills p's threads, stacks and lost counters. Returns 0 or -errno. */
int offcpu_read(const struct offcpu_maps *m, struct syms *syms, struct profile *p);

/* Blocked periods recorded and everything dropped so far, for the live status line. */
void offcpu_progress(const struct offcpu_maps *m, uint64_t *periods, uint64_t *drops);

#endif
