// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of user/schedframes.c: scheduler frames learned from full walks
 * are put back in front of walks of sleeping tasks, which lack them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "schedframes.h"

/* fake text: scheduler 0x1000-0x2000, locks 0x3000-0x3100; the rest is other code */
static void fake(struct schedframes *s)
{
	memset(s, 0, sizeof(*s));
	s->text[0] = 0x1000, s->text[1] = 0x2000, s->text[2] = 0x3000, s->text[3] = 0x3100;
}

/* tracer frames, __schedule, schedule, do_nanosleep, then hrtimer_nanosleep and below */
static const uint64_t full[] = {0x9001, 0x9002, 0x1010, 0x1020, 0x1030, 0x5000, 0x5100, 0x5200};

static void test_fill_puts_learned_frames_back(void **state)
{
	uint64_t ips[16] = {0x5000, 0x5100, 0x5200};
	struct schedframes s;
	bool missing;
	int n;

	(void)state;
	fake(&s);
	schedframes_learn(&s, full, 8);
	n = schedframes_fill(&s, ips, 3, 16, &missing);
	assert_false(missing);
	assert_int_equal(n, 6);
	assert_memory_equal(ips, full + 2, 6 * sizeof(*ips));
	schedframes_free(&s);
}

static void test_full_walk_left_alone(void **state)
{
	uint64_t ips[16];
	struct schedframes s;
	bool missing;

	(void)state;
	fake(&s);
	memcpy(ips, full, sizeof(full));
	schedframes_learn(&s, full, 8);
	assert_int_equal(schedframes_fill(&s, ips, 8, 16, &missing), 8);
	assert_false(missing);
	assert_memory_equal(ips, full, sizeof(full));
	schedframes_free(&s);
}

static void test_unknown_site_is_missing(void **state)
{
	uint64_t ips[16] = {0x6000, 0x6100};
	struct schedframes s;
	bool missing;

	(void)state;
	fake(&s);
	schedframes_learn(&s, full, 8);
	assert_int_equal(schedframes_fill(&s, ips, 2, 16, &missing), 2);
	assert_true(missing);
	assert_int_equal(ips[0], 0x6000);
	schedframes_free(&s);
}

static void test_lock_text_counts_and_room_is_kept(void **state)
{
	static const uint64_t with_lock[] = {0x3010, 0x1010, 0x7000};
	uint64_t ips[3] = {0x7000};
	struct schedframes s;
	bool missing;

	(void)state;
	fake(&s);
	schedframes_learn(&s, with_lock, 3);
	/* no room for two more frames: unchanged, and said so */
	assert_int_equal(schedframes_fill(&s, ips, 1, 2, &missing), 1);
	assert_true(missing);
	assert_int_equal(schedframes_fill(&s, ips, 1, 3, &missing), 3);
	assert_false(missing);
	assert_memory_equal(ips, with_lock, sizeof(with_lock));
	schedframes_free(&s);
}

static void test_hidden_kallsyms_changes_nothing(void **state)
{
	uint64_t ips[4] = {0x5000};
	struct schedframes s;
	bool missing;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(schedframes_fill(&s, ips, 1, 4, &missing), 1);
	assert_false(missing);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fill_puts_learned_frames_back),
		cmocka_unit_test(test_full_walk_left_alone),
		cmocka_unit_test(test_unknown_site_is_missing),
		cmocka_unit_test(test_lock_text_counts_and_room_is_kept),
		cmocka_unit_test(test_hidden_kallsyms_changes_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
