// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of user/idle.c: which blocked stacks are workers parked waiting for work, on the
 * stacks offcpu printed for a tokio release build, glibc, Go and kernel threads.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "idle.h"
#include "reasons.h"

#define NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

static bool user_idle(const struct idle_rules *r, int reason, const char *const *frames, int n)
{
	return idle_stack(r, reason, false, frames, n, 0);
}

/* tokio's worker parked in Parker::park, seen in a release build (outermost first) */
static const char *const tokio_park[] = {
	"__clone3",
	"start_thread",
	"tokio::runtime::scheduler::multi_thread::worker::Context::run",
	"tokio::runtime::scheduler::multi_thread::worker::Context::park_timeout",
	"<tokio::runtime::scheduler::multi_thread::park::Parker>::park",
	"<std::sys::sync::condvar::futex::Condvar>::wait",
	"syscall",
};

/* the same worker blocked on tokio's timer mutex inside a task: a real lock wait */
static const char *const tokio_task_lock[] = {
	"start_thread",
	"tokio::runtime::scheduler::multi_thread::worker::Context::park_timeout",
	"tokio::runtime::scheduler::multi_thread::park::Parker::park",
	"tokio::runtime::time::Driver::park_internal",
	"tokio::runtime::time::<impl tokio::runtime::time::handle::Handle>::process_at_time",
	"<std::sys::sync::mutex::futex::Mutex>::lock_contended",
	"syscall",
};

static void test_tokio(void **state)
{
	(void)state;
	assert_true(user_idle(NULL, REASON_LOCK, tokio_park, NELEM(tokio_park)));
	assert_false(user_idle(NULL, REASON_LOCK, tokio_task_lock, NELEM(tokio_task_lock)));
	/* the worker holding the I/O driver waits in epoll_wait: that stays poll */
	assert_false(user_idle(NULL, REASON_POLL, tokio_park, NELEM(tokio_park) - 2));
	/* runqueue time is wanting a CPU, never idle */
	assert_false(user_idle(NULL, REASON_RUNQUEUE, tokio_park, NELEM(tokio_park)));
}

static void test_block_on_and_blocking_pool(void **state)
{
	static const char *const block_on[] = {
		"main",
		"tokio::runtime::park::CachedParkThread::block_on",
		"tokio::runtime::park::Inner::park",
		"<std::sys::sync::condvar::futex::Condvar>::wait",
		"syscall",
	};
	static const char *const pool_idle[] = {
		"start_thread",
		"tokio::runtime::blocking::pool::Inner::run",
		"<std::sys::sync::condvar::futex::Condvar>::wait_timeout",
		"syscall",
	};
	static const char *const pool_task[] = {
		"start_thread",
		"tokio::runtime::blocking::pool::Inner::run",
		"tokio::runtime::task::harness::Harness<T,S>::poll",
		"tokiosvc::blocker",
		"<std::sys::sync::mutex::futex::Mutex>::lock_contended",
		"syscall",
	};

	(void)state;
	assert_true(user_idle(NULL, REASON_LOCK, block_on, NELEM(block_on)));
	assert_true(user_idle(NULL, REASON_LOCK, pool_idle, NELEM(pool_idle)));
	assert_false(user_idle(NULL, REASON_LOCK, pool_task, NELEM(pool_task)));
}

static void test_glibc_and_go(void **state)
{
	static const char *const mutex[] = {"start_thread", "mutex_thread", "mutex_wait",
					    "__pthread_mutex_lock", "__lll_lock_wait"};
	static const char *const condvar[] = {"start_thread",
					      "worker_main",
					      "queue_pop",
					      "___pthread_cond_wait",
					      "__pthread_cond_wait_common",
					      "__futex_abstimed_wait_common"};
	static const char *const go_idle[] = {
		"runtime.mstart", "runtime.schedule",  "runtime.findRunnable", "runtime.stopm",
		"runtime.mPark",  "runtime.notesleep", "runtime.futexsleep",   "runtime.futex"};
	struct idle_rules r = {0};
	char err[128];

	(void)state;
	assert_false(user_idle(NULL, REASON_LOCK, mutex, NELEM(mutex)));
	assert_false(user_idle(NULL, REASON_LOCK, condvar, NELEM(condvar)));
	assert_true(user_idle(NULL, REASON_LOCK, go_idle, NELEM(go_idle)));
	/* a pool of one's own: its waiting function, found above glibc's condvar */
	assert_int_equal(idle_rules_add(&r, "sym:queue_pop", err, sizeof(err)), 0);
	assert_true(user_idle(&r, REASON_LOCK, condvar, NELEM(condvar)));
	assert_false(user_idle(&r, REASON_LOCK, mutex, NELEM(mutex)));
	/* users' rules judge any blocked reason */
	assert_true(user_idle(&r, REASON_PIPE, condvar, NELEM(condvar) - 2));
	idle_rules_free(&r);
}

static void test_kernel_threads(void **state)
{
	/* user frames (none), then kernel frames outermost first */
	static const char *const kworker[] = {"ret_from_fork", "kthread", "worker_thread",
					      "schedule", "__schedule"};
	static const char *const kworker_busy[] = {
		"ret_from_fork",  "kthread",	"worker_thread", "process_one_work",
		"flush_to_ldisc", "mutex_lock", "schedule",	 "__schedule"};
	static const char *const ksoftirqd[] = {"ret_from_fork", "kthread", "smpboot_thread_fn",
						"[scheduler]"};

	(void)state;
	assert_true(idle_stack(NULL, REASON_OTHER, true, kworker, NELEM(kworker), NELEM(kworker)));
	assert_false(idle_stack(NULL, REASON_DISK, true, kworker_busy, NELEM(kworker_busy),
				NELEM(kworker_busy)));
	assert_true(idle_stack(NULL, REASON_OTHER, true, ksoftirqd, NELEM(ksoftirqd),
			       NELEM(ksoftirqd)));
	/* a user thread's kernel frames say nothing of idle */
	assert_false(idle_stack(NULL, REASON_LOCK, false, kworker, NELEM(kworker), NELEM(kworker)));
}

static void test_rules(void **state)
{
	struct idle_rules r = {0};
	char err[128] = "";

	(void)state;
	assert_int_equal(idle_rules_add(&r, " sym: my_pool::wait* ", err, sizeof(err)), 0);
	assert_string_equal(r.globs[0], "my_pool::wait*");
	assert_int_equal(idle_rules_add(&r, "my_pool::wait", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "bad idle rule 'my_pool::wait': expected sym:GLOB");
	assert_int_equal(idle_rules_add(&r, "sym:", err, sizeof(err)), -EINVAL);
	assert_int_equal(r.n, 1);
	idle_rules_free(&r);
	assert_int_equal(r.n, 0);
}

static void test_frame_glob_match(void **state)
{
	(void)state;
	assert_true(frame_glob_match("a::B::park", "<a::B>::park"));
	assert_true(frame_glob_match("a::B<T>::f", "<a::B<T>>::f"));
	assert_true(frame_glob_match("queue_pop", "queue_pop (pool.c:42)"));
	assert_true(frame_glob_match("a::B::park", "<a::B>::park (park.rs:7)"));
	assert_false(frame_glob_match("a::B::park", "<a::B>::park_timeout"));
	assert_true(frame_glob_match("\\[unknown]", "[unknown]"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tokio),
		cmocka_unit_test(test_block_on_and_blocking_pool),
		cmocka_unit_test(test_glibc_and_go),
		cmocka_unit_test(test_kernel_threads),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_frame_glob_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
