// SPDX-License-Identifier: GPL-2.0
/*
 * offcpu: every off-CPU period of the traced threads, from sched_switch
 * alone, with its stacks and wait reason, aggregated in maps.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "offcpu.h"
#include "period.h"
#define COUNTERS_NR (DROP_NR + CNT_NR)
#include "tracer.h"
#define USTACK_WALKS (DROP_NR + CNT_USTACKS)
#define USTACK_CUT   (DROP_NR + CNT_USTACKS_CUT)
#include "ustack.h"
#include "classify.h"

#define E2BIG 7 /* a full map refuses an insertion so */
/* x86-64's task stack: 16 KiB, 32 KiB with KASAN; interrupt stacks lie elsewhere */
#define THREAD_SIZE	16384
#define THREAD_SIZE_MAX 65536
/* Knobs, set by user space before load. */
const volatile bool user_threads_only = false;
const volatile bool kernel_threads_only = false;
const volatile bool user_stacks = true;
const volatile bool kernel_stacks = true;
const volatile __u64 min_ns = 0;
const volatile __u64 max_ns = ~0ULL;
/* -m/-M given: only whole periods count, not those cut by the trace's start */
const volatile bool whole_only = false;
const volatile bool wakers = false;
/* the whole system: a process's unwind tables are loaded when a thread of it first blocks */
const volatile bool ask_tables = false;

/* set by user space while the task iterator seeds the records of the trace's start */
bool seeding = false;
/* set by user space before it attaches: threads seen running or blocked since then */
__u64 trace_start_ns = 0;
/* the last process image number given: images are numbered across all processes */
__u32 last_image = 0;
/*
 * __sched_text_start/end, __lock_text_start/end: what bpf_get_task_stack()
 * leaves out. Set by user space once attached (kallsyms takes a while to
 * read); until then, and where kallsyms hides them, every kernel walk is a
 * full one at switch-out.
 */
__u64 sched_text[4] = {};
bool task_stacks = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768);
	__type(key, struct thread_key);
	__type(value, struct thread);
} threads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768);
	__type(key, struct period_key);
	__type(value, struct period_val);
} periods SEC(".maps");

/* the periods of each reason, fine-grained: per CPU, so nothing to look up or fill */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, REASON_NR);
	__type(key, __u32);
	__type(value, struct hist_val);
} hists SEC(".maps");

/* kernel stack without the scheduler's frames (hash) -> the same stack walked in full */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u64);
} full_of SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768);
	__type(key, struct wake_key);
	__type(value, struct wake_val);
} wakes SEC(".maps");

/* tgid -> its process image, announced to user space; processes come and go: LRU */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct proc_info);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} notices SEC(".maps");

/* the task iterator's own: it may sleep, and tracepoints then run on its CPU */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stack);
} iter_scratch SEC(".maps");

/* a seeded record is built here and inserted whole: switches on other CPUs see all or none */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct thread);
} seed_rec SEC(".maps");

static const struct thread zero_thread;

/*
 * tp_btf hands us BTF task pointers that can be read directly; raw_tp hands
 * plain integers that need probe reads. One handler serves both: the
 * compiler drops the branch the program type cannot take.
 */
#define TREAD(btf, t, field) ((btf) ? (t)->field : BPF_CORE_READ(t, field))

/*
 * Reads only what the knobs need, rejecting first what rejects most: the
 * cost for the tasks of other processes is what a busy host pays.
 */
static __always_inline bool wanted(struct task_struct *t, bool btf, __u32 *tgidp)
{
	__u32 tgid = TREAD(btf, t, tgid), flags;

	*tgidp = tgid;

	if (n_tgids && !is_target(tgid))
		return false;
	if (!tgid || tgid == self_tgid) /* the idle tasks have tgid 0 */
		return false;
	if (targ_tid && TREAD(btf, t, pid) != targ_tid)
		return false;
	if (!user_threads_only && !kernel_threads_only)
		return true;
	flags = TREAD(btf, t, flags);
	return user_threads_only ? !(flags & PF_KTHREAD) : (flags & PF_KTHREAD);
}

/* One walk into the per-CPU scratch stack: of the current task, or of an inactive one. */
static __always_inline struct stack *scratch_stack(bool iter)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(iter ? (void *)&iter_scratch : (void *)&scratch, &zero);
}

static __always_inline struct stack *walk(void *ctx, struct task_struct *task, __u64 flags,
					  __u32 drop, bool iter)
{
	struct stack *st = scratch_stack(iter);
	long n;

	if (!st)
		return NULL;
	if (task)
		n = bpf_get_task_stack(task, st->ips, sizeof(st->ips), 0);
	else
		n = bpf_get_stack(ctx, st->ips, sizeof(st->ips), flags);
	if (n < 0) {
		count(drop);
		return NULL;
	}
	st->nr = n / sizeof(__u64);
	return st->nr ? st : NULL;
}

static __always_inline __u64 save_stack(void *ctx, __u64 flags, __u32 drop, __u64 last)
{
	struct stack *st = walk(ctx, NULL, flags, drop, false);

	return st ? store_stack(st, hash_stack(st, flags ? USTACK_SEED : KSTACK_SEED), last) : 0;
}

static __always_inline bool in_sched_text(__u64 ip)
{
	return (ip >= sched_text[0] && ip < sched_text[1]) ||
	       (ip >= sched_text[2] && ip < sched_text[3]);
}

/*
 * The hash that bpf_get_task_stack() gives the same kernel stack while the
 * task is off-CPU: it leaves out the scheduler's and the lock code's frames
 * (as /proc/PID/stack does), and our walk at switch-out has the tracer's own
 * frames above them. 0 if the walk holds no scheduler frame.
 */
__noinline __u64 nosched_hash(const struct stack *st)
{
	__u64 h = KSTACK_SEED;
	bool below = false;

	if (!st)
		return 0;

	for (__u32 i = 0; i < MAX_STACK_DEPTH && i < st->nr; i++) {
		if (in_sched_text(st->ips[i]))
			below = true;
		else if (below)
			h = mix(h, st->ips[i]);
	}
	return below ? h | 1 : 0;
}

/*
 * A full kernel walk at switch-out, taught to full_of so that later periods
 * ending in the same place can take the cheaper walk at switch-in.
 */
static __always_inline __u64 full_kstack(void *ctx, __u64 last)
{
	struct stack *st = walk(ctx, NULL, 0, DROP_KSTACK_FAILED, false);
	__u64 full, ns;

	if (!st)
		return 0;
	full = store_stack(st, hash_stack(st, KSTACK_SEED), last);
	ns = task_stacks && full ? nosched_hash(st) : 0;
	if (ns && bpf_map_update_elem(&full_of, &ns, &full, BPF_ANY))
		count(DROP_SCHED_FULL);
	return full;
}

/*
 * The kernel stack of a task about to run again, walked while it is still
 * frozen where it slept: this walk skips the tracer's frames (and the
 * scheduler's, which full_of gives back). Unknown places ask for a full walk
 * the next time the thread blocks.
 */
static __always_inline __u64 resting_kstack(struct task_struct *task, struct thread *t, bool iter)
{
	struct stack *st = walk(NULL, task, 0, DROP_KSTACK_FAILED, iter);
	__u64 ns, *full;

	if (!st)
		return 0;
	ns = hash_stack(st, KSTACK_SEED);
	full = bpf_map_lookup_elem(&full_of, &ns);
	if (full)
		return *full;
	t->flags |= THREAD_WANT_FULL;
	return store_stack(st, ns, t->kstack);
}

/*
 * Kernel threads, and io_uring workers (which carry a copy of the registers
 * of the io_uring_enter that made them, not a syscall of their own): the
 * task state alone.
 */
static __always_inline bool no_syscall_of_own(__u32 flags)
{
	return flags & (PF_KTHREAD | PF_IO_WORKER);
}

/* The address of this program's stack frame, as a number: where on which stack it runs. */
static __always_inline __u64 frame_address(void)
{
	__u64 marker = 0, sp = 0;
	void *here = &marker;

	bpf_probe_read_kernel(&sp, sizeof(sp), &here);
	return sp;
}

#define SITE_SEED 0x517eULL

/*
 * Where a thread blocks, as its user registers say: syscall, first
 * argument, instruction, stack and frame pointers. A thread that blocks
 * where it blocked last time has the same stacks: they are not walked
 * again, but for one period in BLOCK_REWALK, so that a changed path is
 * learned. Walks are most of the cost of a context switch.
 */
static __always_inline __u64 block_site(struct pt_regs *regs)
{
	__u64 h = mix(SITE_SEED, SYSCALL_NR(regs)), ret = 0;

	/* faults strike anywhere in the kernel: no site */
	if (SYSCALL_NR(regs) < 0)
		return 0;
	h = mix(h, PT_REGS_PARM1(regs));
	h = mix(h, PT_REGS_IP(regs));
	h = mix(h, PT_REGS_SP(regs));
	/* the return address in the frame: two callers at the same depth differ there */
	bpf_probe_read_user(&ret, sizeof(ret), (void *)(PT_REGS_FP(regs) + 8));
	h = mix(h, ret);
	return mix(h, PT_REGS_FP(regs)) | 1;
}

/* A stack walked where this period began (key), and not too often reused: take it. */
static __always_inline bool known_site(const struct thread *t, __u64 key, __u64 site, __u64 cached)
{
	return key && key == site && cached && !(t->flags & THREAD_REWALK);
}

static __always_inline bool notify(__u32 tgid, const struct proc_info *pi, bool exec, bool tables)
{
	struct new_proc *np = bpf_ringbuf_reserve(&notices, sizeof(*np), 0);

	if (!np) {
		count(DROP_EVENTS_LOST);
		return false;
	}
	np->tgid = tgid;
	np->exec = exec;
	np->image = pi->image;
	np->tables = tables;
	np->start_ns = pi->start_ns;
	bpf_ringbuf_submit(np, 0);
	return true;
}

/*
 * The whole system is traced and a thread of this process image walked by
 * frame pointers for want of tables: user space is asked for them, once per
 * image (again only if the notice was lost).
 */
static __always_inline void want_tables(const struct thread *t)
{
	struct proc_info *pi;

	if (!ask_tables)
		return;
	pi = bpf_map_lookup_elem(&procs, &t->tgid);
	if (pi && pi->image == t->image && !pi->asked && notify(t->tgid, pi, false, true))
		pi->asked = 1;
}

/* A stack walked by frame pointers for want of tables, whose tables have come since. */
static __always_inline bool tables_came(const struct thread *t, __u32 i)
{
	return cfi_unwind && (t->flags & (THREAD_UFP << i)) && unwind_ready(t->tgid, t->image);
}

/*
 * The user stack where a period begins: walked, or the one walked where it
 * began last time. Blocking and preemption keep one each: a thread that
 * blocks in a read and is preempted as its write returns alternates two.
 */
static __always_inline __u64 user_stack(void *ctx, struct thread *t)
{
	__u32 i = t->reason == REASON_RUNQUEUE;
	bool tables;

	if (known_site(t, t->site, t->usite[i], t->ucache[i]) && !tables_came(t, i))
		return t->ucache[i];
	t->ucache[i] = save_user_stack_of(ctx, t->ustack, t->image, &tables);
	t->usite[i] = t->site;
	t->flags &= ~(THREAD_UFP << i);
	if (cfi_unwind && !tables) {
		t->flags |= THREAD_UFP << i;
		want_tables(t);
	}
	return t->ucache[i];
}

/* A new image of process tgid: numbered, kept, and announced so that user space keeps its maps. */
static __always_inline __u32 new_image(__u32 tgid, struct proc_info *npi, bool exec)
{
	npi->image = __sync_fetch_and_add(&last_image, 1) + 1;
	bpf_map_update_elem(&procs, &tgid, npi, BPF_ANY);
	notify(tgid, npi, exec, false);
	return npi->image;
}

/*
 * The image a new thread record of process tgid runs; a process seen for the
 * first time (or a new one under a reused tgid) is announced, so that user
 * space keeps its maps in time.
 */
static __always_inline __u32 process_image(struct task_struct *task, __u32 tgid)
{
	struct proc_info *pi = bpf_map_lookup_elem(&procs, &tgid), npi = {};

	npi.start_ns = BPF_CORE_READ(task, group_leader, start_time);
	if (pi && pi->start_ns == npi.start_ns)
		return pi->image;
	return new_image(tgid, &npi, false);
}

static __always_inline void init_thread(struct thread *t, struct task_struct *task, __u32 tgid,
					__u32 flags)
{
	t->tgid = tgid;
	t->flags = (flags & PF_KTHREAD) ? THREAD_KERNEL | THREAD_WANT_FULL : THREAD_WANT_FULL;
	if (!(flags & PF_KTHREAD))
		t->image = process_image(task, tgid);
}

/*
 * The thread's record, created if new (*fresh), or afresh if the record's
 * thread has exited and its (tid, tgid) now names another one.
 */
static __always_inline struct thread *get_thread(struct task_struct *task, __u32 pid, __u32 tgid,
						 __u32 flags, bool *fresh)
{
	struct thread_key key = {.pid = pid, .tgid = tgid};
	struct thread *t = lookup_or_init(&threads, &key, &zero_thread, DROP_THREADS_FULL);

	*fresh = t && (!t->tgid || t->end_ts);
	if (!*fresh)
		return t;
	if (t->end_ts) {
		bpf_map_update_elem(&threads, &key, &zero_thread, BPF_EXIST);
		t = bpf_map_lookup_elem(&threads, &key);
		if (!t)
			return NULL;
	}
	init_thread(t, task, tgid, flags);
	t->first_ts = bpf_ktime_get_ns();
	return t;
}

static __always_inline void add_hist(__u32 reason, __u64 delta)
{
	struct hist_val *h = bpf_map_lookup_elem(&hists, &reason);
	__u32 slot = hist_fine_slot(delta / 1000);

	if (!h)
		return;
	/* hide the slot's known range from clang so that the verifier sees the check */
	asm volatile("" : "+r"(slot));
	if (slot < HIST_FINE_SLOTS)
		h->slots[slot]++;
	h->total_ns += delta;
	if (delta > h->max_ns)
		h->max_ns = delta;
}

static __always_inline void period_key_of(struct thread *t, __u32 pid, struct period_key *k)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->tgid = t->tgid;
	k->pid = pid;
	k->ustack = t->ustack;
	k->kstack = t->kstack;
	k->reason = t->reason;
	k->syscall = t->syscall;
	k->image = t->image;
}

static __always_inline void add_period(struct period_key *k, __u64 blocked, __u64 rq)
{
	struct period_val *v = bpf_map_lookup_elem(&periods, k);
	struct period_val nv = {.total_ns = blocked, .count = 1, .max_ns = blocked, .rq_ns = rq};
	/* user/hist.h's log2 slots: floor(log2(us)), 0 and 1 us in slot 0 */
	__u32 slot = blocked >= 1000 ? hist_log2(blocked / 1000) : 0;

	if (slot >= HIST_LOG2_SLOTS)
		slot = HIST_LOG2_SLOTS - 1;
	if (!v) {
		nv.slots[slot] = 1;
		if (!bpf_map_update_elem(&periods, k, &nv, BPF_NOEXIST))
			return;
		v = bpf_map_lookup_elem(&periods, k);
		if (!v) {
			count(DROP_PERIODS_FULL);
			return;
		}
	}
	__sync_fetch_and_add(&v->total_ns, blocked);
	__sync_fetch_and_add(&v->count, 1);
	if (rq)
		__sync_fetch_and_add(&v->rq_ns, rq);
	/* hide the slot's known range from clang so that the verifier sees the check */
	asm volatile("" : "+r"(slot));
	if (slot < HIST_LOG2_SLOTS)
		__sync_fetch_and_add(&v->slots[slot], 1);
	if (blocked > v->max_ns)
		v->max_ns = blocked;
}

static __always_inline void add_wake(struct period_key *k, struct waker *w, __u64 blocked)
{
	struct wake_key wk = {.waiter = *k, .waker = *w};
	struct wake_val init = {}, *v = lookup_or_init(&wakes, &wk, &init, DROP_WAKES_FULL);

	if (!v)
		return;
	__sync_fetch_and_add(&v->total_ns, blocked);
	__sync_fetch_and_add(&v->count, 1);
}

/* -m/-M judge whole periods: one cut by the trace's start is not one */
static __always_inline bool counted(const struct thread *t, __u64 in)
{
	__u64 delta = in - t->off_ts;

	return delta >= min_ns && delta <= max_ns && !((t->flags & THREAD_SEEDED) && whole_only);
}

/*
 * The open off-CPU period ends at in: split at its wakeup, filed under its
 * key. Global: verified once, not at both of its call sites.
 */
__noinline int close_period(struct thread *t, __u32 pid, __u64 in)
{
	__u64 blocked, rq;
	struct period_key k;
	__u16 r;

	if (!t)
		return 0;
	period_split(t->off_ts, t->wake_ts, in, &blocked, &rq);
	if (!counted(t, in))
		goto out;
	r = t->reason < REASON_NR ? t->reason : REASON_OTHER;
	t->offcpu_ns[r] += blocked;
	t->periods[r]++;
	add_hist(r, blocked);
	if (rq) {
		t->offcpu_ns[REASON_RUNQUEUE] += rq;
		t->rq_after_ns[r] += rq;
		add_hist(REASON_RUNQUEUE, rq);
	}
	period_key_of(t, pid, &k);
	add_period(&k, blocked, rq);
	if (t->waker.flags & WAKER_VALID)
		add_wake(&k, &t->waker, blocked);
	count(DROP_NR + CNT_PERIODS);
out:
	t->off_ts = t->wake_ts = t->since_ts = 0;
	t->waker.flags = 0;
	t->flags &= ~THREAD_SEEDED;
	return 0;
}

/*
 * A thread leaves a CPU we did not see it get: some kernels do not report
 * every switch (a hypervisor's agent may switch unseen). Its CPU clock says
 * how long it ran since it last left one: that long ago it came in.
 */
static __always_inline void unseen_switch_in(struct thread *t, __u32 pid, __u64 ran, __u64 now)
{
	__u64 slice = t->ran_ns && ran > t->ran_ns ? ran - t->ran_ns : 0;
	__u64 in = now - slice > t->off_ts ? now - slice : t->off_ts;

	count(DROP_SWITCH_UNSEEN);
	close_period(t, pid, in);
	t->on_ts = in;
}

/* prev leaves the CPU: close its on-CPU period, open an off-CPU one. */
static __always_inline void switch_out(void *ctx, struct task_struct *prev, struct pt_regs *regs,
				       __u32 pid, __u32 tgid, __u32 flags, __u32 state, __u64 now,
				       bool btf)
{
	bool fresh;
	struct thread *t = get_thread(prev, pid, tgid, flags, &fresh);

	if (!t)
		return;
	/* new threads are first seen arriving: one first seen leaving has run since the start */
	if (fresh && trace_start_ns && trace_start_ns < now) {
		__u64 born = prev->start_time;

		t->first_ts = t->on_ts =
			born > trace_start_ns && born < now ? born : trace_start_ns;
	}
	/* threads rename themselves after they start: keep the latest name */
	__builtin_memcpy(t->comm, prev->comm, TASK_COMM_LEN);
	if (!t->on_ts && t->off_ts)
		unseen_switch_in(t, pid, prev->se.sum_exec_runtime, now);
	t->ran_ns = prev->se.sum_exec_runtime;
	if (t->on_ts) {
		t->oncpu_ns += now - t->on_ts;
		t->on_ts = 0;
	}
	if (state & TASK_DEAD) {
		t->end_ts = now;
		/* the last thread of its process: the process's unwind tables' slot is free */
		if (cfi_unwind && !prev->signal->live.counter)
			unwind_forget(tgid);
		return;
	}
	t->flags &= ~(THREAD_KFULL | THREAD_REWALK);
	if (!(++t->blocks % BLOCK_REWALK))
		t->flags |= THREAD_REWALK;
	if (no_syscall_of_own(flags)) {
		t->syscall = NO_SYSCALL;
		t->reason = state_reason(state);
		t->ustack = t->site = t->kkey = 0;
	} else {
		t->reason = classify(prev, regs, state, &t->syscall);
		t->site = block_site(regs);
		t->kkey = t->site ? mix(t->site, frame_address() - (__u64)prev->stack) : 0;
		/* an exiting thread has dropped its memory: nothing to walk, nothing lost */
		t->ustack = user_stacks && prev->mm ? user_stack(ctx, t) : 0;
	}
	if (!kernel_stacks) {
		t->kstack = 0;
	} else if (!btf || !task_stacks || (t->flags & THREAD_WANT_FULL) ||
		   !(bpf_get_prandom_u32() & 63)) {
		/*
		 * A place not seen before: walk it whole now, so that full_of
		 * learns its scheduler frames. Other places now and then anyway,
		 * so that it learns a changed path.
		 */
		t->kstack = full_kstack(ctx, t->kstack);
		t->flags = (t->flags & ~THREAD_WANT_FULL) | THREAD_KFULL;
	} else if (t->reason != REASON_RUNQUEUE && known_site(t, t->kkey, t->ksite, t->kcache)) {
		/*
		 * Where a blocked period began, by user site and depth on the
		 * kernel stack, its kernel path is the one walked last time
		 * there. Settled now, so that a period read while still open
		 * is filed where it will close.
		 */
		t->kstack = t->kcache;
		t->flags |= THREAD_KFULL;
	}
	/* a wakeup or waker left from a period that never closed belongs to none */
	t->wake_ts = t->woken_early && t->reason != REASON_RUNQUEUE ? now : 0;
	t->woken_early = 0;
	t->waker.flags = 0;
	t->off_ts = now;
}

/*
 * next gets the CPU: close its off-CPU period, if we saw it start. The
 * period splits at its wakeup: blocked before, waiting for a CPU after.
 */
static __always_inline void switch_in(struct task_struct *next, __u32 pid, __u32 tgid, __u64 now,
				      bool btf)
{
	struct thread_key key = {.pid = pid, .tgid = tgid};
	struct thread *t = bpf_map_lookup_elem(&threads, &key);
	bool fresh;

	/* a new thread's first slice on a CPU is its own too */
	if (!t)
		t = get_thread(next, pid, tgid, TREAD(btf, next, flags), &fresh);
	if (!t)
		return;
	t->on_ts = now;
	if (!t->off_ts)
		return;
	/* preemption strikes anywhere: its walk is not kept for the next period */
	if (btf && kernel_stacks && !(t->flags & THREAD_KFULL) && counted(t, now)) {
		t->kstack = resting_kstack(next, t, false);
		if (t->reason != REASON_RUNQUEUE) {
			t->kcache = t->kstack;
			t->ksite = t->kkey;
		}
	}
	close_period(t, pid, now);
}

static __always_inline int handle_switch(void *ctx, bool preempt, struct task_struct *prev,
					 struct task_struct *next, __u32 prev_state, bool btf)
{
	__u32 out_tgid, in_tgid;
	bool out = wanted(prev, btf, &out_tgid), in = wanted(next, btf, &in_tgid);
	__u64 now;

	/* most switches on a busy host are not ours: leave before any helper call */
	if (!out && !in)
		return 0;
	now = bpf_ktime_get_ns();
	if (out) {
		/* prev is current: its user registers say which syscall it sleeps in */
		struct task_struct *cur = bpf_get_current_task_btf();
		struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(cur);
		__u32 state = preempt ? TASK_RUNNING : prev_state;

		switch_out(ctx, cur, regs, cur->pid, out_tgid, cur->flags, state, now, btf);
	}
	if (in)
		switch_in(next, TREAD(btf, next, pid), in_tgid, now, btf);
	return 0;
}

/*
 * After exec the process runs a new image: stacks from here on are named by
 * its memory map, which user space takes at the notice (and again while the
 * loader maps libraries); the stacks taken before keep the old one.
 */
static __always_inline int handle_exec(__u32 old_pid)
{
	struct task_struct *cur = bpf_get_current_task_btf();
	struct proc_info npi = {};
	struct thread_key key;
	struct thread *t;
	__u64 now;
	bool fresh;
	__u32 tgid;

	if (!wanted(cur, true, &tgid))
		return 0;
	npi.start_ns = BPF_CORE_READ(cur, group_leader, start_time);
	now = bpf_ktime_get_ns();
	key.pid = old_pid;
	key.tgid = tgid;
	t = old_pid != cur->pid ? bpf_map_lookup_elem(&threads, &key) : NULL;
	if (t) {
		/* a thread that was not the leader exec'ed: it lives on as the leader */
		if (t->on_ts)
			t->oncpu_ns += now - t->on_ts;
		t->on_ts = 0;
		t->end_ts = now;
		key.pid = cur->pid;
		bpf_map_delete_elem(&threads, &key);
	}
	t = get_thread(cur, cur->pid, tgid, cur->flags, &fresh);
	if (!t)
		return 0;
	if (fresh)
		t->first_ts = t->on_ts = now;
	t->image = new_image(tgid, &npi, true);
	/* the new program's places are not the old one's */
	t->usite[0] = t->usite[1] = t->ksite = 0;
	return 0;
}

/*
 * Interrupt context has no waker thread: the current task is whoever was
 * interrupted. Interrupts from kernel mode run on their own stacks on x86-64,
 * so a program whose stack is not the current task's runs in one (those from
 * user mode: irq_from_user). The task's stack runs from task->stack up to
 * its saved user registers, whatever its size (KASAN doubles it). The
 * per-CPU preempt count would say more, but kernels without KALLSYMS_ALL
 * hide its address. Since 6.13 a program whose frame is 64 bytes or more may
 * run on a private stack, where this test fails: sched_waking's frame stays
 * smaller (thread_waker), and one that tail-calls stays off it anyway.
 */
static __always_inline bool on_other_stack(struct task_struct *cur, __u64 sp)
{
	__u64 bottom = (__u64)cur->stack;
	__u64 top = (__u64)bpf_task_pt_regs(cur) + sizeof(struct pt_regs);

	/* idle tasks keep no user registers at their stack's top: the usual size then */
	if (top <= bottom || top - bottom > THREAD_SIZE_MAX)
		top = bottom + THREAD_SIZE;

	return sp < bottom || sp >= top;
}

/*
 * An interrupt that comes while the task runs in user mode stays on the
 * task's stack (x86-64 moves to the interrupt stack from kernel mode only),
 * and its frame is the task's saved user registers. Their orig_ax then holds
 * no syscall number: -1 for the system vectors (the local timer, IPIs), the
 * sign-extended vector of a device interrupt, negative from vector 0x80 on.
 * A device vector below 0x80 looks like a syscall number: that interrupt
 * still passes for the thread it interrupted.
 */
static __always_inline bool irq_from_user(struct task_struct *cur)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(cur);

	return (regs->cs & 3) && (long)regs->orig_ax < 0;
}

/* sp: the address of sched_waking's frame */
static __always_inline bool in_irq_context(struct task_struct *cur, __u64 sp)
{
	return on_other_stack(cur, sp) || irq_from_user(cur);
}

/*
 * A waker thread's user stack by the binaries' tables is walked by a program
 * of its own (waker_walk_*), tail-called from sched_waking_cfi_*: the
 * unwinder's frames stay out of sched_waking's, and its verification too.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} waker_walkers SEC(".maps");

/* What sched_waking hands its walker: whose waker to file, and at which site. */
struct waker_job {
	struct thread_key wakee;
	__u64 site;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct waker_job);
} waker_jobs SEC(".maps");

/* The stacks last walked where a waker thread woke a traced one. */
struct waker_site {
	__u64 ustack, kstack;
	__u32 uses; /* since that walk: every BLOCK_REWALK-th use walks again */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct waker_site);
} waker_sites SEC(".maps");

/*
 * Where a waker thread wakes: in a syscall, as its user registers say
 * (block_site), at a depth on its kernel stack (sp: of sched_waking's
 * frame), in its thread and process image. As for a blocked thread, the same
 * place has the same stacks. 0 (no place: walked each time) outside a
 * syscall.
 */
static __always_inline __u64 waker_site(struct task_struct *cur, const struct waker *w, __u64 sp)
{
	__u64 site;

	if (!cur->mm || no_syscall_of_own(cur->flags))
		return 0;
	site = block_site((struct pt_regs *)bpf_task_pt_regs(cur));
	if (!site)
		return 0;
	site = mix(mix(site, w->pid), w->image);
	return mix(site, sp - (__u64)cur->stack) | 1;
}

/* The stacks walked at site before, unless it is time to walk them again. */
static __always_inline bool site_stacks(__u64 site, struct waker *w)
{
	struct waker_site *ws = site ? bpf_map_lookup_elem(&waker_sites, &site) : NULL;

	if (!ws || !(++ws->uses % BLOCK_REWALK))
		return false;
	w->ustack = ws->ustack;
	w->kstack = ws->kstack;
	return true;
}

static const struct waker_site new_site;

/*
 * The stacks walked at site now. Filled in place: a value built on the stack
 * would grow the frame. A site is one thread's: no other CPU reads it
 * meanwhile.
 */
static __always_inline void remember_site(__u64 site, const struct waker *w)
{
	struct waker_site *ws;

	if (!site)
		return;
	bpf_map_update_elem(&waker_sites, &site, &new_site, BPF_NOEXIST);
	ws = bpf_map_lookup_elem(&waker_sites, &site);
	if (ws) {
		ws->ustack = w->ustack;
		ws->kstack = w->kstack;
		ws->uses = 0;
	}
}

/* The walker's job, if the waker's process has tables: NULL, walk by frame pointers. */
static __always_inline struct waker_job *walker_job(const struct thread_key *wakee,
						    const struct waker *w, __u64 site)
{
	__u32 zero = 0;
	struct waker_job *job = unwind_ready(w->tgid, w->image)
					? bpf_map_lookup_elem(&waker_jobs, &zero)
					: NULL;

	if (job) {
		job->wakee = *wakee;
		job->site = site;
	}
	return job;
}

/*
 * The thread that wakes (in its own context): who it is, and its stacks as
 * walked at the same place before, or walked now. With tables, a user stack
 * of a process that has them is left to the walker: returns 1, the job
 * given. A call of its own, so that sched_waking's frame stays under 64
 * bytes (in_irq_context); its own may move to a private stack: sp is that
 * of sched_waking's frame.
 */
static __noinline int thread_waker(void *ctx, const struct thread_key *wakee, struct waker *w,
				   __u64 sp, bool tables)
{
	struct task_struct *cur = bpf_get_current_task_btf();
	struct proc_info *pi;
	__u64 site;

	w->pid = cur->pid;
	w->tgid = cur->tgid;
	pi = bpf_map_lookup_elem(&procs, &w->tgid);
	w->image = pi ? pi->image : 0;
	__builtin_memcpy(w->comm, cur->comm, TASK_COMM_LEN);
	site = waker_site(cur, w, sp);
	if (site_stacks(site, w))
		return 0;
	w->kstack = kernel_stacks ? save_stack(ctx, 0, DROP_KSTACK_FAILED, w->kstack) : 0;
	/* w->ustack is the last waker's until replaced: a stack walked again is not stored again */
	if (!(user_stacks && cur->mm && !(cur->flags & PF_KTHREAD)))
		w->ustack = 0;
	else if (tables && walker_job(wakee, w, site))
		return 1;
	else
		w->ustack = save_stack(ctx, BPF_F_USER_STACK, DROP_USTACK_FAILED, w->ustack);
	remember_site(site, w);
	return 0;
}

/*
 * The waker's thread and stacks, taken in its own context. tables: a waker
 * thread's user stack goes to the walker (by a tail call, which does not
 * come back) where its process has tables.
 */
static __always_inline void note_waker(void *ctx, const struct thread_key *wakee, struct waker *w,
				       bool tables)
{
	struct task_struct *cur = bpf_get_current_task_btf();
	__u64 sp = frame_address();
	__u32 flags = WAKER_VALID;

	if (in_irq_context(cur, sp)) {
		/* the kernel stack says which interrupt; the interrupted task is no waker */
		flags |= WAKER_IRQ;
		w->pid = w->tgid = w->image = 0;
		w->ustack = 0;
		__builtin_memset(w->comm, 0, sizeof(w->comm));
		w->kstack = kernel_stacks ? save_stack(ctx, 0, DROP_KSTACK_FAILED, w->kstack) : 0;
	} else if (thread_waker(ctx, wakee, w, sp, tables) && tables) {
		bpf_tail_call(ctx, &waker_walkers, 0);
		/* no walker in the slot: by frame pointers, not kept for the site */
		w->ustack = save_stack(ctx, BPF_F_USER_STACK, DROP_USTACK_FAILED, w->ustack);
	}
	/* last: switch-in takes the waker only once it is whole */
	w->flags = flags;
}

/*
 * sched_waking_cfi_*'s tail call, for a waker thread of a process with
 * tables: its user stack by the tables, filed with the rest of the waker that
 * sched_waking took. No interrupt test here: the caller made it.
 */
static __always_inline int walk_waker(void *ctx)
{
	__u32 zero = 0;
	struct waker_job *job = bpf_map_lookup_elem(&waker_jobs, &zero);
	struct thread *t = job ? bpf_map_lookup_elem(&threads, &job->wakee) : NULL;
	bool tables;

	if (!t)
		return 0;
	t->waker.ustack = save_user_stack_of(ctx, t->waker.ustack, t->waker.image, &tables);
	remember_site(job->site, &t->waker);
	/* last, as in note_waker */
	t->waker.flags = WAKER_VALID;
	return 0;
}

/*
 * Still on its run queue: a wakeup that finds it there came before it could
 * sleep, and it stays runnable. Since 6.12 a sleeping task may stay queued a
 * while ("delayed dequeue"): that one is asleep.
 */
static __always_inline bool still_queued(struct task_struct *p, bool btf)
{
	if (!TREAD(btf, p, on_rq))
		return false;
	return !(bpf_core_field_exists(p->se.sched_delayed) && TREAD(btf, p, se.sched_delayed));
}

/* A traced thread is woken: its blocked time ends here, its wait for a CPU begins. */
static __always_inline int handle_waking(void *ctx, struct task_struct *p, bool btf, bool tables)
{
	struct thread_key key;
	struct thread *t;

	if (!wanted(p, btf, &key.tgid))
		return 0;
	key.pid = TREAD(btf, p, pid);
	t = bpf_map_lookup_elem(&threads, &key);
	if (!t)
		return 0;
	if (!t->off_ts) {
		/* a wakeup before it could sleep ends nothing: it never leaves the queue */
		if (still_queued(p, btf))
			return 0;
		/* dequeued on its way to sleep, its switch-out not seen yet: runnable from here */
		t->woken_early = 1;
		count(DROP_NR + CNT_EARLY_WAKES);
		return 0;
	}
	/* a preempted thread is runnable all along: sched_waking fires for it all the same */
	if (t->wake_ts || t->reason == REASON_RUNQUEUE)
		return 0;
	t->wake_ts = bpf_ktime_get_ns();
	count(DROP_NR + CNT_WAKES);
	if (wakers)
		note_waker(ctx, &key, &t->waker, tables);
	return 0;
}

/* How the task iterator walks user stacks. */
enum iter_ustack {
	ITER_NO_USTACK,
	ITER_FP,  /* by frame pointers, as perf does */
	ITER_CFI, /* by the binaries' tables where loaded (needs 6.8+), else frame pointers */
};

/* A sleeping task's user stack, read from its memory. */
static __always_inline __u64 task_ustack(struct task_struct *task, struct pt_regs *regs,
					 __u32 image, enum iter_ustack how)
{
	struct stack *st = scratch_stack(true);
	__u64 fp = PT_REGS_FP(regs), frame[2];
	__u32 n = 1;

	if (!st)
		return 0;
	if (how == ITER_CFI && unwind_task(task, regs, task->tgid, image, st))
		return st->nr ? store_stack(st, hash_stack(st, USTACK_SEED), 0) : 0;
	st->ips[0] = PT_REGS_IP(regs);
	for (__u32 i = 1; i < MAX_STACK_DEPTH; i++) {
		if (!fp || bpf_copy_from_user_task(frame, sizeof(frame), (void *)fp, task, 0))
			break;
		if (!frame[1] || n >= MAX_STACK_DEPTH)
			break;
		st->ips[n++] = frame[1];
		if (frame[0] <= fp) /* stacks grow down: the caller's frame is above */
			break;
		fp = frame[0];
	}
	st->nr = n;
	return store_stack(st, hash_stack(st, USTACK_SEED), 0);
}

/*
 * When a task last got a CPU, on the monotonic clock. sched_info keeps it on
 * the scheduler's clock; the iterating task (us) got its CPU a moment ago on
 * that same clock, which relates the two without the run queues' address.
 */
static __always_inline __u64 last_ran(struct task_struct *task, __u64 now)
{
	struct task_struct *cur = bpf_get_current_task_btf();
	__u64 ours = cur->sched_info.last_arrival, theirs = task->sched_info.last_arrival;
	__u64 ago = ours > theirs ? ours - theirs : 0;

	return theirs && ours && ago < now ? now - ago : 0;
}

static __always_inline void snap_blocked(struct task_struct *task, struct task_snap *s, __u64 now,
					 enum iter_ustack user)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	__u32 state = task->__state;
	struct thread fake = {};
	__u16 sc = NO_SYSCALL;

	s->state = SNAP_BLOCKED;
	s->since_ns = last_ran(task, now);
	if (no_syscall_of_own(task->flags)) {
		s->reason = state_reason(state);
	} else {
		s->reason = classify(task, regs, state, &sc);
		if (user != ITER_NO_USTACK && user_stacks && task->mm)
			s->ustack = task_ustack(task, regs, s->image, user);
	}
	s->syscall = sc;
	if (kernel_stacks)
		s->kstack = resting_kstack(task, &fake, true);
}

/* On a run queue and not asleep: runnable, or preempted before it could sleep. */
static __always_inline bool waiting_for_cpu(struct task_struct *task)
{
	return task->__state == TASK_RUNNING || still_queued(task, true);
}

/*
 * The record of a thread not yet seen switching starts at the trace's start,
 * in the state the iterator found. It is built aside and inserted whole
 * (this program may sleep, and the thread may switch meanwhile): a record
 * made by a switch first is right and stays.
 */
static __always_inline void seed_thread(struct task_struct *task, const struct task_snap *s,
					__u64 now)
{
	struct thread_key key = {.pid = s->pid, .tgid = s->tgid};
	__u32 zero = 0;
	struct thread *t;

	if (bpf_map_lookup_elem(&threads, &key))
		return;
	t = bpf_map_lookup_elem(&seed_rec, &zero);
	if (!t)
		return;
	__builtin_memset(t, 0, sizeof(*t));
	init_thread(t, task, s->tgid, task->flags);
	t->first_ts = trace_start_ns && trace_start_ns < now ? trace_start_ns : now;
	t->ran_ns = task->se.sum_exec_runtime;
	__builtin_memcpy(t->comm, s->comm, TASK_COMM_LEN);
	if (s->state == SNAP_RUNNING) {
		t->on_ts = t->first_ts;
	} else {
		t->reason = s->reason;
		t->syscall = s->syscall;
		t->ustack = s->ustack;
		t->kstack = s->kstack;
		t->flags |= THREAD_KFULL | THREAD_SEEDED;
		t->since_ts = s->since_ns;
		t->off_ts = t->first_ts;
	}
	if (bpf_map_update_elem(&threads, &key, t, BPF_NOEXIST) == -E2BIG)
		count(DROP_THREADS_FULL);
}

/*
 * A target thread as it is now; while seeding, its record starts at the
 * trace's start too. Exited tasks (zombies) wait for nothing: left out.
 */
static __always_inline void snap_task(struct seq_file *seq, struct task_struct *task,
				      enum iter_ustack user)
{
	struct task_snap s = {.syscall = NO_SYSCALL};
	__u64 now = bpf_ktime_get_ns();
	struct thread fake = {};
	struct proc_info *pi;

	if (!wanted(task, true, &s.tgid) || task->exit_state || (task->__state & TASK_DEAD))
		return;
	s.pid = task->pid;
	pi = bpf_map_lookup_elem(&procs, &s.tgid);
	s.image = pi ? pi->image : 0;
	s.flags = (task->flags & PF_KTHREAD) ? THREAD_KERNEL : 0;
	__builtin_memcpy(s.comm, task->comm, TASK_COMM_LEN);
	if (task->on_cpu) {
		s.state = SNAP_RUNNING;
	} else if (waiting_for_cpu(task)) {
		s.state = SNAP_RUNNABLE;
		s.reason = REASON_RUNQUEUE;
		if (kernel_stacks)
			s.kstack = resting_kstack(task, &fake, true);
	} else {
		snap_blocked(task, &s, now, user);
	}
	bpf_seq_write(seq, &s, sizeof(s));
	if (seeding)
		seed_thread(task, &s, now);
}

/* With user stacks by the binaries' tables: a trusted task handed to the unwinder (6.8+). */
SEC("iter.s/task")
int snap_tasks_cfi(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;

	if (task)
		snap_task(ctx->meta->seq, task, ITER_CFI);
	return 0;
}

/* With user stacks: reading another task's memory needs a sleepable program (5.18+). */
SEC("iter.s/task")
int snap_tasks_user(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;

	if (task)
		snap_task(ctx->meta->seq, task, ITER_FP);
	return 0;
}

SEC("iter/task")
int snap_tasks(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;

	if (task)
		snap_task(ctx->meta->seq, task, ITER_NO_USTACK);
	return 0;
}

SEC("tp_btf/sched_waking")
int BPF_PROG(sched_waking_btf, struct task_struct *p)
{
	return handle_waking(ctx, p, true, false);
}

SEC("raw_tp/sched_waking")
int BPF_PROG(sched_waking_raw, struct task_struct *p)
{
	return handle_waking(ctx, p, false, false);
}

/*
 * --wakers with tables: tail-calls waker_walk_*. Programs of their own, so that where the tail
 * call is refused the two above still load.
 */
SEC("tp_btf/sched_waking")
int BPF_PROG(sched_waking_cfi_btf, struct task_struct *p)
{
	return handle_waking(ctx, p, true, true);
}

SEC("raw_tp/sched_waking")
int BPF_PROG(sched_waking_cfi_raw, struct task_struct *p)
{
	return handle_waking(ctx, p, false, true);
}

/* Never attached: the tail calls' targets (of the caller's program type and tracepoint). */
SEC("tp_btf/sched_waking")
int BPF_PROG(waker_walk_btf)
{
	return walk_waker(ctx);
}

SEC("raw_tp/sched_waking")
int BPF_PROG(waker_walk_raw)
{
	return walk_waker(ctx);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(sched_exec_btf, struct task_struct *p, pid_t old_pid)
{
	return handle_exec(old_pid);
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(sched_exec_raw, struct task_struct *p, pid_t old_pid)
{
	return handle_exec(old_pid);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch_btf, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	/* the frozen knob prunes the fourth argument's read where the kernel has none */
	__u32 state = has_prev_state ? (__u32)ctx[3] : prev->__state;

	return handle_switch(ctx, preempt, prev, next, state, true);
}

SEC("raw_tp/sched_switch")
int BPF_PROG(sched_switch_raw, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 state = has_prev_state ? (__u32)ctx[3] : BPF_CORE_READ(prev, __state);

	return handle_switch(ctx, preempt, prev, next, state, false);
}

char LICENSE[] SEC("license") = "GPL";
