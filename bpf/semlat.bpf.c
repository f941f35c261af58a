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
#include "ustack.h"

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

static __always_inline bool wanted(__u32 pid, __u32 tgid)
{
	if (n_tgids && !is_target(tgid))
		return false;
	if (targ_tid && pid != targ_tid)
		return false;
	return tgid && tgid != self_tgid;
}

static __always_inline int begin_wait(void *ctx, __u32 op, __u64 addr)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = (__u32)id, tgid = id >> 32;
	struct pending p = {};

	if (!wanted(pid, tgid))
		return 0;
	p.lock.tgid = tgid;
	p.lock.op = op;
	p.lock.addr = addr;
	p.ustack = save_user_stack(ctx, 0);
	p.enter_ns = bpf_ktime_get_ns();
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

static __always_inline void add_wait(struct lock_val *v, const struct pending *p, __u64 wait)
{
	__u64 blocked = p->wake_ns > p->enter_ns ? p->wake_ns - p->enter_ns : wait;
	__u32 slot;

	__sync_fetch_and_add(&v->waits, 1);
	__sync_fetch_and_add(&v->wait_ns, wait);
	__sync_fetch_and_add(&v->blocked_ns, blocked < wait ? blocked : wait);
	if (wait > v->max_ns)
		v->max_ns = wait; /* racy, as a maximum may be */
	slot = hist_fine_slot(wait / 1000);
	/* hide the slot's known range from clang so that the verifier sees the check */
	asm volatile("" : "+r"(slot));
	if (slot < HIST_FINE_SLOTS)
		__sync_fetch_and_add(&v->slots[slot], 1);
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

	if (!v) {
		bpf_get_current_comm(init.comm, sizeof(init.comm));
		__builtin_memcpy(init.wcomm, p->wcomm, sizeof(init.wcomm));
		bpf_map_update_elem(&edges, &k, &init, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&edges, &k);
		if (!v) {
			count(DROP_EDGES_FULL);
			return;
		}
	}
	__sync_fetch_and_add(&v->count, 1);
	__sync_fetch_and_add(&v->wait_ns, wait);
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
	/* a semop that did not sleep is the fast path, not a wait */
	if (p->lock.op == OP_SEMOP && !p->wake_ns && out == OUT_WOKEN)
		goto done;
	v = bpf_map_lookup_elem(&locks, &p->lock);
	if (!v) {
		bpf_map_update_elem(&locks, &p->lock, &zero_lock, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&locks, &p->lock);
		if (!v) {
			count(DROP_LOCKS_FULL);
			goto done;
		}
	}
	__sync_fetch_and_add(&v->outcomes[out], 1);
	if (out == OUT_WOKEN) {
		add_wait(v, p, wait);
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

/* A waiter is woken: the current task released it. */
static __always_inline int handle_waking(void *ctx, __u32 pid, __u32 tgid)
{
	struct task_struct *cur;
	struct pending *p;

	if (!wanted(pid, tgid))
		return 0;
	p = bpf_map_lookup_elem(&pending, &pid);
	if (!p || p->wake_ns)
		return 0;
	p->wake_ns = bpf_ktime_get_ns();
	cur = bpf_get_current_task_btf();
	p->wpid = cur->pid;
	p->wtgid = cur->tgid;
	__builtin_memcpy(p->wcomm, cur->comm, sizeof(p->wcomm));
	p->wstack = (cur->flags & 0x00200000 /* PF_KTHREAD */) ? 0 : save_user_stack(ctx, 0);
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

char LICENSE[] SEC("license") = "GPL";
