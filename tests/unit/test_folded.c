// SPDX-License-Identifier: GPL-2.0
/* Unit tests of user/folded.c: one parseable line per stack, whatever the frame names hold. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "folded.h"

#define ARRAY_SIZE(a) ((int)(sizeof(a) / sizeof((a)[0])))

static char *fold(const char *const *frames, int n, uint64_t value)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	folded_print(f, frames, n, value);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void assert_folded(const char *const *frames, int n, uint64_t value, const char *want)
{
	char *got = fold(frames, n, value);

	assert_string_equal(got, want);
	free(got);
}

static void test_basic(void **state)
{
	static const char *const frames[] = {"main", "run_queries", "PQexec", "__libc_recv"};

	(void)state;
	assert_folded(frames, 4, 42, "main;run_queries;PQexec;__libc_recv 42\n");
	assert_folded(frames, 1, 0, "main 0\n");
	assert_folded(frames, 2, UINT64_MAX, "main;run_queries 18446744073709551615\n");
}

static void test_sanitise(void **state)
{
	static const char *const frames[] = {
		"a;b", "x\ny", "cr\r\nlf", ";;", ";lead", "trail;", "\n", "ok",
	};

	(void)state;
	assert_folded(frames, ARRAY_SIZE(frames), 7, "a:b;x y;cr  lf;::;:lead;trail:; ;ok 7\n");
}

static void test_unknown(void **state)
{
	static const char *const frames[] = {"", "mid", NULL, ""};

	(void)state;
	assert_folded(frames, ARRAY_SIZE(frames), 3, "[unknown];mid;[unknown];[unknown] 3\n");
	/* a stack with no frames keeps its value */
	assert_folded(NULL, 0, 9, "[unknown] 9\n");
	assert_folded(frames, -1, 9, "[unknown] 9\n");
}

/* Spaces are legal in frames: parsers split the value off at the last space. */
static void test_spaces_kept(void **state)
{
	static const char *const frames[] = {"operator new(unsigned long)",
					     "std::vector<int, A>::push_back",
					     "[kernel] do_syscall_64"};

	(void)state;
	assert_folded(frames, 3, 5,
		      "operator new(unsigned long);std::vector<int, A>::push_back;"
		      "[kernel] do_syscall_64 5\n");
}

/*
 * Many stacks in one stream, read back the way flamegraph.pl does: one line
 * each, value after the last space, frames split on ';', counts intact.
 */
static void test_parse_back(void **state)
{
	static const char *const stacks[][3] = {
		{"main", "lock;unlock", "futex\nwait"},
		{"", "poll", "epoll_wait"},
		{"a b", "c", "d;e\nf"},
	};
	char *buf = NULL, *line, *save = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int nlines = 0;

	(void)state;
	assert_non_null(f);
	for (int i = 0; i < ARRAY_SIZE(stacks); i++)
		folded_print(f, stacks[i], 3, 1000 + i);
	assert_int_equal(fclose(f), 0);

	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strrchr(line, ' '), *end;
		int semis = 0;

		assert_non_null(sp);
		assert_int_equal(strtoull(sp + 1, &end, 10), 1000 + nlines);
		assert_int_equal(*end, '\0');
		for (char *p = line; p < sp; p++)
			semis += *p == ';';
		assert_int_equal(semis, 2);
		nlines++;
	}
	assert_int_equal(nlines, ARRAY_SIZE(stacks));
	free(buf);
}

/* Same-named threads give the same line: one line each, values summed, then rounded. */
static void test_gathered_once(void **state)
{
	static const char *const a[] = {"worker", "park", "futex"};
	static const char *const b[] = {"worker", "read"};
	struct folded fd;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(f);
	folded_init(&fd);
	assert_int_equal(folded_add(&fd, a, 3, 1400), 0);
	assert_int_equal(folded_add(&fd, b, 2, 499), 0);
	assert_int_equal(folded_add(&fd, a, 3, 1200), 0);
	assert_int_equal(folded_add(&fd, a, 3, 400), 0);
	folded_write(&fd, f, 1000);
	assert_int_equal(fclose(f), 0);
	/* 1400 + 1200 + 400 = 3000: 3, not 1 + 1 + 0; 499 rounds to 0 and is left out */
	assert_string_equal(buf, "worker;park;futex 3\n");
	assert_int_equal(fd.n, 0);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic),	   cmocka_unit_test(test_sanitise),
		cmocka_unit_test(test_unknown),	   cmocka_unit_test(test_spaces_kept),
		cmocka_unit_test(test_parse_back), cmocka_unit_test(test_gathered_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
