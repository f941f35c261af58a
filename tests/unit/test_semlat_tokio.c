// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of tools/semlat/tokio.c's reading of Acquire::drop's machine code: where its
 * queued path begins, and where the &Semaphore lies in the future.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tokio.h"

/* tokio 1.24.2 by rustc 1.95, release: push r15; push r14; push rbx; cmpb $1, 0x34(%rdi);
 * jne +0xa5; mov (%rdi), %rdx; mov $1, %ecx */
static const uint8_t rustc_195[] = {0x41, 0x57, 0x41, 0x56, 0x53, 0x80, 0x7f, 0x34, 0x01,
				    0x0f, 0x85, 0xa5, 0x00, 0x00, 0x00, 0x48, 0x8b, 0x17,
				    0xb9, 0x01, 0x00, 0x00, 0x00, 0x31, 0xc0, 0x90, 0x90};

static void test_queued_path_of_rustc_195(void **state)
{
	uint32_t at, off;

	(void)state;
	assert_int_equal(tokio_drop_shape(rustc_195, sizeof(rustc_195), &at, &off), 0);
	assert_int_equal(at, 15); /* the mov after the jne */
	assert_int_equal(off, 0);
}

/* cmpb $0, 0x30(%rdi); je +2 (skips the queued path); mov 0x8(%rdi), %rax */
static void test_compared_with_zero(void **state)
{
	static const uint8_t code[] = {0x53, 0x80, 0x7f, 0x30, 0x00, 0x74, 0x05, 0x48,
				       0x8b, 0x47, 0x08, 0x5b, 0xc3, 0x90, 0x90, 0x90};
	uint32_t at, off;

	(void)state;
	assert_int_equal(tokio_drop_shape(code, sizeof(code), &at, &off), 0);
	assert_int_equal(at, 7);
	assert_int_equal(off, 8);
}

/* cmpb $1, 0x30(%rdi); je +1 to the queued path: there, mov 0x10(%rdi), %rcx */
static void test_queued_path_taken_by_the_jump(void **state)
{
	static const uint8_t code[] = {0x80, 0x7f, 0x30, 0x01, 0x74, 0x01, 0xc3, 0x48,
				       0x8b, 0x4f, 0x10, 0x90, 0x90, 0x90, 0x90, 0x90};
	uint32_t at, off;

	(void)state;
	assert_int_equal(tokio_drop_shape(code, sizeof(code), &at, &off), 0);
	assert_int_equal(at, 7);
	assert_int_equal(off, 16);
}

static void test_unknown_shape(void **state)
{
	/* testb $1, 0x34(%rdi): not a shape known */
	static const uint8_t code[] = {0xf6, 0x47, 0x34, 0x01, 0x75, 0x02, 0xc3, 0x90,
				       0x48, 0x8b, 0x17, 0x90, 0x90, 0x90, 0x90, 0x90};
	uint32_t at, off;

	(void)state;
	assert_int_equal(tokio_drop_shape(code, sizeof(code), &at, &off), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_queued_path_of_rustc_195),
		cmocka_unit_test(test_compared_with_zero),
		cmocka_unit_test(test_queued_path_taken_by_the_jump),
		cmocka_unit_test(test_unknown_shape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
