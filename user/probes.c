// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "probes.h"

static bool is_alias(const struct funcs *f, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (f->v[k].offset == f->v[i].offset && !strcmp(f->v[k].path, f->v[i].path))
			return true;
	return false;
}

/* The n functions funcs_find* just added from index from: their pid, cookie, probes. */
static int add_found(struct probes *p, size_t from, int n, int pid, uint64_t cookie, bool ret)
{
	struct probe *v;

	if (n <= 0)
		return n;
	v = realloc(p->v, p->funcs.n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	p->v = v;
	for (size_t i = from; i < p->funcs.n; i++)
		v[i] = (struct probe){pid, cookie, ret, is_alias(&p->funcs, i)};
	return n;
}

int probes_find(struct probes *p, int pid, const char *pattern, uint64_t cookie, bool ret,
		char *hint, size_t hint_len)
{
	size_t from = p->funcs.n;

	return add_found(p, from, funcs_find(&p->funcs, pid, pattern, hint, hint_len), pid, cookie,
			 ret);
}

int probes_find_or_say(const char *tool, const char *flag, struct probes *p, int pid,
		       const char *pattern, uint64_t cookie, bool ret)
{
	char hint[512];
	int n = probes_find(p, pid, pattern, cookie, ret, hint, sizeof(hint));

	if (n == -ENOENT)
		fprintf(stderr, "%s: %s %s: no function of PID %d matches%s%s\n", tool, flag,
			pattern, pid, hint[0] ? "; " : "", hint);
	else if (n == -ENODATA)
		fprintf(stderr,
			"%s: %s %s: PID %d's binaries have no symbols to match (stripped)\n", tool,
			flag, pattern, pid);
	else if (n < 0)
		fprintf(stderr, "%s: %s %s: cannot read PID %d's binaries: %s\n", tool, flag,
			pattern, pid, strerror(-n));
	return n;
}

int probes_find_known(struct probes *p, int pid, const char *pattern, const char *needle,
		      uint64_t cookie, bool ret)
{
	size_t from = p->funcs.n;

	return add_found(p, from, funcs_find_known(&p->funcs, pid, pattern, needle, NULL, 0), pid,
			 cookie, ret);
}

static struct bpf_link *attach_one(const struct probes *p, size_t i, const struct bpf_program *prog,
				   bool ret)
{
	LIBBPF_OPTS(bpf_uprobe_opts, o, .retprobe = ret, .bpf_cookie = p->v[i].cookie);

	return bpf_program__attach_uprobe_opts(prog, p->v[i].pid, p->funcs.v[i].path,
					       p->funcs.v[i].offset, &o);
}

static int attach_fn(struct probes *p, size_t i, const struct bpf_program *enter,
		     const struct bpf_program *ret)
{
	struct bpf_link *r = p->v[i].ret ? attach_one(p, i, ret, true) : NULL;
	struct bpf_link *e = !p->v[i].ret || r ? attach_one(p, i, enter, false) : NULL;

	if (!e) {
		int err = -errno;

		bpf_link__destroy(r);
		return err;
	}
	if (r)
		p->links[p->nlinks++] = r;
	p->links[p->nlinks++] = e;
	return 0;
}

int probes_attach(const char *tool, struct probes *p, const struct bpf_program *enter,
		  const struct bpf_program *ret)
{
	p->links = calloc(2 * p->funcs.n + 1, sizeof(*p->links));
	if (!p->links)
		return -ENOMEM;
	for (size_t i = 0; i < p->funcs.n; i++) {
		int err = p->v[i].skip ? 0 : attach_fn(p, i, enter, ret);

		if (err) {
			fprintf(stderr, "%s: cannot attach a uprobe to %s (%s): %s\n", tool,
				p->funcs.v[i].name, p->funcs.v[i].obj, strerror(-err));
			return err;
		}
	}
	return 0;
}

void probes_detach(struct probes *p)
{
	for (size_t i = 0; i < p->nlinks; i++)
		bpf_link__destroy(p->links[i]);
	free(p->links);
	p->links = NULL;
	p->nlinks = 0;
}

void probes_free(struct probes *p)
{
	probes_detach(p);
	funcs_free(&p->funcs);
	free(p->v);
	memset(p, 0, sizeof(*p));
}
