/* SPDX-License-Identifier: GPL-2.0 */
/* log2 histograms of durations in microseconds, as the BPF side fills them. */
#ifndef WAITSCOPE_HIST_H
#define WAITSCOPE_HIST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "hist_slots.h"

#define HIST_MAX_SLOTS 32

/*
 * Slot i counts durations d (in us) with floor(log2(d)) == i; d == 0 falls
 * in slot 0 with d == 1, as in bcc's log2 histograms.
 */
struct hist {
	uint64_t slots[HIST_MAX_SLOTS];
	/* hist_fine_slot() counts: percentiles come from these when they are filled */
	uint64_t fine[HIST_FINE_SLOTS];
	uint64_t count;
	uint64_t total_ns;
	uint64_t max_ns;
};

/* Slot index for a duration in microseconds. */
int hist_slot(uint64_t us);
void hist_add(struct hist *h, uint64_t ns);
void hist_add_slots(struct hist *h, const uint32_t *slots, int n, uint64_t total_ns,
		    uint64_t max_ns);
/* The BPF side's log-linear slots (bpf/hist_slots.h); the log2 slots follow from them. */
void hist_add_fine(struct hist *h, const uint32_t *fine, int n, uint64_t total_ns, uint64_t max_ns);
void hist_merge(struct hist *dst, const struct hist *src);
/*
 * Moves periods given by their log2 slots (and their total) from one
 * histogram to another: counts leave each log2 slot's fine slots in
 * proportion to what those hold, the one detail the log2 slots do not carry.
 * from's max is left for the caller, who knows what else it holds.
 */
void hist_move_slots(struct hist *from, struct hist *to, const uint32_t *slots, int n,
		     uint64_t total_ns, uint64_t max_ns);

/*
 * pct-th percentile (0 < pct <= 100) in microseconds, interpolated linearly
 * inside its slot and never above max. 0 for an empty histogram.
 */
double hist_percentile_us(const struct hist *h, double pct);

/* The pct-th percentile as fmt_duration() writes it (truncated to the ns); returns buf. */
const char *hist_fmt_percentile(char *buf, size_t n, const struct hist *h, double pct);
/* bcc-style chart: "     usecs : count  distribution" rows, then a p50/p90/p99/max line. */
void hist_print(FILE *f, const struct hist *h, const char *indent);
/* The same, the summary counting what ("round trips") instead of periods. */
void hist_print_of(FILE *f, const struct hist *h, const char *indent, const char *what);

#endif
