// SPDX-License-Identifier: GPL-2.0
/*
 * semlat: user-space lock and semaphore contention from the futex (and SysV
 * semop) system calls. Only calls that can block are traced, and glibc,
 * Rust std and parking_lot make them only when a lock is contended: an
 * uncontended lock costs nothing. A wait runs from the call's entry to its
 * exit; the wakeup in between (sched_waking, in the releaser's own context)
 * splits it into blocked and runqueue time and names who released it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "semlat.h"

#define COUNTERS_NR (DROP_NR + CNT_NR)
#include "tracer.h"
#define USTACK_WALKS (DROP_NR + CNT_USTACKS)
#define USTACK_CUT   (DROP_NR + CNT_USTACKS_CUT)
#include "ustack.h"
#include "classify.h"
#include "period.h"

#define FUTEX_WAIT	      0
#define FUTEX_LOCK_PI	      6
#define FUTEX_WAIT_BITSET     9
#define FUTEX_WAIT_REQUEUE_PI 11
#define FUTEX_LOCK_PI2	      13
#define FUTEX_CMD_MASK	      127 /* without FUTEX_PRIVATE_FLAG and FUTEX_CLOCK_REALTIME */

#define EINTR	       4
#define EAGAIN	       11
#define ETIMEDOUT      110
#define ERESTARTSYS    512
#define ERESTART_BLOCK 516

/* A call that can block, from its entry on. */
struct pending {
	struct lock_key lock;
	__u64 enter_ns, wake_ns;
	__u64 ustack, wstack;
	__u32 wpid, wtgid;
	char wcomm[TASK_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct pending);
} pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, struct lock_key);
	__type(value, struct lock_val);
} locks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct edge_key);
	__type(value, struct edge_val);
} edges SEC(".maps");

static const struct lock_val zero_lock;

/*
 * The report's window, set by user space once every probe is attached and again as it stops:
 * waits and calls count when they begin and end inside it, as the workloads time theirs.
 */
__u64 window_start_ns = ~0ULL;
__u64 window_end_ns = ~0ULL;

static __always_inline bool in_window(__u64 now)
{
	return now >= window_start_ns && now <= window_end_ns;
}

/* -i: the interval now; user space moves it on, then reads and drops the one before */
__u16 interval_gen = 0;

/* -m: waits and holds shorter than this are left out (counted in CNT_SHORT) */
const volatile __u64 min_ns = 0;

/* --symbol: the functions' uprobes and sched_switch run only then */
const volatile bool symbols = false;

#define MAX_NEST 4 /* distinct traced functions open at once on one thread */

/* An outermost call of a traced function on this thread, and its off-CPU time so far. */
struct call_frame {
	__u64 enter_ns;
	__u64 off_ns[REASON_NR];
	__u64 locks_ns;
	__u32 sym, depth; /* depth: recursive calls count once, at the outermost */
};

struct call {
	struct call_frame f[MAX_NEST];
	__u64 off_ns, wake_ns; /* the thread's open off-CPU period, 0 while it runs */
	__u32 n;
	__u16 reason;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct call);
} calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * MAX_SYMBOLS); /* SYM_SLOT() */
	__type(key, __u32);
	__type(value, struct sym_val);
} sym_stats SEC(".maps");

/* calls of each symbol in progress now, over intervals */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_SYMBOLS);
	__type(key, __u32);
	__type(value, __s64);
} sym_inside SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct sym_lock_key);
	__type(value, __u64);
} sym_locks SEC(".maps");

static const struct call zero_call;

/* A function's time waiting on a lock, in this interval; NULL (counted) if the table is full. */
static __always_inline __u64 *sym_lock_ns(__u32 sym, const struct lock_key *lock)
{
	struct sym_lock_key k = {.sym = sym, .lock = *lock};

	k.lock.gen = interval_gen;
	return lookup_or_init(&sym_locks, &k, &(__u64){0}, DROP_SYMLOCKS_FULL);
}

static __always_inline bool wanted(__u32 pid, __u32 tgid)
{
	if (n_tgids && !is_target(tgid))
		return false;
	if (targ_tid && pid != targ_tid)
		return false;
	return tgid && tgid != self_tgid;
}

/*
 * parking_lot parks each thread on a futex word of its own: the lock is the one whose slow path
 * the thread is in, as its uprobe saw it (user space attaches them where parking_lot is).
 */
const volatile bool parking_lot = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} parking SEC(".maps");

static __always_inline int begin_wait(void *ctx, __u32 op, __u64 addr)
{
	__u64 id = bpf_get_current_pid_tgid(), *lock;
	__u32 pid = (__u32)id, tgid = id >> 32;
	struct pending p = {};

	if (!wanted(pid, tgid))
		return 0;
	if (parking_lot && (lock = bpf_map_lookup_elem(&parking, &pid)))
		addr = *lock;
	p.lock.tgid = tgid;
	p.lock.op = op;
	p.lock.addr = addr;
	p.enter_ns = bpf_ktime_get_ns();
	if (!in_window(p.enter_ns))
		return 0;
	p.ustack = save_user_stack(ctx, 0);
	if (bpf_map_update_elem(&pending, &pid, &p, BPF_ANY))
		count(DROP_WAITERS_FULL);
	else
		count(DROP_NR + CNT_WAITS);
	return 0;
}

static __always_inline __u32 outcome_of(long ret)
{
	if (ret >= 0)
		return OUT_WOKEN;
	if (ret == -EAGAIN)
		return OUT_AGAIN;
	if (ret == -ETIMEDOUT)
		return OUT_TIMEOUT;
	if (ret == -EINTR || ret == -ERESTARTSYS || ret == -ERESTART_BLOCK)
		return OUT_INTR;
	return OUT_OTHER;
}

/* One more duration in a histogram of HIST_FINE_SLOTS microsecond slots. */
static __always_inline void add_slot(__u32 *slots, __u64 ns)
{
	__u32 slot = hist_fine_slot(ns / 1000);

	/* hide the slot's known range from clang so that the verifier sees the check */
	asm volatile("" : "+r"(slot));
	if (slot < HIST_FINE_SLOTS)
		__sync_fetch_and_add(&slots[slot], 1);
}

static __always_inline void add_wait(struct lock_val *v, __u64 blocked, __u64 wait)
{

	__sync_fetch_and_add(&v->waits, 1);
	__sync_fetch_and_add(&v->wait_ns, wait);
	__sync_fetch_and_add(&v->blocked_ns, blocked < wait ? blocked : wait);
	if (wait > v->max_ns)
		v->max_ns = wait; /* racy, as a maximum may be */
	add_slot(v->slots, wait);
}

static __always_inline void add_edge(const struct pending *p, __u32 pid, __u64 wait)
{
	struct edge_key k = {
		.lock = p->lock,
		.ustack = p->ustack,
		.wstack = p->wstack,
		.wpid = p->wpid,
		.wtgid = p->wtgid,
		.pid = pid,
	};
	struct edge_val *v = bpf_map_lookup_elem(&edges, &k), init = {};

	if (!v) { /* the names are taken for a new edge only */
		bpf_get_current_comm(init.comm, sizeof(init.comm));
		__builtin_memcpy(init.wcomm, p->wcomm, sizeof(init.wcomm));
		v = lookup_or_init(&edges, &k, &init, DROP_EDGES_FULL);
		if (!v)
			return;
	}
	__sync_fetch_and_add(&v->count, 1);
	__sync_fetch_and_add(&v->wait_ns, wait);
}

/* The lock's figures, a new entry if it has none. */
static __always_inline struct lock_val *lock_of(const struct lock_key *k)
{
	return lookup_or_init(&locks, k, &zero_lock, DROP_LOCKS_FULL);
}

static __always_inline int end_wait(long ret)
{
	__u32 pid = (__u32)bpf_get_current_pid_tgid(), out = outcome_of(ret);
	struct pending *p = bpf_map_lookup_elem(&pending, &pid);
	struct lock_val *v;
	__u64 wait;

	if (!p)
		return 0;
	wait = bpf_ktime_get_ns() - p->enter_ns;
	if (!in_window(p->enter_ns + wait))
		goto done;
	/* a semop that did not sleep is the fast path, not a wait */
	if (p->lock.op == OP_SEMOP && !p->wake_ns && out == OUT_WOKEN)
		goto done;
	if (out == OUT_WOKEN && wait < min_ns) {
		count(DROP_NR + CNT_SHORT);
		goto done;
	}
	p->lock.gen = interval_gen;
	v = lock_of(&p->lock);
	if (!v)
		goto done;
	__sync_fetch_and_add(&v->outcomes[out], 1);
	if (out == OUT_WOKEN) {
		add_wait(v, p->wake_ns > p->enter_ns ? p->wake_ns - p->enter_ns : wait, wait);
		add_edge(p, pid, wait);
	} else {
		__sync_fetch_and_add(&v->other_ns, wait);
	}
done:
	bpf_map_delete_elem(&pending, &pid);
	return 0;
}

static __always_inline __u32 futex_op(__u64 op)
{
	switch (op & FUTEX_CMD_MASK) {
	case FUTEX_WAIT:
		return OP_WAIT;
	case FUTEX_WAIT_BITSET:
		return OP_WAIT_BITSET;
	case FUTEX_LOCK_PI:
	case FUTEX_LOCK_PI2:
		return OP_LOCK_PI;
	case FUTEX_WAIT_REQUEUE_PI:
		return OP_WAIT_REQUEUE;
	default:
		return OP_NR; /* wakes, requeues: no wait */
	}
}

SEC("tracepoint/syscalls/sys_enter_futex")
int futex_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u32 op = futex_op(ctx->args[1]);

	return op < OP_NR ? begin_wait(ctx, op, ctx->args[0]) : 0;
}

SEC("tracepoint/syscalls/sys_exit_futex")
int futex_exit(struct trace_event_raw_sys_exit *ctx)
{
	return end_wait(ctx->ret);
}

/* struct futex_waitv { __u64 val; __u64 uaddr; __u32 flags; __u32 __reserved; } */
SEC("tracepoint/syscalls/sys_enter_futex_waitv")
int futex_waitv_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u64 uaddr = 0;

	bpf_probe_read_user(&uaddr, sizeof(uaddr), (void *)(ctx->args[0] + 8));
	return begin_wait(ctx, OP_WAITV, uaddr);
}

SEC("tracepoint/syscalls/sys_exit_futex_waitv")
int futex_waitv_exit(struct trace_event_raw_sys_exit *ctx)
{
	return end_wait(ctx->ret);
}

/* futex2 (6.7+): futex_wait(uaddr, val, mask, flags, timeout, clockid) */
SEC("tracepoint/syscalls/sys_enter_futex_wait")
int futex2_enter(struct trace_event_raw_sys_enter *ctx)
{
	return begin_wait(ctx, OP_WAIT_BITSET, ctx->args[0]);
}

SEC("tracepoint/syscalls/sys_exit_futex_wait")
int futex2_exit(struct trace_event_raw_sys_exit *ctx)
{
	return end_wait(ctx->ret);
}

SEC("tracepoint/syscalls/sys_enter_semop")
int semop_enter(struct trace_event_raw_sys_enter *ctx)
{
	return begin_wait(ctx, OP_SEMOP, ctx->args[0]);
}

SEC("tracepoint/syscalls/sys_exit_semop")
int semop_exit(struct trace_event_raw_sys_exit *ctx)
{
	return end_wait(ctx->ret);
}

SEC("tracepoint/syscalls/sys_enter_semtimedop")
int semtimedop_enter(struct trace_event_raw_sys_enter *ctx)
{
	return begin_wait(ctx, OP_SEMOP, ctx->args[0]);
}

SEC("tracepoint/syscalls/sys_exit_semtimedop")
int semtimedop_exit(struct trace_event_raw_sys_exit *ctx)
{
	return end_wait(ctx->ret);
}

/*
 * ---- --symbol on an async fn: one call is one future, from its first poll to its drop ----
 * (`.await` drops a future as soon as it is Ready). Time inside its polls is on-CPU; the
 * async lock waits that end inside it go to their locks; the rest is pending (I/O, timers).
 */
struct afut_key {
	__u32 tgid;
	__u32 pad;
	__u64 future;
};

struct afut {
	__u64 start_ns, polled_ns, locks_ns, polls;
	__u32 sym;
	__u32 pad;
};

/* the traced async fns being polled on this thread, outermost first */
struct apolls {
	struct {
		__u64 future, enter_ns;
		__u32 sym;
		__u32 pad;
	} f[MAX_NEST];
	__u32 n;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct afut_key);
	__type(value, struct afut);
} afutures SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct apolls);
} apolling SEC(".maps");

static const struct apolls zero_apolls;

static __always_inline void sym_inside_add(__u32 sym, __s64 by)
{
	__u32 slot = SYM_SLOT(sym, interval_gen);
	struct sym_val *v = bpf_map_lookup_elem(&sym_stats, &slot);
	__s64 *in = bpf_map_lookup_elem(&sym_inside, &sym), inside;

	if (!in)
		return;
	inside = __sync_add_and_fetch(in, by);
	if (v && inside > v->max_inside)
		v->max_inside = inside; /* racy, as a maximum may be */
}

SEC("uprobe")
int async_poll(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), now = bpf_ktime_get_ns();
	__u32 pid = (__u32)id, sym = (__u32)bpf_get_attach_cookie(ctx), n;
	struct afut_key k = {.tgid = id >> 32, .future = PT_REGS_PARM1(ctx)};
	struct afut f = {.start_ns = now, .sym = sym};
	struct apolls *a;

	if (!wanted(pid, k.tgid))
		return 0;
	if (!bpf_map_lookup_elem(&afutures, &k)) {
		if (!in_window(now))
			return 0;
		if (bpf_map_update_elem(&afutures, &k, &f, BPF_NOEXIST)) {
			count(DROP_CALLS_FULL);
			return 0;
		}
		sym_inside_add(sym, 1);
	}
	a = lookup_or_init(&apolling, &pid, &zero_apolls, DROP_CALLS_FULL);
	n = a ? a->n : MAX_NEST;
	if (n >= MAX_NEST)
		return 0;
	a->f[n].future = k.future;
	a->f[n].enter_ns = now;
	a->f[n].sym = sym;
	a->n = n + 1;
	return 0;
}

SEC("uretprobe")
int async_poll_return(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = (__u32)id, n;
	struct apolls *a = bpf_map_lookup_elem(&apolling, &pid);
	struct afut_key k = {.tgid = id >> 32};
	struct afut *f;

	if (!a)
		return 0;
	n = a->n;
	if (n < 1 || n > MAX_NEST)
		return 0;
	k.future = a->f[n - 1].future;
	f = bpf_map_lookup_elem(&afutures, &k);
	if (f) {
		f->polled_ns += bpf_ktime_get_ns() - a->f[n - 1].enter_ns;
		f->polls++;
	}
	a->n = n - 1;
	return 0;
}

SEC("uprobe")
int async_drop(struct pt_regs *ctx)
{
	struct afut_key k = {.tgid = bpf_get_current_pid_tgid() >> 32,
			     .future = PT_REGS_PARM1(ctx)};
	struct afut *f = bpf_map_lookup_elem(&afutures, &k);
	__u64 now = bpf_ktime_get_ns(), wall, rest, state_at;
	struct sym_val *v;
	__u8 state = ASYNC_RETURNED;
	__u32 slot;

	if (!f)
		return 0;
	sym_inside_add(f->sym, -1);
	slot = SYM_SLOT(f->sym, interval_gen);
	v = bpf_map_lookup_elem(&sym_stats, &slot);
	wall = now - f->start_ns;
	state_at = bpf_get_attach_cookie(ctx) >> SYM_STATE_SHIFT;
	if (state_at)
		bpf_probe_read_user(&state, 1, (void *)(k.future + state_at - 1));
	if (v && in_window(now) && state != ASYNC_RETURNED) {
		__sync_fetch_and_add(&v->cancelled, 1);
	} else if (v && in_window(now)) {
		rest = f->polled_ns + f->locks_ns;
		__sync_fetch_and_add(&v->calls, 1);
		__sync_fetch_and_add(&v->total_ns, wall);
		__sync_fetch_and_add(&v->locks_ns, f->locks_ns);
		__sync_fetch_and_add(&v->pending_ns, wall > rest ? wall - rest : 0);
		__sync_fetch_and_add(&v->polls, f->polls);
		if (wall > v->max_ns)
			v->max_ns = wall;
		add_slot(v->slots, wall);
		count(DROP_NR + CNT_CALLS);
	}
	bpf_map_delete_elem(&afutures, &k);
	return 0;
}

/* An async lock wait that ended inside traced async fns' polls is part of each of them. */
static __always_inline void async_lock_time(const struct lock_key *lock, __u64 wait)
{
	__u32 pid = (__u32)bpf_get_current_pid_tgid();
	struct apolls *a = bpf_map_lookup_elem(&apolling, &pid);
	struct afut_key k = {.tgid = lock->tgid};
	struct afut *f;
	__u64 *ns;

	if (!a)
		return;
	for (__u32 i = 0; i < MAX_NEST; i++) {
		if (i >= a->n)
			break;
		k.future = a->f[i].future;
		f = bpf_map_lookup_elem(&afutures, &k);
		if (!f)
			continue;
		f->locks_ns += wait;
		ns = sym_lock_ns(f->sym, lock);
		if (ns)
			__sync_fetch_and_add(ns, wait);
	}
}

/*
 * ---- tokio: a task waiting for a batch_semaphore (Semaphore, Mutex, RwLock, bounded mpsc) ----
 * A wait runs from the Acquire future's first poll that returns Pending to the poll that returns
 * Ready, or to its drop (cancelled). No thread blocks: these are seen only here.
 */
#define POLL_PENDING 2 /* Poll<Result<(), AcquireError>> in al: 0 Ready(Ok), 1 Ready(Err) */

/* where the &Semaphore lies in an Acquire future (user space reads it from the drop's code) */
const volatile __u32 acquire_sem_off = 0;
/* where its number of permits lies, plus one (0: not known; from the poll's code) */
const volatile __u32 acquire_permits_at = 0;
/* where its "queued" flag lies, plus one (from the drop's code) */
const volatile __u32 acquire_queued_at = 0;

/*
 * A Pending that did not queue the acquire is no wait: tokio's cooperative budget makes a
 * task yield that way (every 128 polls) before it even looks at the semaphore.
 */
static __always_inline bool queued_now(__u64 future)
{
	__u8 queued = 1;

	if (acquire_queued_at)
		bpf_probe_read_user(&queued, 1, (void *)(future + acquire_queued_at - 1));
	return queued;
}
/* tokio's RwLock writers take every permit: MAX_READS, u32::MAX >> 3 */
#define RWLOCK_PERMITS (0xffffffffU >> 3)

struct acquire_key {
	__u32 tgid;
	__u32 pad;
	__u64 future; /* the Acquire future: pinned while it waits */
};

struct async_wait {
	struct pending p; /* as a futex wait's: its lock (the semaphore), start, stack */
	__u32 pid;
};

struct poll_call {
	__u64 future, enter_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct acquire_key);
	__type(value, struct async_wait);
} acquires SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct poll_call);
} polls SEC(".maps");

/* acquires queued on each semaphore now (lock_key with gen 0) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, struct lock_key);
	__type(value, __s64);
} queued SEC(".maps");

static __always_inline void requeue(const struct lock_key *sem, __s64 by, struct lock_val *v)
{
	struct lock_key k = *sem;
	__s64 *n, now;

	k.gen = 0;
	/* as big as the lock table: full when it is */
	n = lookup_or_init(&queued, &k, &(__s64){0}, DROP_LOCKS_FULL);
	if (!n)
		return;
	now = __sync_add_and_fetch(n, by);
	if (v && now > v->max_queued)
		v->max_queued = now; /* racy, as a maximum may be */
}

/* A first Pending: the wait begins, at the poll's entry. */
static __always_inline void begin_async(void *ctx, const struct acquire_key *k,
					const struct poll_call *c, __u32 pid)
{
	struct async_wait w = {.pid = pid};
	struct lock_val *v;
	__u32 permits = 0;
	__u64 sem = 0;

	bpf_probe_read_user(&sem, sizeof(sem), (void *)(c->future + acquire_sem_off));
	w.p.lock.tgid = k->tgid;
	w.p.lock.op = OP_ASYNC;
	w.p.lock.addr = sem;
	w.p.enter_ns = c->enter_ns;
	w.p.ustack = save_user_stack(ctx, 0);
	if (bpf_map_update_elem(&acquires, k, &w, BPF_NOEXIST)) {
		count(DROP_ACQUIRES_FULL);
		return;
	}
	count(DROP_NR + CNT_ASYNC);
	v = lock_of(&w.p.lock);
	if (v && acquire_permits_at &&
	    !bpf_probe_read_user(&permits, sizeof(permits),
				 (void *)(c->future + acquire_permits_at - 1)) &&
	    permits == RWLOCK_PERMITS)
		__sync_fetch_and_add(&v->writers, 1);
	requeue(&w.p.lock, 1, v);
}

/* Ready, or dropped: the wait ends. */
static __always_inline void end_async(const struct acquire_key *k, struct async_wait *w, __u32 out)
{
	__u64 now = bpf_ktime_get_ns(), wait = now - w->p.enter_ns;
	struct lock_val *v;

	requeue(&w->p.lock, -1, NULL);
	if (!in_window(now))
		goto done;
	if (out == OUT_WOKEN && wait < min_ns) {
		count(DROP_NR + CNT_SHORT);
		goto done;
	}
	w->p.lock.gen = interval_gen;
	v = lock_of(&w->p.lock);
	if (!v)
		goto done;
	__sync_fetch_and_add(&v->outcomes[out], 1);
	if (out == OUT_WOKEN) {
		add_wait(v, wait, wait);
		add_edge(&w->p, w->pid, wait);
		if (symbols)
			async_lock_time(&w->p.lock, wait);
	} else {
		__sync_fetch_and_add(&v->other_ns, wait);
	}
done:
	bpf_map_delete_elem(&acquires, k);
}

SEC("uretprobe")
int acquire_poll_return(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = (__u32)id;
	struct poll_call *c = bpf_map_lookup_elem(&polls, &pid);
	struct acquire_key k = {.tgid = id >> 32};
	struct async_wait *w;

	if (!c)
		return 0;
	k.future = c->future;
	w = bpf_map_lookup_elem(&acquires, &k);
	if ((PT_REGS_RC(ctx) & 0xff) == POLL_PENDING) {
		if (!w && queued_now(k.future))
			begin_async(ctx, &k, c, pid);
	} else if (w) {
		end_async(&k, w, OUT_WOKEN);
	}
	bpf_map_delete_elem(&polls, &pid);
	return 0;
}

/* Acquire::poll's entry (cookie TOKIO_POLL), or its drop's queued path (TOKIO_DROP) */
SEC("uprobe")
int acquire_enter(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = (__u32)id;
	struct poll_call c = {.future = PT_REGS_PARM1(ctx), .enter_ns = bpf_ktime_get_ns()};
	struct acquire_key k = {.tgid = id >> 32, .future = c.future};
	struct async_wait *w;

	if (!wanted(pid, k.tgid))
		return 0;
	if (bpf_get_attach_cookie(ctx) == TOKIO_POLL) {
		if (in_window(c.enter_ns))
			bpf_map_update_elem(&polls, &pid, &c, BPF_ANY);
		return 0;
	}
	w = bpf_map_lookup_elem(&acquires, &k);
	if (w)
		end_async(&k, w, OUT_CANCELLED);
	return 0;
}

/* parking_lot's slow paths: the lock (or condvar) is their first argument, &self */
SEC("uprobe")
int parking_enter(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), lock = PT_REGS_PARM1(ctx);
	__u32 pid = (__u32)id;

	if (wanted(pid, id >> 32))
		bpf_map_update_elem(&parking, &pid, &lock, BPF_ANY);
	return 0;
}

SEC("uretprobe")
int parking_exit(struct pt_regs *ctx)
{
	__u32 pid = (__u32)bpf_get_current_pid_tgid();

	bpf_map_delete_elem(&parking, &pid);
	return 0;
}

/* A waiter is woken: the current task released it. */
static __always_inline int handle_waking(void *ctx, __u32 pid, __u32 tgid)
{
	struct task_struct *cur;
	struct pending *p;
	struct call *c;

	if (!wanted(pid, tgid))
		return 0;
	if (symbols) {
		c = bpf_map_lookup_elem(&calls, &pid);
		if (c && c->off_ns && !c->wake_ns)
			c->wake_ns = bpf_ktime_get_ns();
	}
	p = bpf_map_lookup_elem(&pending, &pid);
	if (!p || p->wake_ns)
		return 0;
	p->wake_ns = bpf_ktime_get_ns();
	cur = bpf_get_current_task_btf();
	p->wpid = cur->pid;
	p->wtgid = cur->tgid;
	__builtin_memcpy(p->wcomm, cur->comm, sizeof(p->wcomm));
	p->wstack = (cur->flags & PF_KTHREAD) ? 0 : save_user_stack(ctx, 0);
	return 0;
}

SEC("tp_btf/sched_waking")
int BPF_PROG(sched_waking_btf, struct task_struct *p)
{
	return handle_waking(ctx, p->pid, p->tgid);
}

SEC("raw_tp/sched_waking")
int BPF_PROG(sched_waking_raw, struct task_struct *p)
{
	return handle_waking(ctx, BPF_CORE_READ(p, pid), BPF_CORE_READ(p, tgid));
}

/* ---- --hold: how long each lock is held, and by whom ---- */

/* A lock call in progress on a thread: what it takes if it returns 0. */
struct acquiring {
	__u64 addr;
	__u32 kind;
	__u32 always; /* a condvar wait: has its mutex again however it returns */
};

struct held_key {
	__u32 pid; /* first: forget_dead() finds the dead threads' entries by it */
	__u32 pad;
	__u64 addr;
};

struct held_val {
	__u64 since;
	__u32 kind;
	__u32 depth; /* recursive mutexes, read locks taken twice, semaphore permits */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct acquiring);
} acquiring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct held_key);
	__type(value, struct held_val);
} held SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, struct hold_key);
	__type(value, struct hold_val);
} holds SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct holder_key);
	__type(value, struct holder_val);
} holders SEC(".maps");

static const struct hold_val zero_hold;

static __always_inline void begin_hold(__u32 pid, const struct acquiring *a)
{
	struct held_key k = {.pid = pid, .addr = a->addr};
	struct held_val *h = bpf_map_lookup_elem(&held, &k), v = {};

	if (h) {
		h->depth++;
		return;
	}
	v.since = bpf_ktime_get_ns();
	v.kind = a->kind;
	v.depth = 1;
	if (in_window(v.since) && bpf_map_update_elem(&held, &k, &v, BPF_NOEXIST))
		count(DROP_HELD_FULL);
}

static __always_inline void add_holder(void *ctx, const struct hold_key *lock, __u32 pid, __u64 ns)
{
	struct holder_key k = {.lock = *lock, .pid = pid};
	struct holder_val *v, init = {};

	k.ustack = save_user_stack(ctx, 0);
	v = bpf_map_lookup_elem(&holders, &k);
	if (!v) { /* the name is taken for a new holder only */
		bpf_get_current_comm(init.comm, sizeof(init.comm));
		v = lookup_or_init(&holders, &k, &init, DROP_HOLDERS_FULL);
		if (!v)
			return;
	}
	__sync_fetch_and_add(&v->count, 1);
	__sync_fetch_and_add(&v->hold_ns, ns);
	if (ns > v->max_ns)
		v->max_ns = ns;
}

static __always_inline void end_hold(void *ctx, __u32 pid, __u32 tgid, __u64 addr)
{
	struct held_key k = {.pid = pid, .addr = addr};
	struct held_val *h = bpf_map_lookup_elem(&held, &k);
	struct hold_key lk = {.tgid = tgid, .addr = addr};
	struct hold_val *v;
	__u64 now, ns;

	/* a semaphore posted by a thread that did not take it signals; it was not held */
	if (!h || --h->depth)
		return;
	now = bpf_ktime_get_ns();
	ns = now - h->since;
	lk.kind = h->kind;
	lk.gen = interval_gen;
	bpf_map_delete_elem(&held, &k);
	if (!in_window(now))
		return;
	if (ns < min_ns) {
		count(DROP_NR + CNT_SHORT);
		return;
	}
	v = lookup_or_init(&holds, &lk, &zero_hold, DROP_HOLDS_FULL);
	if (!v)
		return;
	__sync_fetch_and_add(&v->holds, 1);
	__sync_fetch_and_add(&v->hold_ns, ns);
	if (ns > v->max_ns)
		v->max_ns = ns;
	add_slot(v->slots, ns);
	add_holder(ctx, &lk, pid, ns);
	count(DROP_NR + CNT_HOLDS);
}

SEC("uprobe")
int hold_enter(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), cookie = bpf_get_attach_cookie(ctx);
	__u32 pid = (__u32)id, tgid = id >> 32, fn = cookie >> 8;
	struct acquiring a = {.addr = PT_REGS_PARM1(ctx), .kind = cookie & 0xff};

	if (!wanted(pid, tgid))
		return 0;
	if (fn == FN_UNLOCK) {
		end_hold(ctx, pid, tgid, a.addr);
		return 0;
	}
	if (fn == FN_COND_WAIT) {
		a.addr = PT_REGS_PARM2(ctx);
		a.always = 1;
		end_hold(ctx, pid, tgid, a.addr);
	}
	bpf_map_update_elem(&acquiring, &pid, &a, BPF_ANY);
	return 0;
}

SEC("uretprobe")
int hold_return(struct pt_regs *ctx)
{
	__u32 pid = (__u32)bpf_get_current_pid_tgid();
	struct acquiring *a = bpf_map_lookup_elem(&acquiring, &pid);

	if (!a)
		return 0;
	if (a->always || (int)PT_REGS_RC(ctx) == 0)
		begin_hold(pid, a);
	bpf_map_delete_elem(&acquiring, &pid);
	return 0;
}

/* ---- --symbol: what a function's wall time is made of ---- */

SEC("uprobe")
int sym_enter(struct pt_regs *ctx)
{
	__u32 pid = (__u32)bpf_get_current_pid_tgid(), sym = (__u32)bpf_get_attach_cookie(ctx), n;
	struct call *c = bpf_map_lookup_elem(&calls, &pid);
	__u64 now = bpf_ktime_get_ns();

	if (!c && !in_window(now))
		return 0;
	if (!c) {
		c = lookup_or_init(&calls, &pid, &zero_call, DROP_CALLS_FULL);
		if (!c)
			return 0;
	}
	for (__u32 i = 0; i < MAX_NEST; i++) {
		if (i < c->n && c->f[i].sym == sym) {
			c->f[i].depth++;
			return 0;
		}
	}
	n = c->n;
	if (n >= MAX_NEST) {
		count(DROP_CALLS_FULL);
		return 0;
	}
	__builtin_memset(&c->f[n], 0, sizeof(c->f[n]));
	c->f[n].enter_ns = now;
	c->f[n].sym = sym;
	c->f[n].depth = 1;
	c->n = n + 1;
	sym_inside_add(sym, 1);
	return 0;
}

static __always_inline void flush_frame(const struct call_frame *f, __u64 now)
{
	__u32 slot = SYM_SLOT(f->sym, interval_gen);
	struct sym_val *v = bpf_map_lookup_elem(&sym_stats, &slot);
	__u64 wall = now - f->enter_ns;

	sym_inside_add(f->sym, -1);
	if (!v || !in_window(now))
		return;
	__sync_fetch_and_add(&v->calls, 1);
	__sync_fetch_and_add(&v->total_ns, wall);
	__sync_fetch_and_add(&v->locks_ns, f->locks_ns);
	for (int r = 0; r < REASON_NR; r++)
		if (f->off_ns[r])
			__sync_fetch_and_add(&v->off_ns[r], f->off_ns[r]);
	if (wall > v->max_ns)
		v->max_ns = wall;
	add_slot(v->slots, wall);
	count(DROP_NR + CNT_CALLS);
}

SEC("uretprobe")
int sym_exit(struct pt_regs *ctx)
{
	__u32 pid = (__u32)bpf_get_current_pid_tgid(), sym = (__u32)bpf_get_attach_cookie(ctx);
	struct call *c = bpf_map_lookup_elem(&calls, &pid);
	__u32 n;

	if (!c)
		return 0;
	/* a switch-in the tracepoint never showed: the thread runs, whatever the record says */
	c->off_ns = 0;
	n = c->n;
	if (n < 1 || n > MAX_NEST)
		return 0;
	/* calls end in the reverse order of their start: the innermost open one is this one */
	if (c->f[n - 1].sym != sym || --c->f[n - 1].depth)
		return 0;
	flush_frame(&c->f[n - 1], bpf_ktime_get_ns());
	c->n = n - 1;
	if (!c->n)
		bpf_map_delete_elem(&calls, &pid);
	return 0;
}

/* The blocked part of a futex wait goes to its lock, in every open call of the thread. */
static __always_inline bool add_lock_time(struct call *c, __u32 pid, __u64 blocked)
{
	struct pending *p = bpf_map_lookup_elem(&pending, &pid);
	__u64 *ns;

	if (!p)
		return false;
	for (__u32 i = 0; i < MAX_NEST; i++) {
		if (i >= c->n)
			break;
		ns = sym_lock_ns(c->f[i].sym, &p->lock);
		if (!ns)
			return false;
		__sync_fetch_and_add(ns, blocked);
		c->f[i].locks_ns += blocked;
	}
	return true;
}

static __always_inline void close_call_period(struct call *c, __u32 pid, __u64 now)
{
	__u64 blocked, rq;
	bool locked;

	period_split(c->off_ns, c->wake_ns, now, &blocked, &rq);
	locked = c->reason == REASON_LOCK && add_lock_time(c, pid, blocked);
	for (__u32 i = 0; i < MAX_NEST; i++) {
		if (i >= c->n)
			break;
		c->f[i].off_ns[REASON_RUNQUEUE] += rq;
		if (!locked && c->reason < REASON_NR)
			c->f[i].off_ns[c->reason] += blocked;
	}
	c->off_ns = 0;
}

static __always_inline int symbol_switch(__u32 prev, __u32 prev_tgid, __u32 next, __u32 next_tgid,
					 __u32 state)
{
	__u64 now = bpf_ktime_get_ns();
	struct task_struct *cur;
	struct call *c;
	__u16 syscall;

	if (wanted(prev, prev_tgid) && (c = bpf_map_lookup_elem(&calls, &prev)) && c->n) {
		/* at sched_switch, prev is the current task */
		cur = bpf_get_current_task_btf();
		c->off_ns = now;
		c->wake_ns = 0;
		c->reason = classify(cur, (struct pt_regs *)bpf_task_pt_regs(cur), state, &syscall);
	}
	if (wanted(next, next_tgid) && (c = bpf_map_lookup_elem(&calls, &next)) && c->off_ns)
		close_call_period(c, next, now);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch_btf, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 state = has_prev_state ? (__u32)ctx[3] : prev->__state;

	return symbol_switch(prev->pid, prev->tgid, next->pid, next->tgid, state);
}

SEC("raw_tp/sched_switch")
int BPF_PROG(sched_switch_raw, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 state = has_prev_state ? (__u32)ctx[3] : BPF_CORE_READ(prev, __state);

	return symbol_switch(BPF_CORE_READ(prev, pid), BPF_CORE_READ(prev, tgid),
			     BPF_CORE_READ(next, pid), BPF_CORE_READ(next, tgid), state);
}

char LICENSE[] SEC("license") = "GPL";
