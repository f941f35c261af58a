// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>
#include "schedframes.h"
#include "syms.h"

int schedframes_init(struct schedframes *s)
{
	static const char *const names[] = {"__sched_text_start", "__sched_text_end",
					    "__lock_text_start", "__lock_text_end"};
	/* the kernel's text does not move: read kallsyms (150k lines) once, not per report */
	static uint64_t text[4];
	static int found = -1;

	memset(s, 0, sizeof(*s));
	if (found < 0)
		found = kernel_symbol_addrs(names, text, 4);
	memcpy(s->text, text, sizeof(text));
	return found == 4 ? 0 : -1;
}

void schedframes_free(struct schedframes *s)
{
	free(s->chains);
	s->chains = NULL;
	s->n = s->cap = 0;
}

int schedframes_is_sched(const struct schedframes *s, uint64_t ip)
{
	return (ip >= s->text[0] && ip < s->text[1]) || (ip >= s->text[2] && ip < s->text[3]);
}

static struct sched_chain *find(const struct schedframes *s, uint64_t site)
{
	for (int i = 0; i < s->n; i++)
		if (s->chains[i].site == site)
			return &s->chains[i];
	return NULL;
}

void schedframes_learn(struct schedframes *s, const uint64_t *ips, int n)
{
	int first = 0, end;
	struct sched_chain *c;

	/* the tracer's frames come first in a walk taken at switch-out */
	while (first < n && !schedframes_is_sched(s, ips[first]))
		first++;
	for (end = first; end < n && schedframes_is_sched(s, ips[end]); end++)
		;
	if (first == n || end == n || end - first > SCHED_CHAIN_MAX || find(s, ips[end]))
		return;
	if (s->n == s->cap) {
		int cap = s->cap ? s->cap * 2 : 64;
		void *v = realloc(s->chains, cap * sizeof(*s->chains));

		if (!v)
			return;
		s->chains = v;
		s->cap = cap;
	}
	c = &s->chains[s->n++];
	c->site = ips[end];
	c->n = end - first;
	memcpy(c->ips, ips + first, c->n * sizeof(*ips));
}

int schedframes_fill(const struct schedframes *s, uint64_t *ips, int n, int cap, bool *missing)
{
	const struct sched_chain *c;

	*missing = false;
	if (!s->text[1])
		return n; /* kallsyms hides the text: every walk was a full one */
	for (int i = 0; i < n; i++)
		if (schedframes_is_sched(s, ips[i]))
			return n; /* a full walk already */
	c = n ? find(s, ips[0]) : NULL;
	*missing = n && (!c || n + c->n > cap);
	if (*missing)
		return n;
	memmove(ips + c->n, ips, n * sizeof(*ips));
	memcpy(ips, c->ips, c->n * sizeof(*ips));
	return n + c->n;
}
