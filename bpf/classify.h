/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Why a task leaves the CPU: its state, the syscall in flight and the kind
 * of file behind its fd, as the wait-reason taxonomy says. Shared by the
 * programs that classify a switch-out (offcpu, semlat --symbol); include
 * after vmlinux.h. sys_class is filled by user space before load
 * (reasons_fill_syscall_classes).
 */
#ifndef WAITSCOPE_CLASSIFY_H
#define WAITSCOPE_CLASSIFY_H

#include "reasons.h"

#define PF_IO_WORKER	     0x00000010
#define PF_KTHREAD	     0x00200000
#define TASK_RUNNING	     0
#define TASK_UNINTERRUPTIBLE 0x0002
#define TASK_DEAD	     0x0080
#define TASK_NOLOAD	     0x0400
#define S_IFMT		     00170000
#define S_IFSOCK	     0140000
#define S_IFREG		     0100000
#define S_IFBLK		     0060000
#define S_IFCHR		     0020000
#define S_IFIFO		     0010000

/* The syscall in flight, from the task's user registers (a BTF pointer: direct reads). */
#if defined(__TARGET_ARCH_x86)
#define SYSCALL_NR(regs) ((long)(regs)->orig_ax)
#elif defined(__TARGET_ARCH_arm64)
#define SYSCALL_NR(regs) ((long)(regs)->syscallno)
#else
#error "waitscope: unsupported architecture"
#endif

const volatile __u8 sys_class[MAX_SYSCALLS] = {};
/* sched_switch passes prev_state (5.18+): exact, where re-reading __state races with wakers */
const volatile bool has_prev_state = false;

/*
 * The file behind fd in task's table, or NULL. task is a BTF pointer (the current task):
 * walking its fields needs no probe reads.
 */
static __always_inline struct file *task_fd_file(struct task_struct *task, int fd)
{
	struct files_struct *files = task->files;
	struct fdtable *fdt = files ? files->fdt : NULL;
	struct file *f = NULL;

	if (!fdt || fd < 0 || (unsigned int)fd >= fdt->max_fds)
		return NULL;
	bpf_probe_read_kernel(&f, sizeof(f), &fdt->fd[fd]);
	return f;
}

static __always_inline __u16 fd_reason(struct task_struct *task, int fd)
{
	struct file *f = task_fd_file(task, fd);
	__u16 mode;

	if (!f)
		return REASON_OTHER;
	mode = BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT;
	switch (mode) {
	case S_IFSOCK:
		return REASON_NET;
	case S_IFIFO:
		return REASON_PIPE;
	case S_IFREG:
	case S_IFBLK:
		return REASON_DISK;
	default:
		return REASON_OTHER;
	}
}

/* Uninterruptible sleep that counts as load: I/O, mostly (TASK_IDLE sleepers are not). */
static __always_inline bool in_d_state(__u32 state)
{
	return (state & TASK_UNINTERRUPTIBLE) && !(state & TASK_NOLOAD);
}

static __always_inline __u16 state_reason(__u32 state)
{
	return state == TASK_RUNNING ? REASON_RUNQUEUE
	       : in_d_state(state)   ? REASON_DISK
				     : REASON_OTHER;
}

/* Why the current task (prev) leaves the CPU: task state + syscall in flight + fd kind. */
static __always_inline __u16 classify(struct task_struct *task, struct pt_regs *regs, __u32 state,
				      __u16 *syscall)
{
	long nr = SYSCALL_NR(regs);
	__u16 reason;

	*syscall = NO_SYSCALL;
	if (nr >= 0 && nr < MAX_SYSCALLS)
		*syscall = nr;
	if (state == TASK_RUNNING)
		return REASON_RUNQUEUE;
	if (nr < 0)
		return REASON_FAULT; /* page fault or other kernel work: no syscall */
	if (nr >= MAX_SYSCALLS)
		return REASON_OTHER;
	reason = sys_class[nr];
	if (reason == SYS_CLASS_FD)
		reason = fd_reason(task, (int)PT_REGS_PARM1(regs));
	if (reason == REASON_OTHER && in_d_state(state))
		return REASON_DISK;
	return reason < REASON_NR ? reason : REASON_OTHER;
}

#endif
