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
#include "unwind.h"
#include "idle.h"

/* Waits of one lock from one stack (the waiters' side or the releasers'), or holds of it. */
struct lock_stack {
	const char **frames; /* outermost first */
	int nframes;
	char comm[TASK_COMM_LEN]; /* of the first thread seen here */
	int tgid, tid;		  /* whose stack it is (a releaser may be another process) */
	int *tids;		  /* every thread of that name seen here, tid first */
	size_t ntids;
	uint64_t count, ns; /* waits and their time, or holds and theirs */
	uint64_t max_ns;    /* the longest hold (--hold) */
	uint64_t hash;	    /* the stack's, to group by */
};

/* The waits of one thread on one lock from one stack: what --by thread|actor|stack group. */
struct wait_row {
	const char *lock, *kind; /* the lock's name and kind (owned by the lock) */
	size_t index;		 /* the lock's, while the locks are sorted by key */
	int tgid, tid;
	char comm[TASK_COMM_LEN];
	uint64_t ustack, count, ns;
	const char *const *frames; /* the waiter stack's (owned by the lock), outermost first */
	int nframes;
};

/* --hold: one lock's holds, from the lock call's return to the unlock. */
struct hold {
	int pid;
	uint64_t addr;
	int kind; /* enum hold_kind */
	const char *name;
	uint64_t holds, hold_ns, max_ns;
	struct hist hist;
	struct lock_stack *holders; /* the stacks that gave it back, longest held first */
	size_t nholders;
};

struct lock {
	int pid;
	uint64_t addr;
	int op; /* enum wait_op */
	const char *name, *kind;
	uint64_t waits, wait_ns, max_ns, blocked_ns;
	uint64_t idle_ns; /* of waiter stacks that are workers parked for work (user/idle.h) */
	uint64_t outcomes[OUT_NR];
	uint64_t other_ns;
	int64_t max_queued; /* tokio: acquires queued on it at once, at most */
	uint32_t writers;   /* tokio: acquires of an RwLock writer */
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
	SL_LOST_HELD_FULL,
	SL_LOST_HOLDS_FULL,
	SL_LOST_HOLDERS_FULL,
	SL_LOST_ACQUIRES_FULL,
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
	struct wait_row *rows; /* every (lock, thread, waiter stack) */
	size_t nrows;
	uint64_t calls;		/* calls that could block, traced */
	uint64_t min_ns;	/* -m */
	const char *async_obj;	/* tokio's, where its async waits are traced; else NULL and: */
	const char *async_note; /* why they are not */
	uint64_t short_waits;	/* -m: waits and holds shorter, left out */
	uint64_t async_waits;	/* tokio: acquires that queued */
	struct unwind_quality unwind;
	uint64_t lost[SL_LOST_NR];
	struct symbol_table *symbols; /* --symbol, NULL without */
	bool hold;		      /* --hold */
	struct hold *holds;	      /* by total time held, longest first */
	size_t nholds;
};

struct semlat_maps {
	int locks, edges, stacks, counters;
	int sym_stats, sym_locks;      /* --symbol */
	int holds, holders;	       /* --hold */
	__u16 gen;		       /* the interval to read */
	const struct idle_rules *idle; /* users' idle rules, beside the built-in ones */
	bool drain;		       /* -i: drop what was read, its interval is over */
	uint64_t *since; /* -i: the counters at the last read (DROP_NR + CNT_NR), or NULL */
};

int semlat_read(const struct semlat_maps *m, struct syms *syms, struct semlat_report *r);
/* Most of its waits are workers parked waiting for work, not contention. */
bool lock_is_idle(const struct lock *l);
/* The lock of that key, once read (semlat_read sorts by key, then by wait at its end). */
struct lock *semlat_find_lock(struct semlat_report *r, const struct lock_key *k);

void semlat_report_free(struct semlat_report *r);

/* The map's keys of interval m->gen (the __u16 at gen_off in each key), malloc'ed; NULL: ENOMEM. */
void *semlat_keys(const struct semlat_maps *m, int fd, size_t ksz, size_t gen_off, size_t *n);
/* The key's value; with -i the entry is dropped (its interval is over). 0 or -errno. */
int semlat_take(const struct semlat_maps *m, int fd, const void *key, void *val);

/* Shared by the readers of waits and of holds. at_probe: walked from a uprobe at a function entry.
 */
const char **semlat_frames(const struct semlat_maps *m, struct syms *syms, int tgid, __u64 hash,
			   bool at_probe, int *n);
/* Adds count events of ns (the longest max_ns) to the stack's entry, by hash and thread name. */
int semlat_add_stack(struct lock_stack **list, size_t *n, uint64_t hash, int tgid, int tid,
		     const char *comm, uint64_t count, uint64_t ns, uint64_t max_ns);
void semlat_sort_stacks(struct lock_stack *s, size_t n);
/* Adds tid to the set (*tids, *n) if it is not there; 0 or -ENOMEM. */
int semlat_add_tid(int **tids, size_t *n, int tid);
void semlat_free_stacks(struct lock_stack *s, size_t n);
/* "g_pool+0x28", or "[heap] 0x55d0 in enqueue" (s: a stack that used it, NULL if none). */
char *semlat_lock_name(struct syms *syms, int pid, uint64_t addr, const struct lock_stack *s);
const char *semlat_lost_name(int i);
/* The kind of a lock ("mutex", "condvar", ...) from its op and a waiter's frames, outermost first.
 */
const char *lock_kind(int op, const char *const *frames, int n);

/* parking_lot's slow paths in the targets, where there are (none is no error); 0 or -ENOMEM. */
struct probes;
int parking_resolve(const int *pids, int npids, struct probes *p);

#endif
