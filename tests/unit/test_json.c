// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of user/json.c: exact text for the easy cases, and a strict
 * parser (Python's json, on bytes that must decode as UTF-8) for awkward ones.
 */
#include <float.h>
#include <locale.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "json.h"

#include "testutil.h"

/* A document written to memory. */
struct doc {
	struct cap c;
	struct json j;
};

static void doc_open(struct doc *d, bool pretty)
{
	cap_open(&d->c);
	json_init(&d->j, d->c.f, pretty);
}

/* Ends the document (json_end closes whatever is still open); returns its text, to free. */
static char *doc_close(struct doc *d)
{
	json_end(&d->j);
	return cap_close(&d->c);
}

static void assert_doc(struct doc *d, const char *want)
{
	char *out = doc_close(d);

	assert_string_equal(out, want);
	free(out);
}

/*
 * Strict check: the bytes must be UTF-8, the text one JSON document with no
 * NaN/Infinity. Returns Python's canonical dump (sorted keys, ASCII only).
 */
static char *python_canonical(const char *doc)
{
	static const char script[] =
		"import json,sys\n"
		"def bad(x): raise ValueError(x)\n"
		"t = sys.stdin.buffer.read().decode(\"utf-8\", \"strict\")\n"
		"o = json.loads(t, parse_constant=bad)\n"
		"sys.stdout.write(json.dumps(o, sort_keys=True, ensure_ascii=True))\n";
	char path[] = "/tmp/test_json.XXXXXX", cmd[256], *out;
	int status;

	write_temp(path, doc);
	snprintf(cmd, sizeof(cmd), "python3 -c '%s' < %s", script, path);
	out = popen_read(cmd, "", &status);
	unlink(path);
	if (status != 0)
		fail_msg("python rejected the document:\n%s", doc);
	return out;
}

static void assert_canonical(const char *doc, const char *want)
{
	char *got = python_canonical(doc);

	assert_string_equal(got, want);
	free(got);
}

static void write_basic(struct json *j)
{
	json_object_begin(j, NULL);
	json_string(j, "tool", "offcpu");
	json_u64(j, "duration_us", 1000000);
	json_array_begin(j, "targets");
	json_u64(j, NULL, 1);
	json_i64(j, NULL, -2);
	json_array_end(j);
	json_object_begin(j, "empty");
	json_object_end(j);
	json_array_begin(j, "none");
	json_array_end(j);
	json_bool(j, "ok", true);
	json_bool(j, "bad", false);
	json_string(j, "null", NULL);
	json_double(j, "p50_us", 12.34);
	json_object_end(j);
}

static void assert_basic(bool pretty, const char *want)
{
	struct doc d;

	doc_open(&d, pretty);
	write_basic(&d.j);
	assert_doc(&d, want);
}

static void test_compact_exact(void **state)
{
	(void)state;
	assert_basic(false, "{\"tool\":\"offcpu\",\"duration_us\":1000000,\"targets\":[1,-2],"
			    "\"empty\":{},\"none\":[],\"ok\":true,\"bad\":false,\"null\":null,"
			    "\"p50_us\":12.3}\n");
}

static void test_pretty_exact(void **state)
{
	(void)state;
	assert_basic(true, "{\n"
			   "  \"tool\": \"offcpu\",\n"
			   "  \"duration_us\": 1000000,\n"
			   "  \"targets\": [\n"
			   "    1,\n"
			   "    -2\n"
			   "  ],\n"
			   "  \"empty\": {},\n"
			   "  \"none\": [],\n"
			   "  \"ok\": true,\n"
			   "  \"bad\": false,\n"
			   "  \"null\": null,\n"
			   "  \"p50_us\": 12.3\n"
			   "}\n");
}

/* One string value written alone at top level, as text. */
static char *string_text(const char *s)
{
	struct doc d;

	doc_open(&d, false);
	json_string(&d.j, NULL, s);
	return doc_close(&d);
}

static void assert_string_text(const char *in, const char *want)
{
	char *got = string_text(in);

	assert_string_equal(got, want);
	free(got);
}

static void test_escapes_exact(void **state)
{
	(void)state;
	assert_string_text("", "\"\"\n");
	assert_string_text("q\"b\\", "\"q\\\"b\\\\\"\n");
	assert_string_text("\n\r\t\b\f", "\"\\n\\r\\t\\b\\f\"\n");
	assert_string_text("\x01\x1f x\x7f/", "\"\\u0001\\u001f x\x7f/\"\n");
	assert_string_text("\x1b[31mred", "\"\\u001b[31mred\"\n");
}

/* Valid UTF-8 passes through byte for byte, including each length's extremes. */
static void test_utf8_valid(void **state)
{
	static const char *const ok[] = {
		"h\xc3\xa9llo \xe2\x82\xac \xf0\x9d\x84\x9e", /* é € 𝄞 */
		"\xc2\x80\xdf\xbf",			      /* U+0080 U+07FF */
		"\xe0\xa0\x80\xef\xbf\xbf",		      /* U+0800 U+FFFF */
		"\xed\x9f\xbf\xee\x80\x80",		      /* around the surrogates */
		"\xf0\x90\x80\x80\xf4\x8f\xbf\xbf",	      /* U+10000 U+10FFFF */
	};
	char want[64];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(want, sizeof(want), "\"%s\"\n", ok[i]);
		assert_string_text(ok[i], want);
	}
}

/* Every byte that is not part of a valid sequence becomes U+FFFD; the rest survives. */
static void test_utf8_invalid(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{"\x80", "\"\\ufffd\"\n"},				    /* lone continuation */
		{"\xff", "\"\\ufffd\"\n"},				    /* never valid */
		{"\xc0\xaf", "\"\\ufffd\\ufffd\"\n"},			    /* overlong '/' */
		{"\xc1\xbf", "\"\\ufffd\\ufffd\"\n"},			    /* overlong */
		{"\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"\n"},	    /* overlong, 3 bytes */
		{"\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"\n"},	    /* surrogate D800 */
		{"\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"\n"}, /* above U+10FFFF */
		{"\xf5\x80\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"\n"}, /* bad lead byte */
		{"a\xe2\x82", "\"a\\ufffd\\ufffd\"\n"},		       /* truncated at the end */
		{"\xe2\x82z", "\"\\ufffd\\ufffdz\"\n"},		       /* truncated mid-string */
		{"\xe2(\xa1", "\"\\ufffd(\\ufffd\"\n"},		       /* bad continuation */
		{"\xf0\x9f\x98\"", "\"\\ufffd\\ufffd\\ufffd\\\"\"\n"}, /* cut before a quote */
		{"ok\xc3\xa9\xc3", "\"ok\xc3\xa9\\ufffd\"\n"},	       /* good then cut */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_text(cases[i].in, cases[i].want);
}

/* Awkward strings as keys and values, nested objects and arrays, in both layouts. */
static void write_awkward(struct json *j)
{
	json_object_begin(j, NULL);
	json_string(j, "tool", "semlat");
	json_array_begin(j, "locks");
	json_object_begin(j, NULL);
	json_u64(j, "addr", 0x7f0000001000ULL);
	json_string(j, "name", "pool\"mutex\"\n\ttab\\back");
	json_string(j, "ctl", "\x01\x02\x1f\x7f");
	json_string(j, "utf8", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e");
	json_string(j, "bad", "x\xff\xc0\xafy\xed\xa0\x80z\xe2\x82");
	json_array_begin(j, "waiter_stacks");
	json_array_begin(j, NULL);
	json_string(j, NULL, "main");
	json_string(j, NULL, "std::mutex::lock()");
	json_array_end(j);
	json_array_begin(j, NULL);
	json_array_end(j);
	json_array_end(j);
	json_double(j, "p99_us", 1234.56);
	json_object_end(j);
	json_object_begin(j, NULL);
	json_object_end(j);
	json_array_end(j);
	json_object_begin(j, "key \"quoted\"\n\x01\xfe");
	json_i64(j, "min", INT64_MIN);
	json_u64(j, "max", UINT64_MAX);
	json_double(j, "nan", NAN);
	json_double(j, "inf", -INFINITY);
	json_object_end(j);
	json_object_end(j);
}

static void test_awkward_parses(void **state)
{
	static const char want[] =
		"{\"key \\\"quoted\\\"\\n\\u0001\\ufffd\": {\"inf\": null, \"max\": "
		"18446744073709551615, "
		"\"min\": -9223372036854775808, \"nan\": null}, "
		"\"locks\": [{\"addr\": 139637976731648, "
		"\"bad\": \"x\\ufffd\\ufffd\\ufffdy\\ufffd\\ufffd\\ufffdz\\ufffd\\ufffd\", "
		"\"ctl\": \"\\u0001\\u0002\\u001f\\u007f\", "
		"\"name\": \"pool\\\"mutex\\\"\\n\\ttab\\\\back\", \"p99_us\": 1234.6, "
		"\"utf8\": \"caf\\u00e9 \\u20ac \\ud834\\udd1e\", "
		"\"waiter_stacks\": [[\"main\", \"std::mutex::lock()\"], []]}, {}], "
		"\"tool\": \"semlat\"}";

	(void)state;
	for (int pretty = 0; pretty < 2; pretty++) {
		struct doc d;
		char *out;

		doc_open(&d, pretty);
		write_awkward(&d.j);
		out = doc_close(&d);
		assert_int_equal(out[strlen(out) - 1], '\n');
		/* compact means one line; pretty means one line per value */
		assert_true(pretty ? strchr(out, '\n') < out + strlen(out) - 1
				   : strchr(out, '\n') == out + strlen(out) - 1);
		assert_canonical(out, want);
		free(out);
	}
}

static char *double_text(double v)
{
	struct doc d;

	doc_open(&d, false);
	json_array_begin(&d.j, NULL);
	json_double(&d.j, NULL, v);
	json_array_end(&d.j);
	return doc_close(&d);
}

static void check_doubles(void)
{
	static const struct {
		double v;
		const char *want;
	} cases[] = {
		{0, "[0.0]\n"},
		{-0.0, "[0.0]\n"},
		{1, "[1.0]\n"},
		{1.25, "[1.3]\n"},
		{0.04, "[0.0]\n"},
		{-0.04, "[0.0]\n"},
		{0.06, "[0.1]\n"},
		{-2.5, "[-2.5]\n"},
		{-2.46, "[-2.5]\n"},
		{123456.78, "[123456.8]\n"},
		{99999999999999.9, "[99999999999999.9]\n"},
		{1e15, "[1000000000000000]\n"},
		{-1e20, "[-100000000000000000000]\n"},
		{NAN, "[null]\n"},
		{INFINITY, "[null]\n"},
		{-INFINITY, "[null]\n"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = double_text(cases[i].v);

		assert_string_equal(got, cases[i].want);
		free(got);
	}
}

static void test_double(void **state)
{
	char *out;

	(void)state;
	check_doubles();
	/* the largest double is a 309-digit integer, still a JSON number */
	out = double_text(DBL_MAX);
	assert_int_equal(strlen(out), 1 + 309 + 2);
	assert_int_equal(strspn(out + 1, "0123456789"), 309);
	assert_memory_equal(out, "[17976931348623157", 18);
	free(python_canonical(out));
	free(out);
}

/*
 * A locale whose decimal point is a comma: installed, or compiled for the
 * test. The compiled one is deleted once loaded (glibc keeps it mapped), so a
 * failing assertion later leaves nothing behind.
 */
static bool comma_locale(void)
{
	static const char *const names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8",
					    "ru_RU.UTF-8"};
	char dir[] = "/tmp/test_json_locale.XXXXXX", cmd[256];
	bool ok;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (setlocale(LC_ALL, names[i]))
			return true;
	}
	if (access("/usr/bin/localedef", X_OK) || !mkdtemp(dir))
		return false;
	snprintf(cmd, sizeof(cmd), "localedef -i de_DE -f UTF-8 %s/de_DE.UTF-8 2>/dev/null", dir);
	ok = system(cmd) == 0;
	setenv("LOCPATH", dir, 1);
	ok = ok && setlocale(LC_ALL, "de_DE.UTF-8") != NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 && ok;
}

static int restore_c_locale(void **state)
{
	(void)state;
	setlocale(LC_ALL, "C");
	unsetenv("LOCPATH");
	return 0;
}

/* Numbers must not follow LC_NUMERIC: "1,5" would be two array elements. */
static void test_double_locale(void **state)
{
	char buf[16];

	(void)state;
	if (!comma_locale())
		skip();
	snprintf(buf, sizeof(buf), "%.1f", 1.5);
	if (strcmp(buf, "1,5"))
		skip();
	check_doubles();
}

/* Too-deep containers vanish whole (key and contents); everything around them stays valid. */
static void test_depth_overflow(void **state)
{
	char want[512], *out, *p = want;
	struct doc d;

	(void)state;
	doc_open(&d, false);
	json_object_begin(&d.j, NULL);
	for (int i = 0; i < 40; i++) {
		json_array_begin(&d.j, i ? NULL : "deep");
		json_u64(&d.j, NULL, i);
	}
	json_object_begin(&d.j, "dropped");
	json_string(&d.j, "x", "y");
	json_object_end(&d.j);
	for (int i = 0; i < 40; i++)
		json_array_end(&d.j);
	json_u64(&d.j, "after", 1);
	json_object_end(&d.j);
	out = doc_close(&d);

	/* the top object plus 30 arrays fill the 31 levels JSON_MAX_DEPTH allows */
	p += sprintf(p, "{\"deep\":[0");
	for (int i = 1; i < JSON_MAX_DEPTH - 2; i++)
		p += sprintf(p, ",[%d", i);
	for (int i = 1; i < JSON_MAX_DEPTH - 1; i++)
		*p++ = ']';
	sprintf(p, ",\"after\":1}\n");
	assert_string_equal(out, want);
	free(python_canonical(out)); /* and it parses */
	free(out);
}

/* json_end closes what is left open, with the right brackets, so error paths stay valid. */
static void test_end_closes(void **state)
{
	struct doc d;

	(void)state;
	doc_open(&d, true);
	json_object_begin(&d.j, NULL);
	json_array_begin(&d.j, "a");
	json_object_begin(&d.j, NULL);
	json_u64(&d.j, "x", 1);
	assert_doc(&d, "{\n  \"a\": [\n    {\n      \"x\": 1\n    }\n  ]\n}\n");

	/* an end of the wrong kind still closes with the bracket that opened the level */
	doc_open(&d, false);
	json_array_begin(&d.j, NULL);
	json_object_end(&d.j);
	json_array_end(&d.j); /* one too many: ignored */
	assert_doc(&d, "[]\n");
}

/* Keys where none belongs are dropped; a missing key in an object becomes "". */
static void test_key_misuse(void **state)
{
	struct doc d;

	(void)state;
	doc_open(&d, false);
	json_object_begin(&d.j, "top-level key");
	json_array_begin(&d.j, "k");
	json_u64(&d.j, "in array", 1);
	json_array_end(&d.j);
	json_u64(&d.j, NULL, 2);
	json_object_end(&d.j);
	assert_doc(&d, "{\"k\":[1],\"\":2}\n");
}

static void test_top_level_array_pretty(void **state)
{
	struct doc d;

	(void)state;
	doc_open(&d, true);
	json_array_begin(&d.j, NULL);
	json_object_begin(&d.j, NULL);
	json_u64(&d.j, "tid", 42);
	json_string(&d.j, "comm", "worker\t1");
	json_object_end(&d.j);
	json_array_begin(&d.j, NULL);
	json_array_end(&d.j);
	json_double(&d.j, NULL, 0.5);
	json_array_end(&d.j);
	assert_doc(&d, "[\n"
		       "  {\n"
		       "    \"tid\": 42,\n"
		       "    \"comm\": \"worker\\t1\"\n"
		       "  },\n"
		       "  [],\n"
		       "  0.5\n"
		       "]\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compact_exact),
		cmocka_unit_test(test_pretty_exact),
		cmocka_unit_test(test_escapes_exact),
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_utf8_invalid),
		cmocka_unit_test(test_awkward_parses),
		cmocka_unit_test(test_double),
		cmocka_unit_test_teardown(test_double_locale, restore_c_locale),
		cmocka_unit_test(test_depth_overflow),
		cmocka_unit_test(test_end_closes),
		cmocka_unit_test(test_key_misuse),
		cmocka_unit_test(test_top_level_array_pretty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
