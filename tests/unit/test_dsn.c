// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of user/dsn.c: both DSN forms, host/hostaddr/port lists, the environment's
 * defaults, every error, that no password ever comes out, and resolution of literals, socket
 * directories and "localhost" (nothing that needs a network).
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "dsn.h"

#include "testutil.h"

#define SECRET "s3cretPW"

/* Every test starts from no PG* variable: the defaults are then libpq's own. */
static int clear_env(void **state)
{
	static const char *const vars[] = {"PGHOST", "PGHOSTADDR", "PGPORT",
					   "PGUSER", "PGDATABASE", "PGSSLMODE"};

	(void)state;
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	return 0;
}

static void parse_ok(const char *s, struct dsn *d)
{
	char err[256];

	if (dsn_parse(s, d, err, sizeof(err)))
		fail_msg("%s: %s", s, err);
}

static void assert_host(const struct dsn *d, int i, const char *host, const char *hostaddr,
			unsigned port)
{
	assert_true(i < d->nhosts);
	assert_string_equal(d->hosts[i].host, host);
	assert_string_equal(d->hosts[i].hostaddr, hostaddr);
	assert_int_equal(d->hosts[i].port, port);
}

static void assert_describe(const struct dsn *d, const char *want)
{
	char buf[512];

	dsn_describe(d, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void test_kv_basic(void **state)
{
	struct dsn d;

	(void)state;
	parse_ok("host=/var/run/postgresql port=5433 dbname=x", &d);
	assert_int_equal(d.nhosts, 1);
	assert_host(&d, 0, "/var/run/postgresql", "", 5433);
	assert_string_equal(d.dbname, "x");
	assert_string_equal(d.user, "");
	assert_string_equal(d.sslmode, "");
	assert_false(d.has_password);
	assert_int_equal(d.neps, 0);
	parse_ok("  host = db.example\tuser =  alice  sslmode= verify-full ", &d);
	assert_host(&d, 0, "db.example", "", 5432);
	assert_string_equal(d.user, "alice");
	assert_string_equal(d.sslmode, "verify-full");
}

static void test_kv_quoting(void **state)
{
	struct dsn d;

	(void)state;
	parse_ok("host = '/tmp/my dir' dbname='a\\'b\\\\c' user=u\\ v", &d);
	assert_host(&d, 0, "/tmp/my dir", "", 5432);
	assert_string_equal(d.dbname, "a'b\\c");
	assert_string_equal(d.user, "u v");
	/* '' is an empty value; a quoted value may run into the next key */
	parse_ok("user='' dbname='d'host=h", &d);
	assert_string_equal(d.user, "");
	assert_string_equal(d.dbname, "d");
	assert_host(&d, 0, "h", "", 5432);
	/* libpq skips the blanks after "=": "host= port=1" sets host to "port=1" */
	parse_ok("host= dbname=x", &d);
	assert_host(&d, 0, "dbname=x", "", 5432);
}

static void test_kv_lists(void **state)
{
	struct dsn d;

	(void)state;
	parse_ok("host=h1,h2,h3 port=1,2,3", &d);
	assert_int_equal(d.nhosts, 3);
	assert_host(&d, 0, "h1", "", 1);
	assert_host(&d, 1, "h2", "", 2);
	assert_host(&d, 2, "h3", "", 3);
	parse_ok("host=h1,::1,/tmp port=6000", &d); /* one port for every host */
	assert_host(&d, 0, "h1", "", 6000);
	assert_host(&d, 1, "::1", "", 6000);
	assert_host(&d, 2, "/tmp", "", 6000);
	parse_ok("host=h1,,/tmp port=,5,", &d); /* empty entries: the defaults */
	assert_host(&d, 0, "h1", "", 5432);
	assert_host(&d, 1, "/var/run/postgresql", "", 5);
	assert_host(&d, 2, "/tmp", "", 5432);
}

static void test_kv_hostaddr(void **state)
{
	struct dsn d;

	(void)state;
	parse_ok("host=a,b hostaddr=10.0.0.1,::1 port=7", &d);
	assert_int_equal(d.nhosts, 2);
	assert_host(&d, 0, "a", "10.0.0.1", 7);
	assert_host(&d, 1, "b", "::1", 7);
	/* hostaddr alone: its count is the host count, host stays empty */
	parse_ok("hostaddr=127.0.0.1,,192.0.2.1", &d);
	assert_int_equal(d.nhosts, 3);
	assert_host(&d, 0, "", "127.0.0.1", 5432);
	assert_host(&d, 1, "/var/run/postgresql", "", 5432);
	assert_host(&d, 2, "", "192.0.2.1", 5432);
}

static void test_uri_basic(void **state)
{
	struct dsn d;

	(void)state;
	parse_ok("postgresql://alice@db.example:6432/app?sslmode=require", &d);
	assert_host(&d, 0, "db.example", "", 6432);
	assert_string_equal(d.user, "alice");
	assert_string_equal(d.dbname, "app");
	assert_string_equal(d.sslmode, "require");
	parse_ok("postgres://db.example", &d);
	assert_host(&d, 0, "db.example", "", 5432);
	assert_string_equal(d.dbname, "");
	parse_ok("postgresql://", &d);
	assert_int_equal(d.nhosts, 1);
	assert_host(&d, 0, "/var/run/postgresql", "", 5432);
	parse_ok("postgresql://:5433/db", &d); /* no host: the default one, on 5433 */
	assert_host(&d, 0, "/var/run/postgresql", "", 5433);
	assert_string_equal(d.dbname, "db");
}

static void test_uri_hosts(void **state)
{
	struct dsn d;

	(void)state;
	parse_ok("postgres://h1:5432,h2,[::1]:5433/db", &d);
	assert_int_equal(d.nhosts, 3);
	assert_host(&d, 0, "h1", "", 5432);
	assert_host(&d, 1, "h2", "", 5432);
	assert_host(&d, 2, "::1", "", 5433);
	parse_ok("postgresql://h:,h2:/", &d); /* empty ports */
	assert_host(&d, 1, "h2", "", 5432);
	parse_ok("postgresql://[2001:db8::1],10.0.0.1:7/", &d);
	assert_host(&d, 0, "2001:db8::1", "", 5432);
	assert_host(&d, 1, "10.0.0.1", "", 7);
	/* libpq stores "," as the port list there: an empty port is 5432, PGPORT is not read */
	setenv("PGPORT", "7000", 1);
	parse_ok("postgresql://h1:5433,h2/db", &d);
	assert_host(&d, 1, "h2", "", 5432);
	parse_ok("postgresql://h1/db", &d);
	assert_host(&d, 0, "h1", "", 7000);
}

static void test_uri_percent(void **state)
{
	struct dsn d;

	(void)state;
	parse_ok("postgresql://us%40er@%2Fvar%2Frun%2Fpostgresql:5433/d%20b%2fc", &d);
	assert_string_equal(d.user, "us@er");
	assert_host(&d, 0, "/var/run/postgresql", "", 5433);
	assert_string_equal(d.dbname, "d b/c");
	parse_ok("postgresql:///db?host=%2Ftmp&port=%35%34%33%33", &d);
	assert_host(&d, 0, "/tmp", "", 5433);
	/* a percent-encoded "@" in the host is libpq's abstract socket: kept, refused when resolved
	 */
	parse_ok("postgresql://%40sock/db", &d);
	assert_host(&d, 0, "@sock", "", 5432);
}

static void test_uri_query(void **state)
{
	struct dsn d;

	(void)state;
	/* the query overrides the host list; keys libpq knows but that do not matter are accepted
	 */
	parse_ok("postgresql://ignored:1/db?host=/tmp,h2&port=5,6&user=u&dbname=other"
		 "&application_name=x&connect_timeout=3&target_session_attrs=any",
		 &d);
	assert_int_equal(d.nhosts, 2);
	assert_host(&d, 0, "/tmp", "", 5);
	assert_host(&d, 1, "h2", "", 6);
	assert_string_equal(d.user, "u");
	assert_string_equal(d.dbname, "other");
	parse_ok("postgresql://h?hostaddr=192.0.2.7&ssl=true&", &d);
	assert_host(&d, 0, "h", "192.0.2.7", 5432);
	assert_string_equal(d.sslmode, "require");
	parse_ok("postgresql://h?requiressl=1", &d);
	assert_string_equal(d.sslmode, "require");
	parse_ok("requiressl=0 host=h", &d);
	assert_string_equal(d.sslmode, "prefer");
}

static void test_defaults_env(void **state)
{
	struct dsn d;

	(void)state;
	parse_ok("", &d);
	assert_int_equal(d.nhosts, 1);
	assert_host(&d, 0, "/var/run/postgresql", "", 5432);
	assert_string_equal(d.user, "");
	assert_string_equal(d.dbname, "");
	setenv("PGHOST", "a,/tmp", 1);
	setenv("PGPORT", "6000", 1);
	setenv("PGUSER", "pu", 1);
	setenv("PGDATABASE", "pd", 1);
	parse_ok("sslmode=disable", &d);
	assert_int_equal(d.nhosts, 2);
	assert_host(&d, 0, "a", "", 6000);
	assert_host(&d, 1, "/tmp", "", 6000);
	assert_string_equal(d.user, "pu");
	assert_string_equal(d.dbname, "pd");
	parse_ok("postgresql://u@h:1/db", &d); /* what is given wins */
	assert_host(&d, 0, "h", "", 1);
	assert_string_equal(d.user, "u");
	assert_string_equal(d.dbname, "db");
	parse_ok("host=''", &d); /* given, if empty: the socket directory, not PGHOST */
	assert_int_equal(d.nhosts, 1);
	assert_host(&d, 0, "/var/run/postgresql", "", 6000);
	setenv("PGHOST", "a,b,c", 1); /* PGHOST's list against the given ports */
	setenv("PGPORT", "1,2", 1);
	assert_int_equal(dsn_parse("", &d, NULL, 0), -1);
}

struct bad {
	const char *dsn, *err;
};

static const struct bad bad_dsns[] = {
	{"port=54x", "bad port \"54x\""},
	{"postgresql://h:54x/db", "bad port \"54x\""},
	{"postgresql://h:0/db", "bad port \"0\""},
	{"port=65536", "bad port \"65536\""},
	{"port=1234567890123456789", "bad port \"123456789012345...\""},
	{"host='abc", "unterminated quoted value for \"host\""},
	{"host='abc\\'", "unterminated quoted value for \"host\""},
	{"hots=x", "unknown key \"hots\""},
	{"service=x", "key \"service\" is not supported (pg_service.conf is not read)"},
	{"postgresql://h?service=x",
	 "key \"service\" is not supported (pg_service.conf is not read)"},
	{"=x", "unknown key \"\""},
	{"postgresql://h?foo=1", "unknown key \"foo\""},
	{"postgresql://h?ssl=false", "unknown key \"ssl\""},
	{"host=a,b,c port=1,2", "host list has 3 entries but port list has 2"},
	{"postgresql://a:1,b:2,c:3/?port=1,2", "host list has 3 entries but port list has 2"},
	{"hostaddr=::1,::2 port=1,2,3", "hostaddr list has 2 entries but port list has 3"},
	{"host=a hostaddr=1.2.3.4,5.6.7.8", "host list has 1 entries but hostaddr list has 2"},
	{"hostaddr=db.example", "bad hostaddr \"db.example\""},
	{"sslmode=maybe", "bad sslmode \"maybe\""},
	{"sslmode='prefer require'", "bad sslmode \"prefer require\""},
	{"just words", "missing \"=\" for key \"just\""},
	{"dbname=x user", "missing \"=\" for key \"user\""},
	{"dbname=x Secret", "missing \"=\" for key at offset 9"},
	{"Host=x", "unknown key at offset 0"},
	{" password=x y z",
	 "missing \"=\" for key after the password (quote a password with spaces)"},
	{"password=x y=z", "unknown key after the password (quote a password with spaces)"},
	{"password='x y' z", "missing \"=\" for key \"z\""},
	{"postgresql://h?Port=1", "unknown key at offset 15"},
	{"postgresql://h?port=1&X", "missing \"=\" in query parameter at offset 22"},
	{"mysql://u@h/db", "not a DSN: \"mysql://\" is not postgres:// or postgresql://"},
	{"/tmp/x", "not a DSN: expected key=value pairs or a postgresql:// URI"},
	{"postgresql://h?port", "missing \"=\" in query parameter \"port\""},
	{"postgresql://h?port=1=2", "extra \"=\" in query parameter \"port\""},
	{"postgresql://h?&port=1", "missing \"=\" in query parameter \"\""},
	{"postgresql://%zz/db", "bad percent-encoding in the host part"},
	{"postgresql://h/d%4", "bad percent-encoding in the value of \"dbname\""},
	{"postgresql://h/d%00b", "forbidden %00 in the value of \"dbname\""},
	{"postgresql://a b/db", "unencoded space (write %20) in the host part"},
	{"postgresql://u@h:5%3x/db", "bad percent-encoding in the port part"},
	{"postgresql://h?a%zz=1", "bad percent-encoding in a query key"},
	{"postgresql://[::1/db", "unterminated \"[\" in the host part"},
	{"postgresql://[]/db", "empty \"[]\" in the host part"},
	{"postgresql://[::1]x/db", "unexpected \"x\" after \"]\" in the host part"},
	{"postgresql://u@h@x/db", "\"@\" in the host part (write %40 for \"@\" in a password)"},
	{"postgresql://u:p/db", "bad port after host \"u\" (is \"@\" missing after a password?)"},
	{"postgresql://u:9p/x@h", "bad port after host \"u\" (is \"@\" missing after a password?)"},
	{"host=1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17", "17 hosts, at most 16"},
	{"user=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	 "user is too long (at most 63 bytes)"},
	{"sslmode=verify-full-please", "sslmode is too long (at most 15 bytes)"},
	{"postgresql://h?port=a%0Ab", "bad port \"a?b\""},
};

static void test_errors(void **state)
{
	char err[256];
	struct dsn d, zero;

	(void)state;
	memset(&zero, 0, sizeof(zero));
	for (size_t i = 0; i < sizeof(bad_dsns) / sizeof(bad_dsns[0]); i++) {
		memset(err, 'x', sizeof(err));
		if (dsn_parse(bad_dsns[i].dsn, &d, err, sizeof(err)) != -1)
			fail_msg("%s: parsed", bad_dsns[i].dsn);
		if (strcmp(err, bad_dsns[i].err))
			fail_msg("%s: got '%s', want '%s'", bad_dsns[i].dsn, err, bad_dsns[i].err);
		assert_null(strchr(err, '\n'));
		assert_memory_equal(&d, &zero, sizeof(d)); /* nothing half-parsed is left */
	}
	/* a short err is cut, not overrun; no err at all is fine */
	memset(err, 'x', sizeof(err));
	assert_int_equal(dsn_parse("hots=1", &d, err, 8), -1);
	assert_string_equal(err, "unknown");
	assert_int_equal(err[9], 'x');
	assert_int_equal(dsn_parse("hots=1", &d, NULL, 0), -1);
}

/* Values longer than anything is kept for: named, never overrun. */
static void test_too_long(void **state)
{
	static char dsn[10000], big[4096];
	char err[256];
	struct dsn d;

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	snprintf(dsn, sizeof(dsn), "host=%s", big);
	assert_int_equal(dsn_parse(dsn, &d, err, sizeof(err)), -1);
	assert_string_equal(err, "value of \"host\" too long");
	snprintf(dsn, sizeof(dsn), "postgresql://%s/db", big);
	assert_int_equal(dsn_parse(dsn, &d, err, sizeof(err)), -1);
	assert_string_equal(err, "the host list is too long");
	snprintf(dsn, sizeof(dsn), "postgresql://h/%s", big);
	assert_int_equal(dsn_parse(dsn, &d, err, sizeof(err)), -1);
	assert_string_equal(err, "value too long in the value of \"dbname\"");
	snprintf(dsn, sizeof(dsn), "host=%.300s", big);
	assert_int_equal(dsn_parse(dsn, &d, err, sizeof(err)), -1);
	assert_string_equal(err, "host 1 is too long");
	setenv("PGHOST", big, 1);
	assert_int_equal(dsn_parse("", &d, err, sizeof(err)), -1);
	assert_string_equal(err, "PGHOST is too long");
	/* a long password or ignored value is skipped, not stored */
	snprintf(dsn, sizeof(dsn), "password=%s application_name=%s host=/tmp", big, big);
	parse_ok(dsn, &d);
	assert_true(d.has_password);
}

/* Passwords in every place libpq takes one, well-formed: parsed, noted, never kept. */
static const char *const good_secret[] = {
	"postgresql://u:s3cretPW@127.0.0.1:5432/db",
	"postgres://u:s3cretPW@[::1],%2Ftmp/db?sslmode=require",
	"postgresql://u@127.0.0.1/db?password=s3cretPW&sslmode=require",
	"postgresql://u:s3cret%50W@/tmp/db",
	"host=/tmp user=u password=s3cretPW dbname=d",
	"password = 's3cretPW' host=::1",
	"password=s3cretPW",
};

/* Malformed, in the password or next to it: the error names the part, not the text. */
static const char *const bad_secret[] = {
	"postgresql://u:s3cretPW@h:54x/db",
	"postgresql://u:s3cretPW%zz@h/db",
	"postgresql://u:s3cretPW%00@h/db",
	"postgresql://u: s3cretPW x@h/db",
	"postgresql://u:s3cretPW/db",
	"postgresql://u:s3cretPW",
	"postgresql://u:s3cretPW?x=1",
	"postgresql://u:s3cretPW@[::1/db",
	"postgresql://u:s3cretPW@@h/db",
	"postgresql://u:s3cret@s3cretPW@h/db",
	"postgresql://u@s3cretPW@h/db",
	"postgresql://u:s3cretPW@h/db?password",
	"postgresql://u:s3cretPW@h/db?password=s3cretPW=x",
	"postgresql://h/db?password=s3cretPW%",
	"postgresql://h/db?sslpassword=s3cretPW%0",
	"postgres:/u:s3cretPW@h/db",
	"postgresq://u:s3cretPW@h/db",
	"password='s3cretPW",
	"password='s3cretPW\\'",
	"password=x s3cretPW",
	"password=x s3cretPW=y",
	"password=s3cretPW hots=1",
	"sslpassword=x s3cretPW",
	"password=s3cretPW port=54x",
	"password=s3cretPW host=a,b port=1,2,3",
	"user=u s3cretPW",
	"s3cretPW",
	"s3cretPW=x",
	"postgresql://h/db?s3cretPW",
	"postgresql://h/db?s3cretPW=1",
	"postgresql://h/db?s3cretPW=1=2",
};

static void assert_no_secret(const char *dsn, const char *text)
{
	if (strstr(text, SECRET))
		fail_msg("%s: '%s' holds the password", dsn, text);
}

static void test_password_never_kept(void **state)
{
	char err[256], buf[512];
	struct dsn d;

	(void)state;
	for (size_t i = 0; i < sizeof(good_secret) / sizeof(good_secret[0]); i++) {
		err[0] = '\0';
		if (dsn_parse(good_secret[i], &d, err, sizeof(err)))
			fail_msg("%s: %s", good_secret[i], err);
		assert_true(d.has_password);
		assert_int_equal(dsn_resolve(&d, err, sizeof(err)), 0);
		dsn_describe(&d, buf, sizeof(buf));
		assert_no_secret(good_secret[i], buf);
		assert_null(memmem(&d, sizeof(d), SECRET, strlen(SECRET)));
	}
	for (size_t i = 0; i < sizeof(bad_secret) / sizeof(bad_secret[0]); i++) {
		err[0] = '\0';
		if (dsn_parse(bad_secret[i], &d, err, sizeof(err)) != -1)
			fail_msg("%s: parsed", bad_secret[i]);
		assert_true(err[0] != '\0');
		assert_no_secret(bad_secret[i], err);
		assert_null(memmem(&d, sizeof(d), SECRET, strlen(SECRET)));
		dsn_describe(&d, buf, sizeof(buf));
		assert_no_secret(bad_secret[i], buf);
	}
	/* sslpassword is a secret too, but not the password */
	parse_ok("sslpassword=" SECRET " host=/tmp", &d);
	assert_false(d.has_password);
	parse_ok("postgresql://u:@h", &d); /* an empty password is none */
	assert_false(d.has_password);
	assert_null(memmem(&d, sizeof(d), SECRET, strlen(SECRET)));
}

static void assert_ep(const struct dsn *d, int i, int family, const char *text)
{
	char buf[128];

	assert_true(i < d->neps);
	assert_int_equal(d->eps[i].family, family);
	endpoint_format(&d->eps[i], buf, sizeof(buf));
	assert_string_equal(buf, text);
}

static void test_resolve_literals(void **state)
{
	char err[256];
	struct dsn d;

	(void)state;
	parse_ok("host=127.0.0.1,::1,/tmp,/tmp/,/ port=5432,5433,54329,1,2", &d);
	assert_int_equal(dsn_resolve(&d, err, sizeof(err)), 0);
	assert_int_equal(d.neps, 5);
	assert_ep(&d, 0, AF_INET, "127.0.0.1:5432");
	assert_int_equal(d.eps[0].port, 5432);
	assert_memory_equal(d.eps[0].addr, "\x7f\0\0\x01", 4);
	assert_ep(&d, 1, AF_INET6, "[::1]:5433");
	assert_ep(&d, 2, AF_UNIX, "/tmp/.s.PGSQL.54329");
	assert_int_equal(d.eps[2].port, 54329);
	assert_ep(&d, 3, AF_UNIX, "/tmp/.s.PGSQL.1");
	assert_ep(&d, 4, AF_UNIX, "/.s.PGSQL.2");
	/* hostaddr is used, the name is not looked up */
	parse_ok("host=db.invalid hostaddr=10.1.2.3 port=6", &d);
	assert_int_equal(dsn_resolve(&d, err, sizeof(err)), 0);
	assert_int_equal(d.neps, 1);
	assert_ep(&d, 0, AF_INET, "10.1.2.3:6");
	/* the same endpoint twice is one */
	parse_ok("postgresql://127.0.0.1,127.0.0.1:5432,[::1],[0:0::1]/", &d);
	assert_int_equal(dsn_resolve(&d, err, sizeof(err)), 0);
	assert_int_equal(d.neps, 2);
	/* the default: libpq's socket directory; a re-resolve starts over */
	parse_ok("", &d);
	assert_int_equal(dsn_resolve(&d, err, sizeof(err)), 0);
	assert_int_equal(dsn_resolve(&d, err, sizeof(err)), 0);
	assert_int_equal(d.neps, 1);
	assert_ep(&d, 0, AF_UNIX, "/var/run/postgresql/.s.PGSQL.5432");
}

static void test_resolve_errors(void **state)
{
	char err[256], dsn[256];
	struct dsn d;

	(void)state;
	snprintf(dsn, sizeof(dsn), "host=/%0100d", 0);
	parse_ok(dsn, &d);
	assert_int_equal(dsn_resolve(&d, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "socket path in \"/000"));
	assert_non_null(strstr(err, "\" is too long"));
	parse_ok("postgresql://%40abstract/db", &d);
	assert_int_equal(dsn_resolve(&d, err, sizeof(err)), -1);
	assert_string_equal(err, "abstract unix socket \"@abstract\" is not supported");
	/* a struct filled by hand: hostaddr must still be numeric */
	memset(&d, 0, sizeof(d));
	d.nhosts = 1;
	strcpy(d.hosts[0].hostaddr, "nope");
	assert_int_equal(dsn_resolve(&d, err, sizeof(err)), -1);
	assert_string_equal(err, "bad hostaddr \"nope\"");
	/* as many hosts as there may be */
	parse_ok("host=/a,/b,/c,/d,/e,/f,/g,/h,/i,/j,/k,/l,/m,/n,/o,/p", &d);
	assert_int_equal(dsn_resolve(&d, err, sizeof(err)), 0);
	assert_int_equal(d.neps, DSN_MAX_HOSTS);
	assert_ep(&d, 15, AF_UNIX, "/p/.s.PGSQL.5432");
}

static void test_resolve_localhost(void **state)
{
	char err[256];
	struct dsn d;

	(void)state;
	parse_ok("host=localhost port=5999", &d);
	if (dsn_resolve(&d, err, sizeof(err)))
		fail_msg("localhost: %s", err);
	assert_true(d.neps >= 1);
	for (int i = 0; i < d.neps; i++) {
		const struct endpoint *e = &d.eps[i];

		assert_int_equal(e->port, 5999);
		if (e->family == AF_INET)
			assert_int_equal(e->addr[0], 127);
		else
			assert_memory_equal(e->addr, &in6addr_loopback, 16);
		for (int j = 0; j < i; j++) /* de-duplicated */
			assert_memory_not_equal(e, &d.eps[j], sizeof(*e));
	}
}

static void test_describe(void **state)
{
	char buf[16];
	struct dsn d;

	(void)state;
	parse_ok("postgresql://u@h1:1,[::1]:2,%2Ftmp:3/db?sslmode=require", &d);
	assert_describe(&d, "postgresql://u@h1:1,[::1]:2,/tmp:3/db?sslmode=require");
	parse_ok("host=/tmp port=54329 user=postgres dbname=postgres password=x", &d);
	assert_describe(&d, "postgresql://postgres@/tmp:54329/postgres");
	parse_ok("", &d);
	assert_describe(&d, "postgresql:///var/run/postgresql:5432");
	parse_ok("hostaddr=::1", &d);
	assert_describe(&d, "postgresql://[::1]:5432");
	parse_ok("host=a,b hostaddr=10.0.0.1,10.0.0.2 sslmode=disable dbname=d", &d);
	assert_describe(&d, "postgresql://a:5432,b:5432/d?hostaddr=10.0.0.1,10.0.0.2"
			    "&sslmode=disable");
	/* cut to the buffer, terminated; a zero-sized buffer is not touched */
	dsn_describe(&d, buf, sizeof(buf));
	assert_string_equal(buf, "postgresql://a:");
	buf[0] = 'x';
	dsn_describe(&d, buf, 0);
	assert_int_equal(buf[0], 'x');
}

static void test_endpoint_format(void **state)
{
	struct endpoint e = {.family = AF_INET6, .port = 65535};
	char buf[64];

	(void)state;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::7", e.addr), 1);
	endpoint_format(&e, buf, sizeof(buf));
	assert_string_equal(buf, "[2001:db8::7]:65535");
	endpoint_format(&e, buf, 6);
	assert_string_equal(buf, "[2001");
	e.family = 12345;
	endpoint_format(&e, buf, sizeof(buf));
	assert_string_equal(buf, "?");
}

static void test_wants_tls(void **state)
{
	static const struct {
		const char *mode;
		bool tls;
	} modes[] = {{"", false},	   {"disable", false}, {"allow", false},
		     {"prefer", false},	   {"require", true},  {"verify-ca", true},
		     {"verify-full", true}};
	char dsn[64];
	struct dsn d;

	(void)state;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		snprintf(dsn, sizeof(dsn), "host=h sslmode='%s'", modes[i].mode);
		parse_ok(dsn, &d);
		assert_int_equal(dsn_wants_tls(&d), modes[i].tls);
	}
	setenv("PGSSLMODE", "verify-ca", 1); /* libpq reads it too */
	parse_ok("host=h", &d);
	assert_true(dsn_wants_tls(&d));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_kv_basic, clear_env),
		cmocka_unit_test_setup(test_kv_quoting, clear_env),
		cmocka_unit_test_setup(test_kv_lists, clear_env),
		cmocka_unit_test_setup(test_kv_hostaddr, clear_env),
		cmocka_unit_test_setup(test_uri_basic, clear_env),
		cmocka_unit_test_setup(test_uri_hosts, clear_env),
		cmocka_unit_test_setup(test_uri_percent, clear_env),
		cmocka_unit_test_setup(test_uri_query, clear_env),
		cmocka_unit_test_setup(test_defaults_env, clear_env),
		cmocka_unit_test_setup(test_errors, clear_env),
		cmocka_unit_test_setup(test_too_long, clear_env),
		cmocka_unit_test_setup(test_password_never_kept, clear_env),
		cmocka_unit_test_setup(test_resolve_literals, clear_env),
		cmocka_unit_test_setup(test_resolve_errors, clear_env),
		cmocka_unit_test_setup(test_resolve_localhost, clear_env),
		cmocka_unit_test_setup(test_describe, clear_env),
		cmocka_unit_test_setup(test_endpoint_format, clear_env),
		cmocka_unit_test_setup(test_wants_tls, clear_env),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
