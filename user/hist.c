// SPDX-License-Identifier: GPL-2.0
/* log2 histograms of durations in microseconds. */
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "hist.h"
#include "units.h"

#define HIST_BAR_WIDTH 40

int hist_slot(uint64_t us)
{
	int slot;

	if (us < 2)
		return 0;
	slot = 63 - __builtin_clzll(us);
	return slot < HIST_MAX_SLOTS ? slot : HIST_MAX_SLOTS - 1;
}

/* Lower edge of a slot in us; slot 0 starts at 0, not 1, because it also holds 0 us. */
static double slot_low_us(int i)
{
	return i == 0 ? 0.0 : (double)(1ULL << i);
}

static double slot_high_us(int i)
{
	return (double)(1ULL << (i + 1));
}

/* Edges of a fine slot in us: slots below HIST_SUB are 1 us wide. */
static double fine_low_us(int i)
{
	int l = i / HIST_SUB + HIST_SUB_BITS - 1;

	if (i < HIST_SUB)
		return i;
	return (double)((unsigned long long)(HIST_SUB + i % HIST_SUB) << (l - HIST_SUB_BITS));
}

static double fine_high_us(int i)
{
	int l = i / HIST_SUB + HIST_SUB_BITS - 1;

	if (i < HIST_SUB)
		return i + 1;
	return fine_low_us(i) + (double)(1ULL << (l - HIST_SUB_BITS));
}

void hist_add(struct hist *h, uint64_t ns)
{
	h->fine[hist_fine_slot(ns / 1000)]++;
	h->slots[hist_slot(ns / 1000)]++;
	h->count++;
	h->total_ns += ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
}

/*
 * The BPF side updates max without atomics, so a racing CPU can leave it
 * below a period its slots did record: never report a max below floor_ns,
 * the lower edge of the highest slot filled.
 */
static void add_totals(struct hist *h, uint64_t total_ns, uint64_t max_ns, uint64_t floor_ns)
{
	h->total_ns += total_ns;
	if (max_ns < floor_ns)
		max_ns = floor_ns;
	if (max_ns > h->max_ns)
		h->max_ns = max_ns;
}

void hist_add_slots(struct hist *h, const uint32_t *slots, int n, uint64_t total_ns,
		    uint64_t max_ns)
{
	int top = -1;

	for (int i = 0; i < n; i++) {
		int s = i < HIST_MAX_SLOTS ? i : HIST_MAX_SLOTS - 1;

		if (!slots[i])
			continue;
		h->slots[s] += slots[i];
		h->count += slots[i];
		top = s;
	}
	add_totals(h, total_ns, max_ns, top > 0 ? (uint64_t)1000 << top : 0);
}

void hist_add_fine(struct hist *h, const uint32_t *fine, int n, uint64_t total_ns, uint64_t max_ns)
{
	uint64_t floor_ns = 0;

	/*
	 * Straight into the 64-bit counters: up to 8 fine slots sum into one log2
	 * slot, which a 32-bit array would wrap.
	 */
	for (int i = 0; i < n && i < HIST_FINE_SLOTS; i++) {
		if (!fine[i])
			continue;
		h->fine[i] += fine[i];
		h->slots[hist_slot((uint64_t)fine_low_us(i))] += fine[i];
		h->count += fine[i];
		floor_ns = (uint64_t)fine_low_us(i) * 1000;
	}
	add_totals(h, total_ns, max_ns, floor_ns);
}

void hist_merge(struct hist *dst, const struct hist *src)
{
	for (int i = 0; i < HIST_FINE_SLOTS; i++)
		dst->fine[i] += src->fine[i];
	for (int i = 0; i < HIST_MAX_SLOTS; i++)
		dst->slots[i] += src->slots[i];
	dst->count += src->count;
	dst->total_ns += src->total_ns;
	if (src->max_ns > dst->max_ns)
		dst->max_ns = src->max_ns;
}

/* Walks slots to the one holding the rank and interpolates inside it. */
static double slot_percentile(const uint64_t *slots, int n, double rank, double (*low)(int),
			      double (*high)(int))
{
	double seen = 0;

	for (int i = 0; i < n; i++) {
		double c = (double)slots[i];

		if (!slots[i] || seen + c < rank) {
			seen += c;
			continue;
		}
		return low(i) + (rank - seen) / c * (high(i) - low(i));
	}
	return -1;
}

static bool fine_filled(const struct hist *h)
{
	uint64_t n = 0;

	for (int i = 0; i < HIST_FINE_SLOTS; i++)
		n += h->fine[i];
	return n == h->count;
}

double hist_percentile_us(const struct hist *h, double pct)
{
	double rank, v, max_us = h->max_ns / 1000.0;

	if (!h->count)
		return 0;
	/* written so that NaN lands on the low side too */
	if (!(pct > 0))
		pct = 0;
	if (pct > 100)
		pct = 100;
	rank = pct / 100.0 * (double)h->count;
	if (fine_filled(h))
		v = slot_percentile(h->fine, HIST_FINE_SLOTS, rank, fine_low_us, fine_high_us);
	else
		v = slot_percentile(h->slots, HIST_MAX_SLOTS, rank, slot_low_us, slot_high_us);
	/* count and slots disagree (a caller filled them by hand): the max is all we know */
	if (v < 0)
		return max_us;
	return v < max_us ? v : max_us;
}

const char *hist_fmt_percentile(char *buf, size_t n, const struct hist *h, double pct)
{
	return fmt_duration(buf, n, (uint64_t)(hist_percentile_us(h, pct) * 1000));
}

/* us as a person reads them, the way the rest of the report writes durations */
static const char *fmt_us(char *buf, size_t len, double us)
{
	return fmt_duration(buf, len, (uint64_t)(us * 1000 + 0.5));
}

static void print_row(FILE *f, const char *indent, int i, uint64_t val, uint64_t val_max)
{
	int stars = (int)((double)val * HIST_BAR_WIDTH / (double)val_max);
	char high[24];

	/* the last slot also holds everything longer, so its upper edge is open */
	if (i == HIST_MAX_SLOTS - 1)
		snprintf(high, sizeof(high), "inf");
	else
		snprintf(high, sizeof(high), "%" PRIu64, ((uint64_t)1 << (i + 1)) - 1);
	fprintf(f, "%s%10" PRIu64 " -> %-10s : %-8" PRIu64 " |%.*s%*s|\n", indent,
		i == 0 ? 0 : (uint64_t)1 << i, high, val, stars,
		"****************************************", HIST_BAR_WIDTH - stars, "");
}

static void print_summary(FILE *f, const struct hist *h, const char *indent, const char *what)
{
	char p50[32], p90[32], p99[32], max[32], total[32];

	fprintf(f, "%sp50 %s  p90 %s  p99 %s  max %s  (%" PRIu64 " %s, total %s)\n", indent,
		fmt_us(p50, sizeof(p50), hist_percentile_us(h, 50)),
		fmt_us(p90, sizeof(p90), hist_percentile_us(h, 90)),
		fmt_us(p99, sizeof(p99), hist_percentile_us(h, 99)),
		fmt_duration(max, sizeof(max), h->max_ns), h->count, what,
		fmt_duration(total, sizeof(total), h->total_ns));
}

void hist_print(FILE *f, const struct hist *h, const char *indent)
{
	hist_print_of(f, h, indent, "periods");
}

void hist_print_of(FILE *f, const struct hist *h, const char *indent, const char *what)
{
	int lo = -1, hi = -1;
	uint64_t val_max = 0;

	if (!indent)
		indent = "";
	for (int i = 0; i < HIST_MAX_SLOTS; i++) {
		if (!h->slots[i])
			continue;
		if (lo < 0)
			lo = i;
		hi = i;
		if (h->slots[i] > val_max)
			val_max = h->slots[i];
	}
	/* an empty chart says nothing the summary line does not */
	if (lo >= 0) {
		fprintf(f, "%s%5s%-19s : count    distribution\n", indent, "", "usecs");
		for (int i = lo; i <= hi; i++)
			print_row(f, indent, i, h->slots[i], val_max);
	}
	print_summary(f, h, indent, what);
}

/* The fine slots that make up log2 slot i: [*lo, *hi). */
static void fine_range(int i, int *lo, int *hi)
{
	if (i < HIST_SUB_BITS) {
		*lo = i ? 1 << i : 0;
		*hi = 1 << (i + 1);
		return;
	}
	*lo = (i - HIST_SUB_BITS + 1) * HIST_SUB;
	*hi = *lo + HIST_SUB;
}

/* Moves c counts of the fine slots [lo, hi) in proportion to what each holds. */
static void move_fine(struct hist *from, struct hist *to, int lo, int hi, uint64_t c)
{
	uint64_t have = 0, left = c;

	for (int f = lo; f < hi; f++)
		have += from->fine[f];
	for (int f = lo; f < hi && left; f++) {
		uint64_t m = have ? (c * from->fine[f] + have - 1) / have : 0;

		m = m < left ? m : left;
		m = m < from->fine[f] ? m : from->fine[f];
		from->fine[f] -= m;
		to->fine[f] += m;
		left -= m;
	}
	/* counts the fine slots never had (a reader's race): the slot's middle */
	to->fine[(lo + hi) / 2] += left;
}

void hist_move_slots(struct hist *from, struct hist *to, const uint32_t *slots, int n,
		     uint64_t total_ns, uint64_t max_ns)
{
	for (int i = 0; i < n && i < HIST_MAX_SLOTS; i++) {
		uint64_t c = slots[i];
		int lo, hi;

		if (!c)
			continue;
		fine_range(i, &lo, &hi);
		move_fine(from, to, lo, hi, c);
		from->slots[i] -= c < from->slots[i] ? c : from->slots[i];
		to->slots[i] += c;
		from->count -= c < from->count ? c : from->count;
		to->count += c;
	}
	from->total_ns -= total_ns < from->total_ns ? total_ns : from->total_ns;
	to->total_ns += total_ns;
	if (max_ns > to->max_ns)
		to->max_ns = max_ns;
}
