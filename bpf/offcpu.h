/* SPDX-License-Identifier: GPL-2.0 */
/* Types shared by offcpu.bpf.c and the offcpu front end. */
#ifndef WAITSCOPE_OFFCPU_H
#define WAITSCOPE_OFFCPU_H

#include "reasons.h"
#include "hist_slots.h"

#define TASK_COMM_LEN	16
#define MAX_STACK_DEPTH 127
#define MAX_TARGETS	64
#define MAX_SYSCALLS	512

/* Counters of everything the BPF side had to drop; indexes into the drops map. */
enum offcpu_drop {
	DROP_THREADS_FULL,  /* thread table full: a thread's periods were not recorded */
	DROP_PERIODS_FULL,  /* aggregation table full: a blocked period was not recorded */
	DROP_HISTS_FULL,    /* histogram table full */
	DROP_STACKS_FULL,   /* stack table full: the period was kept without its stack */
	DROP_USTACK_FAILED, /* user stack walk failed */
	DROP_KSTACK_FAILED, /* kernel stack walk failed */
	DROP_EVENTS_LOST,   /* ring buffer of new-process notices full */
	DROP_NR,
};

/* Per-CPU event counters, next to the drops. */
enum offcpu_counter {
	CNT_PERIODS, /* blocked periods recorded */
	CNT_NR,
};

/* A stack is stored once, keyed by a 64-bit hash of its frames. */
struct stack {
	__u32 nr;
	__u32 pad;
	__u64 ips[MAX_STACK_DEPTH];
};

/*
 * Per-thread state. One record keeps both the open off-CPU period and the
 * running totals, so each context switch touches one record per side.
 */
struct thread {
	__u32 tgid;
	__u32 flags; /* THREAD_* */
	char comm[TASK_COMM_LEN];
	/* open off-CPU period, valid while off_ts != 0 */
	__u64 off_ts;
	__u64 ustack; /* hash, 0 = none */
	__u64 kstack;
	__u16 reason;
	__u16 syscall; /* nr, or 0xffff for none */
	__u32 pad;
	/* open on-CPU period, valid while on_ts != 0 */
	__u64 on_ts;
	__u64 oncpu_ns;
	__u64 offcpu_ns[REASON_NR];
	__u64 periods[REASON_NR];
};

#define THREAD_KERNEL	 1 /* kernel thread */
#define THREAD_KFULL	 2 /* the open period's kernel stack was walked at switch-out */
#define THREAD_WANT_FULL 4 /* walk the kernel stack in full at the next switch-out */
#define NO_SYSCALL    0xffff

/* Aggregation key of blocked periods. */
struct period_key {
	__u32 tgid;
	__u32 pid;
	__u64 ustack;
	__u64 kstack;
	__u16 reason;
	__u16 syscall;
	__u32 pad;
};

struct period_val {
	__u64 total_ns;
	__u64 count;
	__u64 max_ns;
};

struct hist_key {
	__u32 pid;
	__u32 reason;
};

struct hist_val {
	__u32 slots[HIST_FINE_SLOTS]; /* hist_fine_slot() of the period in microseconds */
	__u64 total_ns;
	__u64 max_ns;
};

/* Ring-buffer notice: a process was seen for the first time or exec'ed: keep its maps. */
struct new_proc {
	__u32 tgid;
	__u32 exec;
	__u64 start_ns; /* the process's start, CLOCK_MONOTONIC */
};

#endif
