/* SPDX-License-Identifier: GPL-2.0 */
/*
 * poolwait's model of a trace: every connection seen (open ones read from the map, closed ones
 * from their last record), each process's open count over time and its pool's exhaustion.
 */
#ifndef POOLWAIT_MODEL_H
#define POOLWAIT_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "poolwait.h"
#include "actors.h"
#include "hist.h"

struct pw_conn {
	struct conn c;	 /* the last record read */
	uint64_t end_ns; /* closed at, or the end of the window it was read for */
	bool closed;
	bool gone; /* its process exited without closing it */
};

struct pw_proc {
	int pid;
	char comm[TASK_COMM_LEN];
	int64_t open_now, open_min, open_max;
	double open_area; /* open connections x ns, for the mean */
	uint64_t last_ns; /* of the last change of open_now */
	uint64_t opens, closes, connect_failed;
	uint64_t exh_ns, exh_count, exh_max_ns; /* with an exhaustion going on at the end */
	int conns;				/* connections seen */
};

/* --by thread|actor: a thread's round trips (the requests it sent). */
struct pw_thread {
	int tid, pid;
	char comm[TASK_COMM_LEN];
	char actor[ACTOR_LEN];
	int threads; /* in an actor's row: how many */
	struct hist rt;
};

struct pw_model {
	uint64_t start_ns, end_ns;
	struct pw_conn *conns;
	size_t nconns, cap;
	struct pw_proc *procs;
	size_t nprocs, pcap;
	struct pw_thread *threads;
	size_t nthreads, tcap;
	uint64_t counters[DROP_NR + CNT_NR];
};

/* An open or close, as the ring buffer brings it. 0 or -ENOMEM. */
int model_event(struct pw_model *m, const struct event *e);
/* A connection's record as the map holds it at now (open): its current state counted to now. */
int model_open_conn(struct pw_model *m, const struct conn *c, uint64_t now);
/* A process's counters as the map holds them at now. */
void model_proc(struct pw_model *m, int pid, const struct proc *p, uint64_t now);
/* A thread's round trips as the map holds them. 0 or -ENOMEM. */
int model_thread(struct pw_model *m, int tid, const struct thread_rt *t);
/* The threads' rows folded by actor (thread name with instance numbers folded). */
void model_fold_actors(struct pw_model *m);
/* Ends the open-count timelines at end_ns. */
void model_finish(struct pw_model *m);
void model_free(struct pw_model *m);

struct pw_proc *model_find_proc(struct pw_model *m, int pid);
/* Round trips of every connection, or of one. */
void model_roundtrips(const struct pw_model *m, struct hist *h);
void conn_roundtrips(const struct conn *c, struct hist *h);
/* The busy share of a connection's time. */
uint64_t conn_total_ns(const struct conn *c);

#endif
