// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of user/offcpu_views.c: actors add up their stacks and threads,
 * off-wake folded lines have the waiter, "--", the waker reversed and its
 * name, and the stuck view lists the longest wait first.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "views.h"
#include "testutil.h"

static const char *lock_frames[] = {"start_thread", "dispatch_loop", "pthread_mutex_lock",
				    "futex_wait_[k]"};
static const char *poll_frames[] = {"start_thread", "event_loop", "epoll_wait"};

static void add_thread(struct profile *p, int tid, const char *comm, uint64_t oncpu)
{
	struct pthread *t = &p->threads[p->nthreads++];

	memset(t, 0, sizeof(*t));
	t->tid = tid;
	t->pid = 100;
	snprintf(t->comm, COMM_LEN, "%s", comm);
	t->oncpu_ns = oncpu;
}

static struct pstack *add_stack(struct profile *p, int tid, const char *comm, int reason,
				const char **frames, int n, uint64_t total, uint64_t rq)
{
	struct pstack *s = &p->stacks[p->nstacks++];

	memset(s, 0, sizeof(*s));
	s->tid = tid;
	s->pid = 100;
	snprintf(s->comm, COMM_LEN, "%s", comm);
	s->reason = reason;
	s->syscall = -1;
	s->frames = frames;
	s->nframes = n;
	s->total_ns = s->max_ns = total;
	s->count = 1;
	s->rq_ns = rq;
	s->log2[hist_slot(total / 1000)] = 1;
	return s;
}

static void setup(struct profile *p, struct pthread *threads, struct pstack *stacks)
{
	memset(p, 0, sizeof(*p));
	p->threads = threads;
	p->stacks = stacks;
	add_thread(p, 11, "dispatcher-1", 5000);
	add_thread(p, 12, "dispatcher-2", 7000);
	add_thread(p, 13, "io", 1000);
	/* by time, as profile_finish leaves them */
	add_stack(p, 11, "dispatcher-1", REASON_LOCK, lock_frames, 4, 3000000, 1000);
	add_stack(p, 12, "dispatcher-2", REASON_POLL, poll_frames, 3, 2000000, 0);
	add_stack(p, 13, "io", REASON_LOCK, lock_frames, 4, 1000000, 500);
}

static struct pactor *actor(struct pactor *a, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(a[i].name, name))
			return &a[i];
	fail_msg("no actor %s", name);
	return NULL;
}

static void test_actors_by_thread_name(void **state)
{
	struct pthread threads[3];
	struct pstack stacks[3];
	struct profile p;
	struct pactor *a, *d;
	size_t n;

	(void)state;
	setup(&p, threads, stacks);
	views_assign_actors(&p, NULL);
	a = views_actors(&p, &n);
	assert_int_equal(n, 2);
	d = actor(a, n, "dispatcher-*");
	assert_ptr_equal(d, &a[0]); /* the most off-CPU time first */
	assert_int_equal(d->nthreads, 2);
	assert_int_equal(d->oncpu_ns, 12000);
	assert_int_equal(d->reason_ns[REASON_LOCK], 3000000);
	assert_int_equal(d->reason_ns[REASON_POLL], 2000000);
	assert_int_equal(d->reason_ns[REASON_RUNQUEUE], 1000);
	assert_int_equal(d->hist.count, 2);
	assert_int_equal(d->nstacks, 2);
	assert_int_equal(d->stacks[0], 0);
	assert_int_equal(d->stacks[1], 1);
	views_actors_free(a, n);
}

static void test_actors_by_frame_rule(void **state)
{
	struct actor_rules r = {0};
	struct pthread threads[3];
	struct pstack stacks[3];
	struct profile p;
	struct pactor *a, *locks, *d;
	char err[128];
	size_t n;

	(void)state;
	setup(&p, threads, stacks);
	assert_int_equal(actor_rules_add(&r, "locking=sym:pthread_mutex_*", err, sizeof(err)), 0);
	views_assign_actors(&p, &r);
	a = views_actors(&p, &n);
	locks = actor(a, n, "locking");
	/* both lock stacks, of two threads; on-CPU time stays with the threads' own actors */
	assert_int_equal(locks->reason_ns[REASON_LOCK], 4000000);
	assert_int_equal(locks->reason_ns[REASON_RUNQUEUE], 1500);
	assert_int_equal(locks->nthreads, 0);
	assert_int_equal(locks->oncpu_ns, 0);
	d = actor(a, n, "dispatcher-*");
	assert_int_equal(d->reason_ns[REASON_LOCK], 0);
	assert_int_equal(d->reason_ns[REASON_POLL], 2000000);
	assert_int_equal(d->oncpu_ns, 12000);
	assert_string_equal(p.stacks[0].actor, "locking");
	assert_string_equal(p.threads[0].actor, "dispatcher-*");
	views_actors_free(a, n);
	actor_rules_free(&r);
}

static void test_offwake_folded(void **state)
{
	static const char *wk[] = {"start_thread", "feeder", "write", "pipe_write_[k]"};
	static const char *irq[] = {"asm_sysvec_apic_timer_interrupt", "hrtimer_wakeup"};
	struct pthread threads[3];
	struct pstack stacks[3];
	struct pwaker w[2] = {
		{.pid = 100,
		 .tid = 14,
		 .comm = "feeder",
		 .context = WAKE_THREAD,
		 .frames = wk,
		 .nframes = 4,
		 .nkernel = 1,
		 .total_ns = 2500000,
		 .count = 3},
		{.context = WAKE_HARDIRQ,
		 .frames = irq,
		 .nframes = 2,
		 .nkernel = 2,
		 .total_ns = 500000,
		 .count = 1},
	};
	struct profile p;
	struct cap c;
	char *out;

	(void)state;
	setup(&p, threads, stacks);
	p.stacks[0].wakers = w;
	p.stacks[0].nwakers = 2;
	cap_open(&c);
	views_offwake_folded(c.f, &p);
	out = cap_close(&c);
	assert_string_equal(
		out, "dispatcher-1;start_thread;dispatch_loop;pthread_mutex_lock;"
		     "futex_wait_[k];--;pipe_write_[k];write;feeder;start_thread;feeder "
		     "2500\n"
		     /* blocked time no waker was seen for stays, said so; the biggest first */
		     "dispatcher-2;start_thread;event_loop;epoll_wait;--;[no waker seen] 2000\n"
		     "io;start_thread;dispatch_loop;pthread_mutex_lock;futex_wait_[k];--;"
		     "[no waker seen] 1000\n"
		     "dispatcher-1;start_thread;dispatch_loop;pthread_mutex_lock;"
		     "futex_wait_[k];--;hrtimer_wakeup;asm_sysvec_apic_timer_interrupt;"
		     "[hardirq] 500\n");
	free(out);
}

static void test_stuck_longest_first(void **state)
{
	static const char *fr[] = {"main", "lock_both", "futex_wait"};
	struct pstuck st[3] = {
		{.tid = 1,
		 .comm = "a",
		 .reason = REASON_LOCK,
		 .syscall = -1,
		 .since_ns = 9000000000,
		 .since_exact = true,
		 .frames = fr,
		 .nframes = 3,
		 .nkernel = 1},
		{.tid = 2,
		 .comm = "b",
		 .reason = REASON_NET,
		 .syscall = -1,
		 .since_ns = 0,
		 .frames = fr,
		 .nframes = 3,
		 .nkernel = 1},
		{.tid = 3,
		 .comm = "c",
		 .reason = REASON_LOCK,
		 .syscall = -1,
		 .since_ns = 5000000000,
		 .frames = fr,
		 .nframes = 3,
		 .nkernel = 1},
	};
	struct profile p = {.stuck = st, .nstuck = 3, .end_ns = 10000000000};
	struct cap c;
	char *out, *a, *b, *u;

	(void)state;
	cap_open(&c);
	profile_sort_stuck(&p);
	views_stuck_text(c.f, &p, 0);
	out = cap_close(&c);
	/* the longest first; an estimate says "~"; unknown ("?") last */
	a = strstr(out, "\n~5.00 s lock - c [3]");
	b = strstr(out, "\n1.00 s lock - a [1]");
	u = strstr(out, "\n? net - b [2]");
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(u);
	assert_true(a < b && b < u);
	assert_non_null(strstr(b, "    futex_wait\n    --\n    lock_both\n    main\n"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_actors_by_thread_name),
		cmocka_unit_test(test_actors_by_frame_rule),
		cmocka_unit_test(test_offwake_folded),
		cmocka_unit_test(test_stuck_longest_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
