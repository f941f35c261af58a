/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Log-linear histogram slots of durations in microseconds, shared by BPF and
 * user space so that both agree on every edge. Each power of two is cut in
 * 8 slots: percentiles are within 12.5 % before interpolation, where plain
 * log2 slots are within 100 %. Log2 charts are sums of 8 slots.
 */
#ifndef WAITSCOPE_HIST_SLOTS_H
#define WAITSCOPE_HIST_SLOTS_H

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define HIST_SUB_BITS 3
#define HIST_SUB      (1 << HIST_SUB_BITS)
/* full resolution up to 2^32 us (71 minutes); longer periods land in the last slot */
#define HIST_FINE_SLOTS ((31 - HIST_SUB_BITS + 2) * HIST_SUB)

/* floor(log2(v)) for v > 0, without a clz instruction (BPF has none). */
static __always_inline unsigned int hist_log2(unsigned long long v)
{
	unsigned int r = 0, s;

	s = (v > 0xffffffffULL) << 5, v >>= s, r |= s;
	s = (v > 0xffff) << 4, v >>= s, r |= s;
	s = (v > 0xff) << 3, v >>= s, r |= s;
	s = (v > 0xf) << 2, v >>= s, r |= s;
	s = (v > 0x3) << 1, v >>= s, r |= s;
	return r | (unsigned int)(v >> 1);
}

static __always_inline unsigned int hist_fine_slot(unsigned long long us)
{
	unsigned int l, slot;

	if (us < HIST_SUB)
		return us;
	l = hist_log2(us);
	slot = (l - HIST_SUB_BITS + 1) * HIST_SUB + ((us >> (l - HIST_SUB_BITS)) & (HIST_SUB - 1));
	return slot < HIST_FINE_SLOTS ? slot : HIST_FINE_SLOTS - 1;
}

#endif
