// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "statements.h"

struct out {
	char *p;
	size_t n, len;
	int next; /* the next placeholder's number */
};

static void put(struct out *o, const char *s, size_t k)
{
	for (size_t i = 0; i < k && o->len + 1 < o->n; i++)
		o->p[o->len++] = s[i];
	o->p[o->len] = '\0';
}

static void placeholder(struct out *o)
{
	char b[16];

	put(o, b, snprintf(b, sizeof(b), "$%d", o->next++));
}

static bool ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '$';
}

/* The highest $N of the text: literals are numbered after it. */
static int max_param(const char *t, size_t len)
{
	int max = 0;

	for (size_t i = 0; i + 1 < len; i++)
		if (t[i] == '$' && isdigit((unsigned char)t[i + 1]) &&
		    (!i || !ident_char(t[i - 1])))
			if (atoi(t + i + 1) > max)
				max = atoi(t + i + 1);
	return max;
}

/* End of a quoted literal starting at t[i] == q: after its closing quote, or len. */
static size_t quoted_end(const char *t, size_t i, size_t len, char q, bool backslash)
{
	for (i++; i < len; i++) {
		if (backslash && t[i] == '\\') {
			i++;
			continue;
		}
		if (t[i] == q) {
			if (i + 1 < len && t[i + 1] == q) {
				i++;
				continue;
			}
			return i + 1;
		}
	}
	return len;
}

/* $tag$...$tag$: its end, or 0 when t[i] does not start one. */
static size_t dollar_end(const char *t, size_t i, size_t len)
{
	size_t j = i + 1, tag;

	while (j < len && (isalnum((unsigned char)t[j]) || t[j] == '_') &&
	       !isdigit((unsigned char)t[i + 1]))
		j++;
	if (j >= len || t[j] != '$' || (i && ident_char(t[i - 1])))
		return 0;
	tag = j + 1 - i;
	for (size_t k = j + 1; k + tag <= len; k++)
		if (!memcmp(t + k, t + i, tag))
			return k + tag;
	return len;
}

static size_t number_end(const char *t, size_t i, size_t len)
{
	while (i < len && (isalnum((unsigned char)t[i]) || t[i] == '.' ||
			   ((t[i] == '+' || t[i] == '-') && (t[i - 1] == 'e' || t[i - 1] == 'E'))))
		i++;
	return i;
}

/* A comment or a run of blanks at t[i]: its end, or i. */
static size_t skip_blank(const char *t, size_t i, size_t len)
{
	if (i + 1 < len && t[i] == '-' && t[i + 1] == '-') {
		while (i < len && t[i] != '\n')
			i++;
		return i;
	}
	if (i + 1 < len && t[i] == '/' && t[i + 1] == '*') {
		const char *e = memmem(t + i + 2, len - i - 2, "*/", 2);

		return e ? (size_t)(e - t) + 2 : len;
	}
	while (i < len && isspace((unsigned char)t[i]))
		i++;
	return i;
}

/* Is the '-' at t[i] a negative number's sign: after an operator, '(' or ',', not a value? */
static bool sign(const char *t, size_t i, size_t len)
{
	size_t k = i;

	if (i + 1 >= len || !isdigit((unsigned char)t[i + 1]))
		return false;
	while (k > 0 && isspace((unsigned char)t[k - 1]))
		k--;
	return !k || strchr("+-*/%=<>(,", t[k - 1]);
}

/* A literal at t[i]: its end, or i when there is none. */
static size_t literal_end(const char *t, size_t i, size_t len)
{
	char c = t[i];

	if (c == '-' && sign(t, i, len))
		return number_end(t, i + 1, len);
	if (c == '\'')
		return quoted_end(t, i, len, '\'', false);
	if ((c == 'E' || c == 'e') && i + 1 < len && t[i + 1] == '\'' &&
	    (!i || !ident_char(t[i - 1])))
		return quoted_end(t, i + 1, len, '\'', true);
	if (c == '$')
		return dollar_end(t, i, len) ?: i;
	if (isdigit((unsigned char)c) && (!i || (!ident_char(t[i - 1]) && t[i - 1] != '"')))
		return number_end(t, i, len);
	return i;
}

char *stmt_normalize(const char *t, size_t len, int full, char *out, size_t n)
{
	struct out o = {out, n, 0, max_param(t, len) + 1};
	size_t i = skip_blank(t, 0, len), e;

	out[0] = '\0';
	while (i < len) {
		e = skip_blank(t, i, len);
		if (e > i) {
			if (e < len && o.len && out[o.len - 1] != ' ')
				put(&o, " ", 1);
			i = e;
			continue;
		}
		e = literal_end(t, i, len);
		if (e > i) {
			placeholder(&o);
			i = e;
			continue;
		}
		if (t[i] == '"') { /* a quoted identifier, kept */
			e = quoted_end(t, i, len, '"', false);
			put(&o, t + i, e - i);
			i = e;
			continue;
		}
		put(&o, t + i, 1);
		i++;
	}
	if (full)
		put(&o, "...", 3);
	return out;
}

int statements_add(struct statements *s, const char *text, size_t len, uint64_t ns)
{
	char norm[1024];
	struct statement *st = NULL;
	size_t raw = strnlen(text, len);

	/* a text that filled the buffer (its last byte the NUL) was cut */
	stmt_normalize(text, raw, raw + 1 >= len, norm, sizeof(norm));
	for (size_t i = 0; i < s->n && !st; i++)
		if (!strcmp(s->v[i].text, norm))
			st = &s->v[i];
	if (!st) {
		if (s->n == s->cap) {
			size_t cap = s->cap ? 2 * s->cap : 32;
			struct statement *v = realloc(s->v, cap * sizeof(*v));

			if (!v)
				return -ENOMEM;
			s->v = v;
			s->cap = cap;
		}
		st = &s->v[s->n];
		memset(st, 0, sizeof(*st));
		st->text = strdup(norm);
		if (!st->text)
			return -ENOMEM;
		s->n++;
	}
	hist_add(&st->rt, ns);
	return 0;
}

static int by_total(const void *a, const void *b)
{
	const struct statement *x = a, *y = b;

	if (x->rt.total_ns != y->rt.total_ns)
		return x->rt.total_ns < y->rt.total_ns ? 1 : -1;
	return strcmp(x->text, y->text);
}

void statements_sort(struct statements *s)
{
	qsort(s->v, s->n, sizeof(*s->v), by_total);
}

void statements_free(struct statements *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].text);
	free(s->v);
	memset(s, 0, sizeof(*s));
}
