// SPDX-License-Identifier: GPL-2.0
/* poolwait --acquire's argument: SYM, SYM:RELEASE, LIB:SYM:RELEASE, and Rust paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "acquire.h"

static void split_ok(const char *spec, const char *sym, const char *rel)
{
	char s[128], r[128];

	assert_int_equal(acquire_split(spec, s, sizeof(s), r, sizeof(r)), 0);
	assert_string_equal(s, sym);
	assert_string_equal(r, rel);
}

static void test_forms(void **state)
{
	(void)state;
	split_ok("pool_get", "pool_get", "");
	split_ok("pool_get:pool_put", "pool_get", "pool_put");
	split_ok("libapp:pool_get:pool_put", "libapp:pool_get", "libapp:pool_put");
	split_ok("r2d2::Pool<M>::get:drop_in_place", "r2d2::Pool<M>::get", "drop_in_place");
	split_ok("app::pool::get", "app::pool::get", "");
}

static void test_bad(void **state)
{
	char s[128], r[128];

	(void)state;
	assert_int_equal(acquire_split(":pool_put", s, sizeof(s), r, sizeof(r)), -1);
	assert_int_equal(acquire_split("pool_get:", s, sizeof(s), r, sizeof(r)), -1);
	assert_int_equal(acquire_split("a:b:c:d", s, sizeof(s), r, sizeof(r)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
