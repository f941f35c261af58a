// SPDX-License-Identifier: GPL-2.0
/*
 * The bpf_stats measurement floor: a sched_switch program that does nothing.
 * Its run_time_ns / run_cnt is what kernel.bpf_stats_enabled charges to any
 * program for the two clock reads around the call, not work of the program.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch_nop, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
