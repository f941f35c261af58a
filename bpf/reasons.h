/* SPDX-License-Identifier: GPL-2.0 */
/* The wait-reason taxonomy of DESIGN.md, shared by every BPF program and user space. */
#ifndef WAITSCOPE_REASONS_H
#define WAITSCOPE_REASONS_H

enum reason {
	REASON_RUNQUEUE,
	REASON_LOCK,
	REASON_NET,
	REASON_POLL,
	REASON_PIPE,
	REASON_DISK,
	REASON_SLEEP,
	REASON_CHILD,
	REASON_FAULT,
	REASON_OTHER,
	/* never filed by BPF: user space moves a period here once its stack has names (user/idle.h) */
	REASON_IDLE,
	REASON_NR,
};

#define MAX_SYSCALLS 512
#define NO_SYSCALL   0xffff /* a period that began outside a syscall */

/* A syscall class: read/write-like, the reason depends on the kind of file behind the fd. */
#define SYS_CLASS_FD 0xff

#endif
