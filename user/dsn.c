// SPDX-License-Identifier: GPL-2.0
/*
 * PostgreSQL connection strings, parsed as libpq's fe-connect.c does: both forms first fill the
 * same option strings (host, hostaddr and port stay comma-separated lists), then the environment
 * fills what was not given and the lists are split into hosts. The password is never copied:
 * its text is only scanned past (and its percent-encoding checked), and no error quotes text that
 * may be part of it.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dsn.h"

#define DEFAULT_SOCKET_DIR "/var/run/postgresql" /* Debian's libpq DEFAULT_PGSOCKET_DIR */
#define DEFAULT_PORT	   5432
/* libpq knows the key, but where its service file would send it is not known here */
#define NO_SERVICE "key \"service\" is not supported (pg_service.conf is not read)"

enum { O_HOST, O_HOSTADDR, O_PORT, O_USER, O_DBNAME, O_SSLMODE, O_N };
/* what key_index() returns for the keys that are not stored in an option */
enum {
	K_UNKNOWN = -1,
	K_IGNORED = -2,
	K_PASSWORD = -3,
	K_SECRET = -4,
	K_REQUIRESSL = -5,
	K_SERVICE = -6
};

static const char *const opt_names[O_N] = {"host", "hostaddr", "port", "user", "dbname", "sslmode"};
static const char *const opt_env[O_N] = {"PGHOST", "PGHOSTADDR", "PGPORT",
					 "PGUSER", "PGDATABASE", "PGSSLMODE"};

/* The options as libpq holds them before pqConnectOptions2(): strings, unset or set. */
struct opts {
	char val[O_N][2048];
	bool set[O_N];
	bool has_password;
};

static int fail(char *err, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t n, const char *fmt, ...)
{
	va_list ap;

	if (!err || !n)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
	/* quoted text may hold decoded %0A and the like: keep the reason on one line */
	for (char *c = err; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	return -1;
}

/*
 * How an error names a word where a key should be. Keys are lowercase: any other word may be
 * (part of) a misplaced password and is named by its offset; so is a word right after an unquoted
 * password, which may be the rest of a password with a space.
 */
static const char *key_name(const char *k, size_t len, size_t at, bool after_pw, char *buf,
			    size_t n)
{
	if (after_pw)
		snprintf(buf, n, "after the password (quote a password with spaces)");
	else if (len <= 40 && strspn(k, "abcdefghijklmnopqrstuvwxyz_") >= len)
		snprintf(buf, n, "\"%.*s\"", (int)len, k);
	else
		snprintf(buf, n, "at offset %zu", at);
	return buf;
}

/* Every keyword libpq 17 knows: those that do not change where it connects are accepted. */
static int key_index(const char *key)
{
	/* space-separated, a space at both ends: " key " is searched for */
	static const char ignored[] =
		" passfile channel_binding connect_timeout client_encoding options application_name"
		" fallback_application_name keepalives keepalives_idle keepalives_interval"
		" keepalives_count tcp_user_timeout sslnegotiation sslcompression sslcert sslkey"
		" sslcertmode sslrootcert sslcrl sslcrldir sslsni requirepeer require_auth"
		" ssl_min_protocol_version ssl_max_protocol_version gssencmode krbsrvname gsslib"
		" gssdelegation replication target_session_attrs load_balance_hosts ";
	char word[72];

	for (int i = 0; i < O_N; i++)
		if (!strcmp(key, opt_names[i]))
			return i;
	if (!strcmp(key, "password"))
		return K_PASSWORD;
	if (!strcmp(key, "sslpassword"))
		return K_SECRET;
	if (!strcmp(key, "requiressl"))
		return K_REQUIRESSL;
	if (!strcmp(key, "service"))
		return K_SERVICE;
	snprintf(word, sizeof(word), " %s ", key);
	if (*key && !strchr(key, ' ') && strstr(ignored, word))
		return K_IGNORED;
	return K_UNKNOWN;
}

/* Where a key's value goes: NULL for the password and what is ignored. */
static char *dest(struct opts *o, int idx)
{
	if (idx == K_REQUIRESSL)
		idx = O_SSLMODE;
	if (idx < 0)
		return NULL;
	o->set[idx] = true;
	return o->val[idx];
}

/* libpq's requiressl=1 means sslmode=require, anything else sslmode=prefer. */
static void requiressl(struct opts *o)
{
	strcpy(o->val[O_SSLMODE], o->val[O_SSLMODE][0] == '1' ? "require" : "prefer");
}

/* ---- the URI form ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*
 * Percent-decodes s[0..len) into out (may be s itself; NULL: only checks it), as libpq's
 * conninfo_uri_decode: spaces around the value are dropped, a space inside it is an error.
 * Returns the decoded length or -1 (bad %), -2 (%00), -3 (space), -4 (too long).
 */
static int decode(const char *s, size_t len, char *out, size_t cap)
{
	size_t o = 0;

	while (len && *s == ' ')
		s++, len--;
	while (len && s[len - 1] == ' ')
		len--;
	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			int hi = i + 2 < len ? hexval(s[i + 1]) : -1;
			int lo = hi >= 0 ? hexval(s[i + 2]) : -1;

			if (lo < 0)
				return -1;
			c = hi << 4 | lo;
			i += 2;
			if (!c)
				return -2;
		} else if (c == ' ') {
			return -3;
		}
		if (out && o + 1 >= cap)
			return -4;
		if (out)
			out[o] = (char)c;
		o++;
	}
	if (out)
		out[o] = '\0';
	return (int)o;
}

static int decode_fail(int r, const char *what, char *err, size_t n)
{
	static const char *const why[] = {"bad percent-encoding", "forbidden %00",
					  "unencoded space (write %20)", "value too long"};

	return fail(err, n, "%s in %s", why[-r - 1], what);
}

/* Stores a percent-encoded value under key, as a URI's userinfo, path and query do. */
static int uri_store(struct opts *o, const char *key, const char *v, size_t len, char *err,
		     size_t n)
{
	char what[80];
	int idx = key_index(key), r;
	char *out = dest(o, idx);

	snprintf(what, sizeof(what), "the value of \"%s\"", key);
	r = decode(v, len, out, sizeof(o->val[0]));
	if (r < 0)
		return decode_fail(r, what, err, n);
	if (idx == K_PASSWORD)
		o->has_password = r > 0;
	if (idx == K_REQUIRESSL)
		requiressl(o);
	return 0;
}

/* "user[:password]" of s[0..len): the password is checked, not kept. */
static int uri_userinfo(struct opts *o, const char *s, size_t len, char *err, size_t n)
{
	const char *colon = memchr(s, ':', len);
	size_t ulen = colon ? (size_t)(colon - s) : len;

	if (ulen && uri_store(o, "user", s, ulen, err, n))
		return -1;
	return colon ? uri_store(o, "password", colon + 1, len - ulen - 1, err, n) : 0;
}

static bool port_ok(const char *s, size_t len, uint16_t *port)
{
	unsigned long v = 0;

	if (!len || len > 5)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (port)
		*port = (uint16_t)v;
	return v >= 1 && v <= 65535;
}

static int append(char *buf, size_t cap, const char *s, size_t len, char *err, size_t n)
{
	size_t have = strlen(buf);

	if (have + len + 1 > cap)
		return fail(err, n, "the host list is too long");
	memcpy(buf + have, s, len);
	buf[have + len] = '\0';
	return 0;
}

/*
 * One "host[:port]" or "[v6][:port]" of the host list, *pp moved past it. Without an "@" before
 * it, "u:secret/...@h" would make the password a port: such a port is checked here, and quoted
 * only if it looks like a mistyped number and no "@" follows.
 */
static int uri_host(struct opts *o, const char **pp, bool had_at, char *err, size_t n)
{
	const char *p = *pp, *h = p;
	size_t hlen, plen;

	if (*p == '[') {
		const char *e = strchr(++h, ']');

		if (!e)
			return fail(err, n, "unterminated \"[\" in the host part");
		if (e == h)
			return fail(err, n, "empty \"[]\" in the host part");
		hlen = (size_t)(e - h);
		p = e + 1;
		if (*p && !strchr(":/?,", *p))
			return fail(err, n, "unexpected \"%c\" after \"]\" in the host part", *p);
	} else {
		hlen = strcspn(p, ":/?,");
		p += hlen;
	}
	/* libpq would look the name up, but it is the tail of a password with an unencoded "@" */
	if (memchr(h, '@', hlen))
		return fail(err, n, "\"@\" in the host part (write %%40 for \"@\" in a password)");
	if (append(o->val[O_HOST], sizeof(o->val[0]), h, hlen, err, n))
		return -1;
	*pp = p;
	if (*p != ':')
		return 0;
	plen = strcspn(++p, "/?,");
	if (!had_at && plen && !port_ok(p, plen, NULL)) {
		if (isdigit((unsigned char)*p) && !strchr(p, '@'))
			return fail(err, n, "bad port \"%.*s\"", (int)plen, p);
		return fail(err, n,
			    "bad port after host \"%.*s\" (is \"@\" missing after a password?)",
			    (int)hlen, h);
	}
	*pp = p + plen;
	return append(o->val[O_PORT], sizeof(o->val[0]), p, plen, err, n);
}

/* The comma-separated host list, stored as libpq does: "h1,h2" and "5432," for h1:5432,h2. */
static int uri_hosts(struct opts *o, const char **pp, bool had_at, char *err, size_t n)
{
	static const int lists[] = {O_HOST, O_PORT};

	for (;;) {
		if (uri_host(o, pp, had_at, err, n))
			return -1;
		if (**pp != ',')
			break;
		(*pp)++;
		if (append(o->val[O_HOST], sizeof(o->val[0]), ",", 1, err, n) ||
		    append(o->val[O_PORT], sizeof(o->val[0]), ",", 1, err, n))
			return -1;
	}
	/* decoded as a whole, as libpq does: "%2C" in a host splits it */
	for (int j = 0; j < 2; j++) {
		char *v = o->val[lists[j]];
		int r = decode(v, strlen(v), v, sizeof(o->val[0]));

		if (r < 0)
			return decode_fail(r, j ? "the port part" : "the host part", err, n);
		o->set[lists[j]] = r > 0;
	}
	return 0;
}

/* JDBC's "ssl=true", which libpq takes for sslmode=require. */
static bool jdbc_ssl(struct opts *o, const char *key, const char *v, size_t len)
{
	char val[8];

	if (strcmp(key, "ssl") || decode(v, len, val, sizeof(val)) < 0 || strcmp(val, "true"))
		return false;
	strcpy(dest(o, O_SSLMODE), "require");
	return true;
}

/* One key=value of the query; name: how an error names the key. */
static int uri_param(struct opts *o, const char *key, const char *name, const char *v, size_t len,
		     char *err, size_t n)
{
	int idx = key_index(key);

	if (jdbc_ssl(o, key, v, len))
		return 0;
	if (idx == K_UNKNOWN)
		return fail(err, n, "unknown key %s", name);
	if (idx == K_SERVICE)
		return fail(err, n, NO_SERVICE);
	return uri_store(o, key, v, len, err, n);
}

static int uri_query(struct opts *o, const char *base, const char *p, char *err, size_t n)
{
	while (*p) {
		size_t len = strcspn(p, "&");
		const char *eq = memchr(p, '=', len);
		size_t klen = eq ? (size_t)(eq - p) : len;
		char key[64], name[80];
		int r = decode(p, klen, key, sizeof(key));

		key_name(p, klen, (size_t)(p - base), false, name, sizeof(name));
		if (r < 0)
			return decode_fail(r, "a query key", err, n);
		if (!eq)
			return fail(err, n, "missing \"=\" in query parameter %s", name);
		if (memchr(eq + 1, '=', len - klen - 1))
			return fail(err, n, "extra \"=\" in query parameter %s", name);
		if (uri_param(o, key, name, eq + 1, len - klen - 1, err, n))
			return -1;
		p += len + (p[len] == '&');
	}
	return 0;
}

/* After "postgres[ql]://": [userinfo@][hosts][/dbname][?query]. */
static int parse_uri(struct opts *o, const char *s, const char *p, char *err, size_t n)
{
	size_t len = strcspn(p, "@/");
	bool had_at = p[len] == '@';

	if (had_at && uri_userinfo(o, p, len, err, n))
		return -1;
	if (had_at)
		p += len + 1;
	if (uri_hosts(o, &p, had_at, err, n))
		return -1;
	if (*p == '/') {
		len = strcspn(++p, "?");
		if (len && uri_store(o, "dbname", p, len, err, n))
			return -1;
		p += len;
	}
	return *p == '?' ? uri_query(o, s, p + 1, err, n) : 0;
}

/* ---- the key/value form ---- */

/*
 * Reads a value at *pp into out (NULL: skips it) as libpq's conninfo_parse: up to a space, or
 * between single quotes; a backslash escapes any character in both. Returns the length, -1 if a
 * quote is not closed, -2 if too long.
 */
static int kv_value(const char **pp, char *out, size_t cap)
{
	const char *p = *pp;
	bool quoted = *p == '\'';
	size_t len = 0;

	for (p += quoted; *p; p++) {
		if (quoted ? *p == '\'' : isspace((unsigned char)*p))
			break;
		if (*p == '\\' && !p[1])
			break;
		p += *p == '\\';
		if (out && len + 1 >= cap)
			return -2;
		if (out)
			out[len] = *p;
		len++;
	}
	if (quoted && *p != '\'')
		return -1;
	if (out)
		out[len] = '\0';
	*pp = p + (*p != '\0');
	return (int)len;
}

/* A first word with no "=": a URI of another scheme, or something else altogether. */
static int not_a_dsn(const char *k, char *err, size_t n)
{
	size_t len = strspn(k, "abcdefghijklmnopqrstuvwxyz");

	if (len && !strncmp(k + len, "://", 3))
		return fail(err, n, "not a DSN: \"%.*s://\" is not postgres:// or postgresql://",
			    (int)len, k);
	return fail(err, n, "not a DSN: expected key=value pairs or a postgresql:// URI");
}

/* One "key = value" at *pp; *after_pw: the value before was an unquoted password. */
static int kv_pair(struct opts *o, const char *s, const char **pp, bool *after_pw, char *err,
		   size_t n)
{
	const char *k = *pp, *p;
	size_t klen = strcspn(k, "= \t\n\v\f\r");
	char key[48], name[80];
	int idx, r;

	for (p = k + klen; isspace((unsigned char)*p); p++)
		;
	key_name(k, klen, (size_t)(k - s), *after_pw, name, sizeof(name));
	/* a first word that is no key and has no "=" */
	if (*p != '=' && name[0] != '"' && k == s + strspn(s, " \t\n\v\f\r"))
		return not_a_dsn(k, err, n);
	if (*p != '=')
		return fail(err, n, "missing \"=\" for key %s", name);
	snprintf(key, sizeof(key), "%.*s", (int)klen, k);
	idx = klen < sizeof(key) ? key_index(key) : K_UNKNOWN;
	if (idx == K_UNKNOWN)
		return fail(err, n, "unknown key %s", name);
	if (idx == K_SERVICE)
		return fail(err, n, NO_SERVICE);
	for (p++; isspace((unsigned char)*p); p++)
		;
	*after_pw = (idx == K_PASSWORD || idx == K_SECRET) && *p != '\'';
	r = kv_value(&p, dest(o, idx), sizeof(o->val[0]));
	if (r < 0)
		return fail(err, n,
			    r == -1 ? "unterminated quoted value for \"%s\""
				    : "value of \"%s\" too long",
			    key);
	if (idx == K_PASSWORD)
		o->has_password = r > 0;
	if (idx == K_REQUIRESSL)
		requiressl(o);
	*pp = p;
	return 0;
}

static int parse_kv(struct opts *o, const char *s, char *err, size_t n)
{
	const char *p = s;
	bool after_pw = false;

	while (*p) {
		if (isspace((unsigned char)*p))
			p++;
		else if (kv_pair(o, s, &p, &after_pw, err, n))
			return -1;
	}
	return 0;
}

/* ---- from options to hosts ---- */

static int count_items(const char *list)
{
	int n = 1;

	for (; *list; list++)
		n += *list == ',';
	return n;
}

/* Copies item i of a comma-separated list into out; false if it had to be cut short. */
static bool item(const char *list, int i, char *out, size_t cap)
{
	size_t len;

	while (i-- > 0)
		list = strchr(list, ',') + 1;
	len = strcspn(list, ",");
	memcpy(out, list, len < cap ? len : cap - 1);
	out[len < cap ? len : cap - 1] = '\0';
	return len < cap;
}

/* A numeric IPv4 or IPv6 address, as hostaddr= must be. */
static bool numeric(const char *s, struct endpoint *e)
{
	e->family = inet_pton(AF_INET, s, e->addr) == 1	   ? AF_INET
		    : inet_pton(AF_INET6, s, e->addr) == 1 ? AF_INET6
							   : 0;
	return e->family != 0;
}

/* libpq's pqConnectOptions2(): hostaddr's count wins, host must match it; "" = the socket dir. */
static int set_hosts(const struct opts *o, struct dsn *d, char *err, size_t n)
{
	const char *h = o->val[O_HOST], *ha = o->val[O_HOSTADDR];
	int nh = *h ? count_items(h) : 0, nha = *ha ? count_items(ha) : 0;
	struct endpoint e;

	d->nhosts = nha ? nha : nh ? nh : 1;
	if (d->nhosts > DSN_MAX_HOSTS)
		return fail(err, n, "%d hosts, at most %d", d->nhosts, DSN_MAX_HOSTS);
	if (nha && nh && nh != nha)
		return fail(err, n, "host list has %d entries but hostaddr list has %d", nh, nha);
	for (int i = 0; i < d->nhosts; i++) {
		struct dsn_host *dh = &d->hosts[i];

		if (nh && !item(h, i, dh->host, sizeof(dh->host)))
			return fail(err, n, "host %d is too long", i + 1);
		if (nha && !item(ha, i, dh->hostaddr, sizeof(dh->hostaddr)))
			return fail(err, n, "hostaddr %d is too long", i + 1);
		if (dh->hostaddr[0] && !numeric(dh->hostaddr, &e))
			return fail(err, n, "bad hostaddr \"%s\"", dh->hostaddr);
		if (!dh->hostaddr[0] && !dh->host[0])
			strcpy(dh->host, DEFAULT_SOCKET_DIR);
	}
	return 0;
}

/* One port for every host or one per host; an empty entry is 5432, not PGPORT (as libpq). */
static int set_ports(const struct opts *o, struct dsn *d, char *err, size_t n)
{
	const char *p = o->val[O_PORT];
	int np = *p ? count_items(p) : 0;
	char port[16];

	if (np > 1 && np != d->nhosts)
		return fail(err, n, "%s list has %d entries but port list has %d",
			    o->val[O_HOSTADDR][0] ? "hostaddr" : "host", d->nhosts, np);
	for (int i = 0; i < d->nhosts; i++) {
		bool whole = np && item(p, np > 1 ? i : 0, port, sizeof(port));

		d->hosts[i].port = DEFAULT_PORT;
		if (np && *port && (!whole || !port_ok(port, strlen(port), &d->hosts[i].port)))
			return fail(err, n, "bad port \"%s%s\"", port, whole ? "" : "...");
	}
	return 0;
}

static int set_string(const struct opts *o, int idx, char *out, size_t cap, char *err, size_t n)
{
	if (strlen(o->val[idx]) >= cap)
		return fail(err, n, "%s is too long (at most %zu bytes)", opt_names[idx], cap - 1);
	strcpy(out, o->val[idx]);
	return 0;
}

static int finish(struct opts *o, struct dsn *d, char *err, size_t n)
{
	char mode[24];

	for (int i = 0; i < O_N; i++) {
		const char *env = o->set[i] ? NULL : getenv(opt_env[i]);

		if (env &&
		    snprintf(o->val[i], sizeof(o->val[0]), "%s", env) >= (int)sizeof(o->val[0]))
			return fail(err, n, "%s is too long", opt_env[i]);
	}
	if (set_hosts(o, d, err, n) || set_ports(o, d, err, n) ||
	    set_string(o, O_USER, d->user, sizeof(d->user), err, n) ||
	    set_string(o, O_DBNAME, d->dbname, sizeof(d->dbname), err, n) ||
	    set_string(o, O_SSLMODE, d->sslmode, sizeof(d->sslmode), err, n))
		return -1;
	snprintf(mode, sizeof(mode), " %s ", d->sslmode);
	if (d->sslmode[0] &&
	    (strchr(d->sslmode, ' ') ||
	     !strstr(" disable allow prefer require verify-ca verify-full ", mode)))
		return fail(err, n, "bad sslmode \"%s\"", d->sslmode);
	return 0;
}

int dsn_parse(const char *s, struct dsn *d, char *err, size_t errlen)
{
	struct opts o;
	int rc;

	memset(d, 0, sizeof(*d));
	memset(&o, 0, sizeof(o));
	if (err && errlen)
		err[0] = '\0';
	if (!strncmp(s, "postgresql://", 13))
		rc = parse_uri(&o, s, s + 13, err, errlen);
	else if (!strncmp(s, "postgres://", 11))
		rc = parse_uri(&o, s, s + 11, err, errlen);
	else
		rc = parse_kv(&o, s, err, errlen);
	if (!rc)
		rc = finish(&o, d, err, errlen);
	if (rc) /* half-filled hosts of a malformed DSN may hold parts of a password */
		memset(d, 0, sizeof(*d));
	d->has_password = !rc && o.has_password;
	return rc;
}

/* ---- endpoints ---- */

static int add_ep(struct dsn *d, const struct endpoint *e, char *err, size_t n)
{
	for (int i = 0; i < d->neps; i++)
		if (!memcmp(&d->eps[i], e, sizeof(*e)))
			return 0;
	if (d->neps == DSN_MAX_ENDPOINTS)
		return fail(err, n, "more than %d endpoints", DSN_MAX_ENDPOINTS);
	d->eps[d->neps++] = *e;
	return 0;
}

/* Every address of a name, as libpq's getaddrinfo() call gives them (v4 and v6). */
static int resolve_name(struct dsn *d, const char *name, uint16_t port, char *err, size_t n)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res;
	int rc = getaddrinfo(name, NULL, &hints, &res);

	if (rc)
		return fail(err, n, "cannot resolve \"%s\": %s", name, gai_strerror(rc));
	for (const struct addrinfo *ai = res; ai && !rc; ai = ai->ai_next) {
		struct endpoint e = {.family = ai->ai_family, .port = port};
		const char *sa = (const char *)ai->ai_addr;

		if (ai->ai_family == AF_INET)
			memcpy(e.addr, sa + offsetof(struct sockaddr_in, sin_addr), 4);
		else if (ai->ai_family == AF_INET6)
			memcpy(e.addr, sa + offsetof(struct sockaddr_in6, sin6_addr), 16);
		if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6)
			rc = add_ep(d, &e, err, n);
	}
	freeaddrinfo(res);
	return rc;
}

/* DIR/.s.PGSQL.PORT; without DIR's trailing slashes, as the server names the socket it binds. */
static int unix_ep(struct dsn *d, const char *dir, uint16_t port, char *err, size_t n)
{
	struct endpoint e = {.family = AF_UNIX, .port = port};
	size_t len = strlen(dir);

	while (len > 1 && dir[len - 1] == '/')
		len--;
	if (snprintf(e.path, sizeof(e.path), "%.*s/.s.PGSQL.%u", (int)len, len > 1 ? dir : "",
		     port) >= (int)sizeof(e.path))
		return fail(err, n, "socket path in \"%s\" is too long", dir);
	return add_ep(d, &e, err, n);
}

static int resolve_host(struct dsn *d, const struct dsn_host *h, char *err, size_t n)
{
	const char *name = h->hostaddr[0] ? h->hostaddr : h->host[0] ? h->host : DEFAULT_SOCKET_DIR;
	struct endpoint e = {.port = h->port};

	if (name[0] == '/')
		return unix_ep(d, name, h->port, err, n);
	/* libpq's abstract-namespace socket: its name cannot be matched as a path */
	if (name[0] == '@')
		return fail(err, n, "abstract unix socket \"%s\" is not supported", name);
	if (numeric(name, &e))
		return add_ep(d, &e, err, n);
	if (h->hostaddr[0])
		return fail(err, n, "bad hostaddr \"%s\"", name);
	return resolve_name(d, name, h->port, err, n);
}

int dsn_resolve(struct dsn *d, char *err, size_t errlen)
{
	d->neps = 0;
	memset(d->eps, 0, sizeof(d->eps));
	for (int i = 0; i < d->nhosts; i++)
		if (resolve_host(d, &d->hosts[i], err, errlen))
			return -1;
	return 0;
}

static void put(char *buf, size_t n, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Appends to buf; once it is full, what follows is dropped (buf stays terminated). */
static void put(char *buf, size_t n, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (*len >= n)
		return;
	va_start(ap, fmt);
	r = vsnprintf(buf + *len, n - *len, fmt, ap);
	va_end(ap);
	*len += r > 0 ? (size_t)r : 0;
}

/*
 * Socket directories are shown as they are, not percent-encoded ("postgresql://u@/tmp:5432/db"):
 * this is for reading, not for parsing back. A host given with a hostaddr shows it in the query.
 */
void dsn_describe(const struct dsn *d, char *buf, size_t n)
{
	size_t len = 0;
	bool both = false;

	if (!n)
		return;
	buf[0] = '\0';
	put(buf, n, &len, "postgresql://%s%s", d->user, d->user[0] ? "@" : "");
	for (int i = 0; i < d->nhosts; i++) {
		const struct dsn_host *h = &d->hosts[i];
		const char *name = h->host[0] ? h->host : h->hostaddr;
		bool v6 = name[0] != '/' && strchr(name, ':');

		both |= h->host[0] && h->hostaddr[0];
		put(buf, n, &len, "%s%s%s%s:%u", i ? "," : "", v6 ? "[" : "", name, v6 ? "]" : "",
		    h->port);
	}
	if (d->dbname[0])
		put(buf, n, &len, "/%s", d->dbname);
	for (int i = 0; both && i < d->nhosts; i++)
		put(buf, n, &len, "%s%s", i ? "," : "?hostaddr=", d->hosts[i].hostaddr);
	if (d->sslmode[0])
		put(buf, n, &len, "%csslmode=%s", both ? '&' : '?', d->sslmode);
}

void endpoint_format(const struct endpoint *e, char *buf, size_t n)
{
	char a[INET6_ADDRSTRLEN];

	if (!n)
		return;
	if (e->family == AF_UNIX)
		snprintf(buf, n, "%s", e->path);
	else if (inet_ntop(e->family, e->addr, a, sizeof(a)))
		snprintf(buf, n, e->family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, e->port);
	else
		snprintf(buf, n, "?");
}

bool dsn_wants_tls(const struct dsn *d)
{
	return !strcmp(d->sslmode, "require") || !strcmp(d->sslmode, "verify-ca") ||
	       !strcmp(d->sslmode, "verify-full");
}
