/* SPDX-License-Identifier: GPL-2.0 */
/* --acquire SYM[:RELEASE]: the pool's acquire wait and hold time, by uprobes on its functions. */
#ifndef POOLWAIT_ACQUIRE_H
#define POOLWAIT_ACQUIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "probes.h"
#include "report.h"

struct poolwait_bpf;

struct acquire {
	struct probes probes;
	bool release; /* a release function was given: holds are timed */
	const struct poolwait_bpf *skel;
};

/*
 * SYM, SYM:RELEASE or LIB:SYM:RELEASE (the release looked for in LIB too; a Rust path's "::"
 * is no separator) into the two patterns. 0, or -1 when it is none of these.
 */
int acquire_split(const char *spec, char *sym, size_t symlen, char *rel, size_t rellen);
/* Finds SYM (and RELEASE) in each target. 0, or EXIT_USAGE after one line. */
int acquire_resolve(const char *tool, const char *spec, const int *pids, int npids,
		    struct acquire *a);
/*
 * Before load: the probes' programs, and the sched_switch program (tp_btf if btf, else raw_tp)
 * that splits the waits, load only when there is something to probe.
 */
void acquire_configure(const struct acquire *a, struct poolwait_bpf *s, bool btf);
int acquire_attach(const char *tool, struct acquire *a, const struct poolwait_bpf *s);
void acquire_detach(struct acquire *a);
void acquire_free(struct acquire *a);
/* What the probes counted. */
void acquire_read(const struct acquire *a, struct acquire_stats *out);
/* Calls in the acquire function now. */
uint64_t acquire_waiting(const struct acquire *a);

#endif
