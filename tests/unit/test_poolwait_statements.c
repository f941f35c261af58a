// SPDX-License-Identifier: GPL-2.0
/* poolwait --statements: literals out of statements' texts, never a value left. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include "statements.h"

static const char *norm(const char *t, int full)
{
	static char out[512];

	return stmt_normalize(t, strlen(t), full, out, sizeof(out));
}

static void test_literals(void **state)
{
	(void)state;
	assert_string_equal(norm("SELECT * FROM t WHERE id = 42 AND name = 'bob'", 0),
			    "SELECT * FROM t WHERE id = $1 AND name = $2");
	assert_string_equal(norm("select 'it''s', E'a\\'b', 1.5e-3, $$x'y$$, $t$z$t$", 0),
			    "select $1, $2, $3, $4, $5");
	assert_string_equal(norm("UPDATE a SET b = b + -5 WHERE c = - 7", 0),
			    "UPDATE a SET b = b + $1 WHERE c = - $2");
	assert_string_equal(norm("SELECT x-1, t1.c2 FROM t1", 0), "SELECT x-$1, t1.c2 FROM t1");
}

static void test_params_kept(void **state)
{
	(void)state;
	/* extended protocol's own parameters stay; literals are numbered after them */
	assert_string_equal(norm("SELECT $1, $2 FROM t LIMIT 10", 0),
			    "SELECT $1, $2 FROM t LIMIT $3");
}

static void test_identifiers_and_comments(void **state)
{
	(void)state;
	assert_string_equal(
		norm("SELECT \"col 1\", x2 /* 99 */ FROM \"t'1\" -- 5\n WHERE y = 3", 0),
		"SELECT \"col 1\", x2 FROM \"t'1\" WHERE y = $1");
	assert_string_equal(norm("  SELECT\n\t1  ", 0), "SELECT $1");
}

static void test_cut(void **state)
{
	(void)state;
	/* a literal cut by the end of the buffer: replaced, not shown in part */
	assert_string_equal(norm("INSERT INTO t VALUES ('secret-va", 1),
			    "INSERT INTO t VALUES ($1...");
	assert_string_equal(norm("SELECT 1", 1), "SELECT $1...");
}

static void test_aggregate(void **state)
{
	struct statements s = {0};

	(void)state;
	assert_int_equal(statements_add(&s, "SELECT 1", 64, 1000), 0);
	assert_int_equal(statements_add(&s, "SELECT 2", 64, 3000), 0);
	assert_int_equal(statements_add(&s, "SELECT 'a'", 64, 500000), 0);
	statements_sort(&s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.v[0].text, "SELECT $1");
	assert_int_equal(s.v[0].rt.count, 3);
	statements_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_params_kept),
		cmocka_unit_test(test_identifiers_and_comments),
		cmocka_unit_test(test_cut),
		cmocka_unit_test(test_aggregate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
