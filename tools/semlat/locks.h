/* SPDX-License-Identifier: GPL-2.0 */
/* semlat's model: the locks waited on, read from the BPF maps and named. */
#ifndef SEMLAT_LOCKS_H
#define SEMLAT_LOCKS_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "semlat.h"
#include "hist.h"
#include "syms.h"

/* Waits of one lock from one stack: the waiters' side or the releasers'. */
struct lock_stack {
	const char **frames; /* outermost first */
	int nframes;
	char comm[TASK_COMM_LEN]; /* of the first thread seen here */
	int tgid, tid;		  /* whose stack it is (a releaser may be another process) */
	uint64_t count, wait_ns;
	uint64_t hash; /* the stack's, to group by */
};

struct lock {
	int pid;
	uint64_t addr;
	int op; /* enum wait_op */
	const char *name, *kind;
	uint64_t waits, wait_ns, max_ns, blocked_ns;
	uint64_t outcomes[OUT_NR];
	uint64_t other_ns;
	struct hist hist;
	struct lock_stack *waiters, *wakers; /* biggest first */
	size_t nwaiters, nwakers;
};

enum semlat_lost {
	SL_LOST_WAITERS_FULL,
	SL_LOST_LOCKS_FULL,
	SL_LOST_STACKS_FULL,
	SL_LOST_EDGES_FULL,
	SL_LOST_USTACK_FAILED,
	SL_LOST_CALLS_FULL,
	SL_LOST_SYMLOCKS_FULL,
	SL_LOST_NR,
};

struct semlat_report {
	double duration;
	uint64_t start_ns, end_ns; /* CLOCK_MONOTONIC: attached, detached */
	const int *pids;
	int npids;
	const bool *exited;
	struct lock *locks; /* by total wait, biggest first */
	size_t nlocks;
	uint64_t calls; /* calls that could block, traced */
	uint64_t lost[SL_LOST_NR];
	struct symbol_table *symbols; /* --symbol, NULL without */
};

struct semlat_maps {
	int locks, edges, stacks, counters;
	int sym_stats, sym_locks; /* --symbol */
};

int semlat_read(const struct semlat_maps *m, struct syms *syms, struct semlat_report *r);
/* The lock of that key, once read (semlat_read sorts by key, then by wait at its end). */
struct lock *semlat_find_lock(struct semlat_report *r, const struct lock_key *k);

void semlat_report_free(struct semlat_report *r);
const char *semlat_lost_name(int i);
/* The kind of a lock ("mutex", "condvar", ...) from its op and a waiter's frames, outermost first.
 */
const char *lock_kind(int op, const char *const *frames, int n);

#endif
