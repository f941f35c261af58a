/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Actor rules (offcpu --actor NAME=GLOB, --actor NAME=sym:GLOB, --actors FILE): name the
 * role a thread plays when its thread name alone does not say it, either from the thread
 * name or from the code it blocked in. Without a matching rule a thread's actor is
 * actor_of(comm).
 */
#ifndef WAITSCOPE_ACTORS_H
#define WAITSCOPE_ACTORS_H

#include <stdbool.h>
#include <stddef.h>
#include "idle.h"

#define ACTOR_LEN 32

struct actor_rule {
	char name[ACTOR_LEN];
	char *glob;
	bool sym; /* match user frames rather than the thread name */
};

struct actor_rules {
	struct actor_rule *v;
	size_t n;
	struct idle_rules idle; /* an actors file's "idle sym:GLOB" lines */
};

/*
 * Adds one rule "NAME=GLOB" or "NAME=sym:GLOB". The first '=' ends NAME (globs may hold '=').
 * GLOB is fnmatch(3) syntax, flags 0, case-sensitive: "NAME=GLOB" matches the thread name,
 * "NAME=sym:GLOB" any user frame of the blocked stack. Blanks around NAME and GLOB (and after
 * "sym:") are ignored. NAME is a label: non-empty, at most ACTOR_LEN - 1 characters, no control
 * characters. Returns 0, or -EINVAL with a one-line
 * message in err ("bad actor rule 'x': expected NAME=GLOB or NAME=sym:GLOB"), or -ENOMEM.
 */
int actor_rules_add(struct actor_rules *r, const char *spec, char *err, size_t errlen);

/*
 * Reads rules from a file: one rule per line ("idle sym:GLOB" adds an idle rule, user/idle.h),
 * leading and trailing whitespace and blank lines ignored. A '#' at the start of a line or after
 * whitespace starts a comment; one inside a word
 * ("C#-pool") does not, and a glob writes a literal " #" as " \#" (fnmatch's escape).
 * Errors say "FILE:LINE: ..." in err (-EINVAL, -ENOMEM); -errno when the file cannot be read,
 * with a message saying so and why. A failed load adds no rule.
 */
int actor_rules_load(struct actor_rules *r, const char *path, char *err, size_t errlen);

void actor_rules_free(struct actor_rules *r);

/* True if any rule matches on frames (then actors depend on the stack, not only the thread). */
bool actor_rules_use_frames(const struct actor_rules *r);

/*
 * The actor of one blocked stack of a thread named comm: the name of the first rule that
 * matches, else actor_of(comm). ufr/nufr are the user frames as the symbolizer names them; the
 * " (file.c:12)" it appends with --lines is not part of what sym rules match. Writes the actor
 * into out, NUL-terminated, truncated to n. r may be NULL or empty.
 */
void actor_match(const struct actor_rules *r, const char *comm, const char *const *ufr, int nufr,
		 char *out, size_t n);

/* "dispatcher-3" -> "dispatcher-*": the thread's role with instance numbers folded. */
void actor_of(const char *comm, char *out, size_t n);

#endif
