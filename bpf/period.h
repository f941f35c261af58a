/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How an off-CPU period splits, shared by the BPF program (which closes
 * periods at switch-in) and user space (which closes those still open when
 * it reads), so that both split alike.
 */
#ifndef WAITSCOPE_PERIOD_H
#define WAITSCOPE_PERIOD_H

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/*
 * A period from off to end: blocked until its wakeup (wake, 0 if none came),
 * waiting for a CPU from the wakeup on. Without a wakeup inside the period
 * (a preemption, or a wakeup on its way off the CPU) all of it is blocked
 * time of its reason (runqueue for a preemption).
 */
static __always_inline void period_split(unsigned long long off, unsigned long long wake,
					 unsigned long long end, unsigned long long *blocked,
					 unsigned long long *rq)
{
	if (wake > off && wake <= end) {
		*blocked = wake - off;
		*rq = end - wake;
	} else {
		*blocked = end - off;
		*rq = 0;
	}
}

#endif
