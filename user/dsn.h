/* SPDX-License-Identifier: GPL-2.0 */
/*
 * PostgreSQL connection strings as libpq reads them (URI and key/value
 * forms), and the server endpoints they name. The password is kept out of
 * everything this file returns: it is only ever noted as present.
 */
#ifndef WAITSCOPE_DSN_H
#define WAITSCOPE_DSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DSN_MAX_HOSTS	  16
#define DSN_MAX_ENDPOINTS 32
#define DSN_PATH_MAX	  108 /* sizeof(sun_path) */

/* One place the server listens: a TCP address and port, or a unix socket file. */
struct endpoint {
	int family;		 /* AF_INET, AF_INET6 or AF_UNIX */
	uint16_t port;		 /* host byte order; for AF_UNIX the port in the file name */
	uint8_t addr[16];	 /* network byte order; AF_INET uses the first 4 bytes */
	char path[DSN_PATH_MAX]; /* AF_UNIX: DIR/.s.PGSQL.PORT */
};

struct dsn_host {
	char host[256];	   /* name, address literal (no brackets) or socket dir; "" with hostaddr */
	char hostaddr[64]; /* numeric address given by hostaddr=, "" if none */
	uint16_t port;
};

struct dsn {
	struct dsn_host hosts[DSN_MAX_HOSTS];
	int nhosts;
	char user[64];
	char dbname[64];
	char sslmode[16];  /* as given, "" if not */
	bool has_password; /* the password itself is never stored */
	struct endpoint eps[DSN_MAX_ENDPOINTS];
	int neps; /* filled by dsn_resolve() */
};

/*
 * Parses a DSN: "postgres[ql]://[user[:password]@][host[:port][,...]][/db][?k=v&...]"
 * (percent-decoding, [IPv6] literals, host=/port=/hostaddr= in the query) or
 * "key=value ..." (quoted values, backslash escapes). Missing hosts and ports take
 * PGHOST/PGPORT, then libpq's defaults (the unix socket directory
 * /var/run/postgresql, port 5432); a port list of one applies to every host, and an
 * empty entry of a list is that default (not PGHOST/PGPORT, as in libpq). PGHOSTADDR,
 * PGUSER, PGDATABASE and PGSSLMODE fill what is not given too.
 * Returns 0, or -1 with a one-line reason in err that names the bad part and
 * never contains the password.
 */
int dsn_parse(const char *s, struct dsn *d, char *err, size_t errlen);

/*
 * Fills d->eps: a directory host becomes DIR/.s.PGSQL.PORT, an address literal
 * or hostaddr is taken as is, a name is resolved once (getaddrinfo, every
 * address, v4 and v6). Returns 0, or -1 with a one-line reason in err.
 */
int dsn_resolve(struct dsn *d, char *err, size_t errlen);

/*
 * "postgresql://user@host:port,host2:port/db": the DSN as a person reads it, no password.
 * Socket directories are shown as they are ("postgresql://u@/tmp:5432/db"), not encoded.
 */
void dsn_describe(const struct dsn *d, char *buf, size_t n);

/* "127.0.0.1:5432", "[::1]:5432" or the socket file's path. */
void endpoint_format(const struct endpoint *e, char *buf, size_t n);

/* Does sslmode ask for TLS (require, verify-ca, verify-full)? prefer/allow may get it too. */
bool dsn_wants_tls(const struct dsn *d);

#endif
