// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "idle.h"
#include "reasons.h"

#define SYM_PREFIX   "sym:"
#define NAME_MAX_LEN 512

/*
 * Frames between a waiting function and the kernel: skipped to find the
 * function that chose to wait. Lock code is plumbing too, so that a worker
 * blocked on a real lock is judged by the code that took the lock.
 */
static const char *const user_plumbing[] = {
	"syscall",
	"__syscall_cancel*",
	"__internal_syscall_cancel",
	"*futex*",
	"*lll_lock*",
	"*pthread_cond_*",
	"*pthread_mutex_*",
	"*pthread_rwlock_*",
	"*sem_wait*",
	"*sem_timedwait*",
	"*sem_clockwait*",
	"do_futex_wait*",
	"std::sys::*",
	"std::sync::*",
	"std::thread::*park*",
	"std::thread::Thread::park*",
	"parking_lot_core::*",
	"parking_lot::*",
	"lock_api::*",
	"g_cond_*",
	"g_mutex_*",
	"g_async_queue_*",
	"runtime.futex*",
	"runtime.notesleep",
	"runtime.notetsleep*",
	"runtime.semasleep",
	"runtime.mPark",
};

/* Functions that wait for work: runtime and thread-pool parkers. */
static const char *const user_idle[] = {
	"*Parker::park*",	   /* tokio, crossbeam, parking (smol) */
	"tokio::runtime::park::*", /* block_on's CachedParkThread */
	"*CachedParkThread*",
	"tokio::runtime::scheduler::*::Context::park*", /* park inlined into the worker */
	"tokio::runtime::blocking::pool::Inner::run",	/* blocking pool thread with no task */
	"rayon_core::sleep::*",
	"g_thread_pool_*",
	"runtime.stopm", /* Go: an M with no goroutine to run */
	"runtime.stoplockedm",
	"runtime.templateThread",
};

static const char *const kernel_plumbing[] = {
	"schedule*",	 "__schedule",
	"io_schedule*",	 "\\[scheduler]", /* escaped: a bare [ opens a bracket expression */
	"__wait_event*", "__swait_event*",
};

/* Kernel threads' own loops, waiting for work to be queued. */
static const char *const kernel_idle[] = {
	"worker_thread",     "rescuer_thread", "kthread_worker_fn",
	"smpboot_thread_fn", "rcu_gp_kthread", "rcu_tasks_kthread",
	"rcu_nocb_*kthread", "kthreadd",       "kthread",
	"kswapd*",	     "kcompactd",      "khugepaged*",
	"irq_thread",	     "oom_reaper",     "kauditd_thread",
	"ksm_scan_thread",   "kjournald2",     "watchdog",
	"hwrng_fillfn",	     "io_wq_worker",   "napi_threaded_poll",
	"rcu_tasks_one_gp",  "devtmpfs*",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void set_err(char *err, size_t errlen, const char *spec, const char *why)
{
	if (err && errlen)
		snprintf(err, errlen, "bad idle rule '%s': %s", spec, why);
}

int idle_rules_add(struct idle_rules *r, const char *spec, char *err, size_t errlen)
{
	const char *glob = spec;
	char **v, *g;

	while (glob && isspace((unsigned char)*glob))
		glob++;
	if (!glob || strncmp(glob, SYM_PREFIX, strlen(SYM_PREFIX))) {
		set_err(err, errlen, spec ? spec : "", "expected sym:GLOB");
		return -EINVAL;
	}
	glob += strlen(SYM_PREFIX);
	while (isspace((unsigned char)*glob))
		glob++;
	if (!*glob) {
		set_err(err, errlen, spec, "empty GLOB after sym:");
		return -EINVAL;
	}
	g = strdup(glob);
	v = g ? realloc(r->globs, (r->n + 1) * sizeof(*v)) : NULL;
	if (!v) {
		free(g);
		set_err(err, errlen, spec, "out of memory");
		return -ENOMEM;
	}
	/* trailing blanks are no part of a function's name */
	for (size_t len = strlen(g); len && isspace((unsigned char)g[len - 1]); len--)
		g[len - 1] = '\0';
	v[r->n++] = g;
	r->globs = v;
	return 0;
}

void idle_rules_free(struct idle_rules *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->globs[i]);
	free(r->globs);
	r->globs = NULL;
	r->n = 0;
}

/*
 * Length of frame without the " (file.c:12)" that syms_user() appends with
 * --lines: the file is a basename, the line a decimal number. Nothing else is
 * stripped, so that a glob can still tell "libfoo.so+0x1a2b" or "[unknown]" apart.
 */
static size_t without_line(const char *frame, size_t len)
{
	size_t i = len, colon;

	if (!i || frame[i - 1] != ')')
		return len;
	for (i--; i > 0 && isdigit((unsigned char)frame[i - 1]); i--)
		;
	if (i == len - 1 || i == 0 || frame[i - 1] != ':')
		return len;
	colon = --i;
	/* the nearest " (" opens the suffix: the function's own parentheses come before it */
	while (i >= 2 && !(frame[i - 1] == '(' && frame[i - 2] == ' '))
		i--;
	/* neither the function nor the file may be empty */
	if (i < 3 || i == colon)
		return len;
	return i - 2;
}

/* "<A<B>>::f" -> "A<B>::f": the balanced '>' that closes a leading '<' goes */
static bool drop_type_brackets(char *name)
{
	int depth = 0;

	if (name[0] != '<')
		return false;
	for (char *p = name; *p; p++) {
		depth += (*p == '<') - (*p == '>');
		if (!depth) {
			memmove(p, p + 1, strlen(p + 1) + 1);
			memmove(name, name + 1, strlen(name + 1) + 1);
			return true;
		}
	}
	return false;
}

bool frame_glob_match(const char *glob, const char *frame)
{
	size_t len = strlen(frame), keep = without_line(frame, len);
	char name[NAME_MAX_LEN];

	if (keep == len && !fnmatch(glob, frame, 0))
		return true;
	/* a longer name than any glob of ours keeps its plain match only */
	if (keep >= sizeof(name))
		return false;
	memcpy(name, frame, keep);
	name[keep] = '\0';
	if (keep < len && !fnmatch(glob, name, 0))
		return true;
	return drop_type_brackets(name) && !fnmatch(glob, name, 0);
}

static bool any_match(const char *const *globs, size_t n, const char *frame)
{
	for (size_t i = 0; i < n; i++)
		if (frame_glob_match(globs[i], frame))
			return true;
	return false;
}

/* The innermost frame of frames[0..n) that is no plumbing, NULL if none. */
static const char *waiting_function(const char *const *frames, int n, const char *const *plumbing,
				    size_t nplumbing)
{
	for (int i = n - 1; i >= 0; i--)
		if (frames[i] && !any_match(plumbing, nplumbing, frames[i]))
			return frames[i];
	return NULL;
}

bool idle_stack(const struct idle_rules *r, int reason, bool kernel_thread,
		const char *const *frames, int nframes, int nkernel)
{
	const char *fn;
	bool users = r && r->n;

	if (reason == REASON_RUNQUEUE || reason == REASON_IDLE || nframes <= 0)
		return false;
	if (kernel_thread) {
		fn = waiting_function(frames + nframes - nkernel, nkernel, kernel_plumbing,
				      NELEM(kernel_plumbing));
		return fn && any_match(kernel_idle, NELEM(kernel_idle), fn);
	}
	if (reason != REASON_LOCK && !users)
		return false;
	fn = waiting_function(frames, nframes - nkernel, user_plumbing, NELEM(user_plumbing));
	if (!fn)
		return false;
	if (users && any_match((const char *const *)r->globs, r->n, fn))
		return true;
	return reason == REASON_LOCK && any_match(user_idle, NELEM(user_idle), fn);
}
