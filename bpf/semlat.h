/* SPDX-License-Identifier: GPL-2.0 */
/* Types shared by semlat.bpf.c and the semlat front end. */
#ifndef WAITSCOPE_SEMLAT_H
#define WAITSCOPE_SEMLAT_H

#include "hist_slots.h"
#include "reasons.h"
#include "stack.h"

#define TASK_COMM_LEN 16
#define MAX_TARGETS   64
#define MAX_SYMBOLS   64 /* functions of --symbol, over all targets */

/* Counters of everything the BPF side had to drop, then event counters. */
enum semlat_drop {
	DROP_WAITERS_FULL,  /* pending-wait table full: a wait was not recorded */
	DROP_LOCKS_FULL,    /* lock table full: a wait was not recorded */
	DROP_STACKS_FULL,   /* stack table full: a wait was kept without its stack */
	DROP_EDGES_FULL,    /* (lock, waiter stack, releaser) table full: kept without them */
	DROP_USTACK_FAILED, /* user stack walk failed */
	DROP_CALLS_FULL,    /* --symbol: in-call table full, a call was not recorded */
	DROP_SYMLOCKS_FULL, /* --symbol: (function, lock) table full, a lock wait went to "lock" */
	DROP_HELD_FULL,	    /* --hold: table of locks held now full, a hold was not recorded */
	DROP_HOLDS_FULL,    /* --hold: table of locks full, a hold was not recorded */
	DROP_HOLDERS_FULL,  /* --hold: (lock, holder stack) table full, kept in the lock's totals */
	DROP_ACQUIRES_FULL, /* tokio: table of async acquires waiting now full, a wait not recorded
			     */
	DROP_NR,
};

enum semlat_counter {
	CNT_WAITS,	 /* futex and semop calls that could block, traced */
	CNT_CALLS,	 /* --symbol: outermost calls ended */
	CNT_HOLDS,	 /* --hold: holds ended */
	CNT_SHORT,	 /* -m: waits and holds shorter than the minimum, left out */
	CNT_ASYNC,	 /* tokio: acquires that had to queue, traced */
	CNT_USTACKS,	 /* user stacks walked by the binaries' tables */
	CNT_USTACKS_CUT, /* of which ended before their outermost frame */
	CNT_NR,
};

/* How a waiting call ended. */
enum wait_outcome {
	OUT_WOKEN,     /* woken (or got the lock): a real wait */
	OUT_AGAIN,     /* EAGAIN: the word changed before it could sleep, a near miss */
	OUT_TIMEOUT,   /* ETIMEDOUT */
	OUT_INTR,      /* EINTR, or restarted */
	OUT_OTHER,     /* any other error */
	OUT_CANCELLED, /* an async acquire dropped while it waited */
	OUT_NR,
};

/* The waiting operation, as the futex op says (the stack says more). */
enum wait_op {
	OP_WAIT,	 /* FUTEX_WAIT: glibc's mutexes */
	OP_WAIT_BITSET,	 /* condvars, semaphores, rwlocks; Rust std */
	OP_LOCK_PI,	 /* priority-inheritance mutexes (LOCK_PI, LOCK_PI2) */
	OP_WAIT_REQUEUE, /* a condvar wait that requeues to a PI mutex */
	OP_WAITV,	 /* futex_waitv: the first futex named */
	OP_SEMOP,	 /* SysV semop/semtimedop: the semaphore set's id */
	OP_ASYNC,	 /* tokio's batch_semaphore: a task's acquire queued, no thread blocked */
	OP_NR,
};

/* A lock: a futex word (or SysV semaphore set) of one process. */
struct lock_key {
	__u32 tgid;
	__u16 op;  /* enum wait_op: a word waited on two ways is two locks */
	__u16 gen; /* -i: the interval the wait ended in (user space reads and drops the last) */
	__u64 addr;
};

struct lock_val {
	__u64 waits; /* real waits (woken or got the lock) */
	__u64 wait_ns, max_ns;
	__u64 blocked_ns; /* entry to wakeup, of the real waits */
	__u64 outcomes[OUT_NR];
	__u64 other_ns;	  /* time in the calls that were no real wait */
	__s64 max_queued; /* tokio: acquires queued at once on it, at most */
	__u32 writers;	  /* tokio: acquires of an RwLock's every permit (a writer's) */
	__u32 pad;
	__u32 slots[HIST_FINE_SLOTS]; /* the real waits' microseconds */
};

/* One edge: a waiter stack of a lock, and who released it. */
struct edge_key {
	struct lock_key lock;
	__u64 ustack; /* the waiter's, 0 if unknown */
	__u64 wstack; /* the releaser's (its user stack at the wakeup), 0 if unknown */
	__u32 wpid;   /* the releaser's thread, 0 if not seen */
	__u32 wtgid;
	__u32 pid; /* the waiter's thread */
	__u32 pad;
};

struct edge_val {
	__u64 count;
	__u64 wait_ns;
	char comm[TASK_COMM_LEN];  /* the waiter's */
	char wcomm[TASK_COMM_LEN]; /* the releaser's */
};

/*
 * --symbol: a traced function's outermost calls (its uprobe's cookie is the index). Wall time
 * = on-CPU + off-CPU; off-CPU is split, as offcpu splits it, at each wakeup: blocked time by
 * wait reason (REASON_RUNQUEUE: waiting for a CPU), and the blocked time of futex waits
 * per lock in sym_locks instead of under REASON_LOCK.
 */
struct sym_val {
	__u64 calls, total_ns, max_ns;
	__u64 off_ns[REASON_NR];
	__u64 locks_ns;		      /* the part of the calls' blocked time found in sym_locks */
	__s64 max_inside;	      /* calls in progress at once (concurrency), at most */
	__u64 pending_ns;	      /* async fn: neither polled nor waiting for an async lock */
	__u64 polls;		      /* async fn: polls of the calls */
	__u64 cancelled;	      /* async fn: futures dropped before they completed */
	__u32 slots[HIST_FINE_SLOTS]; /* the calls' microseconds */
};

/* sym_stats holds two intervals (-i): the slot of symbol s in interval gen is this */
#define SYM_SLOT(s, gen) ((s) + ((gen)&1) * MAX_SYMBOLS)

struct sym_lock_key {
	__u32 sym;
	__u32 pad;
	struct lock_key lock;
};

/*
 * --hold: a lock is held from the return of the call that took it to the
 * entry of the call that gives it back, on the same thread. The uprobes'
 * cookie is a hold_fn and a hold_kind: what the probed function does.
 */
enum hold_kind {
	HOLD_MUTEX,
	HOLD_READ,  /* an rwlock, read-locked */
	HOLD_WRITE, /* an rwlock, write-locked */
	HOLD_SEM,   /* a semaphore's permit, posted by the thread that took it */
	HOLD_NR,
};

enum hold_fn {
	FN_LOCK,      /* takes arg 1 when it returns 0 */
	FN_UNLOCK,    /* gives back arg 1 */
	FN_COND_WAIT, /* gives back the mutex of arg 2, has it again when it returns */
};

/* tokio's probes' cookies */
enum { TOKIO_POLL, TOKIO_DROP };

/* --symbol on an async fn: its future's poll and drop carry the symbol and one of these */
#define SYM_ASYNC_POLL (1ULL << 32)
#define SYM_ASYNC_DROP (2ULL << 32)
/* a drop's cookie also carries where the future's state byte is, plus one (0: not known) */
#define SYM_STATE_SHIFT 40
#define ASYNC_RETURNED	1 /* the state of a future that returned Ready */

#define HOLD_COOKIE(fn, kind) ((__u64)(fn) << 8 | (kind))

struct hold_key {
	__u32 tgid;
	__u16 kind; /* enum hold_kind */
	__u16 gen;  /* as lock_key's */
	__u64 addr;
};

struct hold_val {
	__u64 holds, hold_ns, max_ns;
	__u32 slots[HIST_FINE_SLOTS]; /* the holds' microseconds */
};

/* Who held a lock: the stack that gave it back (the end of the critical section). */
struct holder_key {
	struct hold_key lock;
	__u64 ustack;
	__u32 pid;
	__u32 pad;
};

struct holder_val {
	__u64 count, hold_ns, max_ns;
	char comm[TASK_COMM_LEN];
};

#endif
