// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of user/funcs.c on this very process: its own functions, and
 * glibc's versioned ones (sem_wait has two versions; the default one wins).
 */
#include <dlfcn.h>
#include <errno.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "funcs.h"

/* the functions to find: a whole family, and one with a near name */
__attribute__((noinline, used)) int probe_target_one(int x)
{
	return x + 1;
}

__attribute__((noinline, used)) int probe_target_two(int x)
{
	return x + 2;
}

static void test_last_component(void **state)
{
	size_t len;

	(void)state;
	assert_string_equal(funcs_last_component("dispatch", &len), "dispatch");
	assert_string_equal(funcs_last_component("svc::dispatch", &len), "dispatch");
	assert_string_equal(funcs_last_component("a::b<c::d>::run", &len), "run");
	assert_string_equal(funcs_last_component("ns::f<x::y>", &len), "f<x::y>");
	assert_int_equal(len, strlen("f<x::y>"));
}

static void test_bare_word_and_glob(void **state)
{
	struct funcs f = {0};
	char hint[256];

	(void)state;
	assert_int_equal(funcs_find(&f, getpid(), "probe_target_one", hint, sizeof(hint)), 1);
	assert_string_equal(f.v[0].name, "probe_target_one");
	assert_string_equal(f.v[0].obj, "test_funcs");
	assert_true(f.v[0].offset > 0);
	assert_int_equal(funcs_find(&f, getpid(), "probe_target_*", hint, sizeof(hint)), 2);
	funcs_free(&f);
}

/* A name known to be spelled with a needle: only those symbols are looked at. */
static void test_known_needle(void **state)
{
	struct funcs f = {0};

	(void)state;
	assert_int_equal(funcs_find_known(&f, getpid(), "probe_target_two", "target_two", NULL, 0),
			 1);
	assert_string_equal(f.v[0].name, "probe_target_two");
	/* a needle the name does not hold hides it */
	assert_int_equal(funcs_find_known(&f, getpid(), "probe_target_two", "nowhere", NULL, 0),
			 -ENOENT);
	funcs_truncate(&f, 0);
	assert_int_equal((int)f.n, 0);
	funcs_free(&f);
}

static void test_versioned_default(void **state)
{
	struct funcs f = {0};
	char hint[256];
	Dl_info info;
	void *real = dlsym(RTLD_DEFAULT, "sem_wait");

	(void)state;
	/* one sem_wait: the default version, the one programs call */
	assert_int_equal(funcs_find(&f, getpid(), "libc:sem_wait", hint, sizeof(hint)), 1);
	assert_string_equal(f.v[0].obj, "libc.so.6");
	assert_true(dladdr(real, &info));
	assert_int_equal(f.v[0].address, (uint64_t)((char *)real - (char *)info.dli_fbase));
	funcs_free(&f);
	/* LIB: narrows: no sem_wait in the program itself */
	assert_int_equal(funcs_find(&f, getpid(), "test_funcs:sem_wait", hint, sizeof(hint)),
			 -ENOENT);
}

static void test_no_match_hints(void **state)
{
	struct funcs f = {0};
	char hint[256];

	(void)state;
	assert_int_equal(funcs_find(&f, getpid(), "probe_target_on", hint, sizeof(hint)), -ENOENT);
	assert_non_null(strstr(hint, "nearest: probe_target_one"));
	assert_int_equal(f.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_last_component), cmocka_unit_test(test_bare_word_and_glob),
		cmocka_unit_test(test_known_needle),   cmocka_unit_test(test_versioned_default),
		cmocka_unit_test(test_no_match_hints),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
