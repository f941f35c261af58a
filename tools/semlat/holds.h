/* SPDX-License-Identifier: GPL-2.0 */
/*
 * semlat --hold: uprobes on glibc's lock functions give how long each lock
 * is held (from the lock call's return to the unlock's entry) and by which
 * stacks. Costs a uprobe trap per lock and per unlock call, contended or not.
 */
#ifndef SEMLAT_HOLDS_H
#define SEMLAT_HOLDS_H

#include <bpf/libbpf.h>
#include "funcs.h"
#include "locks.h"

struct hold_probes {
	struct funcs funcs; /* glibc's lock functions, in each target */
	int *func_pid;	    /* the process of each */
	uint64_t *cookie;   /* HOLD_COOKIE(fn, kind) of each */
	struct bpf_link **links;
	size_t nlinks;
};

/* Finds the lock functions in each target's libc; 0 or an exit status after a one-line message. */
int holds_resolve(const char *tool, const int *pids, int npids, struct hold_probes *h);
int holds_attach(const char *tool, struct hold_probes *h, const struct bpf_program *enter,
		 const struct bpf_program *ret);
void holds_detach(struct hold_probes *h);
void holds_probes_free(struct hold_probes *h);

int holds_read(const struct semlat_maps *m, struct syms *syms, struct semlat_report *r);
void holds_free(struct semlat_report *r);
const char *hold_kind_name(int kind);

#endif
