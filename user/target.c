// SPDX-License-Identifier: GPL-2.0
#include <argp.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "target.h"

#define MIN_KERNEL_MAJOR 5
#define MIN_KERNEL_MINOR 15
#define CAP_SYS_ADMIN	 21
#define CAP_PERFMON	 38
#define CAP_BPF		 39

int target_parse_pids(const char *tool, const char *arg, int *out, int max)
{
	char *copy = strdup(arg), *save = NULL, *tok;
	int n = 0;

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		long pid = strtol(tok, &end, 10);

		if (*end || pid <= 0 || pid > 4194304) {
			fprintf(stderr, "%s: invalid PID '%s'\n", tool, tok);
			goto fail;
		}
		if (n == max) {
			fprintf(stderr, "%s: at most %d PIDs\n", tool, max);
			goto fail;
		}
		if (!pid_alive(pid)) {
			fprintf(stderr, "%s: no process with PID %ld\n", tool, pid);
			goto fail;
		}
		/* /proc shows threads too: a TID given as PID would match nothing */
		if (tid_tgid(pid) != pid) {
			fprintf(stderr, "%s: %ld is a thread of process %d: use -p %d or -t %ld\n",
				tool, pid, tid_tgid(pid), tid_tgid(pid), pid);
			goto fail;
		}
		out[n++] = pid;
	}
	free(copy);
	if (!n)
		fprintf(stderr, "%s: no PID given\n", tool);
	return n ? n : -1;
fail:
	free(copy);
	return -1;
}

/* The state letter of /proc/PID/stat or /proc/PID/task/TID/stat; 0 if unreadable. */
static char stat_state(const char *path)
{
	char buf[512], *p, state = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return 0;
	/* the state follows the last ')': the name may contain anything */
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) && p[1] && p[2])
		state = p[2];
	fclose(f);
	return state;
}

static bool state_alive(char state)
{
	return state && state != 'Z' && state != 'X';
}

/*
 * A leader that called pthread_exit stays a zombie while its other threads
 * run: the process lives while any of its threads does.
 */
bool pid_alive(int pid)
{
	char path[64], state;
	struct dirent *d;
	bool alive = false;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	state = stat_state(path);
	if (!state || state_alive(state))
		return state != 0;
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	while (dir && !alive && (d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/stat", pid, d->d_name);
		alive = state_alive(stat_state(path));
	}
	if (dir)
		closedir(dir);
	return alive;
}

int tid_tgid(int tid)
{
	char path[64], line[256];
	int tgid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %d", &tgid) == 1)
			break;
	fclose(f);
	return tgid;
}

void proc_comm(int pid, int tid, char *buf, size_t n)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", pid, tid);
	f = fopen(path, "r");
	if (!f || !fgets(buf, n, f)) {
		snprintf(buf, n, "?");
	} else {
		buf[strcspn(buf, "\n")] = 0;
	}
	if (f)
		fclose(f);
}

static uint64_t effective_caps(void)
{
	char line[256];
	uint64_t caps = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %" SCNx64, &caps) == 1)
			break;
	fclose(f);
	return caps;
}

static bool kernel_too_old(const char *tool)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return false;
	if (major > MIN_KERNEL_MAJOR || (major == MIN_KERNEL_MAJOR && minor >= MIN_KERNEL_MINOR))
		return false;
	fprintf(stderr, "%s: kernel %s is too old: waitscope needs %d.%d or newer\n", tool,
		u.release, MIN_KERNEL_MAJOR, MIN_KERNEL_MINOR);
	return true;
}

int preflight(const char *tool, const char *btf_path)
{
	uint64_t caps = effective_caps();
	bool bpf_caps = (caps >> CAP_BPF & 1) && (caps >> CAP_PERFMON & 1);

	if (kernel_too_old(tool))
		return EXIT_ENV;
	if (!(caps >> CAP_SYS_ADMIN & 1) && !bpf_caps) {
		fprintf(stderr,
			"%s: permission denied: run as root (needs CAP_BPF and CAP_PERFMON, or "
			"CAP_SYS_ADMIN)\n",
			tool);
		return EXIT_ENV;
	}
	if (btf_path && access(btf_path, R_OK)) {
		fprintf(stderr, "%s: cannot read BTF file %s: %s\n", tool, btf_path,
			strerror(errno));
		return EXIT_ENV;
	}
	if (!btf_path && access("/sys/kernel/btf/vmlinux", R_OK)) {
		fprintf(stderr,
			"%s: no kernel BTF at /sys/kernel/btf/vmlinux (needs "
			"CONFIG_DEBUG_INFO_BTF=y, "
			"or give a BTF file with --btf)\n",
			tool);
		return EXIT_ENV;
	}
	return 0;
}

double parse_seconds(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !isfinite(v) || v <= 0)
		return -1;
	return v;
}

long parse_count(const char *tool, const char *what, const char *arg)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < 0)
		usage_error(tool, "invalid %s: %s", what, arg);
	return v;
}

int parse_top(const char *tool, const char *arg)
{
	long n = parse_count(tool, "N", arg);

	if (n > 1000000)
		usage_error(tool, "invalid N: %s (0 to 1000000; 0 for all)", arg);
	return (int)n;
}

int parse_choice(const char *tool, const char *flag, const char *arg, const char *const *names,
		 int n)
{
	char list[256] = "";
	size_t len = 0;

	for (int i = 0; i < n; i++)
		if (!strcmp(arg, names[i]))
			return i;
	for (int i = 0; i < n && len < sizeof(list); i++)
		len += snprintf(list + len, sizeof(list) - len, "%s%s", names[i],
				i == n - 1   ? ""
				: i == n - 2 ? " or "
					     : ", ");
	usage_error(tool, "%s takes %s, not %s", flag, list, arg);
}

double parse_interval(const char *tool, const char *arg)
{
	double v = parse_seconds(arg);

	if (v <= 0)
		usage_error(tool, "invalid interval: %s", arg);
	return v;
}

void usage_error(const char *tool, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", tool);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see %s --help)\n", tool);
	exit(EXIT_USAGE);
}

static const struct argp_option *find_option(const struct argp *argp, const char *arg)
{
	size_t len = strcspn(arg + 2, "=");

	for (const struct argp_option *o = argp->options; o->name || o->key; o++) {
		if (arg[1] == '-' && o->name && !strncmp(o->name, arg + 2, len) && !o->name[len])
			return o;
		if (arg[1] != '-' && o->key == arg[1])
			return o;
	}
	return NULL;
}

/* argp says only that parsing failed: name the argument at fault. */
static const char *bad_arg(const struct argp *argp, int argc, char **argv, const char **why)
{
	for (int i = 1; i < argc; i++) {
		const struct argp_option *o;

		if (argv[i][0] != '-' || !argv[i][1] || !strcmp(argv[i], "--"))
			continue;
		o = find_option(argp, argv[i]);
		if (!o && strcmp(argv[i], "--help") && strcmp(argv[i], "--usage") &&
		    strcmp(argv[i], "--version")) {
			*why = "unknown option";
			return argv[i];
		}
		if (o && !o->arg && argv[i][1] == '-' && strchr(argv[i], '=')) {
			*why = "no value is taken by";
			return argv[i];
		}
		if (o && o->arg && i == argc - 1 && !strchr(argv[i], '=') &&
		    (argv[i][1] == '-' || !argv[i][2])) {
			*why = "missing value for";
			return argv[i];
		}
	}
	*why = "cannot parse the arguments:";
	return argv[argc - 1];
}

static bool wants_help(int argc, char **argv)
{
	static const char *const help[] = {"--help", "-?", "--usage", "--version", "-V"};

	for (int i = 1; i < argc; i++)
		for (size_t j = 0; j < sizeof(help) / sizeof(help[0]); j++)
			if (!strcmp(argv[i], help[j]))
				return true;
	return false;
}

int parse_args(const char *tool, const struct argp *argp, int argc, char **argv)
{
	const char *why, *arg;

	/* argp prints help and exits, unless it was told to keep quiet (below) */
	if (wants_help(argc, argv))
		return argp_parse(argp, argc, argv, 0, NULL, NULL) ? EXIT_USAGE : 0;
	/* quiet argp: its errors take two lines and name the binary's path */
	if (!argp_parse(argp, argc, argv, ARGP_NO_ERRS, NULL, NULL))
		return 0;
	arg = bad_arg(argp, argc, argv, &why);
	usage_error(tool, "%s %s", why, arg);
}

int target_resolve_tid(const char *tool, int tid, int *pids, int *npids)
{
	int tgid;

	if (!tid)
		return 0;
	tgid = tid_tgid(tid);
	if (tgid < 0) {
		fprintf(stderr, "%s: no thread with TID %d\n", tool, tid);
		return EXIT_USAGE;
	}
	if (*npids && (*npids > 1 || pids[0] != tgid)) {
		fprintf(stderr, "%s: thread %d belongs to process %d: use -t %d alone\n", tool, tid,
			tgid, tid);
		return EXIT_USAGE;
	}
	pids[0] = tgid;
	*npids = 1;
	return 0;
}
