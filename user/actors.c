// SPDX-License-Identifier: GPL-2.0
/*
 * Actor rules. A handful of rules from the command line or a small file, tried in order on
 * every stack: plain arrays and fnmatch(3) are all it takes.
 */
#include "actors.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SYM_PREFIX "sym:"
#define IDLE_WORD  "idle"
#define QUOTE_MAX  80 /* characters of a spec that an error message repeats */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* The spec as a message repeats it: a control character must not break the message's line. */
static void printable(const char *spec, char *buf, size_t n)
{
	size_t i;

	for (i = 0; spec[i] && i + 1 < n; i++)
		buf[i] = iscntrl((unsigned char)spec[i]) ? '?' : spec[i];
	buf[i] = '\0';
	if (spec[i] && n > 4)
		memcpy(buf + n - 4, "...", 4);
}

static int bad_rule(const char *spec, const char *why, char *err, size_t errlen)
{
	char quoted[QUOTE_MAX + 1];

	printable(spec, quoted, sizeof(quoted));
	set_err(err, errlen, "bad actor rule '%s': %s", quoted, why);
	return -EINVAL;
}

static bool has_control(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (iscntrl((unsigned char)s[i]))
			return true;
	return false;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* The span [*s, *end) without blanks on either side. */
static void trim_span(const char **s, const char **end)
{
	while (*s < *end && is_blank(**s))
		(*s)++;
	while (*end > *s && is_blank((*end)[-1]))
		(*end)--;
}

/*
 * Fills rule->name and rule->sym; [*glob, *glob_end) is the glob in spec. Blanks around NAME and
 * GLOB are dropped so that "name = sym: glob" means what it says: kept, they would make a rule
 * that silently never matches.
 */
static int parse_rule(const char *spec, struct actor_rule *rule, const char **glob,
		      const char **glob_end, char *err, size_t errlen)
{
	const char *eq = strchr(spec, '='), *name = spec, *name_end = eq;
	size_t len;

	if (!eq)
		return bad_rule(spec, "expected NAME=GLOB or NAME=sym:GLOB", err, errlen);
	trim_span(&name, &name_end);
	len = (size_t)(name_end - name);
	if (!len)
		return bad_rule(spec, "empty NAME", err, errlen);
	if (len >= sizeof(rule->name)) {
		char why[64];

		snprintf(why, sizeof(why), "NAME is longer than %zu characters",
			 sizeof(rule->name) - 1);
		return bad_rule(spec, why, err, errlen);
	}
	if (has_control(name, len))
		return bad_rule(spec, "control character in NAME", err, errlen);
	memcpy(rule->name, name, len);
	rule->name[len] = '\0';
	*glob = eq + 1;
	*glob_end = *glob + strlen(*glob);
	trim_span(glob, glob_end);
	rule->sym = !strncmp(*glob, SYM_PREFIX, strlen(SYM_PREFIX));
	if (rule->sym) {
		*glob += strlen(SYM_PREFIX);
		trim_span(glob, glob_end);
	}
	if (*glob == *glob_end)
		return bad_rule(spec, rule->sym ? "empty GLOB after sym:" : "empty GLOB", err,
				errlen);
	return 0;
}

int actor_rules_add(struct actor_rules *r, const char *spec, char *err, size_t errlen)
{
	struct actor_rule rule = {0}, *v;
	const char *glob, *glob_end;
	int rc;

	if (!spec)
		return bad_rule("", "expected NAME=GLOB or NAME=sym:GLOB", err, errlen);
	rc = parse_rule(spec, &rule, &glob, &glob_end, err, errlen);
	if (rc)
		return rc;
	rule.glob = strndup(glob, (size_t)(glob_end - glob));
	v = rule.glob ? realloc(r->v, (r->n + 1) * sizeof(*r->v)) : NULL;
	if (!v) {
		free(rule.glob);
		set_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	v[r->n++] = rule;
	r->v = v;
	return 0;
}

/* Drops the rules from the n-th on: a file that fails to load leaves no half of itself. */
static void rules_truncate(struct actor_rules *r, size_t n)
{
	while (r->n > n)
		free(r->v[--r->n].glob);
	if (!r->n) {
		free(r->v);
		r->v = NULL;
	}
}

void actor_rules_free(struct actor_rules *r)
{
	rules_truncate(r, 0);
	idle_rules_free(&r->idle);
}

/* A '#' that begins a word begins a comment, so that "C#-pool" and "\#" stay in a glob. */
static void strip_comment(char *line)
{
	for (char *p = line; *p; p++) {
		if (*p == '#' && (p == line || isspace((unsigned char)p[-1]))) {
			*p = '\0';
			return;
		}
	}
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	return s;
}

/* "idle sym:GLOB"; "idle = GLOB" stays an actor named idle */
static bool is_idle_line(const char *line)
{
	const char *p = line + strlen(IDLE_WORD);

	if (strncmp(line, IDLE_WORD, strlen(IDLE_WORD)) || !isspace((unsigned char)*p))
		return false;
	while (isspace((unsigned char)*p))
		p++;
	return !strncmp(p, SYM_PREFIX, strlen(SYM_PREFIX));
}

static int load_line(struct actor_rules *r, const char *path, unsigned long lineno, char *line,
		     char *err, size_t errlen)
{
	char msg[QUOTE_MAX + 128];
	int rc;

	strip_comment(line);
	line = trim(line);
	if (!*line)
		return 0;
	if (is_idle_line(line))
		rc = idle_rules_add(&r->idle, line + strlen(IDLE_WORD), msg, sizeof(msg));
	else
		rc = actor_rules_add(r, line, msg, sizeof(msg));
	if (rc)
		set_err(err, errlen, "%s:%lu: %s", path, lineno, msg);
	return rc;
}

static int read_error(const char *path, int errnum, char *err, size_t errlen)
{
	if (!errnum)
		errnum = EIO;
	set_err(err, errlen, "cannot read %s: %s", path, strerror(errnum));
	return -errnum;
}

int actor_rules_load(struct actor_rules *r, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	size_t had = r->n, had_idle = r->idle.n, cap = 0;
	unsigned long lineno = 0;
	char *line = NULL;
	int rc = 0;

	if (!f)
		return read_error(path, errno, err, errlen);
	for (;;) {
		errno = 0;
		if (getline(&line, &cap, f) < 0) {
			/* a directory opens fine and fails here, with EISDIR */
			if (ferror(f))
				rc = read_error(path, errno, err, errlen);
			break;
		}
		rc = load_line(r, path, ++lineno, line, err, errlen);
		if (rc)
			break;
	}
	free(line);
	fclose(f);
	if (rc) {
		rules_truncate(r, had);
		while (r->idle.n > had_idle)
			free(r->idle.globs[--r->idle.n]);
	}
	return rc;
}

bool actor_rules_use_frames(const struct actor_rules *r)
{
	for (size_t i = 0; r && i < r->n; i++)
		if (r->v[i].sym)
			return true;
	return false;
}

static bool rule_matches(const struct actor_rule *rule, const char *comm, const char *const *ufr,
			 int nufr)
{
	if (!rule->sym)
		return !fnmatch(rule->glob, comm, 0);
	for (int i = 0; ufr && i < nufr; i++)
		if (ufr[i] && frame_glob_match(rule->glob, ufr[i]))
			return true;
	return false;
}

void actor_match(const struct actor_rules *r, const char *comm, const char *const *ufr, int nufr,
		 char *out, size_t n)
{
	if (!comm)
		comm = "";
	for (size_t i = 0; r && i < r->n; i++) {
		if (rule_matches(&r->v[i], comm, ufr, nufr)) {
			snprintf(out, n, "%s", r->v[i].name);
			return;
		}
	}
	actor_of(comm, out, n);
}

static bool is_separator(char c)
{
	return c == '-' || c == '_' || c == '/' || c == ':' || c == '.' || c == '#' || c == ' ';
}

/*
 * Folds the trailing run of separated numbers: "pool-3-thread-7" ->
 * "pool-3-thread-*", "kworker/0:1" -> "kworker/" + "*". A number glued to the
 * name ("python3") is part of the name.
 */
void actor_of(const char *comm, char *out, size_t n)
{
	size_t len = strlen(comm), end = len;

	while (end > 0) {
		size_t d = end;

		while (d > 0 && isdigit((unsigned char)comm[d - 1]))
			d--;
		if (d == end || d == 0 || !is_separator(comm[d - 1]))
			break;
		end = d - 1;
	}
	if (end == len)
		snprintf(out, n, "%s", comm);
	else
		snprintf(out, n, "%.*s%c*", (int)end, comm, comm[end]);
}
