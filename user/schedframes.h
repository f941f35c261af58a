/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The scheduler's own frames (__schedule, schedule, do_nanosleep, mutex and
 * rwsem slow paths...) that a walk of a sleeping task leaves out, as
 * /proc/PID/stack does: learned from full walks that hold them and put back
 * in front of the walks that lack them, keyed by the call site below them.
 */
#ifndef WAITSCOPE_SCHEDFRAMES_H
#define WAITSCOPE_SCHEDFRAMES_H

#include <stdbool.h>
#include <stdint.h>

#define SCHED_CHAIN_MAX 16

struct sched_chain {
	uint64_t site; /* first frame below the scheduler's */
	int n;
	uint64_t ips[SCHED_CHAIN_MAX];
};

struct schedframes {
	uint64_t text[4]; /* __sched_text_start, end, __lock_text_start, end */
	struct sched_chain *chains;
	int n, cap;
};

/* Reads the text ranges from kallsyms; returns 0, or -1 when kallsyms hides them. */
int schedframes_init(struct schedframes *s);
void schedframes_free(struct schedframes *s);
int schedframes_is_sched(const struct schedframes *s, uint64_t ip);

/* A full walk, innermost frame first: remembers its scheduler frames by call site. */
void schedframes_learn(struct schedframes *s, const uint64_t *ips, int n);

/*
 * A walk without scheduler frames: puts the learned ones in front, in place
 * (ips holds cap entries). Returns the new count; *missing says that the
 * walk lacks them and none were learned for its call site.
 */
int schedframes_fill(const struct schedframes *s, uint64_t *ips, int n, int cap, bool *missing);

#endif
