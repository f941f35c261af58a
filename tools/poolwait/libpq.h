/* SPDX-License-Identifier: GPL-2.0 */
/*
 * --libpq: uprobes on libpq's request and connection functions, keyed by PGconn*, so that a TLS
 * connection, whose bytes are opaque, still has its round trips timed.
 */
#ifndef POOLWAIT_LIBPQ_H
#define POOLWAIT_LIBPQ_H

#include "probes.h"

struct poolwait_bpf;

/* Finds libpq's functions in each target: the number of targets that map it. */
int libpq_resolve(const int *pids, int npids, struct probes *p);
void libpq_configure(const struct probes *p, struct poolwait_bpf *s);
int libpq_attach(const char *tool, struct probes *p, const struct poolwait_bpf *s);

#endif
