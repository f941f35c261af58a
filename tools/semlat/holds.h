/* SPDX-License-Identifier: GPL-2.0 */
/*
 * semlat --hold: uprobes on glibc's lock functions give how long each lock
 * is held (from the lock call's return to the unlock's entry) and by which
 * stacks. Costs a uprobe trap per lock and per unlock call, contended or not.
 */
#ifndef SEMLAT_HOLDS_H
#define SEMLAT_HOLDS_H

#include "locks.h"
#include "probes.h"

/*
 * Finds glibc's lock functions in each target's libc (cookies: HOLD_COOKIE(fn, kind)); 0 or an
 * exit status after a one-line message.
 */
int holds_resolve(const char *tool, const int *pids, int npids, struct probes *p);

int holds_read(const struct semlat_maps *m, struct syms *syms, struct semlat_report *r);
void holds_free(struct semlat_report *r);
const char *hold_kind_name(int kind);

#endif
