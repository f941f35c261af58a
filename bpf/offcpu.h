/* SPDX-License-Identifier: GPL-2.0 */
/* Types shared by offcpu.bpf.c and the offcpu front end. */
#ifndef WAITSCOPE_OFFCPU_H
#define WAITSCOPE_OFFCPU_H

#include "reasons.h"
#include "hist_slots.h"
#include "stack.h"

#define TASK_COMM_LEN 16
#define MAX_TARGETS   64

/* Counters of everything the BPF side had to drop; indexes into the drops map. */
enum offcpu_drop {
	DROP_THREADS_FULL,  /* thread table full: a thread's periods were not recorded */
	DROP_PERIODS_FULL,  /* aggregation table full: a blocked period was not recorded */
	DROP_STACKS_FULL,   /* stack table full: the period was kept without its stack */
	DROP_USTACK_FAILED, /* user stack walk failed */
	DROP_KSTACK_FAILED, /* kernel stack walk failed */
	DROP_EVENTS_LOST,   /* ring buffer of new-process notices full */
	DROP_WAKES_FULL,    /* waker table full: a period was kept without its waker */
	DROP_SCHED_FULL,    /* full_of table full: later stacks may lack scheduler frames */
	DROP_SWITCH_UNSEEN, /* a switch-in the kernel did not report: its time told by the CPU clock
			     */
	DROP_NR,
};

/* Per-CPU event counters, next to the drops. */
enum offcpu_counter {
	CNT_PERIODS,	 /* blocked periods recorded */
	CNT_WAKES,	 /* wakeups of traced threads */
	CNT_EARLY_WAKES, /* of which before the switch-out: no waker, all runqueue */
	CNT_USTACKS,	 /* user stacks walked by the binaries' tables */
	CNT_USTACKS_CUT, /* of which ended before their outermost frame */
	CNT_NR,
};

#define HIST_LOG2_SLOTS 32

/* Who woke a thread: taken in the waker's context at sched_waking. */
struct waker {
	__u32 pid, tgid; /* 0 in interrupt context */
	__u64 ustack, kstack;
	char comm[TASK_COMM_LEN];
	__u32 flags; /* WAKER_* */
	__u32 image; /* of the waker's process, for its user stack */
};

#define WAKER_VALID 1
#define WAKER_IRQ   2 /* woken from interrupt context (hard or soft: the kernel stack says) */

/*
 * A thread is its tid within its process: a tid reused by another process
 * starts a record of its own, and the first one keeps its totals.
 */
struct thread_key {
	__u32 pid;
	__u32 tgid;
};

/*
 * Per-thread state. One record keeps both the open off-CPU period and the
 * running totals, so each context switch touches one record per side.
 */
struct thread {
	__u32 tgid;
	__u32 flags; /* THREAD_* */
	__u32 image; /* the process image it runs (struct proc_info) */
	__u32 pad0;
	char comm[TASK_COMM_LEN];
	/* open off-CPU period, valid while off_ts != 0 */
	__u64 off_ts;
	__u64 ustack; /* hash, 0 = none */
	__u64 kstack;
	__u16 reason;
	__u16 syscall;	  /* nr, or 0xffff for none */
	__u8 woken_early; /* woken on its way to sleep, before its switch-out was seen */
	__u8 pad[3];
	__u32 blocks; /* blocked periods begun: every BLOCK_REWALK-th walks its stacks anew */
	__u64 site;   /* where the open period began: syscall, user registers (0: unknown) */
	__u64 usite[2],
		ucache[2];   /* the last user stacks walked, where it blocked / was preempted */
	__u64 kkey;	     /* where the open period began in the kernel: site, stack depth */
	__u64 ksite, kcache; /* the last kernel stack walked where a blocked period began */
	__u64 first_ts;	     /* when the record began */
	__u64 end_ts;	     /* when the thread exited, 0 while it lives */
	__u64 wake_ts;	     /* when the open period's wakeup came, 0 before it */
	__u64 since_ts;	     /* blocked before the trace began: when it last got a CPU (estimate) */
	struct waker waker;  /* of the open period, with --wakers */
	__u64 ran_ns;	     /* its CPU clock (sum_exec_runtime) when it last left a CPU */
	/* open on-CPU period, valid while on_ts != 0 */
	__u64 on_ts;
	__u64 oncpu_ns;
	/* blocked time by reason; [REASON_RUNQUEUE] is all the time spent waiting for a CPU */
	__u64 offcpu_ns[REASON_NR];
	__u64 periods[REASON_NR];
	__u64 rq_after_ns[REASON_NR]; /* waiting for a CPU after a wakeup from a reason */
};

#define THREAD_KERNEL	 1  /* kernel thread */
#define THREAD_KFULL	 2  /* the open period's kernel stack is settled at switch-out */
#define THREAD_WANT_FULL 4  /* walk the kernel stack in full at the next switch-out */
#define THREAD_SEEDED	 8  /* the open period began before the trace: cut at its start */
#define THREAD_REWALK	 16 /* this period walks its stacks even where it blocked before */
/* ucache[0] (and, shifted left once, ucache[1]) was walked by frame pointers for want of tables */
#define THREAD_UFP 32

/* 1 in this many blocked periods at a known site walks its stacks anyway: paths change */
#define BLOCK_REWALK 16

/* Aggregation key of blocked periods. */
struct period_key {
	__u32 tgid;
	__u32 pid;
	__u64 ustack;
	__u64 kstack;
	__u16 reason;
	__u16 syscall;
	__u32 image; /* whose memory map names the user stack */
};

struct period_val {
	__u64 total_ns; /* blocked: switch-out to wakeup (the whole period for runqueue) */
	__u64 count;
	__u64 max_ns;
	__u64 rq_ns;		      /* waiting for a CPU after the wakeups */
	__u32 slots[HIST_LOG2_SLOTS]; /* log2 of the blocked microseconds */
};

/* Blocked time of one waiter stack by the waker that ended it (--wakers). */
struct wake_key {
	struct period_key waiter;
	struct waker waker;
};

struct wake_val {
	__u64 total_ns;
	__u64 count;
};

/* A task as the task iterator finds it: for the "stuck" view and the trace's start. */
struct task_snap {
	__u32 pid, tgid;
	char comm[TASK_COMM_LEN];
	__u32 state; /* SNAP_* */
	__u16 reason;
	__u16 syscall;
	__u64 ustack, kstack;
	__u64 since_ns; /* blocked: since when, CLOCK_MONOTONIC; 0 if unknown */
	__u32 flags;	/* THREAD_KERNEL */
	__u32 image;	/* the process image its user stack belongs to */
};

#define SNAP_RUNNING  0 /* on a CPU */
#define SNAP_RUNNABLE 1 /* waiting for one */
#define SNAP_BLOCKED  2

struct hist_val {
	__u32 slots[HIST_FINE_SLOTS]; /* hist_fine_slot() of the period in microseconds */
	__u64 total_ns;
	__u64 max_ns;
};

/*
 * A process image: what a tgid runs from its start or its last exec. Every
 * exec, and every new process that reuses a tgid, is a new image, so that
 * stacks taken before an exec keep the memory map they were taken in.
 */
struct proc_info {
	__u64 start_ns; /* the leader's start, CLOCK_MONOTONIC: tells a reused tgid */
	__u32 image;
	__u32 asked; /* its unwind tables were asked for (whole system) */
};

/*
 * Ring-buffer notice: a process image was seen for the first time: keep its
 * maps. Or, with tables set, the whole system is traced and a thread of this
 * image blocked: load its unwind tables.
 */
struct new_proc {
	__u32 tgid;
	__u32 exec;
	__u32 image;
	__u32 tables;
	__u64 start_ns; /* the process's start, CLOCK_MONOTONIC */
};

#endif
