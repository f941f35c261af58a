// SPDX-License-Identifier: GPL-2.0
#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cfi.h"
#include "json.h"
#include "procmaps.h"
#include "session.h"
#include "unwind.h"

/*
 * The whole system's table work, in slices: at most WORK_SLICE_NS of CPU time
 * in each WORK_PERIOD_NS (a quarter of a CPU), however many processes ask at
 * once.
 * Binaries' tables are built BUILD_STEP functions at a time (a few ms), so
 * that a big one does not stall the run loop, for one process at a time: the
 * one with the fewest functions to build first, so that the many that want
 * glibc and a small binary of their own are not held up by a few big ones.
 * Those that need more than BIG_FDES functions built wait in a lane of their
 * own, in the order they asked, which gets one build step in BIG_SHARE: a
 * steady stream of small ones does not hold them up for ever either.
 */
#define WORK_SLICE_NS  25000000ULL
#define WORK_PERIOD_NS 100000000ULL
#define BUILD_STEP     256
#define BIG_FDES       4096
#define BIG_SHARE      4
/* a process loaded is looked at again this much later: its loader may still map libraries */
#define AGAIN_NS 2000000000ULL
/* then the processes loaded are looked at in turn, this many each second */
#define SWEEP_PER_S  32
#define SWEEP_NS     1000000000ULL
#define UNWIND_QUEUE 4096

struct binary {
	uint64_t dev, ino;
	uint32_t first, count; /* count 0: no table */
	/* the file offset of the last mapping seen, and its address in the binary's terms */
	uint64_t offset, vaddr;
	bool vaddr_known;
};

/* What a process's executable mappings were when its tables were last loaded. */
struct loaded_proc {
	pid_t tgid;
	uint32_t image;
	uint64_t maps_hash;
};

/* Why a process is looked at (the whole system). */
enum job_kind { JOB_ASKED, JOB_AGAIN, JOB_SWEEP };

/* A process to load (due at once), or to look at again (due_ns). */
struct pending {
	pid_t tgid;
	uint32_t image;
	unsigned long long due_ns; /* waiting for builds: since when */
	enum job_kind kind;
	long fdes; /* waiting for builds: the functions to read, about */
};

/* First in, first out, of a bounded size. */
struct fifo {
	struct pending items[UNWIND_QUEUE];
	size_t head, n;
};

/* A binary's table being built, a step at a time. */
struct building {
	struct cfi_build *b; /* NULL: none */
	int fd;
	uint64_t dev, ino;
};

/* One of the executable file mappings of /proc/PID/maps. */
struct exec_map {
	uint64_t start, end, offset, dev, ino;
};

/* Processes waiting for binaries to be built, and the first one's mappings and build. */
struct lane {
	struct pending q[UNWIND_QUEUE]; /* in no order */
	size_t n;
	bool by_fdes; /* the fewest functions first, else the first come */
	struct pending head;
	bool has_head;
	struct exec_map maps[UNWIND_MAX_MAPS + 1];
	int nmaps;
	struct building build;
};

struct unwind_tables {
	int rows_fd, procs_fd;
	int chunks[CFI_MAX_CHUNKS]; /* fds of the chunks of cfi_rows added, in order */
	size_t nchunks;
	size_t max_rows, used;
	struct binary *bins;
	size_t nbins;
	/* as many as unwind_procs holds: the BPF side has an entry only for a process here */
	struct loaded_proc procs[UNWIND_MAX_PROCS];
	size_t nprocs;
	struct fifo asked, again; /* asked for; loaded, to look at again */
	struct lane lanes[2];	  /* waiting for builds: small, big */
	unsigned steps;		  /* build steps taken: the big lane's share */
	size_t sweep;		  /* the loaded process the sweep looks at next */
	int sweep_left;		  /* looks it may take before next_sweep_ns */
	unsigned long long next_work_ns, next_sweep_ns;
	struct unwind_stats stats;
};

static bool parse_line(const char *line, struct exec_map *m)
{
	struct map_line l;

	if (!procmaps_parse(line, &l) || !l.exec || !procmaps_is_file(&l))
		return false;
	*m = (struct exec_map){l.start, l.end, l.offset, l.dev, l.ino};
	return true;
}

/* The executable file mappings of the process, at most max. */
static int exec_maps(pid_t tgid, struct exec_map *out, int max)
{
	char path[64], *line = NULL;
	size_t cap = 0;
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)tgid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (n < max && getline(&line, &cap, f) > 0)
		n += parse_line(line, &out[n]);
	free(line);
	fclose(f);
	return n;
}

static int open_mapped(pid_t tgid, const struct exec_map *m)
{
	return procmaps_open(tgid, m->start, m->end);
}

static struct binary *find_binary(struct unwind_tables *u, const struct exec_map *m)
{
	for (size_t i = 0; i < u->nbins; i++)
		if (u->bins[i].dev == m->dev && u->bins[i].ino == m->ino)
			return &u->bins[i];
	return NULL;
}

/* Chunk k of cfi_rows, added if it is the next one: its fd, or -errno. */
static int chunk(struct unwind_tables *u, size_t k)
{
	__u32 key = k;
	int fd;

	if (k < u->nchunks)
		return u->chunks[k];
	if (k != u->nchunks || k >= CFI_MAX_CHUNKS)
		return -ENOSPC;
	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "cfi_chunk", sizeof(__u32), sizeof(struct cfi_row),
			    CFI_CHUNK_ROWS, NULL);
	if (fd < 0)
		return -errno;
	if (bpf_map_update_elem(u->rows_fd, &key, &fd, BPF_ANY)) {
		int err = -errno;

		close(fd);
		return err;
	}
	u->chunks[u->nchunks++] = fd;
	/* the kernel keeps array values 8-byte aligned */
	u->stats.bytes += (uint64_t)CFI_CHUNK_ROWS * ((sizeof(struct cfi_row) + 7) & ~7UL);
	return fd;
}

/* n rows into a chunk from row first on. */
static int write_span(int fd, uint32_t first, const struct cfi_row *rows, uint32_t n)
{
	uint32_t *keys = malloc(n * sizeof(*keys));
	__u32 count = n;
	int err;

	if (!keys)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		keys[i] = first + i;
	err = bpf_map_update_batch(fd, keys, rows, &count, NULL);
	/* kernels without batch updates of arrays: one by one */
	for (uint32_t i = 0; err && i < n; i++)
		err = bpf_map_update_elem(fd, &keys[i], &rows[i], BPF_ANY) ? -errno : 0;
	free(keys);
	return err;
}

/* The table's rows from u->used on, chunk by chunk. */
static int write_rows(struct unwind_tables *u, const struct cfi_table *t)
{
	int err = 0;

	for (size_t done = 0, n; !err && done < t->n; done += n) {
		size_t at = u->used + done, off = at & (CFI_CHUNK_ROWS - 1);
		int fd = chunk(u, at >> CFI_CHUNK_SHIFT);

		n = t->n - done < CFI_CHUNK_ROWS - off ? t->n - done : CFI_CHUNK_ROWS - off;
		err = fd < 0 ? fd : write_span(fd, off, t->rows + done, n);
	}
	return err;
}

/* The table into cfi_rows; where it does not fit, the binary is walked by frame pointers. */
static void place_table(struct unwind_tables *u, struct binary *b, const struct cfi_table *t)
{
	if (u->used + t->n > u->max_rows || write_rows(u, t)) {
		/* out of budget, or of kernel memory: no more rows from here on */
		if (u->used + t->n <= u->max_rows)
			u->max_rows = u->used;
		u->stats.rows_full++;
		return;
	}
	b->first = u->used;
	b->count = t->n;
	u->used += t->n;
	u->stats.rows += t->n;
	u->stats.binaries++;
}

/* A binary seen for the first time, with its table (NULL: it has none); NULL if out of memory. */
static struct binary *add_binary(struct unwind_tables *u, uint64_t dev, uint64_t ino,
				 const struct cfi_table *t)
{
	struct binary *bins = realloc(u->bins, (u->nbins + 1) * sizeof(*bins)), *b;

	if (!bins)
		return NULL;
	u->bins = bins;
	b = &bins[u->nbins++];
	*b = (struct binary){.dev = dev, .ino = ino};
	if (t)
		place_table(u, b, t);
	else
		u->stats.without_cfi++;
	return b;
}

/* The binary's rows, loaded once; its entry (count 0 where it has none). */
static struct binary *load_binary(struct unwind_tables *u, pid_t tgid, const struct exec_map *m)
{
	struct binary *b = find_binary(u, m);
	struct cfi_table t = {0};
	int fd;

	if (b)
		return b;
	fd = open_mapped(tgid, m);
	b = add_binary(u, m->dev, m->ino, fd >= 0 && !cfi_table_build(fd, &t) ? &t : NULL);
	cfi_table_free(&t);
	if (fd >= 0)
		close(fd);
	return b;
}

/* What the mapping shows at its start, in the binary's own terms: asked of the file once. */
static int binary_vaddr(struct binary *b, pid_t tgid, const struct exec_map *m, uint64_t *vaddr)
{
	int fd, err;

	if (b->vaddr_known && b->offset == m->offset) {
		*vaddr = b->vaddr;
		return 0;
	}
	fd = open_mapped(tgid, m);
	if (fd < 0)
		return fd;
	err = cfi_vaddr_of(fd, m->offset, vaddr);
	close(fd);
	if (!err) {
		b->offset = m->offset;
		b->vaddr = *vaddr;
		b->vaddr_known = true;
	}
	return err;
}

static int fill_map(struct unwind_tables *u, pid_t tgid, const struct exec_map *m,
		    struct unwind_map *um)
{
	struct binary *b = load_binary(u, tgid, m);
	uint64_t vaddr = 0;

	if (!b)
		return -ENOMEM;
	*um = (struct unwind_map){.start = m->start, .end = m->end};
	if (b->count && !binary_vaddr(b, tgid, m, &vaddr)) {
		um->bias = m->start - vaddr;
		um->first = b->first;
		um->count = b->count;
	}
	return 0;
}

static uint64_t maps_hash(const struct exec_map *m, int n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	const unsigned char *b = (const unsigned char *)m;

	for (size_t i = 0; i < n * sizeof(*m); i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

static struct loaded_proc *find_proc(struct unwind_tables *u, pid_t tgid)
{
	for (size_t i = 0; i < u->nprocs; i++)
		if (u->procs[i].tgid == tgid)
			return &u->procs[i];
	return NULL;
}

/* A zombie is alive here: the BPF side frees its slot as its last thread exits. */
static bool alive(pid_t tgid)
{
	return !kill(tgid, 0) || errno != ESRCH;
}

/* The process leaves the tables, user space's and the BPF side's. */
static void forget(struct unwind_tables *u, size_t i)
{
	__u32 key = u->procs[i].tgid;

	bpf_map_delete_elem(u->procs_fd, &key);
	u->procs[i] = u->procs[--u->nprocs];
}

/* A place for a process not loaded yet; the gone make room. NULL if all are taken. */
static struct loaded_proc *new_proc(struct unwind_tables *u, pid_t tgid)
{
	if (u->nprocs == UNWIND_MAX_PROCS)
		for (size_t i = u->nprocs; i-- > 0;)
			if (!alive(u->procs[i].tgid))
				forget(u, i);
	if (u->nprocs == UNWIND_MAX_PROCS)
		return NULL;
	u->procs[u->nprocs] = (struct loaded_proc){.tgid = tgid};
	return &u->procs[u->nprocs++];
}

/* The process's entry in unwind_procs, from its mappings (sorted by address, as /proc gives). */
static int load_proc(struct unwind_tables *u, pid_t tgid, uint32_t image,
		     const struct exec_map *maps, int n)
{
	struct unwind_proc *p = calloc(1, sizeof(*p));
	__u32 key = tgid;
	int err = 0;

	if (!p)
		return -ENOMEM;
	if (n > UNWIND_MAX_MAPS) {
		u->stats.maps_full++;
		n = UNWIND_MAX_MAPS;
	}
	for (int i = 0; !err && i < n; i++)
		err = fill_map(u, tgid, &maps[i], &p->maps[i]);
	p->n = n;
	p->image = image;
	if (!err && bpf_map_update_elem(u->procs_fd, &key, p, BPF_ANY))
		err = -errno;
	free(p);
	return err;
}

/* The process's tables from its executable mappings (n of them, read just now). */
static int add_maps(struct unwind_tables *u, pid_t tgid, uint32_t image,
		    const struct exec_map *maps, int n)
{
	uint64_t hash = maps_hash(maps, n);
	struct loaded_proc *lp;
	bool added, fresh;
	int err;

	lp = find_proc(u, tgid);
	/* looked at again and again: most times nothing changed */
	if (lp && lp->maps_hash == hash && lp->image == image)
		return 0;
	added = !lp;
	fresh = added || (lp->image && lp->image != image);
	if (added && !(lp = new_proc(u, tgid))) {
		u->stats.procs_full++;
		return -ENOSPC;
	}
	err = load_proc(u, tgid, image, maps, n);
	if (err) {
		u->stats.procs_full += err == -E2BIG;
		u->nprocs -= added; /* the last one: it leaves no entry */
		return err;
	}
	*lp = (struct loaded_proc){tgid, image, hash};
	u->stats.processes += fresh;
	return 0;
}

int unwind_tables_add(struct unwind_tables *u, pid_t tgid, uint32_t image)
{
	struct exec_map maps[UNWIND_MAX_MAPS + 1];
	int n = exec_maps(tgid, maps, UNWIND_MAX_MAPS + 1);

	/* gone, or nothing to walk (a zombie's maps are empty) */
	return n <= 0 ? n : add_maps(u, tgid, image, maps, n);
}

static bool fifo_push(struct fifo *f, const struct pending *p)
{
	if (f->n == UNWIND_QUEUE)
		return false;
	f->items[(f->head + f->n++) % UNWIND_QUEUE] = *p;
	return true;
}

static const struct pending *fifo_head(const struct fifo *f)
{
	return f->n ? &f->items[f->head] : NULL;
}

static void fifo_pop(struct fifo *f, struct pending *out)
{
	*out = f->items[f->head];
	f->head = (f->head + 1) % UNWIND_QUEUE;
	f->n--;
}

void unwind_tables_queue(struct unwind_tables *u, pid_t tgid, uint32_t image)
{
	struct pending p = {tgid, image, 0, JOB_ASKED, 0};

	/* an exec storm faster than the loading: counted, not kept */
	if (!fifo_push(&u->asked, &p))
		u->stats.procs_full++;
}

/* The build of the mapping's binary, if one is on. */
static struct building *building_of(struct unwind_tables *u, const struct exec_map *m)
{
	for (int i = 0; i < 2; i++) {
		struct building *bl = &u->lanes[i].build;

		if (bl->b && bl->dev == m->dev && bl->ino == m->ino)
			return bl;
	}
	return NULL;
}

/*
 * The mapping's binary, unknown, is built into bl from here on; known at once
 * if it has no table (or is no file we read). False if its process is gone
 * (the file may still be another's), or out of memory.
 */
static bool build_begin(struct unwind_tables *u, struct building *bl, pid_t tgid,
			const struct exec_map *m)
{
	int err, fd = open_mapped(tgid, m);
	struct cfi_build *b = fd >= 0 ? cfi_build_begin(fd, &err) : NULL;

	if (fd < 0 && !alive(tgid))
		return false;
	if (b) {
		*bl = (struct building){b, fd, m->dev, m->ino};
		return true;
	}
	if (fd >= 0)
		close(fd);
	return add_binary(u, m->dev, m->ino, NULL) != NULL;
}

/* The build a step further; when done, its binary is known. */
static void build_step(struct unwind_tables *u, struct building *bl)
{
	struct cfi_table t = {0};
	int err = cfi_build_step(bl->b, BUILD_STEP);

	u->steps++;
	if (err > 0)
		return;
	cfi_build_end(bl->b, err ? NULL : &t);
	close(bl->fd);
	add_binary(u, bl->dev, bl->ino, err ? NULL : &t);
	cfi_table_free(&t);
	*bl = (struct building){0};
}

/* The first mapping (of those loaded) whose binary is not known, or -1. */
static int first_unknown(struct unwind_tables *u, const struct exec_map *maps, int n)
{
	for (int i = 0; i < n && i < UNWIND_MAX_MAPS; i++)
		if (!find_binary(u, &maps[i]))
			return i;
	return -1;
}

/* Functions to read to know the mappings' unknown binaries, about. */
static long fdes_to_build(struct unwind_tables *u, pid_t tgid, const struct exec_map *maps, int n)
{
	long fdes = 0;

	for (int i = 0; i < n && i < UNWIND_MAX_MAPS; i++) {
		const struct building *bl = building_of(u, &maps[i]);
		int fd;

		if (find_binary(u, &maps[i]))
			continue;
		if (bl) {
			fdes += cfi_build_left(bl->b);
			continue;
		}
		fd = open_mapped(tgid, &maps[i]);
		if (fd >= 0) {
			long c = cfi_fde_count(fd);

			fdes += c > 0 ? c : 0;
			close(fd);
		}
	}
	return fdes;
}

static void lane_push(struct unwind_tables *u, struct lane *l, const struct pending *j)
{
	if (l->n == UNWIND_QUEUE)
		u->stats.procs_full++;
	else
		l->q[l->n++] = *j;
}

/* Whether a comes before b in the lane. */
static bool lane_before(const struct lane *l, const struct pending *a, const struct pending *b)
{
	if (l->by_fdes && a->fdes != b->fdes)
		return a->fdes < b->fdes;
	return a->due_ns < b->due_ns;
}

/* The lane's next process into its head; false if it has none. */
static bool lane_pop(struct lane *l)
{
	size_t best = 0;

	if (!l->n)
		return false;
	for (size_t i = 1; i < l->n; i++)
		if (lane_before(l, &l->q[i], &l->q[best]))
			best = i;
	l->head = l->q[best];
	l->q[best] = l->q[--l->n];
	return true;
}

/* The process is gone: a swept one leaves the tables. */
static void job_gone(struct unwind_tables *u, const struct pending *j)
{
	struct loaded_proc *lp = find_proc(u, j->tgid);

	if (j->kind == JOB_SWEEP && lp)
		forget(u, lp - u->procs);
}

/*
 * A process looked at: loaded if its binaries are known, else it waits in a
 * lane for them. One asked for is looked at again a while later (if that look
 * is not kept, the sweep comes by).
 */
static void run_job(struct unwind_tables *u, struct pending *j, unsigned long long now)
{
	struct exec_map maps[UNWIND_MAX_MAPS + 1];
	int n = exec_maps(j->tgid, maps, UNWIND_MAX_MAPS + 1);

	if (n > 0 && first_unknown(u, maps, n) >= 0) {
		j->fdes = fdes_to_build(u, j->tgid, maps, n);
		j->due_ns = now;
		lane_push(u, &u->lanes[j->fdes > BIG_FDES], j);
	} else if (n == -ENOENT || n == -ESRCH) {
		job_gone(u, j);
	} else if (n > 0 && !add_maps(u, j->tgid, j->image, maps, n) && j->kind == JOB_ASKED) {
		j->kind = JOB_AGAIN;
		j->due_ns = now + AGAIN_NS;
		fifo_push(&u->again, j);
	}
}

/* The sweep's next process, while its share of this second lasts. */
static bool sweep_next(struct unwind_tables *u, unsigned long long now, struct pending *p)
{
	const struct loaded_proc *lp;

	if (now >= u->next_sweep_ns) {
		u->next_sweep_ns = now + SWEEP_NS;
		u->sweep_left = SWEEP_PER_S;
	}
	if (!u->nprocs || u->sweep_left <= 0)
		return false;
	u->sweep_left--;
	u->sweep = (u->sweep + 1) % u->nprocs;
	lp = &u->procs[u->sweep];
	*p = (struct pending){lp->tgid, lp->image, now, JOB_SWEEP, 0};
	return true;
}

/*
 * The next process to look at, into j: asked for, due for its second look,
 * the sweep's turn. False when none is.
 */
static bool next_job(struct unwind_tables *u, unsigned long long now, struct pending *j)
{
	const struct pending *h;

	if ((h = fifo_head(&u->asked)))
		fifo_pop(&u->asked, j);
	else if ((h = fifo_head(&u->again)) && h->due_ns <= now)
		fifo_pop(&u->again, j);
	else
		return sweep_next(u, now, j);
	return true;
}

/* The next process looked at; false when none is due. */
static bool job_step(struct unwind_tables *u, unsigned long long now)
{
	struct pending j;

	if (!next_job(u, now, &j))
		return false;
	run_job(u, &j, now);
	return true;
}

/*
 * A step for the lane's first process: a binary of its built a step further
 * (or begun), or, all known, the process looked at again to be loaded. False
 * when the lane is empty.
 */
static bool lane_step(struct unwind_tables *u, struct lane *l, unsigned long long now)
{
	struct building *bl;
	int i;

	if (l->build.b) {
		build_step(u, &l->build);
		return true;
	}
	if (!l->has_head) {
		if (!lane_pop(l))
			return false;
		l->nmaps = exec_maps(l->head.tgid, l->maps, UNWIND_MAX_MAPS + 1);
		l->has_head = true;
	}
	i = l->nmaps > 0 ? first_unknown(u, l->maps, l->nmaps) : -1;
	bl = i < 0 ? NULL : building_of(u, &l->maps[i]);
	if (bl) {
		build_step(u, bl); /* the other lane's: shared */
	} else if (i < 0 || !build_begin(u, &l->build, l->head.tgid, &l->maps[i])) {
		l->has_head = false;
		run_job(u, &l->head, now);
	} else if (l->build.b) {
		build_step(u, &l->build);
	}
	return true;
}

/* A build step: the small lane's, but for one in BIG_SHARE that the big lane takes. */
static bool lanes_step(struct unwind_tables *u, unsigned long long now)
{
	bool big_first = u->steps % BIG_SHARE == BIG_SHARE - 1;

	return lane_step(u, &u->lanes[big_first], now) || lane_step(u, &u->lanes[!big_first], now);
}

static unsigned long long cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * A slice is CPU time: on a busy host a slice of the clock would hold less
 * work, not less load. Still, it ends after a period of the clock, so that the
 * run loop polls.
 */
struct slice {
	unsigned long long cpu, wall;
};

static bool slice_has(const struct slice *s, unsigned long long cpu_ns_left,
		      unsigned long long *now)
{
	*now = mono_ns();
	return cpu_ns() - s->cpu < cpu_ns_left && *now - s->wall < WORK_PERIOD_NS;
}

/*
 * Half a slice for processes whose binaries are known (most of them: a
 * process is quick to load then), the rest for building the others'.
 */
void unwind_tables_work(struct unwind_tables *u)
{
	struct slice s = {cpu_ns(), mono_ns()};
	unsigned long long now = s.wall;

	if (now < u->next_work_ns)
		return;
	u->next_work_ns = now + WORK_PERIOD_NS;
	while (slice_has(&s, WORK_SLICE_NS / 2, &now) && job_step(u, now))
		;
	while (slice_has(&s, WORK_SLICE_NS, &now) && (lanes_step(u, now) || job_step(u, now)))
		;
}

struct unwind_tables *unwind_tables_new(int rows_fd, int procs_fd)
{
	struct unwind_tables *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->rows_fd = rows_fd;
	u->procs_fd = procs_fd;
	u->max_rows = CFI_MAX_ROWS;
	u->lanes[0].by_fdes = true;
	u->stats.rows_max = CFI_MAX_ROWS;
	return u;
}

void unwind_tables_free(struct unwind_tables *u)
{
	if (!u)
		return;
	/* cfi_rows holds the chunks as long as the programs need them */
	for (size_t i = 0; i < u->nchunks; i++)
		close(u->chunks[i]);
	for (int i = 0; i < 2; i++)
		if (u->lanes[i].build.b) {
			cfi_build_end(u->lanes[i].build.b, NULL);
			close(u->lanes[i].build.fd);
		}
	free(u->bins);
	free(u);
}

void unwind_tables_stats(const struct unwind_tables *u, struct unwind_stats *out)
{
	*out = u->stats;
}

void unwind_quality_print(FILE *f, const struct unwind_quality *q)
{
	const struct unwind_stats *t = &q->tables;

	if (!q->by_tables)
		return;
	fprintf(f,
		"user stacks: %llu walked by unwind tables, %llu cut short; tables of %llu "
		"processes, %llu binaries (%llu rows, %llu MiB), %llu without (frame pointers "
		"there)",
		(unsigned long long)q->walked, (unsigned long long)q->cut,
		(unsigned long long)t->processes, (unsigned long long)t->binaries,
		(unsigned long long)t->rows, (unsigned long long)(t->bytes >> 20),
		(unsigned long long)t->without_cfi);
	if (t->rows_full || t->maps_full || t->procs_full)
		fprintf(f,
			", %llu binaries, %llu mappings and %llu processes left out (tables full)",
			(unsigned long long)t->rows_full, (unsigned long long)t->maps_full,
			(unsigned long long)t->procs_full);
	fprintf(f, "\n");
}

void unwind_quality_json(struct json *j, const struct unwind_quality *q)
{
	json_object_begin(j, "unwind");
	json_bool(j, "tables", q->by_tables);
	json_u64(j, "walked", q->walked);
	json_u64(j, "cut_short", q->cut);
	json_u64(j, "binaries", q->tables.binaries);
	json_u64(j, "rows", q->tables.rows);
	json_u64(j, "without_cfi", q->tables.without_cfi);
	json_u64(j, "rows_full", q->tables.rows_full);
	json_u64(j, "maps_full", q->tables.maps_full);
	json_u64(j, "procs_full", q->tables.procs_full);
	json_u64(j, "processes", q->tables.processes);
	json_u64(j, "rows_max", q->tables.rows_max);
	json_u64(j, "table_bytes", q->tables.bytes);
	json_object_end(j);
}
