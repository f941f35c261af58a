// SPDX-License-Identifier: GPL-2.0
#include "procfiles.h"

#include "procmaps.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* a system-wide report may name a few thousand binaries; beyond, files are opened by path */
#define FILES_MAX 4096
#define ROOTS_MAX 64

struct held {
	uint64_t dev, ino; /* as /proc/PID/maps gives them; ino 0 marks an empty slot */
	int fd;
};

struct root {
	dev_t dev;
	ino_t ino;
	int fd;
};

struct procfiles {
	struct held *files; /* open addressing on (dev, ino) */
	size_t nfiles, cap;
	struct root roots[ROOTS_MAX];
	int nroots;
	uint64_t full;
};

/* Held descriptors count against RLIMIT_NOFILE, whose soft limit is often 1024. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur < FILES_MAX + 1024 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max < FILES_MAX + 1024 ? rl.rlim_max : FILES_MAX + 1024;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

struct procfiles *procfiles_new(void)
{
	raise_fd_limit();
	return calloc(1, sizeof(struct procfiles));
}

void procfiles_free(struct procfiles *pf)
{
	if (!pf)
		return;
	for (size_t i = 0; i < pf->cap; i++)
		if (pf->files[i].ino)
			close(pf->files[i].fd);
	for (int i = 0; i < pf->nroots; i++)
		close(pf->roots[i].fd);
	free(pf->files);
	free(pf);
}

static struct held *slot(struct held *files, size_t cap, uint64_t dev, uint64_t ino)
{
	size_t i = ((dev * 0x9e3779b97f4a7c15ULL) ^ (ino * 0xff51afd7ed558ccdULL)) & (cap - 1);

	while (files[i].ino && (files[i].dev != dev || files[i].ino != ino))
		i = (i + 1) & (cap - 1);
	return &files[i];
}

static bool grow(struct procfiles *pf)
{
	size_t cap = pf->cap ? pf->cap * 2 : 256;
	struct held *files = calloc(cap, sizeof(*files));

	if (!files)
		return false;
	for (size_t i = 0; i < pf->cap; i++)
		if (pf->files[i].ino)
			*slot(files, cap, pf->files[i].dev, pf->files[i].ino) = pf->files[i];
	free(pf->files);
	pf->files = files;
	pf->cap = cap;
	return true;
}

/* A file's mapping: its line's numbers. False for anonymous memory. */
static bool file_line(const char *line, struct map_line *m)
{
	return procmaps_parse(line, m) && procmaps_is_file(m);
}

static void hold_file(struct procfiles *pf, pid_t tgid, const char *line)
{
	struct map_line m;
	struct held *h;
	int fd;

	if (!file_line(line, &m))
		return;
	if (pf->cap && slot(pf->files, pf->cap, m.dev, m.ino)->ino)
		return;
	if (pf->nfiles >= FILES_MAX) {
		pf->full++;
		return;
	}
	if ((pf->nfiles + 1) * 2 > pf->cap && !grow(pf))
		return;
	fd = procmaps_open(tgid, m.start, m.end);
	if (fd < 0)
		return;
	h = slot(pf->files, pf->cap, m.dev, m.ino);
	*h = (struct held){.dev = m.dev, .ino = m.ino, .fd = fd};
	pf->nfiles++;
}

static int hold_root(struct procfiles *pf, pid_t tgid)
{
	char path[64];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/root", (int)tgid);
	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st)) {
		close(fd);
		return -1;
	}
	for (int i = 0; i < pf->nroots; i++) {
		if (pf->roots[i].dev == st.st_dev && pf->roots[i].ino == st.st_ino) {
			close(fd);
			return i;
		}
	}
	if (pf->nroots == ROOTS_MAX) {
		close(fd);
		return -1;
	}
	pf->roots[pf->nroots] = (struct root){.dev = st.st_dev, .ino = st.st_ino, .fd = fd};
	return pf->nroots++;
}

int procfiles_hold(struct procfiles *pf, pid_t tgid, const char *maps, size_t len)
{
	for (const char *line = maps; line && line < maps + len;) {
		const char *nl = memchr(line, '\n', (size_t)(maps + len - line));

		hold_file(pf, tgid, line);
		line = nl ? nl + 1 : NULL;
	}
	return hold_root(pf, tgid);
}

int procfiles_open_mapped(const struct procfiles *pf, const char *line)
{
	struct map_line m;
	const struct held *h;

	if (!pf->cap || !file_line(line, &m))
		return -1;
	h = slot(pf->files, pf->cap, m.dev, m.ino);
	return h->ino ? fcntl(h->fd, F_DUPFD_CLOEXEC, 0) : -1;
}

int procfiles_open_in_root(const struct procfiles *pf, int root, const char *path)
{
	/* symbolic links inside that root resolve inside it, as they do for the process */
	struct open_how how = {.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK,
			       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};

	if (root < 0 || root >= pf->nroots)
		return -1;
	return regular_or_close(
		(int)syscall(SYS_openat2, pf->roots[root].fd, path, &how, sizeof(how)));
}

void procfiles_get_stats(const struct procfiles *pf, struct procfiles_stats *out)
{
	out->files = pf->nfiles;
	out->roots = (uint64_t)pf->nroots;
	out->full = pf->full;
}
