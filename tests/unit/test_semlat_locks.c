// SPDX-License-Identifier: GPL-2.0
/* Unit tests of tools/semlat/locks.c: a lock's kind from its op and its waiter's frames. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "locks.h"

#include "testutil.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void test_glibc(void **state)
{
	/* outermost first, as the model keeps them */
	static const char *const mutex[] = {"start_thread", "worker", "__pthread_mutex_lock",
					    "__GI___lll_lock_wait"};
	static const char *const cond[] = {"start_thread", "consume", "___pthread_cond_wait",
					   "__pthread_cond_wait_common",
					   "__futex_abstimed_wait_common"};
	/* a condvar wait re-taking its mutex waits on the mutex: the innermost lock frame wins */
	static const char *const cond_mutex[] = {"consume", "___pthread_cond_wait",
						 "__pthread_mutex_cond_lock",
						 "__GI___lll_lock_wait"};
	static const char *const sem[] = {"sem_hold", "__new_sem_wait_slow64",
					  "__futex_abstimed_wait_common"};
	static const char *const rw[] = {"read_locked", "__pthread_rwlock_rdlock_full64",
					 "__futex_abstimed_wait_common"};

	(void)state;
	assert_string_equal(lock_kind(OP_WAIT, mutex, N(mutex)), "mutex");
	assert_string_equal(lock_kind(OP_WAIT_BITSET, cond, N(cond)), "condvar");
	assert_string_equal(lock_kind(OP_WAIT, cond_mutex, N(cond_mutex)), "mutex");
	assert_string_equal(lock_kind(OP_WAIT_BITSET, sem, N(sem)), "semaphore");
	assert_string_equal(lock_kind(OP_WAIT_BITSET, rw, N(rw)), "rwlock");
}

static void test_rust_and_parking_lot(void **state)
{
	static const char *const std_mutex[] = {
		"app::run", "std::sys::sync::mutex::futex::Mutex::lock_contended",
		"std::sys::pal::unix::futex::futex_wait", "syscall"};
	static const char *const std_cond[] = {"app::run",
					       "std::sys::sync::condvar::futex::Condvar::wait",
					       "std::sys::pal::unix::futex::futex_wait", "syscall"};
	static const char *const pl_rw[] = {"app::run",
					    "parking_lot::raw_rwlock::RawRwLock::lock_shared_slow",
					    "parking_lot_core::parking_lot::park", "syscall"};

	(void)state;
	assert_string_equal(lock_kind(OP_WAIT_BITSET, std_mutex, N(std_mutex)), "mutex");
	assert_string_equal(lock_kind(OP_WAIT_BITSET, std_cond, N(std_cond)), "condvar");
	assert_string_equal(lock_kind(OP_WAIT_BITSET, pl_rw, N(pl_rw)), "rwlock");
}

static void test_by_op(void **state)
{
	static const char *const any[] = {"main", "worker", "syscall"};

	(void)state;
	/* the op decides where it says more than the frames */
	assert_string_equal(lock_kind(OP_LOCK_PI, any, N(any)), "pi-mutex");
	assert_string_equal(lock_kind(OP_WAIT_REQUEUE, any, N(any)), "condvar");
	assert_string_equal(lock_kind(OP_SEMOP, any, N(any)), "semaphore");
	/* nothing known: a plain futex, also without any stack */
	assert_string_equal(lock_kind(OP_WAIT, any, N(any)), "futex");
	assert_string_equal(lock_kind(OP_WAITV, NULL, 0), "futex");
}

static void test_lost_names(void **state)
{
	(void)state;
	for (int i = 0; i < SL_LOST_NR; i++) {
		assert_non_null(semlat_lost_name(i));
		for (int j = 0; j < i; j++)
			assert_string_not_equal(semlat_lost_name(i), semlat_lost_name(j));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_glibc),
		cmocka_unit_test(test_rust_and_parking_lot),
		cmocka_unit_test(test_by_op),
		cmocka_unit_test(test_lost_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
