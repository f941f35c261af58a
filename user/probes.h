/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sets of uprobes on functions found by name in the targets' objects, each with a
 * cookie for the BPF program: semlat's --symbol, --hold and parking_lot probes, poolwait's
 * --acquire.
 */
#ifndef WAITSCOPE_PROBES_H
#define WAITSCOPE_PROBES_H

#include <stdbool.h>
#include <stdint.h>
#include <bpf/libbpf.h>
#include "funcs.h"

/* How one function of funcs is probed. */
struct probe {
	int pid;	 /* the process */
	uint64_t cookie; /* what the function is, to the BPF program */
	bool ret;	 /* a return probe too */
	bool skip;	 /* not probed: an alias of an earlier function, or left out */
};

struct probes {
	struct funcs funcs; /* where they go */
	struct probe *v;    /* one per function */
	struct bpf_link **links;
	size_t nlinks;
};

/*
 * Adds pid's functions that pattern matches (funcs.h), each with cookie and, if ret, a
 * return probe. Returns how many, or -errno as funcs_find (the hint says why).
 */
int probes_find(struct probes *p, int pid, const char *pattern, uint64_t cookie, bool ret,
		char *hint, size_t hint_len);
/* probes_find, and on failure one line on stderr ("TOOL: FLAG PATTERN: no function of PID ..."). */
int probes_find_or_say(const char *tool, const char *flag, struct probes *p, int pid,
		       const char *pattern, uint64_t cookie, bool ret);
/* The same for a name spelled with needle in the symbol table (funcs_find_known): cheap. */
int probes_find_known(struct probes *p, int pid, const char *pattern, const char *needle,
		      uint64_t cookie, bool ret);
/*
 * Attaches them all (a return probe before its entry probe, so that a call seen entering is
 * seen returning). 0, or -errno after a one-line message naming the function.
 */
int probes_attach(const char *tool, struct probes *p, const struct bpf_program *enter,
		  const struct bpf_program *ret);
void probes_detach(struct probes *p);
void probes_free(struct probes *p);

#endif
