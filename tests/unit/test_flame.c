// SPDX-License-Identifier: GPL-2.0
/* Unit tests of user/flame.c: the tree, the geometry, the colours and a well-formed document. */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flame.h"
#include "testutil.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MS	      1000000ULL
#define DRAW_W	      1180.0 /* image width less the side margins */

static char *render(const char *title, const struct flame_row *rows, size_t n)
{
	struct cap c;

	cap_open(&c);
	assert_int_equal(flame_svg(c.f, title, rows, n), 0);
	return cap_close(&c);
}

/* The frame whose tooltip starts with "NAME (", and fails the test when there is none. */
static const char *frame(const char *doc, const char *name)
{
	char key[256];
	const char *g;

	snprintf(key, sizeof(key), "<g class=\"f\"><title>%s (", name);
	g = strstr(doc, key);
	if (!g)
		fail_msg("no frame \"%s\" in:\n%s", name, doc);
	return g;
}

static int count(const char *doc, const char *what)
{
	int n = 0;

	for (const char *p = strstr(doc, what); p; p = strstr(p + 1, what))
		n++;
	return n;
}

/* A numeric attribute of the frame's rect. */
static double rect_attr(const char *g, const char *attr)
{
	char key[32];
	const char *rect = strstr(g, "<rect "), *p;

	assert_non_null(rect);
	snprintf(key, sizeof(key), " %s=\"", attr);
	p = strstr(rect, key);
	assert_non_null(p);
	assert_true(p < strchr(rect, '>'));
	return strtod(p + strlen(key), NULL);
}

static void rect_rgb(const char *g, int rgb[3])
{
	const char *p = strstr(g, "fill=\"rgb(");

	assert_non_null(p);
	assert_int_equal(sscanf(p, "fill=\"rgb(%d,%d,%d)\"", &rgb[0], &rgb[1], &rgb[2]), 3);
}

/* The label of a frame: NULL when it has none. The caller frees it. */
static char *label(const char *g)
{
	const char *end = strstr(g, "</g>"), *t = strstr(g, "<text "), *open, *close;

	if (!t || t > end)
		return NULL;
	open = strchr(t, '>') + 1;
	close = strstr(open, "</text>");
	return strndup(open, close - open);
}

/* Strict XML parse by python's expat: whatever a browser would refuse, this refuses too. */
static void assert_well_formed(const char *doc)
{
	static const char script[] = "import sys, xml.etree.ElementTree as E\n"
				     "r = E.parse(sys.argv[1]).getroot()\n"
				     "assert r.tag == \"{http://www.w3.org/2000/svg}svg\", r.tag\n";
	char path[] = "/tmp/test_flame.XXXXXX", cmd[512], *out;
	int status;

	write_temp(path, doc);
	snprintf(cmd, sizeof(cmd), "python3 -c '%s' %s 2>&1", script, path);
	out = popen_read(cmd, "", &status);
	unlink(path);
	if (status != 0)
		fail_msg("python rejected the document: %s\n%s", out, doc);
	free(out);
}

/* Outside CDATA, every '<' opens markup and every '&' an entity. */
static void assert_escaped(const char *doc)
{
	const char *p = doc;

	while (*p) {
		if (!strncmp(p, "<![CDATA[", 9)) {
			p = strstr(p, "]]>");
			assert_non_null(p);
			continue;
		}
		if (*p == '<' && !strchr("/?!abcdefghijklmnopqrstuvwxyz", p[1]))
			fail_msg("raw '<' at: %.40s", p);
		if (*p == '&' && strncmp(p, "&amp;", 5) && strncmp(p, "&lt;", 4) &&
		    strncmp(p, "&gt;", 4) && strncmp(p, "&quot;", 6) && strncmp(p, "&apos;", 6))
			fail_msg("raw '&' at: %.40s", p);
		p++;
	}
}

static void test_merge(void **state)
{
	static const char *const a[] = {"main", "serve", "recv"};
	static const char *const b[] = {"main", "serve", "pthread_mutex_lock"};
	static const char *const c[] = {"main", "serve"};
	const struct flame_row rows[] = {
		{a, 3, 20 * MS, "net"},
		{b, 3, 10 * MS, "lock"},
		{c, 2, 5 * MS, "runqueue"},
	};
	char *doc = render("merge", rows, ARRAY_SIZE(rows));

	(void)state;
	assert_int_equal(count(doc, "<title>main ("), 1);
	assert_int_equal(count(doc, "<title>serve ("), 1);
	assert_non_null(strstr(doc, "<title>serve (35.0 ms, 100.00 %; net 20.0 ms, lock 10.0 ms, "
				    "runqueue 5.0 ms)</title>"));
	assert_non_null(strstr(doc, "<title>all (35.0 ms, 100.00 %;"));
	assert_non_null(strstr(doc, "<title>recv (20.0 ms, 57.14 %; net 20.0 ms)</title>"));
	/* all, main, serve, two leaves */
	assert_int_equal(count(doc, "<g class=\"f\">"), 5);
	/* children in name order, like flamegraph.pl */
	assert_true(frame(doc, "pthread_mutex_lock") < frame(doc, "recv"));
	assert_well_formed(doc);
	free(doc);
}

/* The kind with the most time under a node colours it, and ties break by name. */
static void test_kind_by_value(void **state)
{
	static const char *const a[] = {"main", "work"};
	const struct flame_row rows[] = {
		{a, 2, 3 * MS, "lock"},
		{a, 2, 3 * MS, "disk"},
		{a, 2, 1 * MS, "net"},
	};
	char *doc = render("kinds", rows, ARRAY_SIZE(rows));

	(void)state;
	assert_non_null(strstr(
		doc, "<title>work (7.0 ms, 100.00 %; disk 3.0 ms, lock 3.0 ms, net 1.0 ms)"));
	/* the legend names the colours drawn, not every kind seen */
	assert_non_null(strstr(doc, ">disk</text>"));
	assert_null(strstr(doc, ">lock</text>"));
	free(doc);
}

static void test_width_proportional(void **state)
{
	static const char *const a[] = {"main", "small"};
	static const char *const b[] = {"main", "large"};
	const struct flame_row rows[] = {
		{a, 2, 100 * MS, "sleep"},
		{b, 2, 300 * MS, "sleep"},
	};
	char *doc = render("widths", rows, ARRAY_SIZE(rows));
	const char *small = frame(doc, "small"), *large = frame(doc, "large");
	double ws = rect_attr(small, "width"), wl = rect_attr(large, "width");

	(void)state;
	assert_true(ws > 0);
	assert_float_equal(wl / ws, 3.0, 0.001);
	assert_float_equal(ws + wl, DRAW_W, 0.02);
	assert_float_equal(rect_attr(frame(doc, "main"), "width"), DRAW_W, 0.001);
	/* siblings side by side, "large" first by name, children one row above their parent */
	assert_float_equal(rect_attr(large, "x") + wl, rect_attr(small, "x"), 0.02);
	assert_float_equal(rect_attr(frame(doc, "main"), "y") - rect_attr(large, "y"), 16, 0);
	assert_float_equal(rect_attr(large, "height"), 15, 0);
	free(doc);
}

static void test_escaping(void **state)
{
	static const char *const a[] = {"main", "std::map<K, V&>::find", "say \"hi\" it's",
					"bad\x01utf8\xff<"};
	const struct flame_row rows[] = {{a, 4, 10 * MS, "lock"}};
	char *doc = render("a <title> & \"quotes\"", rows, ARRAY_SIZE(rows));

	(void)state;
	assert_non_null(strstr(doc, ">a &lt;title&gt; &amp; &quot;quotes&quot;</text>"));
	assert_non_null(strstr(doc, "<title>std::map&lt;K, V&amp;&gt;::find ("));
	assert_non_null(strstr(doc, "<title>say &quot;hi&quot; it&apos;s ("));
	/* a control character and a broken UTF-8 byte both become U+FFFD */
	assert_non_null(strstr(doc, "<title>bad\xef\xbf\xbdutf8\xef\xbf\xbd&lt; ("));
	assert_null(strstr(doc, "map<K"));
	assert_escaped(doc);
	assert_well_formed(doc);
	free(doc);
}

static void assert_waker_rgb(const int rgb[3])
{
	assert_true(rgb[2] > rgb[0] + 60);
	assert_true(rgb[2] > rgb[1]);
}

static void test_waker_colour(void **state)
{
	static const char *const a[] = {"main", "lock_wait", "--", "unlock", "futex_wake"};
	static const char *const b[] = {"main", "lock_wait"};
	const struct flame_row rows[] = {
		{a, 5, 30 * MS, "lock"},
		{b, 2, 10 * MS, "lock"},
	};
	char *doc = render("wakers", rows, ARRAY_SIZE(rows));
	int rgb[3];

	(void)state;
	rect_rgb(frame(doc, "lock_wait"), rgb);
	assert_true(rgb[0] > rgb[1] + 60 && rgb[0] > rgb[2] + 60);
	rect_rgb(frame(doc, "--"), rgb);
	assert_true(rgb[0] == rgb[1] && rgb[1] == rgb[2]);
	rect_rgb(frame(doc, "unlock"), rgb);
	assert_waker_rgb(rgb);
	rect_rgb(frame(doc, "futex_wake"), rgb);
	assert_waker_rgb(rgb);
	assert_non_null(strstr(doc, ">waker</text>"));
	assert_non_null(strstr(doc, ">lock</text>"));
	free(doc);
}

/* The same kind draws a name in the same shade; other names vary, but stay in the family. */
static void test_colour_families(void **state)
{
	static const char *const a[] = {"alpha", "beta"};
	static const char *const b[] = {"gamma", "beta"};
	const struct flame_row rows[] = {
		{a, 2, 10 * MS, "net"},
		{b, 2, 10 * MS, "net"},
	};
	char *doc = render("colours", rows, ARRAY_SIZE(rows));
	const char *beta1 = frame(doc, "beta"), *beta2 = frame(beta1 + 1, "beta");
	int x[3], y[3], z[3];

	(void)state;
	rect_rgb(beta1, x);
	rect_rgb(beta2, y);
	assert_memory_equal(x, y, sizeof(x));
	rect_rgb(frame(doc, "alpha"), z);
	assert_true(memcmp(x, z, sizeof(x)) != 0);
	assert_true(x[1] > x[0] && x[1] > x[2] && z[1] > z[0] && z[1] > z[2]);
	free(doc);
}

static void assert_empty_doc(const struct flame_row *rows, size_t n)
{
	char *doc = render(NULL, rows, n);

	assert_true(!strncmp(doc, "<?xml version=\"1.0\"", 19));
	assert_non_null(strstr(doc, "no off-CPU time recorded"));
	assert_null(strstr(doc, "<g class=\"f\">"));
	assert_well_formed(doc);
	free(doc);
}

static void test_empty(void **state)
{
	static const char *const a[] = {"main"};
	const struct flame_row zero[] = {{a, 1, 0, "lock"}, {NULL, 0, 0, NULL}};

	(void)state;
	assert_empty_doc(NULL, 0);
	assert_empty_doc(zero, ARRAY_SIZE(zero));
}

static void test_unknown_names(void **state)
{
	static const char *const a[] = {NULL, "x"};
	static const char *const b[] = {"", "x"};
	const struct flame_row rows[] = {
		{a, 2, 10 * MS, NULL},
		{b, 2, 20 * MS, ""},
		/* no frames at all: its time is in the root */
		{NULL, 3, 10 * MS, "sleep"},
		{a, -1, 10 * MS, "sleep"},
	};
	char *doc = render("unknown", rows, ARRAY_SIZE(rows));

	(void)state;
	assert_int_equal(count(doc, "<title>[unknown] ("), 1);
	assert_non_null(strstr(doc, "<title>[unknown] (30.0 ms, 60.00 %; other 30.0 ms)"));
	assert_non_null(strstr(doc, "<title>x (30.0 ms, 60.00 %; other 30.0 ms)"));
	assert_non_null(
		strstr(doc, "<title>all (50.0 ms, 100.00 %; other 30.0 ms, sleep 20.0 ms)"));
	assert_int_equal(count(doc, "<g class=\"f\">"), 3);
	free(doc);
}

static void test_omitted(void **state)
{
	static const char *const a[] = {"main", "big"};
	static const char *const b[] = {"main", "tiny", "tinier"};
	const struct flame_row rows[] = {
		{a, 2, 1000 * MS, "disk"}, {b, 3, MS / 2, "disk"}, /* 0.05 % */
	};
	char *doc = render("omitted", rows, ARRAY_SIZE(rows));

	(void)state;
	assert_null(strstr(doc, "tiny"));
	/* the time stays in the parent */
	assert_non_null(strstr(doc, "<title>main (1.00 s, 100.00 %"));
	assert_float_equal(rect_attr(frame(doc, "big"), "width"), DRAW_W * 1000 / 1000.5, 0.01);
	assert_non_null(strstr(doc, ">2 frames narrower than 0.1 % of the total not drawn"));
	free(doc);
}

static void test_labels(void **state)
{
	static const char *const a[] = {"a_rather_long_function_name_here"};
	static const char *const b[] = {"narrow"};
	static const char *const c[] = {"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"};
	static const char *const d[] = {"filler"};
	/* 1180 px for 1000 ms; a label keeps 3 px each side, 7 px a character, ".." when cut */
	const struct flame_row rows[] = {
		{a, 1, 60 * MS, "child"}, /* 70.8 px: 9 characters fit */
		{b, 1, 2 * MS, "child"},  /* 2.4 px: none */
		{c, 1, 55 * MS, "fault"}, /* 64.9 px: 8 characters fit, 6 in the name, 12 bytes */
		{d, 1, 883 * MS, "other"},
	};
	char *doc = render("labels", rows, ARRAY_SIZE(rows));
	char *t;

	(void)state;
	t = label(frame(doc, "a_rather_long_function_name_here"));
	assert_string_equal(t, "a_rathe..");
	free(t);
	assert_null(label(frame(doc, "narrow")));
	t = label(frame(doc, c[0]));
	assert_string_equal(t, c[0]);
	free(t);
	t = label(frame(doc, "all"));
	assert_string_equal(t, "all");
	free(t);
	free(doc);
}

/* The script and its controls are in the document, self-contained. */
static void test_interactive(void **state)
{
	static const char *const a[] = {"main"};
	const struct flame_row rows[] = {{a, 1, MS, "pipe"}};
	char *doc = render("script", rows, ARRAY_SIZE(rows));

	(void)state;
	assert_non_null(strstr(doc, "xmlns=\"http://www.w3.org/2000/svg\""));
	assert_non_null(strstr(doc, "xmlns:xlink=\"http://www.w3.org/1999/xlink\""));
	assert_non_null(strstr(doc, "<script type=\"text/ecmascript\"><![CDATA["));
	assert_non_null(strstr(doc, ">Reset Zoom</text>"));
	assert_non_null(strstr(doc, ">Search</text>"));
	assert_non_null(strstr(doc, "id=\"details\""));
	/* no external resources: the only addresses are namespace names */
	assert_int_equal(count(doc, "://"), count(doc, "http://www.w3.org/"));
	assert_null(strstr(doc, "href="));
	assert_int_equal(count(doc, "]]>"), 2);
	free(doc);
}

static void test_deterministic(void **state)
{
	static const char *const a[] = {"main", "x", "y"};
	static const char *const b[] = {"main", "x", "z"};
	static const char *const c[] = {"main", "w"};
	const struct flame_row rows[] = {
		{a, 3, 7 * MS, "lock"},
		{b, 3, 5 * MS, "net"},
		{c, 2, 3 * MS, "poll"},
		{a, 3, 7 * MS, "net"},
	};
	const struct flame_row reversed[] = {rows[3], rows[2], rows[1], rows[0]};
	char *one = render("same", rows, ARRAY_SIZE(rows));
	char *two = render("same", rows, ARRAY_SIZE(rows));
	char *three = render("same", reversed, ARRAY_SIZE(reversed));

	(void)state;
	assert_string_equal(one, two);
	/* the order of the rows does not matter either */
	assert_string_equal(one, three);
	free(one);
	free(two);
	free(three);
}

static void test_write_error(void **state)
{
	static const char *const a[] = {"main"};
	const struct flame_row rows[] = {{a, 1, MS, "lock"}};
	FILE *f = fopen("/dev/full", "w");

	(void)state;
	if (!f)
		skip();
	assert_int_equal(flame_svg(f, "full", rows, ARRAY_SIZE(rows)), -ENOSPC);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_kind_by_value),
		cmocka_unit_test(test_width_proportional),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_waker_colour),
		cmocka_unit_test(test_colour_families),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_unknown_names),
		cmocka_unit_test(test_omitted),
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_interactive),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_write_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
