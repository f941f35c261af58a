// SPDX-License-Identifier: GPL-2.0
/* Unit tests of user/deltas.c: rows found by key bytes after sorting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "deltas.h"

struct key {
	uint32_t a, b;
};

static void test_find(void **state)
{
	struct deltas d;
	uint64_t v;

	(void)state;
	deltas_init(&d, sizeof(struct key), sizeof(v));
	/* enough rows to grow the table, in reverse order */
	for (uint32_t i = 1000; i > 0; i--) {
		struct key k = {i, i * 7};

		v = i * 10;
		assert_int_equal(deltas_add(&d, &k, &v), 0);
	}
	deltas_sort(&d);
	for (uint32_t i = 1; i <= 1000; i++) {
		struct key k = {i, i * 7};
		const uint64_t *got = deltas_find(&d, &k);

		assert_non_null(got);
		assert_int_equal(*got, i * 10);
	}
	struct key missing = {5, 6};

	assert_null(deltas_find(&d, &missing));
	deltas_free(&d);
	assert_null(deltas_find(&d, &missing));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
