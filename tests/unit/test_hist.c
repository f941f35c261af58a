// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of user/hist.c and bpf/hist_slots.h: log2 and log-linear (fine)
 * slots, percentiles against known distributions, merge, the chart.
 */
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hist.h"

#include "testutil.h"

#define US 1000ULL /* ns */

/* by hand: the Makefile links no libm */
static void assert_near(double got, double want, double tol)
{
	if (got - want > tol || want - got > tol)
		fail_msg("got %.6f, want %.6f (+-%g)", got, want, tol);
}

/* A percentile and what it must come to, in us. */
struct pct {
	double p, us;
};

static void assert_pcts(const struct hist *h, const struct pct *want, size_t n, double tol)
{
	for (size_t i = 0; i < n; i++) {
		double got = hist_percentile_us(h, want[i].p);

		/* written so that a NaN fails too: with tol 0 this is == */
		if (!(got - want[i].us <= tol && want[i].us - got <= tol))
			fail_msg("p%g: got %.6f, want %.6f (+-%g)", want[i].p, got, want[i].us,
				 tol);
	}
}

/* ASSERT_PCTS(&h, tol, {p, us}, ...): each percentile p of h is us, give or take tol. */
#define ASSERT_PCTS(h, tol, ...)                                                                   \
	assert_pcts(h, (const struct pct[]){__VA_ARGS__},                                          \
		    sizeof((const struct pct[]){__VA_ARGS__}) / sizeof(struct pct), tol)

/* Every byte and every percentile of got is that of want; percentiles from `from` by `step`. */
static void assert_same_hist(const struct hist *got, const struct hist *want, double from,
			     double step)
{
	assert_memory_equal(got, want, sizeof(*want));
	for (double p = from; p <= 100; p += step)
		assert_true(hist_percentile_us(got, p) == hist_percentile_us(want, p));
}

/* Edges of fine slot i in us, written from the definition rather than from hist.c. */
static uint64_t fine_low(int i)
{
	if (i < 8)
		return i;
	return (uint64_t)(8 + i % 8) << (i / 8 + 2 - 3);
}

static uint64_t fine_high(int i)
{
	if (i < 8)
		return i + 1;
	return (uint64_t)(9 + i % 8) << (i / 8 + 2 - 3);
}

/* A duration in us and the slot it must land in. */
struct slot_case {
	uint64_t us;
	long long slot;
};

/* ASSERT_SLOTS(fn, {us, slot}, ...): fn(us) is slot for each pair. */
#define ASSERT_SLOTS(fn, ...)                                                                      \
	do {                                                                                       \
		const struct slot_case c_[] = {__VA_ARGS__};                                       \
                                                                                                   \
		for (size_t i_ = 0; i_ < sizeof(c_) / sizeof(c_[0]); i_++)                         \
			if ((long long)fn(c_[i_].us) != c_[i_].slot)                               \
				fail_msg(#fn "(%" PRIu64 ") = %lld, want %lld", c_[i_].us,         \
					 (long long)fn(c_[i_].us), c_[i_].slot);                   \
	} while (0)

/* the totals every histogram keeps beside its slots */
static void assert_totals(const struct hist *h, uint64_t count, uint64_t total_ns, uint64_t max_ns)
{
	assert_int_equal(h->count, count);
	assert_int_equal(h->total_ns, total_ns);
	assert_int_equal(h->max_ns, max_ns);
}

/* n periods of ns each */
static void add_times(struct hist *h, int n, uint64_t ns)
{
	for (int i = 0; i < n; i++)
		hist_add(h, ns);
}

/* A histogram filled the way the BPF side did before fine slots: log2 slots only. */
static void add_log2(struct hist *h, int slot, uint32_t n, uint64_t max_ns)
{
	uint32_t slots[HIST_MAX_SLOTS] = {0};

	slots[slot] = n;
	hist_add_slots(h, slots, HIST_MAX_SLOTS, 0, max_ns);
}

/* out = the log2 slots of h alone, as if the BPF side had given no fine slots */
static void log2_only(struct hist *out, const struct hist *h)
{
	uint32_t slots[HIST_MAX_SLOTS];

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < HIST_MAX_SLOTS; i++)
		slots[i] = (uint32_t)h->slots[i];
	hist_add_slots(out, slots, HIST_MAX_SLOTS, h->total_ns, h->max_ns);
}

static void test_slot_edges(void **state)
{
	(void)state;
	ASSERT_SLOTS(hist_slot, {0, 0}, {1, 0}, {2, 1}, {3, 1}, {4, 2}, {7, 2}, {8, 3}, {1023, 9},
		     {1024, 10}, {(1ULL << 31) - 1, 30}, {1ULL << 31, 31},
		     {1ULL << 32, HIST_MAX_SLOTS - 1}, {UINT64_MAX, HIST_MAX_SLOTS - 1});
}

/* ns are truncated to whole us before slotting: 1999 ns is 1 us, slot 0. */
static void test_add_ns(void **state)
{
	struct hist h = {0};

	(void)state;
	hist_add(&h, 0);
	hist_add(&h, 999);
	hist_add(&h, 1999);
	hist_add(&h, 2000);
	hist_add(&h, 3999);
	hist_add(&h, 4000);
	hist_add(&h, UINT64_MAX / 2);
	assert_int_equal(h.slots[0], 3);
	assert_int_equal(h.slots[1], 2);
	assert_int_equal(h.slots[2], 1);
	assert_int_equal(h.slots[HIST_MAX_SLOTS - 1], 1);
	/* the fine slots are 1 us wide up to 8 us; the longest lands in the last one */
	assert_int_equal(h.fine[0], 2);
	assert_int_equal(h.fine[1], 1);
	assert_int_equal(h.fine[2], 1);
	assert_int_equal(h.fine[3], 1);
	assert_int_equal(h.fine[4], 1);
	assert_int_equal(h.fine[HIST_FINE_SLOTS - 1], 1);
	assert_totals(&h, 7, 0 + 999 + 1999 + 2000 + 3999 + 4000 + UINT64_MAX / 2, UINT64_MAX / 2);
}

static void test_percentile_empty(void **state)
{
	struct hist h = {0};

	(void)state;
	assert_true(hist_percentile_us(&h, 50) == 0);
	assert_true(hist_percentile_us(&h, 100) == 0);
}

static void test_percentile_single(void **state)
{
	struct hist h = {0};

	(void)state;
	/*
	 * 31.5 us: fine slot 23 = [30, 32), 2 us wide (below 16 us the slots are
	 * 1 us wide and the middle would be the max); the median interpolates to
	 * the middle of the slot
	 */
	hist_add(&h, 31500);
	assert_int_equal(h.fine[23], 1);
	ASSERT_PCTS(&h, 1e-9, {50, 31.0}, {25, 30.5},
		    /* 30 + 0.99 * 2 = 31.98 is above the only sample: clamped to max */
		    {99, 31.5}, {100, 31.5});
}

/*
 * 1000 samples spread evenly over slot 10 = [1024, 2048) us, 125 in each of
 * its fine slots 64..71, 128 us wide: interpolating in those gives what
 * interpolating in the log2 slot gave.
 */
static void test_percentile_uniform_in_slot(void **state)
{
	struct hist h = {0};
	double vals[1000];

	(void)state;
	for (int i = 0; i < 1000; i++) {
		vals[i] = 1024 + i * 1.024;
		hist_add(&h, (uint64_t)(vals[i] * US));
	}
	assert_int_equal(h.slots[10], 1000);
	for (int i = 64; i < 72; i++)
		assert_int_equal(h.fine[i], 125);
	ASSERT_PCTS(&h, 1e-6, {50, 1536.0}, {90, 1945.6}, {99, 2037.76});
	/* linear interpolation recovers a uniform distribution to within one step */
	ASSERT_PCTS(&h, 1.1, {50, vals[499]}, {90, vals[899]}, {99, vals[989]});
	ASSERT_PCTS(&h, 1e-3, {100, vals[999]});
}

/*
 * Half the samples at 3 us (fine slot 3 = [3, 4)), half at 5.4 us (fine slot
 * 5 = [5, 6)), with the empty fine slot 4 between them. 5.4 rather than 5 us
 * leaves room to interpolate below the max in the upper slot.
 */
static void test_percentile_straddling(void **state)
{
	struct hist h = {0};

	(void)state;
	for (int i = 0; i < 500; i++) {
		hist_add(&h, 3 * US);
		hist_add(&h, 5400);
	}
	/*
	 * the median sits exactly on the upper edge of the first slot; the empty one is skipped.
	 * At p75 5 + 0.5 * 1 = 5.5 would exceed every sample: clamped to max.
	 */
	ASSERT_PCTS(&h, 1e-9, {25, 3.5}, {50, 4.0}, {60, 5.2}, {75, 5.4}, {99, 5.4});
}

static void test_percentile_monotonic(void **state)
{
	struct hist h = {0};
	double prev = 0;

	(void)state;
	for (uint64_t ns = 1; ns < 50000000; ns = ns * 3 + 7)
		hist_add(&h, ns);
	for (double p = 0.5; p <= 100; p += 0.5) {
		double v = hist_percentile_us(&h, p);

		assert_true(v >= prev);
		assert_true(v <= h.max_ns / 1000.0);
		prev = v;
	}
	assert_near(prev, h.max_ns / 1000.0, 1e-9);
}

/* Fine slot 0 covers [0, 1) us and a zero-length period must not turn into 0.5 us. */
static void test_percentile_slot0(void **state)
{
	struct hist h = {0};

	(void)state;
	add_times(&h, 10, 0);
	ASSERT_PCTS(&h, 0, {50, 0}, {99, 0});

	memset(&h, 0, sizeof(h));
	add_times(&h, 10, 1900);
	/* fine slot 1 = [1, 2); 1 + 0.99 = 1.99 is clamped to max */
	ASSERT_PCTS(&h, 1e-9, {50, 1.5}, {99, 1.9});
}

/* Out-of-range or NaN percentiles are clamped, not undefined. */
static void test_percentile_bad_pct(void **state)
{
	struct hist h = {0};

	(void)state;
	hist_add(&h, 5 * US);
	hist_add(&h, 100 * US);
	ASSERT_PCTS(&h, 1e-9,
		    /* the lower edge of fine slot 5 = [5, 6) */
		    {0, 5.0}, {-5, 5.0}, {NAN, 5.0},
		    /* the upper edge of fine slot 36 = [96, 104), clamped to max */
		    {250, 100.0});
}

static void test_percentile_huge(void **state)
{
	struct hist h = {0};

	(void)state;
	hist_add(&h, UINT64_MAX);
	/*
	 * last fine slot 239 = [15 * 2^28, 16 * 2^28) us; the clamp slot is
	 * interpolated like any other
	 */
	assert_int_equal(h.fine[HIST_FINE_SLOTS - 1], 1);
	ASSERT_PCTS(&h, 1, {50, 15.5 * 268435456.0}, {100, 4294967296.0});
}

static void test_add_slots(void **state)
{
	uint32_t slots[HIST_MAX_SLOTS] = {[0] = 4, [3] = 2, [HIST_MAX_SLOTS - 1] = 1};
	struct hist h = {0};

	(void)state;
	hist_add_slots(&h, slots, HIST_MAX_SLOTS, 123456789, 3000000000000ULL);
	assert_int_equal(h.slots[0], 4);
	assert_int_equal(h.slots[3], 2);
	assert_int_equal(h.slots[HIST_MAX_SLOTS - 1], 1);
	assert_totals(&h, 7, 123456789, 3000000000000ULL);

	/* adding again accumulates; a smaller max does not lower the old one */
	hist_add_slots(&h, slots, 4, 1, 5);
	assert_int_equal(h.slots[3], 4);
	assert_totals(&h, 13, 123456790, 3000000000000ULL);
}

/* Slots beyond ours (a wider BPF map) land in the last slot, which holds everything longer. */
static void test_add_slots_wide(void **state)
{
	uint32_t slots[40] = {[35] = 3, [39] = 2};
	struct hist h = {0};

	(void)state;
	hist_add_slots(&h, slots, 40, 0, UINT64_MAX);
	assert_int_equal(h.slots[HIST_MAX_SLOTS - 1], 5);
	assert_int_equal(h.count, 5);

	memset(&h, 0, sizeof(h));
	hist_add_slots(&h, slots, 0, 0, 0);
	assert_int_equal(h.count, 0);
}

/* A max the BPF side lost to a race is raised to what the slots prove. */
static void test_add_slots_max_floor(void **state)
{
	uint32_t slots[HIST_MAX_SLOTS] = {[5] = 1};
	struct hist h = {0};

	(void)state;
	hist_add_slots(&h, slots, HIST_MAX_SLOTS, 40 * US, 0);
	assert_int_equal(h.max_ns, 32 * US);
	assert_true(hist_percentile_us(&h, 50) > 0);

	/* slot 0 proves nothing beyond 0 */
	memset(&h, 0, sizeof(h));
	memset(slots, 0, sizeof(slots));
	slots[0] = 2;
	hist_add_slots(&h, slots, HIST_MAX_SLOTS, 0, 0);
	assert_int_equal(h.max_ns, 0);
}

static void test_merge(void **state)
{
	struct hist a = {0}, b = {0}, all = {0}, empty = {0};
	uint64_t x = 12345, ns;

	(void)state;
	for (int i = 0; i < 2000; i++) {
		/* a cheap LCG spreads samples over many slots */
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		ns = (x >> 20) % (1ULL << (i % 35));
		hist_add(i & 1 ? &a : &b, ns);
		hist_add(&all, ns);
	}
	hist_merge(&a, &b);
	assert_same_hist(&a, &all, 1, 7);

	/* merging an empty histogram changes nothing, into one copies */
	hist_merge(&a, &empty);
	assert_memory_equal(&a, &all, sizeof(all));
	hist_merge(&empty, &all);
	assert_memory_equal(&empty, &all, sizeof(all));
}

/* ---- log-linear (fine) slots ---- */

static void test_fine_slot_edges(void **state)
{
	(void)state;
	assert_int_equal(HIST_FINE_SLOTS, 240);
	/* 1 us wide below 8 us, then 8 slots to each power of two */
	for (unsigned int us = 0; us <= 8; us++)
		assert_int_equal(hist_fine_slot(us), us);
	ASSERT_SLOTS(hist_fine_slot, {15, 15}, {16, 16}, {17, 16}, {1023, 63}, {1024, 64},
		     {1151, 64}, {1152, 65}, {(1ULL << 31) - 1, 231}, {1ULL << 31, 232},
		     /* the last slot is [15 * 2^28, 2^32) and also holds everything longer */
		     {(1ULL << 32) - 1, HIST_FINE_SLOTS - 1}, {1ULL << 32, HIST_FINE_SLOTS - 1},
		     {1ULL << 40, HIST_FINE_SLOTS - 1}, {UINT64_MAX, HIST_FINE_SLOTS - 1});

	/* every slot holds exactly [low, high) */
	for (int i = 0; i < HIST_FINE_SLOTS; i++) {
		assert_int_equal(hist_fine_slot(fine_low(i)), i);
		assert_int_equal(hist_fine_slot(fine_high(i) - 1), i);
		if (i > 0)
			assert_int_equal(fine_high(i - 1), fine_low(i));
	}
	assert_int_equal(fine_high(HIST_FINE_SLOTS - 1), 1ULL << 32);
}

/*
 * hist_fine_slot() never decreases and never skips a slot, and agrees with
 * hist_slot(): the log2 slot of a fine slot's lower edge is the log2 slot of
 * every duration in it, so that log2 charts are sums of fine slots.
 */
static void test_fine_slot_sweep(void **state)
{
	unsigned int prev = 0;

	(void)state;
	for (uint64_t us = 0; us < (1ULL << 20); us++) {
		unsigned int s = hist_fine_slot(us);

		assert_true(s == prev || s == prev + 1);
		assert_true(fine_low(s) <= us && us < fine_high(s));
		assert_int_equal(hist_slot(fine_low(s)), hist_slot(us));
		prev = s;
	}
	/* and on up, past the last slot, by steps under half the narrowest slot, 1/15 */
	for (uint64_t us = 1ULL << 20; us < (1ULL << 62); us += us / 32 + 1) {
		unsigned int s = hist_fine_slot(us);

		assert_true(s >= prev);
		assert_true(s <= prev + 1);
		assert_int_equal(hist_slot(fine_low(s)), hist_slot(us));
		prev = s;
	}
	assert_int_equal(prev, HIST_FINE_SLOTS - 1);
	for (int i = 0; i < HIST_FINE_SLOTS; i++)
		assert_int_equal(hist_slot(fine_low(i)), hist_slot(fine_high(i) - 1));

	/* the BPF side's log2 without clz, at and around every power of two */
	for (int k = 0; k < 64; k++) {
		uint64_t p = 1ULL << k;

		assert_int_equal(hist_log2(p), k);
		assert_int_equal(hist_log2(p + p / 2), k);
		if (p > 1)
			assert_int_equal(hist_log2(p - 1), k - 1);
	}
	assert_int_equal(hist_log2(UINT64_MAX), 63);
}

static void test_add_fine(void **state)
{
	uint32_t fine[HIST_FINE_SLOTS] = {
		[0] = 3,  [1] = 1,  [5] = 2,  [8] = 4,
		[15] = 1, [64] = 7, [65] = 1, [HIST_FINE_SLOTS - 1] = 2,
	};
	struct hist h = {0};

	(void)state;
	hist_add_fine(&h, fine, HIST_FINE_SLOTS, 999, 5000000000000ULL);
	for (int i = 0; i < HIST_FINE_SLOTS; i++)
		assert_int_equal(h.fine[i], fine[i]);
	/* [0, 2) -> 0, [4, 8) -> 2, [8, 16) -> 3, [1024, 2048) -> 10, [2^31, ...) -> 31 */
	for (int i = 0; i < HIST_MAX_SLOTS; i++) {
		uint64_t want = i == 0	  ? 4
				: i == 2  ? 2
				: i == 3  ? 5
				: i == 10 ? 8
				: i == 31 ? 2
					  : 0;

		assert_int_equal(h.slots[i], want);
	}
	assert_totals(&h, 21, 999, 5000000000000ULL);
	/*
	 * rank 10.5 is the only count of fine slot 15 = [15, 16): 15.5; the log2
	 * slots would say 8 + 4.5 / 5 * 8 = 15.2
	 */
	ASSERT_PCTS(&h, 1e-9, {50, 15.5}, {100, 4294967296.0});

	/* adding again accumulates, a short array included; a smaller max does not lower the old */
	hist_add_fine(&h, fine, 9, 1, 5);
	assert_int_equal(h.fine[8], 8);
	assert_int_equal(h.fine[15], 1);
	assert_int_equal(h.slots[0], 8);
	assert_int_equal(h.slots[3], 9);
	assert_totals(&h, 31, 1000, 5000000000000ULL);
}

/* The BPF side's fine slots give the very histogram hist_add() builds from the same periods. */
static void test_add_fine_as_add(void **state)
{
	uint32_t fine[HIST_FINE_SLOTS] = {0};
	struct hist want = {0}, got = {0};
	uint64_t x = 777, ns, total = 0, max = 0;

	(void)state;
	for (int i = 0; i < 3000; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		ns = (x >> 20) % (1ULL << (i % 44));
		hist_add(&want, ns);
		fine[hist_fine_slot(ns / 1000)]++;
		total += ns;
		max = ns > max ? ns : max;
	}
	hist_add_fine(&got, fine, HIST_FINE_SLOTS, total, max);
	assert_same_hist(&got, &want, 0.5, 0.5);
}

/* A max the BPF side lost to a race is raised to the lower edge of the top fine slot. */
static void test_add_fine_max_floor(void **state)
{
	uint32_t fine[HIST_FINE_SLOTS] = {0};
	struct hist h = {0};

	(void)state;
	/* 1900 us: fine slot 70 = [1792, 1920), where the log2 slot only proves 1024 us */
	fine[hist_fine_slot(1900)] = 1;
	assert_int_equal(hist_fine_slot(1900), 70);
	hist_add_fine(&h, fine, HIST_FINE_SLOTS, 1900 * US, 0);
	assert_int_equal(h.max_ns, 1792 * US);
	/* so no percentile falls below the slot that holds it */
	assert_near(hist_percentile_us(&h, 50), 1792.0, 1e-9);

	/* fine slot 1 proves 1 us, fine slot 0 nothing beyond 0 */
	memset(&h, 0, sizeof(h));
	memset(fine, 0, sizeof(fine));
	fine[1] = 1;
	hist_add_fine(&h, fine, HIST_FINE_SLOTS, 0, 0);
	assert_int_equal(h.max_ns, 1 * US);
	memset(&h, 0, sizeof(h));
	fine[1] = 0;
	fine[0] = 2;
	hist_add_fine(&h, fine, HIST_FINE_SLOTS, 0, 0);
	assert_int_equal(h.max_ns, 0);
}

/* Eight 32-bit fine counts sum into one log2 slot without wrapping. */
static void test_add_fine_no_wrap(void **state)
{
	uint32_t fine[HIST_FINE_SLOTS] = {0};
	struct hist h = {0};

	(void)state;
	/* fine slots 80..87 make up log2 slot 12 = [4096, 8192) */
	for (int i = 80; i < 88; i++)
		fine[i] = 1U << 30;
	hist_add_fine(&h, fine, HIST_FINE_SLOTS, 0, 8000 * US);
	assert_int_equal(h.slots[12], 1ULL << 33);
	assert_int_equal(h.count, 1ULL << 33);
	/* half the counts are in slots 80..83: the upper edge of 83 = [5632, 6144) */
	assert_near(hist_percentile_us(&h, 50), 6144.0, 1e-9);
}

/*
 * 1000 samples uniform over [5000, 5100) us, all in fine slot 81 =
 * [4608, 5120): the median interpolates to the slot's middle, 4864 us. That is
 * 3.7 % below the true 5049.95 us; the bound is half a slot, 1/16 of its
 * lower edge. Log2 slot 12 = [4096, 8192) alone would say 6144 us, but the
 * max hides that here; a tail of long periods, as off-CPU time has, does not.
 */
static void test_percentile_precision(void **state)
{
	struct hist h = {0}, log2;
	double median = (5049.9 + 5050.0) / 2, p50;

	(void)state;
	for (int i = 0; i < 1000; i++)
		hist_add(&h, 5000 * US + i * 100);
	assert_int_equal(h.fine[81], 1000);
	assert_int_equal(fine_low(81), 4608);
	assert_int_equal(fine_high(81), 5120);
	p50 = hist_percentile_us(&h, 50);
	assert_near(p50, 4864.0, 1e-9);
	assert_near(p50, median, 4608.0 / 16);
	assert_near(p50, median, 0.04 * median);
	/* log2 only: 6144 clamped to the max, 5099.9 us */
	log2_only(&log2, &h);
	assert_near(hist_percentile_us(&log2, 50), 5099.9, 1e-9);

	/* 10 periods of 100 ms: the median moves to (5050.4 + 5050.5) / 2 */
	add_times(&h, 10, 100000 * US);
	median = (5050.4 + 5050.5) / 2;
	p50 = hist_percentile_us(&h, 50);
	assert_near(p50, 4608 + 505.0 / 1000 * 512, 1e-9);
	assert_near(p50, median, 0.04 * median);
	log2_only(&log2, &h);
	p50 = hist_percentile_us(&log2, 50);
	assert_near(p50, 4096 + 505.0 / 1000 * 4096, 1e-9);
	assert_true(p50 - median > 0.2 * median);
}

static void test_merge_fine(void **state)
{
	uint32_t fa[HIST_FINE_SLOTS] = {0}, fb[HIST_FINE_SLOTS] = {0}, fall[HIST_FINE_SLOTS];
	struct hist a = {0}, b = {0}, all = {0}, log2 = {0};

	(void)state;
	for (int i = 0; i < HIST_FINE_SLOTS; i++) {
		fa[i] = (uint32_t)(i * 7 % 5);
		fb[i] = (uint32_t)(i % 3 == 0 ? 1000 - i : 0);
		fall[i] = fa[i] + fb[i];
	}
	hist_add_fine(&a, fa, HIST_FINE_SLOTS, 111, 3000000000000ULL);
	hist_add_fine(&b, fb, HIST_FINE_SLOTS, 222, 4000000000000ULL);
	hist_add_fine(&all, fall, HIST_FINE_SLOTS, 333, 4000000000000ULL);
	hist_merge(&a, &b);
	assert_same_hist(&a, &all, 1, 3);

	/*
	 * Merging a log2-only histogram in leaves fine slots that no longer
	 * account for every count: percentiles fall back to the log2 slots.
	 */
	memset(&a, 0, sizeof(a));
	memset(fa, 0, sizeof(fa));
	fa[81] = 4; /* [4608, 5120) */
	hist_add_fine(&a, fa, HIST_FINE_SLOTS, 0, 8000 * US);
	assert_near(hist_percentile_us(&a, 50), 4864.0, 1e-9);
	add_log2(&log2, 12, 4, 8000 * US);
	hist_merge(&a, &log2);
	assert_int_equal(a.count, 8);
	assert_int_equal(a.slots[12], 8);
	assert_int_equal(a.fine[81], 4);
	/* slot 12 = [4096, 8192) holds all 8 */
	ASSERT_PCTS(&a, 1e-9, {50, 6144.0}, {25, 5120.0});
}

/*
 * Moving periods out by their log2 slots: counts, totals and every log2 slot
 * exact on both sides; the fine slots of each log2 slot give up counts in
 * proportion to what they hold, so that each side still sums up.
 */
static void test_move_slots(void **state)
{
	struct hist from = {0}, to = {0};
	uint32_t moved[HIST_MAX_SLOTS] = {0};
	uint64_t fine_from = 0, fine_to = 0;

	(void)state;
	/* 30 periods of 5 us (slot 2), 10 of 3 ms and 30 of 6 ms (slots 11 and 12) */
	for (int i = 0; i < 30; i++)
		hist_add(&from, 5 * US);
	for (int i = 0; i < 10; i++)
		hist_add(&from, 3000 * US);
	for (int i = 0; i < 30; i++)
		hist_add(&from, 6000 * US);
	moved[2] = 10;
	moved[12] = 30;
	hist_move_slots(&from, &to, moved, HIST_MAX_SLOTS, 10 * 5 * US + 30 * 6000 * US, 6000 * US);
	assert_int_equal(from.count, 30);
	assert_int_equal(to.count, 40);
	assert_int_equal(from.slots[2], 20);
	assert_int_equal(from.slots[11], 10);
	assert_int_equal(from.slots[12], 0);
	assert_int_equal(to.slots[2], 10);
	assert_int_equal(to.slots[12], 30);
	assert_int_equal(from.total_ns, 20 * 5 * US + 10 * 3000 * US);
	assert_int_equal(to.max_ns, 6000 * US);
	for (int i = 0; i < HIST_FINE_SLOTS; i++) {
		fine_from += from.fine[i];
		fine_to += to.fine[i];
	}
	assert_int_equal(fine_from, 30);
	assert_int_equal(fine_to, 40);
	/* one fine slot in each: the same one on both sides */
	assert_int_equal(to.fine[hist_fine_slot(5)], 10);
	assert_int_equal(to.fine[hist_fine_slot(6000)], 30);
	/* within the fine slot of 6 ms, [5632, 6144) us */
	ASSERT_PCTS(&to, 256.0, {50, 5888.0});
}

/* ---- log2 slots alone (filled with hist_add_slots): the percentiles of before ---- */

static void test_log2_single(void **state)
{
	struct hist h = {0};

	(void)state;
	/* 7.5 us: slot 2 = [4, 8); the median interpolates to the middle of the slot */
	add_log2(&h, 2, 1, 7500);
	ASSERT_PCTS(&h, 1e-9, {50, 6.0}, {25, 5.0},
		    /* 4 + 0.99 * 4 = 7.96 is above the only sample: clamped to max */
		    {99, 7.5}, {100, 7.5});
}

/* Half the samples at 3 us (slot 1 = [2, 4)), half at 5 us (slot 2 = [4, 8)). */
static void test_log2_straddling(void **state)
{
	struct hist h = {0};

	(void)state;
	add_log2(&h, 1, 500, 3 * US);
	add_log2(&h, 2, 500, 5 * US);
	ASSERT_PCTS(&h, 1e-9, {25, 3.0},
		    /* the median sits exactly on the boundary between the two slots */
		    {50, 4.0}, {60, 4.8},
		    /* 4 + 0.5 * 4 = 6 would exceed every sample: clamped to max */
		    {75, 5.0}, {99, 5.0});
}

/* Slot 0 covers [0, 2) us and a zero-length period must not turn into 1 us. */
static void test_log2_slot0(void **state)
{
	struct hist h = {0};

	(void)state;
	add_log2(&h, 0, 10, 0);
	ASSERT_PCTS(&h, 0, {50, 0}, {99, 0});

	memset(&h, 0, sizeof(h));
	add_log2(&h, 0, 10, 1900);
	ASSERT_PCTS(&h, 1e-9, {50, 1.0}, {99, 1.9});
}

static void test_log2_bad_pct(void **state)
{
	struct hist h = {0};

	(void)state;
	add_log2(&h, 2, 1, 5 * US);
	add_log2(&h, 6, 1, 100 * US);
	ASSERT_PCTS(&h, 1e-9, {0, 4.0}, {-5, 4.0}, {NAN, 4.0}, {250, 100.0});
}

static void test_log2_huge(void **state)
{
	struct hist h = {0};

	(void)state;
	add_log2(&h, HIST_MAX_SLOTS - 1, 1, UINT64_MAX);
	/* slot 31 = [2^31, 2^32) us; the clamp slot is interpolated like any other */
	ASSERT_PCTS(&h, 1, {50, 1.5 * 2147483648.0}, {100, 4294967296.0});
}

/* ---- the chart, printed to memory and parsed back ---- */

static char *print_to_string(const struct hist *h, const char *indent)
{
	struct cap c;

	cap_open(&c);
	hist_print(c.f, h, indent);
	return cap_close(&c);
}

static void assert_print(const struct hist *h, const char *indent, const char *want)
{
	char *out = print_to_string(h, indent);

	assert_string_equal(out, want);
	free(out);
}

/* the chart of one period in slot 0 and six in slot 1, before the summary line */
#define CHART_1_6                                                                                  \
	"     usecs               : count    distribution\n"                                       \
	"         0 -> 1          : 1        |******                                  |\n"         \
	"         2 -> 3          : 6        |****************************************|\n"

/*
 * "8.5 us" / "812 us" / "12.3 ms" / "4.56 s" back to us. The tolerance is half
 * a unit of the last digit each unit is printed with (units.c).
 */
static void assert_printed(const char *num, const char *unit, double want)
{
	double v = strtod(num, NULL);

	if (!strcmp(unit, "us")) {
		assert_true(v <= 1000);
		assert_near(v, want, want < 10 ? 0.05 : 0.5);
	} else if (!strcmp(unit, "ms")) {
		assert_true(v >= 1 && v <= 1000);
		assert_near(v * 1e3, want, 50);
	} else if (!strcmp(unit, "s")) {
		assert_true(v >= 1);
		assert_near(v * 1e6, want, 5000);
	} else {
		fail_msg("unknown unit '%s'", unit);
	}
}

static void check_summary(const char *line, const struct hist *h)
{
	char n[5][32], u[5][8];
	uint64_t periods;
	int end = 0;

	assert_int_equal(sscanf(line,
				"p50 %31s %7s  p90 %31s %7s  p99 %31s %7s  max %31s %7s  "
				"(%" SCNu64 " periods, total %31s %7[^)])%n",
				n[0], u[0], n[1], u[1], n[2], u[2], n[3], u[3], &periods, n[4],
				u[4], &end),
			 11);
	assert_int_equal(line[end], '\0');
	assert_int_equal(periods, h->count);
	assert_printed(n[0], u[0], hist_percentile_us(h, 50));
	assert_printed(n[1], u[1], hist_percentile_us(h, 90));
	assert_printed(n[2], u[2], hist_percentile_us(h, 99));
	assert_printed(n[3], u[3], h->max_ns / 1000.0);
	assert_printed(n[4], u[4], h->total_ns / 1000.0);
}

struct row {
	uint64_t low, count;
	char high[32];
	int stars;
};

static void parse_row(const char *line, struct row *r)
{
	const char *bar;
	int end = 0, len;

	assert_int_equal(sscanf(line, "%" SCNu64 " -> %31s : %" SCNu64 " |%n", &r->low, r->high,
				&r->count, &end),
			 3);
	/* the count column lines up under "count" in the header */
	assert_int_equal(strstr(line, " : ") - line, 24);
	bar = line + end;
	len = (int)strlen(bar);
	assert_int_equal(len, 41);
	assert_int_equal(bar[40], '|');
	r->stars = (int)strspn(bar, "*");
	assert_int_equal((int)strspn(bar + r->stars, " "), 40 - r->stars);
}

static void check_chart(const struct hist *h, const char *indent)
{
	char *out = print_to_string(h, indent), *save = NULL, *line;
	uint64_t val_max = 0;
	int lo = -1, hi = -1, slot, nlines = 0;
	size_t ind = strlen(indent);

	for (int i = 0; i < HIST_MAX_SLOTS; i++) {
		if (h->slots[i]) {
			lo = lo < 0 ? i : lo;
			hi = i;
			val_max = h->slots[i] > val_max ? h->slots[i] : val_max;
		}
	}
	assert_true(lo >= 0);
	assert_int_equal(out[strlen(out) - 1], '\n');
	slot = lo;
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct row r;

		assert_memory_equal(line, indent, ind);
		line += ind;
		if (nlines++ == 0) {
			assert_string_equal(line,
					    "     usecs               : count    distribution");
			continue;
		}
		if (slot > hi) {
			check_summary(line, h);
			slot++;
			continue;
		}
		parse_row(line, &r);
		assert_int_equal(r.low, slot ? 1ULL << slot : 0);
		if (slot == HIST_MAX_SLOTS - 1)
			assert_string_equal(r.high, "inf");
		else
			assert_int_equal(strtoull(r.high, NULL, 10), (1ULL << (slot + 1)) - 1);
		assert_int_equal(r.count, h->slots[slot]);
		assert_int_equal(r.stars, (int)(r.count * 40 / val_max));
		slot++;
	}
	/* header, one row per slot of the span, the summary */
	assert_int_equal(nlines, 1 + (hi - lo + 1) + 1);
	free(out);
}

static void test_print_chart(void **state)
{
	struct hist h = {0};

	(void)state;
	/* slots 2..6 with a hole at 4: the hole is printed, slots outside the span are not */
	add_times(&h, 12, 5 * US);
	for (int i = 0; i < 40; i++)
		hist_add(&h, 9 * US + i);
	add_times(&h, 3, 100 * US);
	check_chart(&h, "");
	check_chart(&h, "    ");
}

static void test_print_units(void **state)
{
	struct hist h = {0};

	(void)state;
	/* ms and s in the summary, slot 0 and the open-ended last slot in the chart */
	hist_add(&h, 500);
	add_times(&h, 100, 2500 * US);
	hist_add(&h, 3ULL * 3600 * 1000000 * US);
	check_chart(&h, "\t");
}

static void test_print_empty(void **state)
{
	struct hist h = {0};

	(void)state;
	assert_print(
		&h, "  ",
		"  p50 0.0 us  p90 0.0 us  p99 0.0 us  max 0.0 us  (0 periods, total 0.0 us)\n");
}

static void test_print_exact(void **state)
{
	struct hist h = {0};

	(void)state;
	add_times(&h, 4, 2 * US);
	add_times(&h, 2, 3 * US);
	hist_add(&h, 1 * US);
	assert_print(&h, "",
		     CHART_1_6
		     /* p50 in fine slot 2 = [2, 3): 2 + 2.5 / 4 = 2.625 */
		     "p50 2.6 us  p90 3.0 us  p99 3.0 us  max 3.0 us  (7 periods, total 15 us)\n");
}

static void test_log2_print_exact(void **state)
{
	uint32_t slots[HIST_MAX_SLOTS] = {0};
	struct hist h = {0};

	(void)state;
	slots[0] = 1;
	slots[1] = 6;
	hist_add_slots(&h, slots, HIST_MAX_SLOTS, 15 * US, 3 * US);
	assert_print(&h, "",
		     CHART_1_6
		     /* p50 in slot 1 = [2, 4): 2 + 2.5 / 6 * 2 = 2.83 */
		     "p50 2.8 us  p90 3.0 us  p99 3.0 us  max 3.0 us  (7 periods, total 15 us)\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slot_edges),
		cmocka_unit_test(test_add_ns),
		cmocka_unit_test(test_percentile_empty),
		cmocka_unit_test(test_percentile_single),
		cmocka_unit_test(test_percentile_uniform_in_slot),
		cmocka_unit_test(test_percentile_straddling),
		cmocka_unit_test(test_percentile_monotonic),
		cmocka_unit_test(test_percentile_slot0),
		cmocka_unit_test(test_percentile_bad_pct),
		cmocka_unit_test(test_percentile_huge),
		cmocka_unit_test(test_add_slots),
		cmocka_unit_test(test_add_slots_wide),
		cmocka_unit_test(test_add_slots_max_floor),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_fine_slot_edges),
		cmocka_unit_test(test_fine_slot_sweep),
		cmocka_unit_test(test_add_fine),
		cmocka_unit_test(test_add_fine_as_add),
		cmocka_unit_test(test_add_fine_max_floor),
		cmocka_unit_test(test_add_fine_no_wrap),
		cmocka_unit_test(test_percentile_precision),
		cmocka_unit_test(test_merge_fine),
		cmocka_unit_test(test_move_slots),
		cmocka_unit_test(test_log2_single),
		cmocka_unit_test(test_log2_straddling),
		cmocka_unit_test(test_log2_slot0),
		cmocka_unit_test(test_log2_bad_pct),
		cmocka_unit_test(test_log2_huge),
		cmocka_unit_test(test_print_chart),
		cmocka_unit_test(test_print_units),
		cmocka_unit_test(test_print_empty),
		cmocka_unit_test(test_print_exact),
		cmocka_unit_test(test_log2_print_exact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
