// SPDX-License-Identifier: GPL-2.0
/* offcpu: where and why threads block, by stack, thread and wait reason. */
#include <argp.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "offcpu.h"
#include "offcpu.skel.h"
#include "offcpu_maps.h"
#include "offcpu_report.h"
#include "taxonomy.h"
#include "session.h"
#include "syms.h"
#include "target.h"

#define TOOL "offcpu"

enum output { OUT_TEXT, OUT_JSON, OUT_FOLDED };

static struct env {
	int pids[MAX_TARGETS];
	int npids;
	int tid;
	uint64_t min_us, max_us;
	bool user_threads, kernel_threads, user_stacks_only, kernel_stacks_only;
	enum report_by by;
	enum output output;
	bool lines, verbose, raw_tp;
	int top;
	const char *btf;
	double duration;
} env = {.max_us = UINT64_MAX / 1000, .top = 10};

const char *argp_program_version = "offcpu (waitscope) 0.1";
static const char doc[] =
	"Show where and why threads are off-CPU: blocked time by stack, thread and wait reason.\n"
	"\n"
	"USAGE: offcpu [-p PID[,PID..]] [-t TID] [-m MIN_US] [-M MAX_US]\n"
	"              [-u|-k] [-U|-K] [--by stack|thread|reason] [--json|-f]\n"
	"              [duration]\n"
	"\n"
	"EXAMPLES:\n"
	"  offcpu -p 1234 10          # process 1234 for 10 s, top stacks\n"
	"  offcpu -p 1234 --by thread # per thread and reason, until Ctrl-C\n"
	"  offcpu -p 1234 -m 1000     # only periods of 1 ms or more\n"
	"  offcpu -f 30 > out.folded  # whole system, folded stacks for flamegraph.pl\n"
	"  offcpu -p 1234 --json 5    # one JSON document (docs/offcpu.schema.json)\n"
	"\n"
	"Wait reasons: runqueue lock net poll pipe disk sleep child fault other.\n";

enum { OPT_BY = 0x100, OPT_JSON, OPT_LINES, OPT_BTF, OPT_RAW_TP };

static const struct argp_option opts[] = {
	{"pid", 'p', "PID[,PID..]", 0, "Trace these processes (all their threads, new ones too)",
	 0},
	{"tid", 't', "TID", 0, "Trace this thread only", 0},
	{"min", 'm', "MIN_US", 0, "Only blocked periods of at least MIN_US microseconds", 0},
	{"max", 'M', "MAX_US", 0, "Only blocked periods of at most MAX_US microseconds", 0},
	{"user-threads-only", 'u', NULL, 0, "User threads only (no kernel threads)", 0},
	{"kernel-threads-only", 'k', NULL, 0, "Kernel threads only", 0},
	{"user-stacks-only", 'U', NULL, 0, "Show user stacks only", 0},
	{"kernel-stacks-only", 'K', NULL, 0, "Show kernel stacks only", 0},
	{"by", OPT_BY, "stack|thread|reason", 0, "Main section of the text report (default stack)",
	 0},
	{"top", 'n', "N", 0, "Rows in the main section (default 10, 0 for all)", 0},
	{"json", OPT_JSON, NULL, 0, "One JSON document", 0},
	{"folded", 'f', NULL, 0, "Folded stacks (frame;frame;frame microseconds)", 0},
	{"lines", OPT_LINES, NULL, 0, "Add file:line to user frames with debug info", 0},
	{"btf", OPT_BTF, "FILE", 0, "Kernel BTF file, for kernels without /sys/kernel/btf", 0},
	{"raw-tp", OPT_RAW_TP, NULL, 0, "Attach as raw_tp even where tp_btf works", 0},
	{"verbose", 'v', NULL, 0, "Show libbpf's log", 0},
	{},
};

static long parse_number(const char *what, const char *arg)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || *end || v < 0)
		usage_error(TOOL, "invalid %s: %s", what, arg);
	return v;
}

static int parse_by(const char *arg)
{
	if (!strcmp(arg, "stack"))
		return BY_STACK;
	if (!strcmp(arg, "thread"))
		return BY_THREAD;
	if (!strcmp(arg, "reason"))
		return BY_REASON;
	usage_error(TOOL, "--by takes stack, thread or reason, not %s", arg);
	return BY_STACK;
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'p':
		env.npids = target_parse_pids(TOOL, arg, env.pids, MAX_TARGETS);
		if (env.npids < 0)
			exit(EXIT_USAGE);
		break;
	case 't':
		env.tid = parse_number("TID", arg);
		break;
	case 'm':
		env.min_us = parse_number("MIN_US", arg);
		break;
	case 'M':
		env.max_us = parse_number("MAX_US", arg);
		break;
	case 'u':
		env.user_threads = true;
		break;
	case 'k':
		env.kernel_threads = true;
		break;
	case 'U':
		env.user_stacks_only = true;
		break;
	case 'K':
		env.kernel_stacks_only = true;
		break;
	case OPT_BY:
		env.by = parse_by(arg);
		break;
	case 'n':
		env.top = parse_number("N", arg);
		break;
	case OPT_JSON:
		env.output = OUT_JSON;
		break;
	case 'f':
		env.output = OUT_FOLDED;
		break;
	case OPT_LINES:
		env.lines = true;
		break;
	case OPT_BTF:
		env.btf = arg;
		break;
	case OPT_RAW_TP:
		env.raw_tp = true;
		break;
	case 'v':
		env.verbose = true;
		break;
	case ARGP_KEY_ARG:
		if (state->arg_num > 0)
			usage_error(TOOL, "unexpected argument: %s", arg);
		env.duration = parse_seconds(arg);
		if (env.duration < 0)
			usage_error(TOOL, "invalid duration: %s", arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static void check_flags(void)
{
	if (env.user_threads && env.kernel_threads)
		usage_error(TOOL, "-u and -k exclude each other");
	if (env.user_stacks_only && env.kernel_stacks_only)
		usage_error(TOOL, "-U and -K exclude each other");
	if (env.min_us > env.max_us)
		usage_error(TOOL, "MIN_US is above MAX_US");
}

static error_t parse_arg_end(int key, char *arg, struct argp_state *state)
{
	if (key == ARGP_KEY_END)
		check_flags();
	return parse_arg(key, arg, state);
}

/* -t alone traces the thread's process: resolve it so its exit ends the trace. */
static int resolve_tid(void)
{
	int tgid;

	if (!env.tid)
		return 0;
	tgid = tid_tgid(env.tid);
	if (tgid < 0) {
		fprintf(stderr, "%s: no thread with TID %d\n", TOOL, env.tid);
		return EXIT_USAGE;
	}
	if (env.npids && (env.npids > 1 || env.pids[0] != tgid)) {
		fprintf(stderr, "%s: thread %d belongs to process %d: use -t %d alone\n", TOOL,
			env.tid, tgid, env.tid);
		return EXIT_USAGE;
	}
	if (!env.npids)
		env.pids[env.npids++] = tgid;
	return 0;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && !env.verbose)
		return 0;
	return env.verbose ? vfprintf(stderr, fmt, args) : 0;
}

/*
 * Kernel stacks are walked when a thread runs again, which skips the
 * tracer's frames; the scheduler's frames that walk leaves out are known by
 * their text sections. Without them (kallsyms hidden) every walk is a full one.
 */
static void configure_task_stacks(struct offcpu_bpf__rodata *ro)
{
	static const char *const names[] = {"__sched_text_start", "__sched_text_end",
					    "__lock_text_start", "__lock_text_end"};
	uint64_t addrs[4];

	ro->task_stacks = kernel_symbol_addrs(names, addrs, 4) == 4;
	for (int i = 0; i < 4; i++)
		ro->sched_text[i] = addrs[i];
}

static void configure(struct offcpu_bpf *skel)
{
	struct offcpu_bpf__rodata *ro = skel->rodata;

	for (int i = 0; i < env.npids; i++)
		ro->targ_tgids[i] = env.pids[i];
	ro->n_tgids = env.tid ? 0 : env.npids;
	ro->targ_tid = env.tid;
	ro->self_tgid = getpid();
	ro->user_threads_only = env.user_threads;
	ro->kernel_threads_only = env.kernel_threads;
	ro->user_stacks = !env.kernel_stacks_only;
	ro->kernel_stacks = !env.user_stacks_only;
	ro->min_ns = env.min_us * 1000;
	ro->max_ns = env.max_us > UINT64_MAX / 1000 ? UINT64_MAX : env.max_us * 1000;
	reasons_fill_syscall_classes((uint8_t *)ro->sys_class, MAX_SYSCALLS);
	configure_task_stacks(ro);
}

/* tp_btf is cheaper; kernels that refuse it get the raw_tp twin. */
static struct offcpu_bpf *open_and_load(bool btf)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = env.btf);
	struct offcpu_bpf *skel = offcpu_bpf__open_opts(&oo);
	int err;

	if (!skel)
		return NULL;
	configure(skel);
	bpf_program__set_autoload(skel->progs.sched_switch_btf, btf);
	bpf_program__set_autoload(skel->progs.sched_switch_raw, !btf);
	bpf_program__set_autoload(skel->progs.sched_exec_btf, btf);
	bpf_program__set_autoload(skel->progs.sched_exec_raw, !btf);
	err = offcpu_bpf__load(skel);
	if (!err)
		return skel;
	offcpu_bpf__destroy(skel);
	errno = -err;
	return NULL;
}

static struct offcpu_bpf *start(void)
{
	struct offcpu_bpf *skel = env.raw_tp ? NULL : open_and_load(true);

	if (!skel)
		skel = open_and_load(false);
	if (!skel) {
		fprintf(stderr, "%s: cannot load the BPF program: %s%s\n", TOOL, strerror(errno),
			env.verbose ? "" : " (run with -v for libbpf's log)");
		return NULL;
	}
	if (offcpu_bpf__attach(skel)) {
		fprintf(stderr, "%s: cannot attach to sched_switch: %s\n", TOOL, strerror(errno));
		offcpu_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

#define YOUNG_MAX 1024
#define YOUNG_NS  2000000000ULL

/*
 * A process just born or exec'ed is still mapping its libraries: its maps
 * are taken again at each poll for its first two seconds.
 */
struct young {
	int tgid;
	unsigned long long until_ns;
};

struct run {
	struct offcpu_bpf *skel;
	struct offcpu_maps maps;
	struct syms *syms;
	struct young young[YOUNG_MAX];
	int nyoung;
	unsigned long long start_ns;
};

static void add_young(struct run *r, int tgid)
{
	for (int i = 0; i < r->nyoung; i++)
		if (r->young[i].tgid == tgid) {
			r->young[i].until_ns = mono_ns() + YOUNG_NS;
			return;
		}
	if (r->nyoung < YOUNG_MAX)
		r->young[r->nyoung++] = (struct young){tgid, mono_ns() + YOUNG_NS};
}

/* A process seen for the first time or after exec: keep its memory map before it can exit. */
static int on_notice(void *ctx, void *data, size_t size)
{
	struct run *r = ctx;
	const struct new_proc *np = data;

	if (size < sizeof(*np))
		return 0;
	syms_snapshot(r->syms, np->tgid);
	if (np->exec || np->start_ns >= r->start_ns)
		add_young(r, np->tgid);
	return 0;
}

static void on_poll(void *ctx)
{
	struct run *r = ctx;
	unsigned long long now = mono_ns();

	for (int i = 0; i < r->nyoung;) {
		if (r->young[i].until_ns < now || syms_snapshot(r->syms, r->young[i].tgid) < 0) {
			r->young[i] = r->young[--r->nyoung];
			continue;
		}
		i++;
	}
}

/* Targets may dlopen libraries while traced: refresh their maps. */
static void on_tick(void *ctx)
{
	struct run *r = ctx;

	for (int i = 0; i < env.npids; i++)
		syms_snapshot(r->syms, env.pids[i]);
}

static void on_status(void *ctx, char *buf, size_t n)
{
	struct run *r = ctx;
	uint64_t periods, drops;

	offcpu_progress(&r->maps, &periods, &drops);
	snprintf(buf, n, "%" PRIu64 " blocked periods, %" PRIu64 " dropped", periods, drops);
}

static void fill_maps(struct run *r)
{
	struct offcpu_bpf *s = r->skel;
	struct bpf_program *prog =
		s->links.sched_switch_btf ? s->progs.sched_switch_btf : s->progs.sched_switch_raw;

	r->maps = (struct offcpu_maps){
		.threads = bpf_map__fd(s->maps.threads),
		.periods = bpf_map__fd(s->maps.periods),
		.hists = bpf_map__fd(s->maps.hists),
		.stacks = bpf_map__fd(s->maps.stacks),
		.full_of = bpf_map__fd(s->maps.full_of),
		.counters = bpf_map__fd(s->maps.counters),
		.prog = bpf_program__fd(prog),
	};
}

static void init_profile(struct profile *p)
{
	memset(p, 0, sizeof(*p));
	p->tool = TOOL;
	p->npids = env.npids;
	p->tid = env.tid;
	for (int i = 0; i < env.npids; i++) {
		p->pids[i] = env.pids[i];
		proc_comm(env.pids[i], env.pids[i], p->target_comm[i], COMM_LEN);
	}
}

static int trace(struct run *r, struct profile *p)
{
	struct ring_buffer *rb =
		ring_buffer__new(bpf_map__fd(r->skel->maps.notices), on_notice, r, NULL);
	struct session s = {
		.tool = TOOL,
		.duration = env.duration,
		.pids = p->pids,
		.npids = p->npids,
		.exited = p->exited,
		.rb = rb,
		.poll = on_poll,
		.tick = on_tick,
		.status = on_status,
		.ctx = r,
	};

	for (int i = 0; i < env.npids; i++)
		syms_snapshot(r->syms, env.pids[i]);
	p->start_ns = mono_ns();
	session_run(&s);
	p->end_ns = mono_ns();
	offcpu_bpf__detach(r->skel);
	if (rb)
		ring_buffer__consume(rb);
	ring_buffer__free(rb);
	p->duration = s.elapsed;
	return offcpu_read(&r->maps, r->syms, p);
}

static void render(const struct profile *p)
{
	struct report_opts o = {.by = env.by, .top = env.top};

	if (env.output == OUT_JSON)
		report_json(stdout, p);
	else if (env.output == OUT_FOLDED)
		report_folded(stdout, p);
	else
		report_text(stdout, p, &o);
	finish_stdout();
}

int main(int argc, char **argv)
{
	static const struct argp argp = {opts, parse_arg_end, "[duration]", doc, NULL, NULL, NULL};
	struct syms_opts so = {0};
	struct profile p;
	struct run r = {0};
	int err;

	err = parse_args(TOOL, &argp, argc, argv);
	if (err)
		return err;
	err = resolve_tid();
	if (err)
		return err;
	err = preflight(TOOL, env.btf);
	if (err)
		return err;
	libbpf_set_print(libbpf_print);
	/* processes born from here on are young, even while the program attaches */
	r.start_ns = mono_ns();
	r.skel = start();
	if (!r.skel)
		return EXIT_ENV;
	fill_maps(&r);
	so.lines = env.lines;
	r.syms = syms_new(&so);
	init_profile(&p);
	err = trace(&r, &p);
	if (err)
		fprintf(stderr, "%s: cannot read the results: %s\n", TOOL, strerror(-err));
	else
		profile_finish(&p), render(&p);
	profile_free(&p);
	syms_free(r.syms);
	offcpu_bpf__destroy(r.skel);
	return err ? EXIT_ENV : 0;
}
