/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every tool's BPF program does alike: the target knobs, counters of
 * what was dropped, and stacks stored once by hash. Include after vmlinux.h
 * and the libbpf headers, with COUNTERS_NR (the size of the counters map)
 * and DROP_STACKS_FULL (the counter of a full stack table) defined.
 */
#ifndef WAITSCOPE_TRACER_H
#define WAITSCOPE_TRACER_H

#include "stack.h"

#ifndef MAX_TARGETS
#define MAX_TARGETS 64
#endif

/* Knobs, set by user space before load. */
const volatile __u32 targ_tgids[MAX_TARGETS] = {};
const volatile __u32 n_tgids = 0;
const volatile __u32 targ_tid = 0;
const volatile __u32 self_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, COUNTERS_NR);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct stack);
} stacks SEC(".maps");

/* one walk at a time per CPU: of the current task */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stack);
} scratch SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &idx);

	if (c)
		(*c)++;
}

/*
 * The key's value, init inserted first if it has none (as bcc's bpf_map_lookup_or_try_init:
 * another CPU may insert the same key first); NULL and the drop counter counted if the map
 * is full.
 */
static __always_inline void *lookup_or_init(void *map, const void *key, const void *init,
					    __u32 drop)
{
	void *v = bpf_map_lookup_elem(map, key);

	if (v)
		return v;
	bpf_map_update_elem(map, key, init, BPF_NOEXIST);
	v = bpf_map_lookup_elem(map, key);
	if (!v)
		count(drop);
	return v;
}

static __always_inline bool is_target(__u32 tgid)
{
	for (__u32 i = 0; i < MAX_TARGETS && i < n_tgids; i++)
		if (targ_tgids[i] == tgid)
			return true;
	return false;
}

#define USTACK_SEED 0x5ca1ab1eULL
#define KSTACK_SEED 0xc0ffeeULL

static __always_inline __u64 mix(__u64 h, __u64 ip)
{
	h = (h ^ ip) * 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 32);
}

/*
 * Global (not inlined) functions are verified once, not at every call site:
 * the loops over 127 frames are most of the verifier's work, and of the
 * tool's start-up time.
 */
__noinline __u64 hash_stack(const struct stack *st, __u64 seed)
{
	__u64 h = seed;

	if (!st)
		return 0;
	for (__u32 i = 0; i < MAX_STACK_DEPTH && i < st->nr; i++)
		h = mix(h, st->ips[i]);
	return h | 1; /* never 0, which means "no stack" */
}

/*
 * Stores the stack once, keyed by its hash; returns the hash, 0 if the table
 * is full. A thread that blocks where it blocked last time (most do) skips
 * the store: last is the hash it had then.
 */
static __always_inline __u64 store_stack(struct stack *st, __u64 h, __u64 last)
{
	long err;

	if (h == last)
		return h;
	err = bpf_map_update_elem(&stacks, &h, st, BPF_NOEXIST);
	if (err && err != -17 /* EEXIST: already stored */) {
		count(DROP_STACKS_FULL);
		return 0;
	}
	return h;
}

#endif
