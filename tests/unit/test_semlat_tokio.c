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

/* cmpb $0, 0x30(%rdi); je +5 (skips the queued path); mov 0x8(%rdi), %rax */
static const uint8_t cmp_zero[] = {0x53, 0x80, 0x7f, 0x30, 0x00, 0x74, 0x05, 0x48,
				   0x8b, 0x47, 0x08, 0x5b, 0xc3, 0x90, 0x90, 0x90};
/* cmpb $1, 0x30(%rdi); je +1 to the queued path: there, mov 0x10(%rdi), %rcx */
static const uint8_t jump_queued[] = {0x80, 0x7f, 0x30, 0x01, 0x74, 0x01, 0xc3, 0x48,
				      0x8b, 0x4f, 0x10, 0x90, 0x90, 0x90, 0x90, 0x90};
/* testb $1, 0x34(%rdi): not a shape known */
static const uint8_t testb[] = {0xf6, 0x47, 0x34, 0x01, 0x75, 0x02, 0xc3, 0x90,
				0x48, 0x8b, 0x17, 0x90, 0x90, 0x90, 0x90, 0x90};

static const struct {
	const uint8_t *code;
	size_t n;
	int rc;
	/* the queued path's first instruction, the &Semaphore's offset, the queued flag's */
	uint32_t at, off, queued;
} shapes[] = {
	{rustc_195, sizeof(rustc_195), 0, 15, 0, 0x34},
	{cmp_zero, sizeof(cmp_zero), 0, 7, 8, 0x30},
	{jump_queued, sizeof(jump_queued), 0, 7, 16, 0x30},
	{testb, sizeof(testb), -1, 0, 0, 0},
};

static void test_drop_shapes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		uint32_t at = 0, off = 0, queued = 0;

		assert_int_equal(tokio_drop_shape(shapes[i].code, shapes[i].n, &at, &off, &queued),
				 shapes[i].rc);
		if (!shapes[i].rc) {
			assert_int_equal(at, shapes[i].at);
			assert_int_equal(off, shapes[i].off);
			assert_int_equal(queued, shapes[i].queued);
		}
	}
}

/* Acquire::poll by rustc 1.95: push..; sub $0x48,%rsp; mov %rsi,%rbp; mov %rdi,%r15;
 * mov (%rdi),%rbx (the &Semaphore: 64 bits); mov 0x30(%rdi),%r13d (num_permits) */
static void test_permits_offset(void **state)
{
	static const uint8_t poll[] = {0x55, 0x41, 0x57, 0x41, 0x56, 0x41, 0x55, 0x41, 0x54, 0x53,
				       0x48, 0x83, 0xec, 0x48, 0x48, 0x89, 0xf5, 0x49, 0x89, 0xff,
				       0x48, 0x8b, 0x1f, 0x44, 0x8b, 0x6f, 0x30, 0x90};
	static const uint8_t none[] = {0x48, 0x8b, 0x1f, 0xc3, 0x90, 0x90, 0x90, 0x90};
	uint32_t off;

	(void)state;
	assert_int_equal(tokio_permits_offset(poll, sizeof(poll), &off), 0);
	assert_int_equal(off, 0x30);
	assert_int_equal(tokio_permits_offset(none, sizeof(none), &off), -1);
}

/* drop_in_place of an async fn's future: the state byte it reads first */
static void test_async_state_offset(void **state)
{
	/* mov %rdi, %rbx; movzbl 0x41(%rdi), %eax: several awaits, a jump on the state */
	static const uint8_t movzbl[] = {0x41, 0x56, 0x53, 0x50, 0x48, 0x89, 0xfb, 0x0f,
					 0xb6, 0x47, 0x41, 0x83, 0xf8, 0x03, 0x90, 0x90};
	/* cmpb $3, 0x288(%rdi); je: one await */
	static const uint8_t cmpb[] = {0x80, 0xbf, 0x88, 0x02, 0x00, 0x00, 0x03, 0x0f,
				       0x84, 0x00, 0x00, 0x00, 0x00, 0xc3, 0xcc, 0xcc};
	static const uint8_t none[] = {0x48, 0x89, 0xfb, 0xc3, 0x90, 0x90, 0x90, 0x90};
	uint32_t off;

	(void)state;
	assert_int_equal(async_state_offset(movzbl, sizeof(movzbl), &off), 0);
	assert_int_equal(off, 0x41);
	assert_int_equal(async_state_offset(cmpb, sizeof(cmpb), &off), 0);
	assert_int_equal(off, 0x288);
	assert_int_equal(async_state_offset(none, sizeof(none), &off), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drop_shapes),
		cmocka_unit_test(test_async_state_offset),
		cmocka_unit_test(test_permits_offset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
