/* SPDX-License-Identifier: GPL-2.0 */
/* Wait-reason names and the syscall table that feeds the BPF classifier. */
#ifndef WAITSCOPE_TAXONOMY_H
#define WAITSCOPE_TAXONOMY_H

#include <stddef.h>
#include <stdint.h>
#include "reasons.h"

const char *reason_name(int reason);
/* -1 for an unknown name */
int reason_parse(const char *name);

/* Name of syscall nr on this architecture, NULL if unknown. */
const char *syscall_name(int nr);
/* The name, or "syscall_NR" for a number this build has no name for: never hidden. */
const char *syscall_label(int nr, char *buf, size_t n);

/*
 * Fills cls[0..n) with what each syscall means for a wait: a reason, or
 * SYS_CLASS_FD for read/write-like calls whose reason is the kind of file.
 */
void reasons_fill_syscall_classes(uint8_t *cls, int n);

#endif
