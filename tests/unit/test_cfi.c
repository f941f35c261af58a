// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of user/cfi.c on this machine's glibc (built without frame
 * pointers): the table is sorted and compact, and at every function's first
 * instruction the rule is the x86-64 ABI's (CFA = rsp + 8: only the return
 * address is on the stack).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfi.h"

#include "testutil.h"

struct lib {
	const char *path;
	uintptr_t bias;
};

static int find_libc(struct dl_phdr_info *info, size_t size, void *data)
{
	struct lib *l = data;

	(void)size;
	if (strstr(info->dlpi_name, "/libc.so")) {
		l->path = info->dlpi_name;
		l->bias = info->dlpi_addr;
		return 1;
	}
	return 0;
}

static struct lib libc_of_this_process(void)
{
	struct lib l = {0};

	dl_iterate_phdr(find_libc, &l);
	assert_non_null(l.path);
	return l;
}

static void build(const char *path, struct cfi_table *t)
{
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(cfi_table_build(fd, t), 0);
	close(fd);
}

static void test_sorted_and_compact(void **state)
{
	struct lib l = libc_of_this_process();
	struct cfi_table t;
	size_t plt = 0;

	(void)state;
	build(l.path, &t);
	assert_true(t.n > 1000);
	for (size_t i = 1; i < t.n; i++) {
		const struct cfi_row *a = &t.rows[i - 1], *b = &t.rows[i];

		if (a->pc >= b->pc)
			fail_msg("rows %zu and %zu out of order: %#x, %#x", i - 1, i, a->pc, b->pc);
		if (a->cfa == b->cfa && a->cfa_off == b->cfa_off && a->rbp == b->rbp &&
		    a->rbp_off == b->rbp_off)
			fail_msg("rows %zu and %zu have the same rule", i - 1, i);
		plt += b->cfa == CFA_PLT;
	}
	/* glibc calls through its PLT: its rule is an expression of rip */
	assert_true(plt >= 1);
	cfi_table_free(&t);
}

static void test_function_entries(void **state)
{
	static const char *const names[] = {"pthread_mutex_lock",
					    "pthread_cond_wait",
					    "sem_wait",
					    "nanosleep",
					    "read",
					    "fopen",
					    "malloc",
					    "qsort"};
	struct lib l = libc_of_this_process();
	struct cfi_table t;

	(void)state;
	build(l.path, &t);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		void *addr = dlsym(RTLD_DEFAULT, names[i]);
		const struct cfi_row *r;

		assert_non_null(addr);
		r = cfi_table_find(&t, (uintptr_t)addr - l.bias);
		if (!r || r->cfa != CFA_RSP || r->cfa_off != 8)
			fail_msg("%s: at its entry the rule is %d%+d, want rsp+8", names[i],
				 r ? r->cfa : -1, r ? r->cfa_off : 0);
	}
	if (t.rows[0].pc > 0)
		assert_null(cfi_table_find(&t, t.rows[0].pc - 1));
	cfi_table_free(&t);
}

static void test_not_elf(void **state)
{
	struct cfi_table t;
	int fd = open("/proc/self/status", O_RDONLY);

	(void)state;
	assert_true(fd >= 0);
	assert_true(cfi_table_build(fd, &t) < 0);
	assert_int_equal(t.n, 0);
	assert_null(t.rows);
	assert_true(cfi_fde_count(fd) < 0);
	close(fd);
}

static void test_vaddr_and_count(void **state)
{
	struct lib l = libc_of_this_process();
	uint64_t vaddr = 1;
	int fd = open(l.path, O_RDONLY);
	struct cfi_table t;

	(void)state;
	assert_true(fd >= 0);
	/* glibc's first load segment maps the file's start at address 0 */
	assert_int_equal(cfi_vaddr_of(fd, 0, &vaddr), 0);
	assert_int_equal(vaddr, 0);
	assert_int_equal(cfi_vaddr_of(fd, 1ULL << 40, &vaddr), -ENOENT);
	assert_true(cfi_fde_count(fd) > 1000);
	assert_int_equal(cfi_table_build(fd, &t), 0);
	/* every function has one row or more */
	assert_true(t.n >= (size_t)cfi_fde_count(fd));
	cfi_table_free(&t);
	close(fd);
}

/* Built a few functions at a time (offcpu on the whole system), the table is the same. */
static void test_built_in_steps(void **state)
{
	struct lib l = libc_of_this_process();
	int err, steps = 0, fd = open(l.path, O_RDONLY);
	struct cfi_table whole, stepped;
	struct cfi_build *b;
	size_t left;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(cfi_table_build(fd, &whole), 0);
	b = cfi_build_begin(fd, &err);
	assert_non_null(b);
	left = cfi_build_left(b);
	assert_int_equal(left, cfi_fde_count(fd));
	while ((err = cfi_build_step(b, 100)) > 0) {
		assert_true(cfi_build_left(b) == left - 100);
		left = cfi_build_left(b);
		steps++;
	}
	assert_int_equal(err, 0);
	assert_int_equal(cfi_build_left(b), 0);
	assert_true(steps > 10);
	cfi_build_end(b, &stepped);
	assert_int_equal(stepped.n, whole.n);
	assert_memory_equal(stepped.rows, whole.rows, whole.n * sizeof(*whole.rows));
	cfi_table_free(&whole);
	cfi_table_free(&stepped);
	/* not ELF: no builder, the error cfi_table_build gives */
	close(fd);
	fd = open("/proc/self/status", O_RDONLY);
	assert_null(cfi_build_begin(fd, &err));
	assert_true(err < 0);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sorted_and_compact),
		cmocka_unit_test(test_function_entries),
		cmocka_unit_test(test_not_elf),
		cmocka_unit_test(test_vaddr_and_count),
		cmocka_unit_test(test_built_in_steps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
