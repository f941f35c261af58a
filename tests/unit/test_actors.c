// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of user/actors.c: parsing --actor rules, loading --actors files, and which actor a
 * blocked stack gets from its thread name and its user frames.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"
#include "actors.h"

#define ARRAY_SIZE(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- actor_rules_add ---- */

static void assert_rule(const struct actor_rules *r, size_t i, const char *name, const char *glob,
			bool sym)
{
	assert_true(i < r->n);
	assert_string_equal(r->v[i].name, name);
	assert_string_equal(r->v[i].glob, glob);
	assert_int_equal(r->v[i].sym, sym);
}

static void test_add_good(void **state)
{
	struct actor_rules r = {0};
	char err[256] = "";

	(void)state;
	assert_int_equal(actor_rules_add(&r, "dispatch=dispatcher-*", err, sizeof(err)), 0);
	assert_int_equal(actor_rules_add(&r, "tokio=sym:tokio::*", err, sizeof(err)), 0);
	/* the first '=' splits: globs may hold '=', and "sym:" only counts right after it */
	assert_int_equal(actor_rules_add(&r, "eq=a=b", err, sizeof(err)), 0);
	assert_int_equal(actor_rules_add(&r, "eqs=sym:x=sym:y", err, sizeof(err)), 0);
	assert_int_equal(actor_rules_add(&r, "notsym=xsym:y", err, sizeof(err)), 0);
	/* NAME is a label: '*', '-', spaces and ':' are fine */
	assert_int_equal(actor_rules_add(&r, "pool-*=pool-[0-9]*", err, sizeof(err)), 0);
	assert_int_equal(actor_rules_add(&r, "my actor:x=?", err, sizeof(err)), 0);
	/* the longest NAME that fits */
	assert_int_equal(actor_rules_add(&r, "abcdefghijklmnopqrstuvwxyz01234=*", err, sizeof(err)),
			 0);
	/* blanks around NAME and GLOB would only make rules that never match */
	assert_int_equal(actor_rules_add(&r, " \tspaced = sym: *::run \t", err, sizeof(err)), 0);
	assert_int_equal(actor_rules_add(&r, "inner=Thread *", err, sizeof(err)), 0);
	assert_string_equal(err, "");

	assert_int_equal(r.n, 10);
	assert_rule(&r, 0, "dispatch", "dispatcher-*", false);
	assert_rule(&r, 1, "tokio", "tokio::*", true);
	assert_rule(&r, 2, "eq", "a=b", false);
	assert_rule(&r, 3, "eqs", "x=sym:y", true);
	assert_rule(&r, 4, "notsym", "xsym:y", false);
	assert_rule(&r, 5, "pool-*", "pool-[0-9]*", false);
	assert_rule(&r, 6, "my actor:x", "?", false);
	assert_rule(&r, 7, "abcdefghijklmnopqrstuvwxyz01234", "*", false);
	assert_rule(&r, 8, "spaced", "*::run", true);
	assert_rule(&r, 9, "inner", "Thread *", false);
	actor_rules_free(&r);
	assert_int_equal(r.n, 0);
	assert_null(r.v);
	/* freeing twice, or never filled, is harmless */
	actor_rules_free(&r);
}

static void assert_bad(const char *spec, const char *want)
{
	struct actor_rules r = {0};
	char err[256];

	assert_int_equal(actor_rules_add(&r, "keep=k*", err, sizeof(err)), 0);
	memset(err, 'X', sizeof(err));
	err[sizeof(err) - 1] = '\0';
	assert_int_equal(actor_rules_add(&r, spec, err, sizeof(err)), -EINVAL);
	if (strcmp(err, want))
		fail_msg("actor_rules_add(\"%s\"): got \"%s\", want \"%s\"", spec, err, want);
	/* a bad rule adds nothing and leaves the others alone */
	assert_int_equal(r.n, 1);
	assert_rule(&r, 0, "keep", "k*", false);
	actor_rules_free(&r);
}

static void test_add_bad(void **state)
{
	(void)state;
	assert_bad("x", "bad actor rule 'x': expected NAME=GLOB or NAME=sym:GLOB");
	assert_bad("", "bad actor rule '': expected NAME=GLOB or NAME=sym:GLOB");
	assert_bad("sym:foo", "bad actor rule 'sym:foo': expected NAME=GLOB or NAME=sym:GLOB");
	assert_bad("=foo", "bad actor rule '=foo': empty NAME");
	assert_bad("=", "bad actor rule '=': empty NAME");
	assert_bad("x=", "bad actor rule 'x=': empty GLOB");
	assert_bad("x=sym:", "bad actor rule 'x=sym:': empty GLOB after sym:");
	assert_bad(" = x", "bad actor rule ' = x': empty NAME");
	assert_bad("x= \t", "bad actor rule 'x= ?': empty GLOB");
	assert_bad("x = sym: ", "bad actor rule 'x = sym: ': empty GLOB after sym:");
	assert_bad("abcdefghijklmnopqrstuvwxyz012345=*",
		   "bad actor rule 'abcdefghijklmnopqrstuvwxyz012345=*': "
		   "NAME is longer than 31 characters");
	/* the message stays on one line whatever the spec holds */
	assert_bad("a\tb=x", "bad actor rule 'a?b=x': control character in NAME");
	assert_bad("a\nb=x", "bad actor rule 'a?b=x': control character in NAME");
	assert_bad("a\x7f=x", "bad actor rule 'a?=x': control character in NAME");
	assert_bad("x\n", "bad actor rule 'x?': expected NAME=GLOB or NAME=sym:GLOB");
}

/* A long spec is cut in the message; a short err buffer truncates it; no err is fine. */
static void test_add_bad_messages(void **state)
{
	struct actor_rules r = {0};
	char spec[200], err[256], small[12];

	(void)state;
	memset(spec, 'a', sizeof(spec) - 1);
	spec[sizeof(spec) - 1] = '\0';
	assert_int_equal(actor_rules_add(&r, spec, err, sizeof(err)), -EINVAL);
	assert_int_equal(strncmp(err, "bad actor rule 'aaaa", 20), 0);
	assert_non_null(strstr(err, "a...': expected NAME=GLOB or NAME=sym:GLOB"));
	assert_true(strlen(err) < 150);

	memset(small, 'X', sizeof(small));
	assert_int_equal(actor_rules_add(&r, "x", small, 8), -EINVAL);
	assert_string_equal(small, "bad act");
	assert_int_equal(small[8], 'X');
	assert_int_equal(actor_rules_add(&r, "x", NULL, 0), -EINVAL);
	assert_int_equal(actor_rules_add(&r, NULL, err, sizeof(err)), -EINVAL);
	assert_int_equal(r.n, 0);
	actor_rules_free(&r);
}

/* ---- actor_rules_load ---- */

static char *temp_rules(const char *text)
{
	static char path[64];

	snprintf(path, sizeof(path), "/tmp/test_actors.XXXXXX");
	write_temp(path, text);
	return path;
}

static void test_load(void **state)
{
	struct actor_rules r = {0};
	char err[512] = "";
	const char *path = temp_rules("# actors of the order service\n"
				      "\n"
				      "dispatch=dispatcher-*\n"
				      "   \t\n"
				      "  results = sym:result_*  \n"
				      "\ttokio=sym:tokio::runtime::*\t# the runtime's workers\n"
				      "    # an indented comment\n"
				      "csharp=C#-pool-*\n"
				      "thread=Thread \\#*\n"
				      "dos=dos-*\r\n"
				      "last=no-newline");

	(void)state;
	assert_int_equal(actor_rules_load(&r, path, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(r.n, 7);
	assert_rule(&r, 0, "dispatch", "dispatcher-*", false);
	assert_rule(&r, 1, "results", "result_*", true);
	assert_rule(&r, 2, "tokio", "tokio::runtime::*", true);
	assert_rule(&r, 3, "csharp", "C#-pool-*", false);
	assert_rule(&r, 4, "thread", "Thread \\#*", false);
	assert_rule(&r, 5, "dos", "dos-*", false);
	assert_rule(&r, 6, "last", "no-newline", false);
	unlink(path);
	actor_rules_free(&r);
}

/* Rules of a file come after those already given, in the file's order. */
static void test_load_appends(void **state)
{
	struct actor_rules r = {0};
	char err[512];
	const char *path = temp_rules("b=b*\nc=sym:c*\n");

	(void)state;
	assert_int_equal(actor_rules_add(&r, "a=a*", err, sizeof(err)), 0);
	assert_int_equal(actor_rules_load(&r, path, err, sizeof(err)), 0);
	assert_int_equal(r.n, 3);
	assert_rule(&r, 0, "a", "a*", false);
	assert_rule(&r, 1, "b", "b*", false);
	assert_rule(&r, 2, "c", "c*", true);
	unlink(path);
	actor_rules_free(&r);
}

static void test_load_empty(void **state)
{
	struct actor_rules r = {0};
	char err[512] = "";
	const char *path = temp_rules("");

	(void)state;
	assert_int_equal(actor_rules_load(&r, path, err, sizeof(err)), 0);
	assert_int_equal(r.n, 0);
	unlink(path);
	path = temp_rules("# nothing but comments\n\n  # and blanks\n");
	assert_int_equal(actor_rules_load(&r, path, err, sizeof(err)), 0);
	assert_int_equal(r.n, 0);
	assert_string_equal(err, "");
	unlink(path);
	actor_rules_free(&r);
}

static void assert_load_bad(const char *text, int line, const char *want)
{
	struct actor_rules r = {0};
	char err[512], expect[512];
	const char *path = temp_rules(text);

	assert_int_equal(actor_rules_add(&r, "keep=k*", err, sizeof(err)), 0);
	assert_int_equal(actor_rules_load(&r, path, err, sizeof(err)), -EINVAL);
	snprintf(expect, sizeof(expect), "%s:%d: %s", path, line, want);
	if (strcmp(err, expect))
		fail_msg("got \"%s\", want \"%s\"", err, expect);
	/* the good lines before the bad one are not kept either */
	assert_int_equal(r.n, 1);
	assert_rule(&r, 0, "keep", "k*", false);
	unlink(path);
	actor_rules_free(&r);
}

static void test_load_bad_line(void **state)
{
	(void)state;
	assert_load_bad("# header\na=a*\n\n  oops  # not a rule\nb=b*\n", 4,
			"bad actor rule 'oops': expected NAME=GLOB or NAME=sym:GLOB");
	assert_load_bad("x=sym:\n", 1, "bad actor rule 'x=sym:': empty GLOB after sym:");
	assert_load_bad("a=a*\nb=sym:b*\nx= # a comment eats the glob\n", 3,
			"bad actor rule 'x=': empty GLOB");
	assert_load_bad("a=a*\n=b\n", 2, "bad actor rule '=b': empty NAME");
}

static void test_load_missing(void **state)
{
	struct actor_rules r = {0};
	char err[512];

	(void)state;
	assert_int_equal(actor_rules_load(&r, "/nonexistent/actors.txt", err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "cannot read /nonexistent/actors.txt: No such file or directory");
	assert_int_equal(r.n, 0);
	/* a directory opens but cannot be read */
	assert_int_equal(actor_rules_load(&r, "/", err, sizeof(err)), -EISDIR);
	assert_string_equal(err, "cannot read /: Is a directory");
	assert_int_equal(r.n, 0);
	actor_rules_free(&r);
}

/* ---- actor_match ---- */

static void add_all(struct actor_rules *r, const char *const *specs, int n)
{
	char err[256];

	for (int i = 0; i < n; i++)
		if (actor_rules_add(r, specs[i], err, sizeof(err)))
			fail_msg("%s", err);
}

static void assert_match(const struct actor_rules *r, const char *comm, const char *const *ufr,
			 int nufr, const char *want)
{
	char out[ACTOR_LEN];

	memset(out, 'X', sizeof(out));
	actor_match(r, comm, ufr, nufr, out, sizeof(out));
	if (strcmp(out, want))
		fail_msg("actor_match(\"%s\", %d frames): got \"%s\", want \"%s\"", comm, nufr, out,
			 want);
}

static void test_match_fallback(void **state)
{
	struct actor_rules empty = {0}, r = {0};
	static const char *const specs[] = {"nope=zzz*", "nosym=sym:zzz*"};
	static const char *const ufr[] = {"main", "run"};

	(void)state;
	assert_match(NULL, "dispatcher-3", NULL, 0, "dispatcher-*");
	assert_match(&empty, "dispatcher-3", ufr, 2, "dispatcher-*");
	assert_match(&empty, "python3", ufr, 2, "python3");
	add_all(&r, specs, ARRAY_SIZE(specs));
	assert_match(&r, "pool-3-thread-7", ufr, 2, "pool-3-thread-*");
	assert_match(&r, "", ufr, 2, "");
	assert_match(&r, NULL, NULL, 0, "");
	actor_rules_free(&r);
}

static void test_match_name(void **state)
{
	struct actor_rules r = {0};
	static const char *const specs[] = {
		"dispatch=dispatcher-*", "results=result-proc", "digits=w-[0-9]", "q=?", "c#=C#*",
	};

	(void)state;
	add_all(&r, specs, ARRAY_SIZE(specs));
	assert_match(&r, "dispatcher-3", NULL, 0, "dispatch");
	assert_match(&r, "dispatcher-", NULL, 0, "dispatch");
	assert_match(&r, "result-proc", NULL, 0, "results");
	assert_match(&r, "result-proc2", NULL, 0, "result-proc2");
	assert_match(&r, "w-7", NULL, 0, "digits");
	assert_match(&r, "w-77", NULL, 0, "w-*");
	assert_match(&r, "x", NULL, 0, "q");
	assert_match(&r, "C#-pool-1", NULL, 0, "c#");
	/* case-sensitive; the glob matches the whole name */
	assert_match(&r, "Dispatcher-3", NULL, 0, "Dispatcher-*");
	assert_match(&r, "my-dispatcher-3", NULL, 0, "my-dispatcher-*");
	actor_rules_free(&r);
}

/* Rules are tried in order, name and sym rules alike; the first that matches names the actor. */
static void test_match_first_wins(void **state)
{
	struct actor_rules r = {0};
	static const char *const specs[] = {
		"pg=sym:PQexec*", "net=sym:recv*", "tokio=tokio-*", "any-io=sym:*read*", "rest=*",
	};
	static const char *const pg[] = {"main", "handle", "PQexecParams", "recv"};
	static const char *const io[] = {"main", "fread", "recvmsg"};
	static const char *const io2[] = {"main", "fread"};

	(void)state;
	add_all(&r, specs, ARRAY_SIZE(specs));
	assert_true(actor_rules_use_frames(&r));
	/* a sym rule earlier in the list beats a name rule later, and another sym rule */
	assert_match(&r, "tokio-runtime-w", pg, ARRAY_SIZE(pg), "pg");
	assert_match(&r, "tokio-runtime-w", io, ARRAY_SIZE(io), "net");
	/* the frame order does not matter, the rule order does */
	assert_match(&r, "tokio-runtime-w", io2, ARRAY_SIZE(io2), "tokio");
	assert_match(&r, "worker", io2, ARRAY_SIZE(io2), "any-io");
	assert_match(&r, "worker", pg, 2, "rest");
	/* only the frames that are given count */
	assert_match(&r, "tokio-runtime-w", pg, 3, "pg");
	assert_match(&r, "tokio-runtime-w", pg, 2, "tokio");
	assert_match(&r, "tokio-runtime-w", NULL, 5, "tokio");
	actor_rules_free(&r);
}

/* The symbolizer demangles: C++ names come with their parameters, Rust ones without hash. */
static void test_match_demangled(void **state)
{
	struct actor_rules r = {0};
	static const char *const specs[] = {
		"tokio=sym:tokio::runtime::scheduler::multi_thread::worker::run",
		"vec=sym:std::vector<int, std::allocator<int> >::push_back(*)",
		"anyvec=sym:std::vector<*>::push_back*",
		"lambda=sym:*{lambda()#1}*",
		"closure=sym:*::{{closure}}",
	};
	static const char *const rust[] = {
		"std::sys::pal::unix::thread::Thread::new::thread_start",
		"tokio::runtime::scheduler::multi_thread::worker::run",
		"tokio::runtime::park::Inner::park",
	};
	static const char *const cxx[] = {"main",
					  "std::vector<int, std::allocator<int> >::push_back(int "
					  "const&)"};
	static const char *const cxx2[] = {"std::vector<std::string, std::allocator<std::string> "
					   ">::push_back(std::string&&)"};
	static const char *const lam[] = {"main::{lambda()#1}::operator()() const"};
	static const char *const clo[] = {"app::spawn::{{closure}}"};
	static const char *const rust2[] = {
		"tokio::runtime::scheduler::multi_thread::worker::run2"};

	(void)state;
	add_all(&r, specs, ARRAY_SIZE(specs));
	assert_match(&r, "tokio-runtime-w", rust, ARRAY_SIZE(rust), "tokio");
	assert_match(&r, "tokio-runtime-w", rust2, 1, "tokio-runtime-w");
	assert_match(&r, "a.out", cxx, ARRAY_SIZE(cxx), "vec");
	assert_match(&r, "a.out", cxx2, 1, "anyvec");
	assert_match(&r, "a.out", lam, 1, "lambda");
	assert_match(&r, "app", clo, 1, "closure");
	actor_rules_free(&r);
}

/* With --lines a frame ends in " (file.c:12)": sym rules see the function name only. */
static void test_match_lines_suffix(void **state)
{
	struct actor_rules r = {0};
	static const char *const specs[] = {
		"run=sym:*::run",
		"call=sym:operator()(int) const",
		"push=sym:std::vector<int>::push_back(int)",
		"deleted=sym:libgone.so (deleted)+0x*",
		"e1=sym:g (x.c:)",
		"e2=sym:g (x.c:12a)",
		"e3=sym:g(x.c:12)",
		"e4=sym:[ ](x.c:12)",
		"e5=sym:g (:12)",
		"vdso=sym:[[]vdso[]]",
		"anon=sym:(anonymous namespace)::f",
		"long=sym:long_*_name",
		"libfoo=sym:libfoo.so+0x1a2b",
		"unknown=sym:\\[unknown\\]",
		"fp=sym:apply(int (*)(int))",
	};
	char *big = malloc(600);
	const char *longf[1] = {big};

	(void)state;
	assert_non_null(big);
	add_all(&r, specs, ARRAY_SIZE(specs));
	assert_match(&r, "t", (const char *const[]){"worker::run (worker.rs:12)"}, 1, "run");
	assert_match(&r, "t", (const char *const[]){"worker::run (a b(c).rs:9)"}, 1, "run");
	assert_match(&r, "t", (const char *const[]){"operator()(int) const (f.cc:7)"}, 1, "call");
	assert_match(&r, "t", (const char *const[]){"std::vector<int>::push_back(int) (v.h:1000)"},
		     1, "push");
	/* the suffix is the symbolizer's; the name may have parentheses of its own */
	assert_match(&r, "t", (const char *const[]){"(anonymous namespace)::f (a.cc:3)"}, 1,
		     "anon");
	assert_match(&r, "t", (const char *const[]){"(anonymous namespace)::f"}, 1, "anon");
	assert_match(&r, "t", (const char *const[]){"apply(int (*)(int)) (ap.c:5)"}, 1, "fp");
	/* only a complete " (file:line)" is a suffix: these names are matched whole */
	assert_match(&r, "t", (const char *const[]){"g (x.c:)"}, 1, "e1");
	assert_match(&r, "t", (const char *const[]){"g (x.c:12a)"}, 1, "e2");
	assert_match(&r, "t", (const char *const[]){"g(x.c:12)"}, 1, "e3");
	assert_match(&r, "t", (const char *const[]){" (x.c:12)"}, 1, "e4");
	assert_match(&r, "t", (const char *const[]){"g (:12)"}, 1, "e5");
	assert_match(&r, "t", (const char *const[]){"g (x.c:12) "}, 1, "t");
	/* what the symbolizer writes without a symbol is left alone */
	assert_match(&r, "t", (const char *const[]){"libgone.so (deleted)+0x10"}, 1, "deleted");
	assert_match(&r, "t", (const char *const[]){"[vdso]"}, 1, "vdso");
	assert_match(&r, "t", (const char *const[]){"libfoo.so+0x1a2b"}, 1, "libfoo");
	assert_match(&r, "t", (const char *const[]){"[unknown]"}, 1, "unknown");
	/* a name longer than the matcher's stack buffer */
	memset(big, 'x', 599);
	memcpy(big, "long_", 5);
	snprintf(big + 400, 200, "_name (some_file.c:123456)");
	assert_match(&r, "t", longf, 1, "long");
	free(big);
	actor_rules_free(&r);
}

static void test_match_truncates(void **state)
{
	struct actor_rules r = {0};
	static const char *const specs[] = {"dispatch=disp*", "abcdefghijklmnopqrstuvwxyz01234=x"};
	char out[ACTOR_LEN];

	(void)state;
	add_all(&r, specs, ARRAY_SIZE(specs));
	memset(out, 'X', sizeof(out));
	actor_match(&r, "dispatcher-3", NULL, 0, out, 5);
	assert_string_equal(out, "disp");
	assert_int_equal(out[5], 'X');
	memset(out, 'X', sizeof(out));
	actor_match(&r, "x", NULL, 0, out, sizeof(out));
	assert_string_equal(out, "abcdefghijklmnopqrstuvwxyz01234");
	/* the fallback is bounded the same way */
	memset(out, 'X', sizeof(out));
	actor_match(&r, "pool-3-thread-7", NULL, 0, out, 6);
	assert_string_equal(out, "pool-");
	assert_int_equal(out[6], 'X');
	memset(out, 'X', sizeof(out));
	actor_match(&r, "dispatcher-3", NULL, 0, out, 1);
	assert_string_equal(out, "");
	assert_int_equal(out[1], 'X');
	memset(out, 'X', sizeof(out));
	actor_match(&r, "dispatcher-3", NULL, 0, out, 0);
	assert_int_equal(out[0], 'X');
	actor_rules_free(&r);
}

static void test_use_frames(void **state)
{
	struct actor_rules r = {0};
	char err[256];

	(void)state;
	assert_false(actor_rules_use_frames(NULL));
	assert_false(actor_rules_use_frames(&r));
	assert_int_equal(actor_rules_add(&r, "a=a*", err, sizeof(err)), 0);
	assert_int_equal(actor_rules_add(&r, "b=xsym:b*", err, sizeof(err)), 0);
	assert_false(actor_rules_use_frames(&r));
	assert_int_equal(actor_rules_add(&r, "c=sym:c*", err, sizeof(err)), 0);
	assert_true(actor_rules_use_frames(&r));
	actor_rules_free(&r);
	assert_false(actor_rules_use_frames(&r));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_good),	   cmocka_unit_test(test_add_bad),
		cmocka_unit_test(test_add_bad_messages),   cmocka_unit_test(test_load),
		cmocka_unit_test(test_load_appends),	   cmocka_unit_test(test_load_empty),
		cmocka_unit_test(test_load_bad_line),	   cmocka_unit_test(test_load_missing),
		cmocka_unit_test(test_match_fallback),	   cmocka_unit_test(test_match_name),
		cmocka_unit_test(test_match_first_wins),   cmocka_unit_test(test_match_demangled),
		cmocka_unit_test(test_match_lines_suffix), cmocka_unit_test(test_match_truncates),
		cmocka_unit_test(test_use_frames),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
