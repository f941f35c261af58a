// SPDX-License-Identifier: GPL-2.0
/* semlat: which locks and semaphores make threads wait, and who releases them. */
#include <argp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "semlat.h"
#include "semlat.skel.h"
#include "version.h"
#include "holds.h"
#include "locks.h"
#include "report.h"
#include "loader.h"
#include "mapread.h"
#include "session.h"
#include "syms.h"
#include "target.h"
#include "taxonomy.h"
#include "symbols.h"
#include "tokio.h"
#include "unwind.h"
#include "views.h"

#define TOOL "semlat"

enum output { OUT_TEXT, OUT_JSON, OUT_FOLDED };

static struct env {
	int pids[MAX_TARGETS];
	int npids;
	int tid;
	enum output output;
	bool verbose, raw_tp, fp_only, hold, no_async;
	int top;
	const char *btf, *svg;
	double duration, interval;
	uint64_t min_us;
	enum semlat_by by;
	const char *patterns[MAX_PATTERNS];
	int npatterns;
	struct idle_rules idle;
} env = {.top = 10};

const char *argp_program_version =
	"semlat (waitscope) " WAITSCOPE_VERSION ", commit " WAITSCOPE_COMMIT;
static const char doc[] =
	"Show which user-space locks and semaphores threads wait on, how long, and who "
	"releases them.\n"
	"\n"
	"USAGE: semlat -p PID[,PID..] [-t TID] [--symbol GLOB].. [--hold] [--no-async]\n"
	"              [--by lock|thread|actor|stack] [-m MIN_US] [-n N]\n"
	"              [--json|-f|--svg FILE] [-i SECONDS] [--stack auto|dwarf|fp] [duration]\n"
	"\n"
	"EXAMPLES:\n"
	"  semlat -p 1234 10          # process 1234 for 10 s: the most waited-on locks\n"
	"  semlat -p 1234 --json 5    # one JSON document (docs/semlat.schema.json)\n"
	"  semlat -p 1234 -f > w.fold # folded waiter stacks, one frame per lock\n"
	"  semlat -p 1234 --by thread # who waits: per thread, the locks it waited on\n"
	"  semlat -p 1234 -i 1        # a report every second, each afresh\n"
	"  semlat -p 1234 --symbol dispatch 10  # dispatch's latency: locks, I/O, CPU\n"
	"  semlat -p 1234 --hold 10   # also how long each glibc lock is held, by whom\n"
	"\n"
	"Every futex wait is seen (glibc mutexes, condvars, semaphores, rwlocks, PI\n"
	"mutexes; Rust std and parking_lot), and SysV semop; an uncontended lock costs\n"
	"nothing. tokio's async locks are found and traced by themselves (--no-async\n"
	"leaves them out). --hold and --symbol cost uprobe traps: see each.\n";

enum {
	OPT_JSON = 0x100,
	OPT_BTF,
	OPT_RAW_TP,
	OPT_STACK,
	OPT_SYMBOL,
	OPT_HOLD,
	OPT_BY,
	OPT_SVG,
	OPT_NO_ASYNC,
	OPT_IDLE,
};

static const struct argp_option opts[] = {
	{"pid", 'p', "PID[,PID..]", 0, "Trace these processes (all their threads)", 0},
	{"tid", 't', "TID", 0, "Trace this thread only", 0},
	{"top", 'n', "N", 0, "Locks shown (default 10, 0 for all)", 0},
	{"symbol", OPT_SYMBOL, "[LIB:]GLOB", 0,
	 "What this function's latency is made of (repeatable; costs two uprobe traps per "
	 "call)",
	 0},
	{"hold", OPT_HOLD, NULL, 0,
	 "Also how long glibc's mutexes, rwlocks and semaphores are held, and by which stacks "
	 "(uprobes: about 3 traps per lock/unlock pair, contended or not)",
	 0},
	{"by", OPT_BY, "lock|thread|actor|stack", 0,
	 "Group the waits by lock (default), waiting thread, thread role, or waiter stack", 0},
	{"min", 'm', "MIN_US", 0, "Only waits (and holds) of at least MIN_US microseconds", 0},
	{"interval", 'i', "SECONDS", 0, "A report every SECONDS (each one starts afresh)", 0},
	{"no-async", OPT_NO_ASYNC, NULL, 0,
	 "Leave tokio's async locks out (their probes trap on every acquire, contended or not)", 0},
	{"json", OPT_JSON, NULL, 0, "One JSON document (one per interval with -i)", 0},
	{"svg", OPT_SVG, "FILE", 0, "Also write a flame graph of the waiter stacks (SVG) to FILE",
	 0},
	{"folded", 'f', NULL, 0, "Folded waiter stacks, ending in the lock (microseconds)", 0},
	{"idle", OPT_IDLE, "sym:GLOB", 0,
	 "Also idle: futexes where a function matching GLOB waits for work (repeatable)", 0},
	{"stack", OPT_STACK, "auto|dwarf|fp", 0,
	 "User stacks by the binaries' CFI where present (auto), or frame pointers only", 0},
	{"btf", OPT_BTF, "FILE", 0, "Kernel BTF file, for kernels without /sys/kernel/btf", 0},
	{"raw-tp", OPT_RAW_TP, NULL, 0, "Attach as raw_tp even where tp_btf works", 0},
	{"verbose", 'v', NULL, 0, "Show libbpf's log", 0},
	{},
};

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
		if (!env.tid)
			usage_error(TOOL, "invalid TID: %s", arg);
		break;
	case 'n':
		env.top = parse_top(TOOL, arg);
		break;
	case 'm':
		env.min_us = parse_count(TOOL, "MIN_US", arg);
		break;
	case 'i':
		env.interval = parse_interval(TOOL, arg);
		break;
	case OPT_BY:
		env.by = parse_choice(TOOL, "--by", arg, /* in enum semlat_by's order */
				      (const char *const[]){"lock", "thread", "actor", "stack"}, 4);
		break;
	case OPT_SVG:
		env.svg = arg;
		break;
	case OPT_JSON:
		env.output = OUT_JSON;
		break;
	case 'f':
		env.output = OUT_FOLDED;
		break;
	case OPT_STACK:
		/* dwarf: offcpu's spelling of the same walk, accepted alike */
		if (strcmp(arg, "auto") && strcmp(arg, "fp") && strcmp(arg, "dwarf"))
			usage_error(TOOL, "invalid --stack: %s (auto, dwarf or fp)", arg);
		env.fp_only = !strcmp(arg, "fp");
		break;
	case OPT_BTF:
		env.btf = arg;
		break;
	case OPT_SYMBOL:
		if (env.npatterns == MAX_PATTERNS)
			usage_error(TOOL, "at most %d --symbol patterns", MAX_PATTERNS);
		if (!arg[0])
			usage_error(TOOL, "--symbol needs a name or a glob");
		env.patterns[env.npatterns++] = arg;
		break;
	case OPT_RAW_TP:
		env.raw_tp = true;
		break;
	case OPT_HOLD:
		env.hold = true;
		break;
	case OPT_NO_ASYNC:
		env.no_async = true;
		break;
	case OPT_IDLE: {
		char err[256];

		if (idle_rules_add(&env.idle, arg, err, sizeof(err)) < 0)
			usage_error(TOOL, "%s", err);
		break;
	}
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
	case ARGP_KEY_END:
		if (!env.npids && !env.tid)
			usage_error(TOOL, "-p PID or -t TID is needed: locks are per process");
		if (env.interval && (env.output == OUT_FOLDED || env.svg))
			usage_error(TOOL,
				    "-i takes no -f or --svg: one flame graph covers one trace");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

struct run {
	struct semlat_bpf *skel;
	struct semlat_maps maps;
	uint64_t since[DROP_NR + CNT_NR]; /* -i: the counters at the last report */
	uint64_t start_ns;		  /* of the trace, or of the interval */
	struct symbol_table symbols;
	struct probes hold, parking; /* --hold's, parking_lot's */
	struct tokio tokio;
	struct syms *syms;
	struct unwind_tables *unwind;
	bool exited[MAX_TARGETS];
};

/* Tracepoints that older kernels lack (futex_waitv 5.16, futex_wait 6.7) are left out. */
/* The maps of what is not traced take no memory. */
static void shrink(struct bpf_map *const *maps, size_t n)
{
	for (size_t i = 0; i < n; i++)
		bpf_map__set_max_entries(maps[i], 1);
}

static void set_optional(struct semlat_bpf *s, bool btf, const struct run *r)
{
	bool parking = r->parking.funcs.n > 0, tokio = r->tokio.probes.funcs.n > 0;
	bool async_fns = r->symbols.polls.funcs.n > 0;

	bool waitv = loader_has_tracepoint("syscalls", "sys_enter_futex_waitv");
	bool futex2 = loader_has_tracepoint("syscalls", "sys_enter_futex_wait");

	bpf_program__set_autoload(s->progs.futex_waitv_enter, waitv);
	bpf_program__set_autoload(s->progs.futex_waitv_exit, waitv);
	bpf_program__set_autoload(s->progs.futex2_enter, futex2);
	bpf_program__set_autoload(s->progs.futex2_exit, futex2);
	bpf_program__set_autoload(s->progs.sched_waking_btf, btf);
	bpf_program__set_autoload(s->progs.sched_waking_raw, !btf);
	/* --symbol: the functions' probes, and the switches that split their wall time */
	bpf_program__set_autoload(s->progs.sched_switch_btf, btf && env.npatterns);
	bpf_program__set_autoload(s->progs.sched_switch_raw, !btf && env.npatterns);
	bpf_program__set_autoload(s->progs.sym_enter, env.npatterns);
	bpf_program__set_autoload(s->progs.sym_exit, env.npatterns);
	bpf_program__set_autoload(s->progs.hold_enter, env.hold);
	bpf_program__set_autoload(s->progs.hold_return, env.hold);
	bpf_program__set_autoload(s->progs.parking_enter, parking);
	bpf_program__set_autoload(s->progs.parking_exit, parking);
	s->rodata->parking_lot = parking;
	bpf_program__set_autoload(s->progs.async_poll, async_fns);
	bpf_program__set_autoload(s->progs.async_poll_return, async_fns);
	bpf_program__set_autoload(s->progs.async_drop, async_fns);
	if (!async_fns)
		shrink((struct bpf_map *const[]){s->maps.afutures, s->maps.apolling}, 2);
	bpf_program__set_autoload(s->progs.acquire_enter, tokio);
	bpf_program__set_autoload(s->progs.acquire_poll_return, tokio);
	s->rodata->acquire_sem_off = r->tokio.sem_off;
	s->rodata->acquire_permits_at = r->tokio.permits_at;
	s->rodata->acquire_queued_at = r->tokio.queued_at;
	if (!env.hold)
		shrink((struct bpf_map *const[]){s->maps.acquiring, s->maps.held, s->maps.holds,
						 s->maps.holders},
		       4);
	if (!tokio)
		shrink((struct bpf_map *const[]){s->maps.acquires, s->maps.polls, s->maps.queued},
		       3);
	s->rodata->symbols = env.npatterns > 0;
	/* the switch-out classifier's knobs: parsing the kernel's BTF is start-up time */
	if (env.npatterns) {
		s->rodata->has_prev_state = loader_tracepoint_args(env.btf, "sched_switch", 4);
		reasons_fill_syscall_classes((uint8_t *)s->rodata->sys_class, MAX_SYSCALLS);
	}
}

static void *open_and_load(void *ctx, int i)
{
	const struct run *r = ctx;
	LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = env.btf);
	struct semlat_bpf *s = semlat_bpf__open_opts(&oo);
	int err;

	if (!s)
		return NULL;
	for (int k = 0; k < env.npids; k++)
		s->rodata->targ_tgids[k] = env.pids[k];
	s->rodata->n_tgids = env.npids;
	s->rodata->targ_tid = env.tid;
	s->rodata->self_tgid = getpid();
	s->rodata->cfi_unwind = !env.fp_only;
	s->rodata->min_ns = env.min_us * 1000;
	set_optional(s, i == 0, r);
	err = semlat_bpf__load(s);
	if (!err)
		return s;
	semlat_bpf__destroy(s);
	errno = -err;
	return NULL;
}

static bool allowed(void *ctx, int i)
{
	(void)ctx;
	return !(env.raw_tp && i == 0);
}

static struct semlat_bpf *load(struct run *r)
{
	struct loader l = {
		.tool = TOOL,
		.ctx = r,
		.verbose = env.verbose,
		.nflavours = 2, /* tp_btf, then raw_tp */
		.allowed = allowed,
		.load = open_and_load,
	};
	int i;

	if (loader_tracefs(TOOL))
		return NULL;
	return loader_load(&l, &i);
}

/*
 * A thread that exits inside a futex call, a lock call or holding a lock leaves an entry behind:
 * forget those of the dead. The map's keys begin with the thread's id.
 */
static void forget_dead(const struct bpf_map *map)
{
	int fd = bpf_map__fd(map);
	size_t n, ksz = bpf_map__key_size(map);
	char *keys = map_keys(fd, ksz, &n), path[32];

	for (size_t i = 0; keys && i < n; i++) {
		__u32 tid;

		memcpy(&tid, keys + i * ksz, sizeof(tid));
		snprintf(path, sizeof(path), "/proc/%u", tid);
		if (access(path, F_OK))
			bpf_map_delete_elem(fd, keys + i * ksz);
	}
	free(keys);
}

/* The targets' memory maps and unwind tables, as they are now (dlopen adds libraries). */
static void refresh_targets(struct run *r)
{
	for (int i = 0; i < env.npids; i++) {
		syms_snapshot(r->syms, env.pids[i], 0);
		if (r->unwind)
			unwind_tables_add(r->unwind, env.pids[i], 0); /* semlat tells no images */
	}
}

static void on_tick(void *ctx)
{
	struct run *r = ctx;

	forget_dead(r->skel->maps.pending);
	if (env.hold) {
		forget_dead(r->skel->maps.acquiring);
		forget_dead(r->skel->maps.held);
	}
	refresh_targets(r);
}

static void on_status(void *ctx, char *buf, size_t n)
{
	struct run *r = ctx;
	uint64_t calls = map_percpu_sum(bpf_map__fd(r->skel->maps.counters), DROP_NR + CNT_WAITS);

	snprintf(buf, n, "%llu calls that could block", (unsigned long long)calls);
}

static void write_svg(const struct semlat_report *rep)
{
	FILE *f = fopen(env.svg, "we");
	int err = f ? report_svg(f, rep) : -errno;

	if (f && fclose(f) && !err)
		err = -errno;
	if (err)
		fprintf(stderr, "%s: cannot write the flame graph to %s: %s\n", TOOL, env.svg,
			strerror(-err));
}

static void render(struct semlat_report *rep)
{
	struct report_opts o = {
		.by = env.by, .top = env.top, .detail = 3, .stacks = 3, .frames = 12};

	if (env.output == OUT_JSON)
		report_json(stdout, rep, env.by);
	else if (env.output == OUT_FOLDED)
		report_folded(stdout, rep);
	else
		report_text(stdout, rep, &o);
	if (env.svg)
		write_svg(rep);
	fflush(stdout);
}

/* Reads the interval (or the whole trace) that ends now, and prints it. */
static int report(struct run *r, uint64_t end_ns, __u16 gen)
{
	struct semlat_report rep = {.pids = env.pids,
				    .npids = env.npids,
				    .exited = r->exited,
				    .symbols = env.npatterns ? &r->symbols : NULL,
				    .hold = env.hold,
				    .min_ns = env.min_us * 1000,
				    .async_note = r->tokio.why[0] ? r->tokio.why : NULL,
				    .async_obj = r->tokio.obj,
				    .start_ns = r->start_ns,
				    .end_ns = end_ns};
	int err;

	rep.duration = (rep.end_ns - rep.start_ns) / 1e9;
	rep.unwind.by_tables = r->unwind != NULL;
	if (r->unwind)
		unwind_tables_stats(r->unwind, &rep.unwind.tables);
	r->maps.gen = gen;
	err = semlat_read(&r->maps, r->syms, &rep);
	if (err)
		fprintf(stderr, "%s: cannot read the results: %s\n", TOOL, strerror(-err));
	else
		render(&rep);
	semlat_report_free(&rep);
	r->start_ns = end_ns;
	return err;
}

/*
 * -i: the waits that end from now on count in the next interval; this one's are read once the
 * programs that were running as it ended have finished, then dropped from the maps.
 */
static void on_interval(void *ctx)
{
	struct run *r = ctx;
	uint64_t now = mono_ns();
	struct timespec grace = {0, 2000000};

	__u16 gen = r->skel->bss->interval_gen++;

	nanosleep(&grace, NULL);
	report(r, now, gen);
	if (env.output != OUT_JSON)
		printf("\n");
}

static int attach(struct run *r)
{
	if (semlat_bpf__attach(r->skel)) {
		fprintf(stderr, "%s: cannot attach to the futex tracepoints: %s\n", TOOL,
			strerror(errno));
		return EXIT_ENV;
	}
	if (probes_attach(TOOL, &r->symbols.probes, r->skel->progs.sym_enter,
			  r->skel->progs.sym_exit))
		return EXIT_ENV;
	if (probes_attach(TOOL, &r->hold, r->skel->progs.hold_enter, r->skel->progs.hold_return))
		return EXIT_ENV;
	if (probes_attach(TOOL, &r->parking, r->skel->progs.parking_enter,
			  r->skel->progs.parking_exit))
		return EXIT_ENV;
	if (probes_attach(TOOL, &r->symbols.polls, r->skel->progs.async_poll,
			  r->skel->progs.async_poll_return) ||
	    probes_attach(TOOL, &r->symbols.drops, r->skel->progs.async_drop, NULL))
		return EXIT_ENV;
	if (probes_attach(TOOL, &r->tokio.probes, r->skel->progs.acquire_enter,
			  r->skel->progs.acquire_poll_return))
		return EXIT_ENV;
	return 0;
}

static int trace(struct run *r)
{
	struct session s = {
		.tool = TOOL,
		.duration = env.duration,
		.pids = env.pids,
		.npids = env.npids,
		.exited = r->exited,
		.tick = on_tick,
		.status = on_status,
		.interval = env.interval,
		.on_interval = on_interval,
		.ctx = r,
	};
	uint64_t end_ns;
	int err;

	r->maps = (struct semlat_maps){
		.locks = bpf_map__fd(r->skel->maps.locks),
		.edges = bpf_map__fd(r->skel->maps.edges),
		.stacks = bpf_map__fd(r->skel->maps.stacks),
		.counters = bpf_map__fd(r->skel->maps.counters),
		.sym_stats = bpf_map__fd(r->skel->maps.sym_stats),
		.sym_locks = bpf_map__fd(r->skel->maps.sym_locks),
		.holds = bpf_map__fd(r->skel->maps.holds),
		.holders = bpf_map__fd(r->skel->maps.holders),
		.drain = env.interval > 0,
		.since = env.interval > 0 ? r->since : NULL,
		.idle = &env.idle,
	};
	/* the tables first: every stack is whole from the first wait on */
	refresh_targets(r);
	err = attach(r);
	if (err)
		return err;
	/* the window: every program attached (syscall tracepoints take a while each) */
	r->start_ns = mono_ns();
	r->skel->data->window_start_ns = r->start_ns;
	session_run(&s);
	end_ns = mono_ns();
	r->skel->data->window_end_ns = end_ns;
	probes_detach(&r->symbols.probes);
	probes_detach(&r->symbols.polls);
	probes_detach(&r->symbols.drops);
	probes_detach(&r->hold);
	probes_detach(&r->parking);
	probes_detach(&r->tokio.probes);
	semlat_bpf__detach(r->skel);
	err = report(r, end_ns, r->skel->bss->interval_gen);
	finish_stdout();
	return err ? EXIT_ENV : 0;
}

int main(int argc, char **argv)
{
	static const struct argp argp = {opts, parse_arg, "[duration]", doc, NULL, NULL, NULL};
	struct syms_opts so = {0};
	struct run r = {0};
	int err;

	err = parse_args(TOOL, &argp, argc, argv);
	if (!err)
		err = target_resolve_tid(TOOL, env.tid, env.pids, &env.npids);
	if (!err)
		err = preflight(TOOL, env.btf);
	if (!err)
		err = symbols_resolve(TOOL, env.patterns, env.npatterns, env.pids, env.npids,
				      &r.symbols);
	if (!err && env.hold)
		err = holds_resolve(TOOL, env.pids, env.npids, &r.hold);
	if (!err && parking_resolve(env.pids, env.npids, &r.parking))
		err = EXIT_ENV;
	if (!err && !env.no_async)
		tokio_resolve(env.pids, env.npids, &r.tokio);
	else if (!err)
		snprintf(r.tokio.why, sizeof(r.tokio.why), "not traced (--no-async)");
	if (err) {
		symbols_free(&r.symbols);
		probes_free(&r.hold);
		probes_free(&r.parking);
		tokio_free(&r.tokio);
		return err;
	}
	loader_log(env.verbose);
	r.skel = load(&r);
	if (!r.skel) {
		symbols_free(&r.symbols);
		probes_free(&r.hold);
		probes_free(&r.parking);
		tokio_free(&r.tokio);
		return EXIT_ENV;
	}
	r.syms = syms_new(&so);
	if (!env.fp_only)
		r.unwind = unwind_tables_new(bpf_map__fd(r.skel->maps.cfi_rows),
					     bpf_map__fd(r.skel->maps.unwind_procs));
	err = r.syms ? trace(&r) : EXIT_ENV;
	unwind_tables_free(r.unwind);
	syms_free(r.syms);
	symbols_free(&r.symbols);
	probes_free(&r.hold);
	probes_free(&r.parking);
	tokio_free(&r.tokio);
	semlat_bpf__destroy(r.skel);
	return err;
}
