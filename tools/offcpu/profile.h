/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An off-CPU profile as the reports see it: symbolized stacks, threads,
 * per-reason totals and histograms, and the counts of everything lost.
 */
#ifndef WAITSCOPE_PROFILE_H
#define WAITSCOPE_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "unwind.h"
#include "actors.h"
#include "hist.h"
#include "taxonomy.h"

#define COMM_LEN	    16
#define PROFILE_MAX_TARGETS 64

enum wake_context {
	WAKE_THREAD,
	WAKE_HARDIRQ,
	WAKE_SOFTIRQ,
};

/* Who ended the blocked periods of one stack (--wakers). */
struct pwaker {
	int pid, tid; /* 0 in interrupt context */
	char comm[COMM_LEN];
	enum wake_context context;
	const char **frames; /* outermost first, like a pstack's */
	int nframes, nkernel;
	uint64_t total_ns, count; /* blocked time it ended */
};

/* One symbolized stack of one thread in one reason. */
struct pstack {
	int pid, tid;
	char comm[COMM_LEN];
	int reason;
	int syscall;	     /* -1 for none */
	const char **frames; /* outermost first: user frames, then kernel frames */
	int nframes, nkernel;
	uint64_t total_ns, count, max_ns; /* blocked (the whole period for runqueue) */
	uint64_t rq_ns;			  /* waiting for a CPU after the wakeups */
	uint32_t log2[HIST_MAX_SLOTS];	  /* blocked periods, hist_slot() of their us */
	bool open;			  /* a period still open at the end of the trace */
	char actor[ACTOR_LEN];
	struct pwaker *wakers;
	size_t nwakers;
};

enum snap_state {
	STATE_RUNNING,
	STATE_RUNNABLE,
	STATE_BLOCKED,
};

/* A thread blocked when the report was made: how long so far, why, where. */
struct pstuck {
	int tid, pid;
	char comm[COMM_LEN];
	char actor[ACTOR_LEN];
	int reason;
	int syscall;	     /* -1 for none */
	bool kernel;	     /* a kernel thread */
	uint64_t since_ns;   /* CLOCK_MONOTONIC; 0 if unknown */
	bool since_exact;    /* from its own switch-out, not from when it last got a CPU */
	const char **frames; /* outermost first */
	int nframes, nkernel;
};

struct pthread {
	int tid, pid;
	char comm[COMM_LEN];
	char actor[ACTOR_LEN];
	bool kernel;
	uint64_t oncpu_ns;
	uint64_t offcpu_ns[REASON_NR]; /* blocked; [REASON_RUNQUEUE]: all waiting for a CPU */
	uint64_t periods[REASON_NR];
	uint64_t rq_after_ns[REASON_NR]; /* waiting for a CPU after a wakeup from a reason */
	uint64_t first_ns;		 /* first seen, CLOCK_MONOTONIC */
	uint64_t end_ns;		 /* when it exited, 0 while it lives */
	uint32_t image;			 /* the process image (exec) it runs now */
};

/* Everything dropped on the way, by name, for every report face. */
enum lost_counter {
	LOST_THREADS_FULL,
	LOST_PERIODS_FULL,
	LOST_STACKS_FULL,
	LOST_USTACK_FAILED,
	LOST_KSTACK_FAILED,
	LOST_EVENTS,
	LOST_WAKES_FULL,
	LOST_SCHED_FULL,
	LOST_RECURSION,
	LOST_NO_MAPS,
	LOST_SWITCH_UNSEEN,
	LOST_NR,
};

struct profile {
	const char *tool;
	double duration;	   /* seconds traced */
	uint64_t start_ns, end_ns; /* CLOCK_MONOTONIC window */
	uint64_t wall_start_ns;	   /* the window's start, CLOCK_REALTIME */
	int npids;		   /* 0: whole system */
	int pids[PROFILE_MAX_TARGETS];
	bool exited[PROFILE_MAX_TARGETS];
	char target_comm[PROFILE_MAX_TARGETS][COMM_LEN];
	int tid; /* -t filter, 0 for none */
	struct pthread *threads;
	size_t nthreads;
	struct pstack *stacks;
	size_t nstacks;
	uint64_t reason_ns[REASON_NR];
	struct hist
		reason_hist[REASON_NR]; /* the periods of each reason, as the reader found them */
	uint64_t periods;
	struct unwind_quality unwind; /* how whole the user stacks were */
	uint64_t lost[LOST_NR];
	bool wakers; /* waker stacks were taken */
	struct pstuck *stuck;
	size_t nstuck;
};

const char *lost_name(int i);
uint64_t lost_total(const struct profile *p);

/*
 * Sums thread totals into reason totals (reason_hist is the reader's, left
 * as it is); sorts threads and stacks by off-CPU time.
 */
void profile_finish(struct profile *p);
uint64_t pthread_offcpu_ns(const struct pthread *t);
/*
 * Moves a stack filed under what the kernel saw to REASON_IDLE (user/idle.h),
 * its thread's totals (t may be NULL) and its histogram counts with it.
 */
void profile_move_to_idle(struct profile *p, struct pstack *s, struct pthread *t);
/* After moves: the reason's max is the largest of the stacks it kept. */
void profile_settle_max(struct profile *p, int reason);
/* The sum of a per-reason array (times or counts). */
uint64_t reason_sum(const uint64_t v[REASON_NR]);
/* The same without idle: the time spent waiting for something. */
uint64_t reason_sum_waits(const uint64_t v[REASON_NR]);
void profile_free(struct profile *p);
/* Threads blocked now, the longest blocked first (unknown since last). */
void profile_sort_stuck(struct profile *p);

#endif
