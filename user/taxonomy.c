// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>
#include "taxonomy.h"
#include "syscall_names.h"

static const char *const names[REASON_NR] = {
	[REASON_RUNQUEUE] = "runqueue", [REASON_LOCK] = "lock",	  [REASON_NET] = "net",
	[REASON_POLL] = "poll",		[REASON_PIPE] = "pipe",	  [REASON_DISK] = "disk",
	[REASON_SLEEP] = "sleep",	[REASON_CHILD] = "child", [REASON_FAULT] = "fault",
	[REASON_OTHER] = "other",	[REASON_IDLE] = "idle",
};

/* Syscalls by what a thread blocked in them waits for; names absent on an arch are skipped. */
static const struct {
	const char *name;
	uint8_t cls;
} classes[] = {
	{"futex", REASON_LOCK},
	{"futex_waitv", REASON_LOCK},
	{"futex_wait", REASON_LOCK},
	{"semop", REASON_LOCK},
	{"semtimedop", REASON_LOCK},
	{"flock", REASON_LOCK},
	{"accept", REASON_NET},
	{"accept4", REASON_NET},
	{"connect", REASON_NET},
	{"recvfrom", REASON_NET},
	{"recvmsg", REASON_NET},
	{"recvmmsg", REASON_NET},
	{"sendto", REASON_NET},
	{"sendmsg", REASON_NET},
	{"sendmmsg", REASON_NET},
	{"shutdown", REASON_NET},
	{"poll", REASON_POLL},
	{"ppoll", REASON_POLL},
	{"select", REASON_POLL},
	{"pselect6", REASON_POLL},
	{"epoll_wait", REASON_POLL},
	{"epoll_pwait", REASON_POLL},
	{"epoll_pwait2", REASON_POLL},
	{"io_uring_enter", REASON_POLL},
	{"read", SYS_CLASS_FD},
	{"write", SYS_CLASS_FD},
	{"readv", SYS_CLASS_FD},
	{"writev", SYS_CLASS_FD},
	{"pread64", SYS_CLASS_FD},
	{"pwrite64", SYS_CLASS_FD},
	{"preadv", SYS_CLASS_FD},
	{"pwritev", SYS_CLASS_FD},
	{"preadv2", SYS_CLASS_FD},
	{"pwritev2", SYS_CLASS_FD},
	{"splice", SYS_CLASS_FD},
	{"sendfile", SYS_CLASS_FD},
	{"fsync", REASON_DISK},
	{"fdatasync", REASON_DISK},
	{"sync", REASON_DISK},
	{"syncfs", REASON_DISK},
	{"sync_file_range", REASON_DISK},
	{"msync", REASON_DISK},
	{"io_getevents", REASON_DISK},
	{"io_pgetevents", REASON_DISK},
	{"fallocate", REASON_DISK},
	{"nanosleep", REASON_SLEEP},
	{"clock_nanosleep", REASON_SLEEP},
	{"pause", REASON_SLEEP},
	{"rt_sigsuspend", REASON_SLEEP},
	{"rt_sigtimedwait", REASON_SLEEP},
	{"wait4", REASON_CHILD},
	{"vfork", REASON_CHILD}, /* the parent sleeps until the child execs or exits */
	{"clone", REASON_CHILD},
	{"clone3", REASON_CHILD},
	{"waitid", REASON_CHILD},
};

const char *reason_name(int reason)
{
	return reason >= 0 && reason < REASON_NR ? names[reason] : "other";
}

int reason_parse(const char *name)
{
	for (int r = 0; r < REASON_NR; r++)
		if (!strcmp(name, names[r]))
			return r;
	return -1;
}

const char *syscall_name(int nr)
{
	int n = sizeof(syscall_names) / sizeof(syscall_names[0]);

	return nr >= 0 && nr < n ? syscall_names[nr] : NULL;
}

const char *syscall_label(int nr, char *buf, size_t n)
{
	const char *name = syscall_name(nr);

	if (name)
		return name;
	snprintf(buf, n, "syscall_%d", nr);
	return buf;
}

void reasons_fill_syscall_classes(uint8_t *cls, int n)
{
	int nnames = sizeof(syscall_names) / sizeof(syscall_names[0]);

	memset(cls, REASON_OTHER, n);
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
		for (int nr = 0; nr < nnames && nr < n; nr++)
			if (syscall_names[nr] && !strcmp(syscall_names[nr], classes[i].name))
				cls[nr] = classes[i].cls;
}
