// SPDX-License-Identifier: GPL-2.0
#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cfi.h"
#include "json.h"
#include "procmaps.h"
#include "unwind.h"

/* Rows per function a table may take at most, as seen on glibc, node and rustc (5-11). */
#define ROWS_PER_FDE 16

struct binary {
	uint64_t dev, ino;
	uint32_t first, count; /* count 0: no table */
};

/* What a process's executable mappings were when its tables were last loaded. */
struct loaded_proc {
	pid_t tgid;
	uint64_t maps_hash;
};

struct unwind_tables {
	int rows_fd, procs_fd;
	size_t max_rows, used;
	struct binary *bins;
	size_t nbins;
	struct loaded_proc *procs;
	size_t nprocs;
	struct unwind_stats stats;
};

/* One executable file mapping of /proc/PID/maps. */
struct exec_map {
	uint64_t start, end, offset, dev, ino;
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

size_t unwind_rows_wanted(const int *tgids, int n)
{
	struct exec_map maps[UNWIND_MAX_MAPS];
	size_t rows = 1;

	for (int i = 0; i < n; i++) {
		int nm = exec_maps(tgids[i], maps, UNWIND_MAX_MAPS);

		for (int j = 0; j < nm; j++) {
			int fd = open_mapped(tgids[i], &maps[j]);
			long fdes = fd >= 0 ? cfi_fde_count(fd) : 0;

			if (fd >= 0)
				close(fd);
			rows += fdes > 0 ? (size_t)fdes * ROWS_PER_FDE : 0;
		}
	}
	/* as much again for what they exec or dlopen later, and a floor for small ones */
	return 2 * rows + 65536;
}

static struct binary *find_binary(struct unwind_tables *u, const struct exec_map *m)
{
	for (size_t i = 0; i < u->nbins; i++)
		if (u->bins[i].dev == m->dev && u->bins[i].ino == m->ino)
			return &u->bins[i];
	return NULL;
}

static int write_rows(struct unwind_tables *u, const struct cfi_table *t)
{
	uint32_t *keys = malloc(t->n * sizeof(*keys));
	__u32 count = t->n;
	int err;

	if (!keys)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++)
		keys[i] = u->used + i;
	err = bpf_map_update_batch(u->rows_fd, keys, t->rows, &count, NULL);
	/* kernels without batch updates of arrays: one by one */
	for (size_t i = 0; err && i < t->n; i++)
		err = bpf_map_update_elem(u->rows_fd, &keys[i], &t->rows[i], BPF_ANY) ? -errno : 0;
	free(keys);
	return err;
}

/* The binary's rows, loaded once; its entry (count 0 where it has none). */
static struct binary *load_binary(struct unwind_tables *u, pid_t tgid, const struct exec_map *m)
{
	struct binary *b = find_binary(u, m), *bins;
	struct cfi_table t = {0};
	int fd;

	if (b)
		return b;
	bins = realloc(u->bins, (u->nbins + 1) * sizeof(*bins));
	if (!bins)
		return NULL;
	u->bins = bins;
	b = &bins[u->nbins++];
	*b = (struct binary){.dev = m->dev, .ino = m->ino};
	fd = open_mapped(tgid, m);
	if (fd < 0 || cfi_table_build(fd, &t)) {
		u->stats.without_cfi++;
	} else if (u->used + t.n > u->max_rows) {
		u->stats.rows_full++;
	} else if (!write_rows(u, &t)) {
		b->first = u->used;
		b->count = t.n;
		u->used += t.n;
		u->stats.rows += t.n;
		u->stats.binaries++;
	}
	cfi_table_free(&t);
	if (fd >= 0)
		close(fd);
	return b;
}

static int fill_map(struct unwind_tables *u, pid_t tgid, const struct exec_map *m,
		    struct unwind_map *um)
{
	struct binary *b = load_binary(u, tgid, m);
	uint64_t vaddr = 0;
	int fd;

	if (!b)
		return -ENOMEM;
	*um = (struct unwind_map){.start = m->start, .end = m->end};
	if (!b->count)
		return 0;
	fd = open_mapped(tgid, m);
	if (fd < 0)
		return 0;
	if (!cfi_vaddr_of(fd, m->offset, &vaddr)) {
		um->bias = m->start - vaddr;
		um->first = b->first;
		um->count = b->count;
	}
	close(fd);
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

/* The process's entry (added if new), NULL when out of memory. */
static struct loaded_proc *loaded_proc(struct unwind_tables *u, pid_t tgid)
{
	struct loaded_proc *procs;

	for (size_t i = 0; i < u->nprocs; i++)
		if (u->procs[i].tgid == tgid)
			return &u->procs[i];
	procs = realloc(u->procs, (u->nprocs + 1) * sizeof(*procs));
	if (!procs)
		return NULL;
	u->procs = procs;
	u->procs[u->nprocs] = (struct loaded_proc){.tgid = tgid};
	return &u->procs[u->nprocs++];
}

int unwind_tables_add(struct unwind_tables *u, pid_t tgid)
{
	struct exec_map maps[UNWIND_MAX_MAPS + 1];
	struct loaded_proc *lp;
	struct unwind_proc *p;
	uint64_t hash;
	__u32 key = tgid;
	int n = exec_maps(tgid, maps, UNWIND_MAX_MAPS + 1), err = 0;

	if (n < 0)
		return n;
	/* called each second for libraries loaded since: most seconds nothing changed */
	lp = loaded_proc(u, tgid);
	hash = maps_hash(maps, n);
	if (lp && lp->maps_hash == hash)
		return 0;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	if (n > UNWIND_MAX_MAPS) {
		u->stats.maps_full++;
		n = UNWIND_MAX_MAPS;
	}
	/* /proc/PID/maps is sorted by address, as the BPF search wants */
	for (int i = 0; !err && i < n; i++)
		err = fill_map(u, tgid, &maps[i], &p->maps[i]);
	p->n = n;
	if (!err && bpf_map_update_elem(u->procs_fd, &key, p, BPF_ANY))
		err = -errno;
	if (!err && lp)
		lp->maps_hash = hash;
	free(p);
	return err;
}

struct unwind_tables *unwind_tables_new(int rows_fd, int procs_fd, size_t max_rows)
{
	struct unwind_tables *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->rows_fd = rows_fd;
	u->procs_fd = procs_fd;
	u->max_rows = max_rows;
	return u;
}

void unwind_tables_free(struct unwind_tables *u)
{
	if (!u)
		return;
	free(u->bins);
	free(u->procs);
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
		"binaries (%llu rows), %llu without (frame pointers there)",
		(unsigned long long)q->walked, (unsigned long long)q->cut,
		(unsigned long long)t->binaries, (unsigned long long)t->rows,
		(unsigned long long)t->without_cfi);
	if (t->rows_full || t->maps_full)
		fprintf(f, ", %llu binaries and %llu mappings left out (tables full)",
			(unsigned long long)t->rows_full, (unsigned long long)t->maps_full);
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
	json_object_end(j);
}
