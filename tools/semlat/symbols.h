/* SPDX-License-Identifier: GPL-2.0 */
/* semlat --symbol: the functions traced, their uprobes, and what their wall time is made of. */
#ifndef SEMLAT_SYMBOLS_H
#define SEMLAT_SYMBOLS_H

#include <stdbool.h>
#include <stdint.h>
#include <bpf/libbpf.h>
#include "funcs.h"
#include "probes.h"
#include "hist.h"
#include "locks.h"
#include "semlat.h"

#define MAX_PATTERNS 16

/* A lock's part of a function's wall time. */
struct symbol_lock {
	const char *name; /* the lock's report name (owned by the report or by this) */
	bool owned;
	uint64_t ns;
};

/* One traced function: same name in the same object, over every target. */
struct symbol {
	char *name, *obj;
	bool is_async; /* an async fn: a call is a future, from its first poll to its drop */
	bool completion_unknown; /* its drop's code did not say where its state is */
	uint64_t pending_ns, polls, cancelled;
	uint64_t calls, total_ns, max_ns, locks_ns;
	uint64_t off_ns[REASON_NR]; /* blocked by reason outside futex waits; runqueue */
	int64_t max_inside;
	struct hist hist;
	struct symbol_lock *locks; /* biggest first */
	size_t nlocks;
};

struct symbol_table {
	struct symbol *v;
	size_t n;
	struct probes probes; /* the functions' uprobes; each one's cookie is its symbol */
	struct probes polls;  /* async fns: their futures' poll functions (SYM_ASYNC_POLL) */
	struct probes drops;  /* and their drop_in_place (SYM_ASYNC_DROP) */
};

/*
 * The functions that the patterns match in each target. Returns 0, or an
 * exit status after a one-line message: a pattern that matches nothing (with
 * the nearest names), a stripped binary, too many matches.
 */
int symbols_resolve(const char *tool, const char *const *patterns, int npatterns, const int *pids,
		    int npids, struct symbol_table *t);
void symbols_free(struct symbol_table *t);

/* Each function's calls and breakdown, its locks named as the report names them. */
int symbols_read(const struct semlat_maps *m, struct syms *syms, struct semlat_report *r);

/* The part of the wall time on a CPU: what no off-CPU period took. */
uint64_t symbol_oncpu_ns(const struct symbol *s);

#endif
