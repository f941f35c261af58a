/* SPDX-License-Identifier: GPL-2.0 */
/*
 * User stacks without frame pointers, for the BPF programs: each step finds
 * the frame's binary in the process's map (unwind_procs), the binary's rule
 * for the address (cfi_rows, bpf/cfi_rows.h), and from the rule the caller's
 * stack pointer, return address and rbp. Where a binary has no table, the
 * step follows the frame pointer. x86-64 only. Include after tracer.h
 * (counters, the stack store and its scratch), with DROP_USTACK_FAILED
 * (the counter of a failed frame-pointer walk), USTACK_WALKS and USTACK_CUT
 * (counters of the walks by tables, and of those that ended before the
 * stack's outermost frame) defined.
 */
#ifndef WAITSCOPE_USTACK_H
#define WAITSCOPE_USTACK_H

#include "cfi_rows.h"
#include "stack.h"

/* walk user stacks with the binaries' CFI tables (unwind_procs) where present */
const volatile bool cfi_unwind = false;

/* row i of cfi_rows is row i % CFI_CHUNK_ROWS of chunk i / CFI_CHUNK_ROWS */
struct cfi_chunk {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CFI_CHUNK_ROWS);
	/* sizes, not types: BTF keeps only a declaration of a type seen through these pointers */
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct cfi_row));
};

/* the chunks, added by user space as it loads binaries: none at load time */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, CFI_MAX_CHUNKS);
	__type(key, __u32);
	__array(values, struct cfi_chunk);
} cfi_rows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, UNWIND_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct unwind_proc);
} unwind_procs SEC(".maps");

/* The registers of the frame being unwound. */
struct unwind_regs {
	__u64 ip, sp, bp;
	__u32 tgid;
	__u16 depth;
	__u16 ended; /* the walk reached the outermost frame: not cut short */
	/* uretprobes (ours with --symbol, or anyone's) replace return addresses by a trampoline */
	__u64 tramp; /* its address in this process, 0 if none */
	__u64 ri;    /* the task's next pending return_instance (a kernel pointer) */
};

/* off the BPF stack, which stays small */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct unwind_regs);
} unwind_scratch SEC(".maps");

/* a sleepable iterator's own: a tracepoint may run on its CPU while it is preempted */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct unwind_regs);
} unwind_iter_scratch SEC(".maps");

/* Row i of cfi_rows, NULL where its chunk is not there. */
static __always_inline struct cfi_row *cfi_row(__u32 i)
{
	__u32 chunk = i >> CFI_CHUNK_SHIFT, at = i & (CFI_CHUNK_ROWS - 1);
	void *rows = bpf_map_lookup_elem(&cfi_rows, &chunk);

	return rows ? bpf_map_lookup_elem(rows, &at) : NULL;
}

/* The row that covers pc in rows [first, first + count): its index, or -1. */
__noinline __s64 cfi_find(__u32 first, __u32 count, __u32 pc)
{
	__u32 lo = 0, hi = count;

	for (int i = 0; i < 25 && lo < hi; i++) {
		__u32 mid = lo + (hi - lo) / 2;
		struct cfi_row *r = cfi_row(first + mid);

		if (!r)
			return -1;
		if (r->pc <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? (__s64)first + lo - 1 : -1;
}

/* The mapping that holds ip: its index, or -1. */
static __always_inline int find_map(const struct unwind_proc *p, __u64 ip)
{
	__u32 lo = 0, hi = p->n < UNWIND_MAX_MAPS ? p->n : UNWIND_MAX_MAPS;

	for (int i = 0; i < 7 && lo < hi; i++) {
		__u32 mid = lo + (hi - lo) / 2;

		if (mid >= UNWIND_MAX_MAPS)
			return -1;
		if (ip < p->maps[mid].start)
			hi = mid;
		else if (ip >= p->maps[mid].end)
			lo = mid + 1;
		else
			return mid;
	}
	return -1;
}

/*
 * The walked task's memory: the current task's, or (task given, sleepable
 * programs only) another's. Inlined with a constant task, the other helper
 * is compiled out.
 */
static __always_inline long read_user(void *dst, __u32 size, __u64 addr, struct task_struct *task)
{
	if (task)
		return bpf_copy_from_user_task(dst, size, (void *)addr, task, 0);
	return bpf_probe_read_user(dst, size, (void *)addr);
}

static __always_inline int fp_step(struct unwind_regs *u, struct task_struct *task)
{
	__u64 frame[2];

	/* the outermost frame's rbp is 0 (the ABI has _start and clone clear it) */
	u->ended = !u->bp;
	if (!u->bp || read_user(frame, sizeof(frame), u->bp, task))
		return -1;
	if (frame[0] && frame[0] <= u->bp) /* stacks grow down: the caller's frame is above */
		return -1;
	u->sp = u->bp + 16;
	u->bp = frame[0];
	u->ip = frame[1];
	return 0;
}

/* The caller's registers from the rule at u->ip; -1 where the walk ends. */
static __always_inline int cfi_step(struct unwind_regs *u, const struct cfi_row *r,
				    struct task_struct *task)
{
	__u64 cfa, ra;

	switch (r->cfa) {
	case CFA_RSP:
		cfa = u->sp + r->cfa_off;
		break;
	case CFA_RBP:
		cfa = u->bp + r->cfa_off;
		break;
	case CFA_PLT:
		cfa = u->sp + 8 + ((u->ip & 15) >= (__u64)r->rbp_off ? 8 : 0);
		break;
	default:
		return -1;
	}
	if (read_user(&ra, sizeof(ra), cfa - 8, task))
		return -1;
	if (r->rbp == RBP_AT && read_user(&u->bp, sizeof(u->bp), cfa + r->rbp_off, task))
		return -1;
	u->sp = cfa;
	u->ip = ra;
	return 0;
}

#define MAX_CHAINED 4

/*
 * A return address that is the uretprobe trampoline stands for the oldest-but-one pending
 * return: the task's return instances, newest first, hold the real ones (a chain of them,
 * tail calls of probed functions, shares one trampoline on the stack).
 */
static __always_inline void real_return(struct unwind_regs *u)
{
	struct return_instance *ri = (struct return_instance *)u->ri;
	bool chained = true;

	if (!u->tramp || u->ip != u->tramp || !ri)
		return;
	u->ip = BPF_CORE_READ(ri, orig_ret_vaddr);
	for (int i = 0; i < MAX_CHAINED && ri && chained; i++) {
		chained = BPF_CORE_READ(ri, chained);
		ri = BPF_CORE_READ(ri, next);
	}
	u->ri = (__u64)ri;
}

/* One frame up: 0, or -1 where the walk ends. */
static __always_inline int step(struct unwind_regs *u, struct task_struct *task)
{
	struct unwind_proc *p;
	struct cfi_row *r;
	struct unwind_map *m;
	__u64 pc;
	__s64 row;
	int i;

	p = bpf_map_lookup_elem(&unwind_procs, &u->tgid);
	if (!p)
		return -1;
	i = find_map(p, u->ip);
	if (i < 0 || i >= UNWIND_MAX_MAPS || !p->maps[i].count)
		return fp_step(u, task);
	m = &p->maps[i];
	/* a return address points after its call: the call is what is looked up */
	pc = u->ip - m->bias - (u->depth ? 1 : 0);
	row = cfi_find(m->first, m->count, (__u32)pc);
	r = row < 0 ? NULL : cfi_row((__u32)row);
	if (!r || r->cfa == CFA_NONE)
		return fp_step(u, task);
	if (r->cfa == CFA_END) {
		u->ended = 1;
		return -1;
	}
	return cfi_step(u, r, task);
}

static __always_inline int step_up(struct unwind_regs *u, struct task_struct *task)
{
	int err = step(u, task);

	if (!err)
		real_return(u);
	return err;
}

#ifndef __arg_trusted
#define __arg_trusted __attribute__((btf_decl_tag("arg:trusted")))
#endif

/* Global functions: each verified once, not at every frame of the walk. */
__noinline int unwind_step(struct unwind_regs *u)
{
	return u ? step_up(u, NULL) : -1;
}

/* Another task's frame, from a sleepable program (trusted task arguments: 6.8+). */
__noinline int unwind_step_task(struct unwind_regs *u, struct task_struct *task __arg_trusted)
{
	return u ? step_up(u, task) : -1;
}

/* Frames from u's registers up into st; returns how many. */
static __always_inline __u32 walk_frames(struct unwind_regs *u, struct stack *st,
					 struct task_struct *task)
{
	__u32 n = 0;

	for (int i = 0; i < MAX_STACK_DEPTH; i++) {
		if (!u->ip) {
			u->ended = 1; /* a return address of 0: nothing called the last frame */
			break;
		}
		st->ips[n++] = u->ip;
		if ((task ? unwind_step_task(u, task) : unwind_step(u)) < 0)
			break;
		u->depth++;
	}
	count(USTACK_WALKS);
	if (!u->ended)
		count(USTACK_CUT);
	return n;
}

__noinline __u32 unwind_walk(struct unwind_regs *u, struct stack *st)
{
	return u && st ? walk_frames(u, st, NULL) : 0;
}

__noinline __u32 unwind_walk_task(struct unwind_regs *u, struct stack *st,
				  struct task_struct *task __arg_trusted)
{
	return u && st ? walk_frames(u, st, task) : 0;
}

/*
 * Whether the tables loaded for tgid are of this image of it: a process that
 * exec'ed, or a new one under a reused tgid, has other mappings.
 */
static __always_inline bool unwind_ready(__u32 tgid, __u32 image)
{
	struct unwind_proc *p = bpf_map_lookup_elem(&unwind_procs, &tgid);

	return p && (!p->image || p->image == image);
}

/* The process is gone: its slot is free for another. */
static __always_inline void unwind_forget(__u32 tgid)
{
	bpf_map_delete_elem(&unwind_procs, &tgid);
}

/* The walk's first frame, in a scratch of its own; NULL if the process has no tables. */
static __always_inline struct unwind_regs *first_frame(void *scratch_map, struct pt_regs *regs,
						       struct task_struct *task, __u32 tgid,
						       __u32 image)
{
	__u32 zero = 0;
	struct unwind_regs *u = bpf_map_lookup_elem(scratch_map, &zero);
	struct uprobe_task *ut = BPF_CORE_READ(task, utask);

	if (!u || !unwind_ready(tgid, image))
		return NULL;
	u->ip = PT_REGS_IP(regs);
	u->sp = PT_REGS_SP(regs);
	u->bp = PT_REGS_FP(regs);
	u->tgid = tgid;
	u->depth = 0;
	u->ended = 0;
	u->ri = ut ? (__u64)BPF_CORE_READ(ut, return_instances) : 0;
	u->tramp = u->ri ? BPF_CORE_READ(task, mm, uprobes_state.xol_area, vaddr) : 0;
	return u;
}

/*
 * The current task's user stack from its registers into st; false if the
 * process has no tables (the caller walks by frame pointers then).
 */
static __always_inline bool unwind_user(struct pt_regs *regs, __u32 tgid, __u32 image,
					struct stack *st)
{
	struct unwind_regs *u =
		first_frame(&unwind_scratch, regs, bpf_get_current_task_btf(), tgid, image);

	if (!u)
		return false;
	st->nr = unwind_walk(u, st);
	return true;
}

/*
 * A sleeping task's user stack from its saved registers into st (sleepable
 * programs); false if its process has no tables.
 */
static __always_inline bool unwind_task(struct task_struct *task, struct pt_regs *regs, __u32 tgid,
					__u32 image, struct stack *st)
{
	struct unwind_regs *u = first_frame(&unwind_iter_scratch, regs, task, tgid, image);

	if (!u)
		return false;
	st->nr = unwind_walk_task(u, st, task);
	return true;
}

/*
 * The current task's user stack, stored; returns its hash (0: none). By its
 * binaries' tables where user space loaded them for this process image
 * (*tables then set), else by frame pointers. last is the hash the caller
 * had: a stack walked again skips the store.
 */
static __always_inline __u64 save_user_stack_of(void *ctx, __u64 last, __u32 image, bool *tables)
{
	struct task_struct *cur = bpf_get_current_task_btf();
	__u32 zero = 0;
	struct stack *st = bpf_map_lookup_elem(&scratch, &zero);
	long n;

	if (!st)
		return 0;
	*tables = cfi_unwind &&
		  unwind_user((struct pt_regs *)bpf_task_pt_regs(cur), cur->tgid, image, st);
	if (!*tables) {
		n = bpf_get_stack(ctx, st->ips, sizeof(st->ips), BPF_F_USER_STACK);
		if (n < 0) {
			count(DROP_USTACK_FAILED);
			return 0;
		}
		st->nr = n / sizeof(__u64);
	}
	return st->nr ? store_stack(st, hash_stack(st, USTACK_SEED), last) : 0;
}

/* The same for a tool whose tables are loaded for any image of its targets (image 0). */
static __always_inline __u64 save_user_stack(void *ctx, __u64 last)
{
	bool tables;

	return save_user_stack_of(ctx, last, 0, &tables);
}

#endif
