// SPDX-License-Identifier: GPL-2.0
/* offcpu: where and why threads block, by stack, thread and wait reason. */
#include <argp.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "offcpu.h"
#include "offcpu.skel.h"
#include "version.h"
#include "maps.h"
#include "report.h"
#include "views.h"
#include "actors.h"
#include "taxonomy.h"
#include "schedframes.h"
#include "loader.h"
#include "session.h"
#include "syms.h"
#include "target.h"
#include "unwind.h"

#define TOOL "offcpu"

enum output { OUT_TEXT, OUT_JSON, OUT_FOLDED };

/* how user stacks are walked */
enum stack_mode { STACK_AUTO, STACK_FP, STACK_DWARF };

static struct env {
	int pids[MAX_TARGETS];
	int npids;
	int tid;
	uint64_t min_us, max_us;
	bool user_threads, kernel_threads, user_stacks_only, kernel_stacks_only;
	enum report_by by;
	enum output output;
	enum stack_mode stack;
	bool lines, verbose, raw_tp, wakers, stuck;
	int top;
	const char *btf, *svg, *pprof;
	double duration, interval;
	struct actor_rules rules;
} env = {.max_us = UINT64_MAX, .top = 10};

const char *argp_program_version =
	"offcpu (waitscope) " WAITSCOPE_VERSION ", commit " WAITSCOPE_COMMIT;
static const char doc[] =
	"Show where and why threads are off-CPU: blocked time by stack, thread and wait reason.\n"
	"\n"
	"USAGE: offcpu [-p PID[,PID..]] [-t TID] [-m MIN_US] [-M MAX_US]\n"
	"              [-u|-k] [-U|-K] [--by stack|thread|reason|actor] [--json|-f]\n"
	"              [--wakers] [--actor NAME=GLOB|NAME=sym:GLOB].. [--actors FILE]\n"
	"              [--svg FILE] [--pprof FILE] [-i SECONDS] [duration]\n"
	"       offcpu --stuck -p PID   # threads blocked right now, and exit\n"
	"\n"
	"EXAMPLES:\n"
	"  offcpu -p 1234 10          # process 1234 for 10 s, top stacks\n"
	"  offcpu -p 1234 --by thread # per thread and reason, until Ctrl-C\n"
	"  offcpu -p 1234 -m 1000     # only periods of 1 ms or more\n"
	"  offcpu -f 30 > out.folded  # whole system, folded stacks for flamegraph.pl\n"
	"  offcpu -p 1234 --json 5    # one JSON document (docs/offcpu.schema.json)\n"
	"  offcpu -p 1234 --wakers 5  # who woke each blocked stack\n"
	"  offcpu -p 1234 --by actor  # per thread role (dispatcher-*, worker-*)\n"
	"  offcpu --stuck -p 1234     # why is it hung: every blocked thread, now\n"
	"  offcpu -p 1234 --svg out.svg 10  # flame graph\n"
	"\n"
	"Wait reasons: runqueue lock net poll pipe disk sleep child fault other.\n";

enum {
	OPT_BY = 0x100,
	OPT_JSON,
	OPT_LINES,
	OPT_BTF,
	OPT_RAW_TP,
	OPT_WAKERS,
	OPT_STUCK,
	OPT_SVG,
	OPT_PPROF,
	OPT_ACTOR,
	OPT_ACTORS,
	OPT_STACK,
	OPT_IDLE,
};

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
	{"by", OPT_BY, "stack|thread|reason|actor", 0,
	 "Main section of the text report (default stack)", 0},
	{"wakers", OPT_WAKERS, NULL, 0,
	 "Who woke each blocked stack (the waker's thread and stacks)", 0},
	{"actor", OPT_ACTOR, "NAME=GLOB", 0,
	 "Actor rule: thread name GLOB, or NAME=sym:GLOB for a user frame (repeatable)", 0},
	{"actors", OPT_ACTORS, "FILE", 0, "Actor rules from FILE, one per line", 0},
	{"idle", OPT_IDLE, "sym:GLOB", 0,
	 "Also idle: periods whose waiting function matches GLOB (repeatable)", 0},
	{"stuck", OPT_STUCK, NULL, 0, "Only the threads blocked right now, then exit", 0},
	{"interval", 'i', "SECONDS", 0, "A report every SECONDS (each one starts afresh)", 0},
	{"svg", OPT_SVG, "FILE", 0, "Also write an off-CPU flame graph (SVG) to FILE", 0},
	{"pprof", OPT_PPROF, "FILE", 0, "Also write a gzipped pprof profile to FILE", 0},
	{"top", 'n', "N", 0, "Rows in the main section (default 10, 0 for all)", 0},
	{"json", OPT_JSON, NULL, 0, "One JSON document", 0},
	{"folded", 'f', NULL, 0, "Folded stacks (frame;frame;frame microseconds)", 0},
	{"stack", OPT_STACK, "auto|fp|dwarf", 0,
	 "User stacks by the binaries' CFI where present (auto, the default; dwarf is the same) "
	 "or by frame pointers only (fp); the whole system's tables load as its processes block",
	 0},
	{"lines", OPT_LINES, NULL, 0, "Add file:line to user frames with debug info", 0},
	{"btf", OPT_BTF, "FILE", 0, "Kernel BTF file, for kernels without /sys/kernel/btf", 0},
	{"raw-tp", OPT_RAW_TP, NULL, 0, "Attach as raw_tp even where tp_btf works", 0},
	{"verbose", 'v', NULL, 0, "Show libbpf's log", 0},
	{},
};

static void add_rules(int key, const char *arg)
{
	char err[256];
	int rc = key == OPT_ACTORS ? actor_rules_load(&env.rules, arg, err, sizeof(err))
		 : key == OPT_IDLE ? idle_rules_add(&env.rules.idle, arg, err, sizeof(err))
				   : actor_rules_add(&env.rules, arg, err, sizeof(err));

	if (rc < 0)
		usage_error(TOOL, "%s", err);
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
		env.tid = parse_count(TOOL, "TID", arg);
		break;
	case 'm':
		env.min_us = parse_count(TOOL, "MIN_US", arg);
		break;
	case 'M':
		env.max_us = parse_count(TOOL, "MAX_US", arg);
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
		env.by = parse_choice(TOOL, "--by", arg, /* in enum report_by's order */
				      (const char *const[]){"stack", "thread", "reason", "actor"},
				      4);
		break;
	case OPT_STACK:
		if (!strcmp(arg, "auto"))
			env.stack = STACK_AUTO;
		else if (!strcmp(arg, "fp"))
			env.stack = STACK_FP;
		else if (!strcmp(arg, "dwarf"))
			env.stack = STACK_DWARF;
		else
			usage_error(TOOL, "invalid --stack: %s (auto, fp or dwarf)", arg);
		break;
	case 'n':
		env.top = parse_top(TOOL, arg);
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
	case OPT_WAKERS:
		env.wakers = true;
		break;
	case OPT_STUCK:
		env.stuck = true;
		break;
	case OPT_SVG:
		env.svg = arg;
		break;
	case OPT_PPROF:
		env.pprof = arg;
		break;
	case 'i':
		env.interval = parse_interval(TOOL, arg);
		break;
	case OPT_ACTOR:
	case OPT_ACTORS:
	case OPT_IDLE:
		add_rules(key, arg);
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
	if (env.stuck && (env.interval || env.duration || env.wakers || env.svg || env.pprof ||
			  env.output == OUT_FOLDED || env.min_us || env.by != BY_STACK))
		usage_error(TOOL, "--stuck takes no duration, -i, -f, -m, --by, --wakers, --svg or "
				  "--pprof: it prints the threads blocked now");
	if (env.interval && env.output == OUT_FOLDED)
		usage_error(TOOL, "-i and -f exclude each other: one folded profile per file");
}

static error_t parse_arg_end(int key, char *arg, struct argp_state *state)
{
	if (key == ARGP_KEY_END)
		check_flags();
	return parse_arg(key, arg, state);
}

/*
 * Kernel stacks are walked when a thread runs again, which skips the
 * tracer's frames; the scheduler's frames that walk leaves out are known by
 * their text sections. Without them (kallsyms hidden) every walk is a full one.
 */
static void configure_task_stacks(struct offcpu_bpf__bss *bss)
{
	struct schedframes sf;

	if (schedframes_init(&sf))
		return;
	for (int i = 0; i < 4; i++)
		bss->sched_text[i] = sf.text[i];
	/* last: the programs take the cheap walk once the text ranges are there */
	__atomic_store_n(&bss->task_stacks, true, __ATOMIC_RELEASE);
}

/* Unwinding by CFI, unless frame pointers are asked for or no user stack is. */
static bool unwind_wanted(void)
{
	return env.stack != STACK_FP && !env.kernel_stacks_only && !env.kernel_threads;
}

/*
 * Wakers' user stacks by the tables too: a walker program that sched_waking
 * tail-calls. Cleared when the walker does not load (frame pointers then).
 */
static bool waker_walk = false;

/* No -p or -t (-t has given its process to pids): every process but ours and the kernel's. */
static bool whole_system(void)
{
	return !env.npids;
}

/* -m or -M: a period counts only whole, not cut by the trace's start or end. */
static bool whole_periods_only(void)
{
	return env.min_us || env.max_us != UINT64_MAX;
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
	ro->wakers = env.wakers;
	ro->cfi_unwind = unwind_wanted();
	/* too many processes to load them all: those that block ask */
	ro->ask_tables = unwind_wanted() && whole_system();
	/* sched_switch passes prev_state since 5.18 */
	ro->has_prev_state = loader_tracepoint_args(env.btf, "sched_switch", 4);
	ro->min_ns = env.min_us * 1000;
	ro->max_ns = env.max_us >= UINT64_MAX / 1000 ? UINT64_MAX : env.max_us * 1000;
	ro->whole_only = whole_periods_only();
	reasons_fill_syscall_classes((uint8_t *)ro->sys_class, MAX_SYSCALLS);
}

/* What one load attempt switches on: the first that loads wins. */
struct flavour {
	bool btf;	/* tp_btf, else raw_tp */
	bool iter;	/* a task iterator, for the stuck view and the trace's start */
	bool iter_user; /* the sleepable one that also reads user stacks (5.18+) */
	bool iter_cfi;	/* ... with the unwinder, which takes a trusted task (6.8+) */
};

static const struct flavour flavours[] = {
	{true, true, true, true},    {true, true, true, false},	  {true, true, false, false},
	{true, false, false, false}, {false, true, false, false}, {false, false, false, false},
};

static void set_autoload(struct offcpu_bpf *skel, const struct flavour *fl)
{
	bool trace = !env.stuck;

	bpf_program__set_autoload(skel->progs.sched_switch_btf, trace && fl->btf);
	bpf_program__set_autoload(skel->progs.sched_switch_raw, trace && !fl->btf);
	bpf_program__set_autoload(skel->progs.sched_waking_btf, trace && fl->btf && !waker_walk);
	bpf_program__set_autoload(skel->progs.sched_waking_raw, trace && !fl->btf && !waker_walk);
	bpf_program__set_autoload(skel->progs.sched_waking_cfi_btf, trace && fl->btf && waker_walk);
	bpf_program__set_autoload(skel->progs.sched_waking_cfi_raw,
				  trace && !fl->btf && waker_walk);
	bpf_program__set_autoload(skel->progs.sched_exec_btf, trace && fl->btf);
	bpf_program__set_autoload(skel->progs.sched_exec_raw, trace && !fl->btf);
	bpf_program__set_autoload(skel->progs.waker_walk_btf, trace && waker_walk && fl->btf);
	bpf_program__set_autoload(skel->progs.waker_walk_raw, trace && waker_walk && !fl->btf);
	/* tail-called, never attached */
	bpf_program__set_autoattach(skel->progs.waker_walk_btf, false);
	bpf_program__set_autoattach(skel->progs.waker_walk_raw, false);
	bpf_program__set_autoload(skel->progs.snap_tasks_cfi, fl->iter && fl->iter_cfi);
	bpf_program__set_autoload(skel->progs.snap_tasks_user,
				  fl->iter && fl->iter_user && !fl->iter_cfi);
	bpf_program__set_autoload(skel->progs.snap_tasks, fl->iter && !fl->iter_user);
}

/* sched_waking's tail call goes to the walker of the same flavour. */
static int set_waker_walker(struct offcpu_bpf *skel, const struct flavour *fl)
{
	struct bpf_program *walker =
		fl->btf ? skel->progs.waker_walk_btf : skel->progs.waker_walk_raw;
	int fd = bpf_program__fd(walker);
	__u32 zero = 0;

	return bpf_map__update_elem(skel->maps.waker_walkers, &zero, sizeof(zero), &fd, sizeof(fd),
				    BPF_ANY);
}

static struct offcpu_bpf *load_flavour(const struct flavour *fl)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = env.btf);
	struct offcpu_bpf *skel = offcpu_bpf__open_opts(&oo);
	int err;

	if (!skel)
		return NULL;
	configure(skel);
	set_autoload(skel, fl);
	err = offcpu_bpf__load(skel);
	if (!err && waker_walk)
		err = set_waker_walker(skel, fl);
	if (!err)
		return skel;
	offcpu_bpf__destroy(skel);
	errno = -err;
	return NULL;
}

/*
 * A flavour whose waker walker fails loads again without it: waker stacks by
 * frame pointers are better than a step down the ladder.
 */
static void *open_and_load(void *ctx, int i)
{
	struct offcpu_bpf *skel = load_flavour(&flavours[i]);
	int err = errno;

	(void)ctx;
	if (skel || !waker_walk)
		return skel;
	waker_walk = false;
	skel = load_flavour(&flavours[i]);
	if (skel)
		fprintf(stderr,
			"%s: waker stacks are walked by frame pointers: the unwinder's program for "
			"them did not load (%s)\n",
			TOOL, strerror(err));
	else
		waker_walk = true; /* not the walker's fault: the next flavour tries it again */
	errno = skel ? 0 : err;
	return skel;
}

/* -r rules out tp_btf; --stuck needs the task iterator */
static bool allowed(void *ctx, int i)
{
	(void)ctx;
	return !(env.raw_tp && flavours[i].btf) && !(env.stuck && !flavours[i].iter);
}

static struct offcpu_bpf *load(void)
{
	struct loader l = {
		.tool = TOOL,
		.verbose = env.verbose,
		.nflavours = sizeof(flavours) / sizeof(flavours[0]),
		.allowed = allowed,
		.load = open_and_load,
	};
	int i;
	struct offcpu_bpf *skel = loader_load(&l, &i);

	if (skel && !flavours[i].iter)
		fprintf(stderr,
			"%s: the BPF task iterator did not load (%s): threads blocked before the "
			"trace count from their first switch, and there is no BLOCKED NOW "
			"section\n",
			TOOL, strerror(l.err));
	return skel;
}

static struct bpf_link *iter_link(struct offcpu_bpf *skel)
{
	if (skel->links.snap_tasks_cfi)
		return skel->links.snap_tasks_cfi;
	return skel->links.snap_tasks_user ? skel->links.snap_tasks_user : skel->links.snap_tasks;
}

static unsigned long long attach_ns;

static struct offcpu_bpf *start(void)
{
	struct offcpu_bpf *skel = load();

	if (!skel)
		return NULL;
	/* the trace's window: the programs record from here on */
	attach_ns = skel->bss->trace_start_ns = mono_ns();
	if (offcpu_bpf__attach(skel)) {
		fprintf(stderr, "%s: cannot attach to the scheduler's tracepoints: %s\n", TOOL,
			strerror(errno));
		offcpu_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

/* The tracepoints stop; the task iterator stays for the stuck view at the end. */
static void stop_tracing(struct offcpu_bpf *skel)
{
	struct bpf_link **links[] = {
		&skel->links.sched_switch_btf,	   &skel->links.sched_switch_raw,
		&skel->links.sched_waking_btf,	   &skel->links.sched_waking_raw,
		&skel->links.sched_waking_cfi_btf, &skel->links.sched_waking_cfi_raw,
		&skel->links.sched_exec_btf,	   &skel->links.sched_exec_raw,
	};

	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		bpf_link__destroy(*links[i]);
		*links[i] = NULL;
	}
}

#define YOUNG_MAX 1024
#define YOUNG_NS  2000000000ULL

/*
 * A process just born or exec'ed is still mapping its libraries: its maps
 * are taken again at each poll for its first two seconds.
 */
struct young {
	int tgid;
	__u32 image;
	unsigned long long until_ns;
};

struct run {
	struct offcpu_bpf *skel;
	struct offcpu_maps maps;
	struct syms *syms;
	struct young young[YOUNG_MAX];
	int nyoung;
	__u32 image[MAX_TARGETS]; /* what each target runs now: its exec count */
	unsigned long long start_ns;
	unsigned long long interval_start;
	struct offcpu_prev prev;      /* thread totals at the last interval report */
	struct unwind_tables *unwind; /* NULL: frame pointers only */
};

static void add_young(struct run *r, int tgid, __u32 image)
{
	for (int i = 0; i < r->nyoung; i++)
		if (r->young[i].tgid == tgid) {
			r->young[i].image = image;
			r->young[i].until_ns = mono_ns() + YOUNG_NS;
			return;
		}
	if (r->nyoung < YOUNG_MAX)
		r->young[r->nyoung++] = (struct young){tgid, image, mono_ns() + YOUNG_NS};
}

/*
 * A process image seen for the first time (new, or after exec): keep its memory map. Or one
 * that wants its unwind tables: they are loaded at the next polls, a few at a time.
 */
static int on_notice(void *ctx, void *data, size_t size)
{
	struct run *r = ctx;
	const struct new_proc *np = data;

	if (size < sizeof(*np))
		return 0;
	if (np->tables) {
		if (r->unwind)
			unwind_tables_queue(r->unwind, np->tgid, np->image);
		return 0;
	}
	syms_snapshot(r->syms, np->tgid, np->image);
	if (np->exec || np->start_ns >= r->start_ns)
		add_young(r, np->tgid, np->image);
	for (int i = 0; i < env.npids; i++)
		if (env.pids[i] == (int)np->tgid && np->image > r->image[i]) {
			r->image[i] = np->image;
			if (r->unwind)
				unwind_tables_add(r->unwind, np->tgid, np->image);
		}
	return 0;
}

static void on_poll(void *ctx)
{
	struct run *r = ctx;
	unsigned long long now = mono_ns();

	for (int i = 0; i < r->nyoung;) {
		if (r->young[i].until_ns < now ||
		    syms_snapshot(r->syms, r->young[i].tgid, r->young[i].image) < 0) {
			r->young[i] = r->young[--r->nyoung];
			continue;
		}
		i++;
	}
	if (r->unwind && whole_system())
		unwind_tables_work(r->unwind);
}

/* Targets may dlopen libraries while traced: refresh their maps. */
static void on_tick(void *ctx)
{
	struct run *r = ctx;

	for (int i = 0; i < env.npids; i++) {
		syms_snapshot(r->syms, env.pids[i], r->image[i]);
		if (r->unwind)
			unwind_tables_add(r->unwind, env.pids[i], r->image[i]);
	}
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
		.wakes = env.wakers ? bpf_map__fd(s->maps.wakes) : -1,
		.counters = bpf_map__fd(s->maps.counters),
		.prog = env.stuck ? -1 : bpf_program__fd(prog),
		.whole = whole_periods_only(),
		.since = env.interval ? &r->prev : NULL,
		.idle = &env.rules.idle,
	};
}

static void init_profile(struct profile *p)
{
	memset(p, 0, sizeof(*p));
	p->tool = TOOL;
	p->npids = env.npids;
	p->tid = env.tid;
	p->wakers = env.wakers;
	for (int i = 0; i < env.npids; i++) {
		p->pids[i] = env.pids[i];
		proc_comm(env.pids[i], env.pids[i], p->target_comm[i], COMM_LEN);
	}
}

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* The targets' tables, before their images are known (0: any image): for the first stacks. */
static void add_unwind_tables(struct run *r)
{
	for (int i = 0; r->unwind && i < env.npids; i++)
		unwind_tables_add(r->unwind, env.pids[i], r->image[i]);
}

/* The tasks as they are now; while seeding, their records start here too. */
static int snapshot(struct run *r, bool seed, struct task_snap **snaps, size_t *n)
{
	struct bpf_link *l = iter_link(r->skel);
	int err;

	*snaps = NULL;
	*n = 0;
	if (!l)
		return 0; /* no task iterator on this kernel: no stuck view */
	r->skel->bss->seeding = seed;
	/* a fresh arrival on a CPU: the iterator relates the scheduler's clock to ours by it */
	usleep(1);
	err = offcpu_snapshot(bpf_link__fd(l), snaps, n);
	r->skel->bss->seeding = false;
	return err;
}

static bool write_failed;

static void write_file(const char *path, const char *what, const struct profile *p,
		       int (*write)(FILE *f, const struct profile *p))
{
	FILE *f = fopen(path, "we");
	int err = f ? write(f, p) : -errno;

	if (f && fclose(f) && !err)
		err = -errno;
	if (err) {
		fprintf(stderr, "%s: cannot write the %s to %s: %s\n", TOOL, what, path,
			strerror(-err));
		write_failed = true;
	}
}

static void render(struct profile *p)
{
	struct report_opts o = {.by = env.by, .top = env.top};

	profile_finish(p);
	views_assign_actors(p, &env.rules);
	if (env.output == OUT_JSON)
		report_json(stdout, p);
	else if (env.output == OUT_FOLDED)
		report_folded(stdout, p);
	else
		report_text(stdout, p, &o);
	if (env.svg)
		write_file(env.svg, "flame graph", p, views_svg);
	if (env.pprof)
		write_file(env.pprof, "pprof profile", p, views_pprof);
	finish_stdout();
}

/* Reads what the maps hold now into p; the stuck view is of this moment. */
static int collect(struct run *r, struct profile *p)
{
	struct task_snap *snaps;
	size_t n;
	int err;

	err = snapshot(r, false, &snaps, &n);
	if (err) {
		fprintf(stderr, "%s: cannot read the threads' state (no BLOCKED NOW section): %s\n",
			TOOL, strerror(-err));
		n = 0;
	}
	err = offcpu_read(&r->maps, r->syms, p, snaps, n);
	p->duration = (p->end_ns - p->start_ns) / 1e9;
	p->unwind.by_tables = r->unwind != NULL;
	if (r->unwind)
		unwind_tables_stats(r->unwind, &p->unwind.tables);
	free(snaps);
	if (err)
		fprintf(stderr, "%s: cannot read the results: %s\n", TOOL, strerror(-err));
	return err;
}

static void on_interval(void *ctx)
{
	struct run *r = ctx;
	struct profile p;

	init_profile(&p);
	p.start_ns = r->interval_start;
	if (!collect(r, &p))
		render(&p);
	r->interval_start = p.end_ns;
	profile_free(&p);
	printf("\n");
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
		.interval = env.interval,
		.on_interval = on_interval,
		.ctx = r,
	};
	struct task_snap *seeded;
	size_t nseeded;
	int err;

	if (!rb)
		fprintf(stderr,
			"%s: no ring buffer for new-process notices (%s): frames of processes "
			"that exit during the trace may stay unnamed\n",
			TOOL, strerror(errno));
	/* threads that do not switch soon after the attachment are recorded from here */
	p->start_ns = r->interval_start = attach_ns;
	p->wall_start_ns = wall_ns() - (mono_ns() - attach_ns);
	/* the threads blocked now are walked with their binaries' tables; switches, by frame
	 * pointers until the tables are in */
	add_unwind_tables(r);
	err = snapshot(r, true, &seeded, &nseeded);
	free(seeded);
	if (err)
		fprintf(stderr, "%s: cannot read the threads' state at the start: %s\n", TOOL,
			strerror(-err));
	/* the seeding announced the targets' images: their maps are taken now */
	if (rb)
		ring_buffer__consume(rb);
	for (int i = 0; i < env.npids; i++)
		syms_snapshot(r->syms, env.pids[i], r->image[i]);
	configure_task_stacks(r->skel->bss);
	session_run(&s);
	stop_tracing(r->skel);
	if (rb)
		ring_buffer__consume(rb);
	ring_buffer__free(rb);
	if (env.interval)
		p->start_ns = r->interval_start;
	return collect(r, p);
}

static int stuck_now(struct run *r, struct profile *p)
{
	struct task_snap *snaps;
	size_t n;
	int err;

	p->start_ns = p->end_ns = mono_ns();
	/* no trace ran: the iterator calls every process's image 0 */
	for (int i = 0; i < env.npids; i++)
		syms_snapshot(r->syms, env.pids[i], 0);
	add_unwind_tables(r);
	err = snapshot(r, false, &snaps, &n);
	if (!err)
		err = offcpu_read_stuck(&r->maps, r->syms, p, snaps, n);
	free(snaps);
	if (err)
		fprintf(stderr, "%s: cannot read the threads' state: %s\n", TOOL, strerror(-err));
	return err;
}

static void stuck_summary(const struct profile *p)
{
	printf("%s: ", TOOL);
	report_scope(stdout, p);
	printf(": %zu thread%s blocked now\n", p->nstuck, p->nstuck == 1 ? "" : "s");
}

static void render_stuck(struct profile *p)
{
	views_assign_actors(p, &env.rules);
	if (env.output == OUT_JSON)
		report_stuck_json(stdout, p);
	else
		stuck_summary(p), views_stuck_text(stdout, p, env.top);
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
	err = target_resolve_tid(TOOL, env.tid, env.pids, &env.npids);
	if (err)
		return err;
	err = preflight(TOOL, env.btf);
	if (err)
		return err;
	loader_log(env.verbose);
	waker_walk = env.wakers && unwind_wanted();
	/* processes born from here on are young, even while the program attaches */
	r.start_ns = mono_ns();
	r.skel = start();
	if (!r.skel)
		return EXIT_ENV;
	if (env.stuck && !iter_link(r.skel)) {
		fprintf(stderr,
			"%s: --stuck needs the BPF task iterator, which this kernel lacks\n", TOOL);
		offcpu_bpf__destroy(r.skel);
		return EXIT_ENV;
	}
	offcpu_prev_init(&r.prev);
	fill_maps(&r);
	if (unwind_wanted())
		r.unwind = unwind_tables_new(bpf_map__fd(r.skel->maps.cfi_rows),
					     bpf_map__fd(r.skel->maps.unwind_procs));
	so.lines = env.lines;
	r.syms = syms_new(&so);
	if (!r.syms) {
		fprintf(stderr, "%s: out of memory\n", TOOL);
		offcpu_bpf__destroy(r.skel);
		return EXIT_ENV;
	}
	init_profile(&p);
	err = env.stuck ? stuck_now(&r, &p) : trace(&r, &p);
	if (!err)
		env.stuck ? render_stuck(&p) : render(&p);
	profile_free(&p);
	offcpu_prev_free(&r.prev);
	syms_free(r.syms);
	unwind_tables_free(r.unwind);
	offcpu_bpf__destroy(r.skel);
	actor_rules_free(&env.rules);
	return err || write_failed ? EXIT_ENV : 0;
}
