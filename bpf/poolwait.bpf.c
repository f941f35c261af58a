// SPDX-License-Identifier: GPL-2.0
/*
 * poolwait: a PostgreSQL client's connections, round trips and pool exhaustion, read from the
 * wire protocol in its socket system calls. A connection is traced from its connect() to the
 * server (or, opened before the trace, from the task-file iterator's find) to its close().
 * Each call on it is framed into messages: the client's Query, Sync and FunctionCall each
 * ask for one ReadyForQuery, which ends that request's round trip and says, by its status
 * byte, whether a transaction is open. Only calls on a traced connection are read: every
 * other read and write costs a hash lookup.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "poolwait.h"

#define COUNTERS_NR	 (DROP_NR + CNT_NR)
#define DROP_STACKS_FULL DROP_CONNS_FULL /* no stacks here */
#include "tracer.h"
#include "classify.h"

#define AF_UNIX		1
#define AF_INET		2
#define AF_INET6	10
#define EINPROGRESS	115
#define TCP_ESTABLISHED 1

#define MAX_IOV	  4  /* iovec entries read per call */
#define MAX_STEPS 96 /* messages (or pieces of one) framed per buffer */

const volatile struct pw_endpoint endpoints[MAX_ENDPOINTS] = {};
const volatile __u32 n_endpoints = 0;
const volatile bool by_thread = false;
const volatile bool libpq = false;
const volatile bool statements = false;
const volatile bool acquire_holds = false; /* --acquire named a release function */

__u64 next_id = 0;
/* what a new connection's record starts as: too big for an inline memset */
struct conn zero_conn = {};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, struct conn_key);
	__type(value, struct conn);
} conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct proc);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct thread_rt);
} threads SEC(".maps");

/*
 * --statements: the text of each request in flight (slot 0..MAX_PIPELINE-1), of the one being
 * sent (MAX_PIPELINE), and of each prepared statement (its name's hash, top bit set).
 */
struct text_key {
	__u32 tgid;
	__s32 fd;
	__u64 slot;
};

#define TEXT_SENDING MAX_PIPELINE
#define TEXT_NAMED   (1ULL << 63)

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct text_key);
	__type(value, struct stmt_text);
} texts SEC(".maps");

/* one text read at a time per CPU: not on the stack (too big) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stmt_text);
} text_scratch SEC(".maps");

enum io_op { IO_READ, IO_WRITE, IO_READV, IO_WRITEV, IO_RECVMSG, IO_SENDMSG, IO_CONNECT };

/* A socket call between its entry and exit. */
struct inflight {
	__u64 enter_ns;
	__u64 buf; /* the buffer, iovec array or msghdr */
	__s32 fd;
	__u32 op;
	__u64 len; /* bytes asked, or iovec entries */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct inflight);
} inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

/* a connection being made, before the table has room for it: not on the stack (too big) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct conn);
} conn_scratch SEC(".maps");

static __always_inline bool traced_tgid(__u32 tgid)
{
	if (!tgid || tgid == self_tgid)
		return false;
	return !n_tgids || is_target(tgid);
}

static __always_inline struct proc *proc_of(__u32 tgid)
{
	static const struct proc zero;

	return lookup_or_init(&procs, &tgid, &zero, DROP_PROCS_FULL);
}

static __always_inline void emit(__u32 kind, const struct conn *c, __u64 now)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		count(DROP_EVENTS);
		return;
	}
	e->kind = kind;
	e->ts = now;
	bpf_probe_read_kernel(&e->c, sizeof(*c), c); /* too big for an inline copy */
	bpf_ringbuf_submit(e, 0);
}

/* ---- exhaustion: every open connection of the process in use ---- */

static __always_inline void exh_begin(struct proc *p, __u64 now)
{
	if (p->open > 0)
		__sync_val_compare_and_swap(&p->exh_since, 0, now);
}

static __always_inline void exh_end(struct proc *p, __u64 now)
{
	__u64 since = __sync_lock_test_and_set(&p->exh_since, 0), d;

	if (!since || now <= since)
		return;
	d = now - since;
	__sync_fetch_and_add(&p->exh_ns, d);
	__sync_fetch_and_add(&p->exh_count, 1);
	if (d > p->exh_max_ns)
		p->exh_max_ns = d;
}

static __always_inline bool available(__u8 state)
{
	return state == CS_IDLE || state == CS_UNKNOWN;
}

/* The connection's state changes at now: its time so far goes to the old state. */
static __always_inline void set_state(struct conn *c, __u8 state, __u64 now)
{
	bool was = available(c->state), is = available(state);
	struct proc *p;

	if (c->state < CS_NR && now > c->since_ns)
		c->state_ns[c->state] += now - c->since_ns;
	c->since_ns = now;
	c->state = state;
	if (was == is)
		return;
	p = bpf_map_lookup_elem(&procs, &c->pid);
	if (!p)
		return;
	if (is) {
		if (__sync_fetch_and_add(&p->avail, 1) == 0)
			exh_end(p, now);
	} else if (__sync_fetch_and_add(&p->avail, -1) == 1) {
		exh_begin(p, now);
	}
}

static __always_inline void opened(struct conn *c, __u64 now)
{
	struct proc *p = proc_of(c->pid);

	if (!p)
		return;
	__sync_fetch_and_add(&p->open, 1);
	if (!c->before_trace)
		__sync_fetch_and_add(&p->opens, 1);
	if (available(c->state))
		__sync_fetch_and_add(&p->avail, 1);
	else if (!p->avail)
		exh_begin(p, now);
	emit(EV_OPEN, c, now);
}

static __always_inline void connect_failed(__u32 tgid)
{
	struct proc *p = proc_of(tgid);

	if (p)
		__sync_fetch_and_add(&p->connect_failed, 1);
	count(DROP_NR + CNT_CONNECT_FAILED);
}

static __always_inline void closed(const struct conn_key *k, struct conn *c, __u64 now)
{
	struct proc *p = bpf_map_lookup_elem(&procs, &k->tgid);

	if (c->nonblocking && !c->connected_ns) { /* refused, or timed out: never carried a byte */
		connect_failed(k->tgid);
		if (p)
			__sync_fetch_and_add(&p->opens, -1);
	}
	if (p) {
		__sync_fetch_and_add(&p->closes, 1);
		if (__sync_fetch_and_add(&p->open, -1) == 1)
			exh_end(p, now);
	}
	set_state(c, CS_CONNECTING, now); /* leaves the pool's count */
	emit(EV_CLOSE, c, now);
	bpf_map_delete_elem(&conns, k);
}

/* ---- the wire protocol ---- */

static __always_inline __u32 be32(const __u8 *b)
{
	return (__u32)b[0] << 24 | (__u32)b[1] << 16 | (__u32)b[2] << 8 | b[3];
}

static __always_inline __u32 fine_slot(__u64 ns)
{
	__u32 slot = hist_fine_slot(ns / 1000);

	/* hide the slot's known range from clang so that the verifier sees the check */
	asm volatile("" : "+r"(slot));
	return slot;
}

static __always_inline struct thread_rt *thread_of(__u32 tid)
{
	static const struct thread_rt zero;

	return lookup_or_init(&threads, &tid, &zero, DROP_THREADS_FULL);
}

/* --by thread: the sender's name, while it lives (the report may come after it exited) */
static __always_inline void thread_named(__u32 pid)
{
	struct thread_rt *t = thread_of((__u32)bpf_get_current_pid_tgid());

	if (t && !t->comm[0]) {
		t->pid = pid;
		bpf_get_current_comm(t->comm, sizeof(t->comm));
	}
}

static __always_inline void request_sent(struct conn *c, __u64 start)
{
	__u32 i = (c->rq_head + c->pending) & (MAX_PIPELINE - 1);

	if (by_thread)
		thread_named(c->pid);
	if (c->pending < MAX_PIPELINE) {
		c->req_start[i] = start;
		c->req_tid[i] = (__u32)bpf_get_current_pid_tgid();
	} else
		count(DROP_PIPELINE);
	c->pending++;
}

static __always_inline void thread_rt_add(__u32 tid, __u32 pid, __u64 d)
{
	struct thread_rt *t = thread_of(tid);
	__u32 slot = fine_slot(d);

	if (!t)
		return;
	t->pid = pid;
	__sync_fetch_and_add(&t->count, 1);
	__sync_fetch_and_add(&t->total_ns, d);
	if (d > t->max_ns)
		t->max_ns = d;
	if (slot < HIST_FINE_SLOTS)
		__sync_fetch_and_add(&t->fine[slot], 1);
}

/* --statements: a request's round trip, with its statement's text, to user space. */
static __always_inline void stmt_done(const struct conn *c, __u32 slot, __u64 d)
{
	struct text_key tk = {.tgid = c->pid, .fd = c->fd, .slot = slot};
	struct stmt_text *t = bpf_map_lookup_elem(&texts, &tk);
	struct stmt_event *e;

	if (!t)
		return;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(DROP_EVENTS);
		return;
	}
	e->kind = EV_STMT;
	e->pid = c->pid;
	e->ns = d;
	bpf_probe_read_kernel(&e->t, sizeof(e->t), t);
	bpf_ringbuf_submit(e, 0);
	bpf_map_delete_elem(&texts, &tk);
}

/* A ReadyForQuery: the oldest request in flight is done; status says what the connection is. */
static __always_inline void ready(struct conn *c, __u8 status, __u64 now)
{
	__u64 start, d;
	__u32 slot, tid;
	__u8 next = status == 'I' ? CS_IDLE : CS_IDLE_TX;

	if (!c->startup_seen) {
		c->startup_seen = 1;
		c->ready_ns = now;
		set_state(c, next, now);
		return;
	}
	if (!c->pending) {
		count(DROP_NR + CNT_UNMATCHED);
		if (c->state != CS_BUSY)
			set_state(c, next, now);
		return;
	}
	start = c->req_start[c->rq_head & (MAX_PIPELINE - 1)];
	tid = c->req_tid[c->rq_head & (MAX_PIPELINE - 1)];
	c->rq_head++;
	c->pending--;
	if (start && now > start) {
		d = now - start;
		c->rt_count++;
		c->rt_total_ns += d;
		if (d > c->rt_max_ns)
			c->rt_max_ns = d;
		slot = fine_slot(d);
		if (slot < HIST_FINE_SLOTS)
			c->fine[slot]++;
		if (by_thread)
			thread_rt_add(tid, c->pid, d);
		if (statements)
			stmt_done(c, (c->rq_head - 1) & (MAX_PIPELINE - 1), d);
	}
	if (!c->pending) {
		set_state(c, next, now);
		/* nothing in flight: the client's next message starts at a call's start */
		c->tx.lost = 0;
		c->tx.skip = 0;
		c->tx.hlen = 0;
	}
}

/* A client message of type t began, in a call entered at t0. */
static __always_inline void client_message(struct conn *c, __u8 t, __u64 t0)
{
	if (!c->startup_seen)
		return;
	if (!c->seg_start)
		c->seg_start = t0;
	if (c->state != CS_BUSY)
		set_state(c, CS_BUSY, t0);
	if (t == 'Q' || t == 'S' || t == 'F') {
		request_sent(c, c->seg_start);
		c->seg_start = 0;
	}
}

/* Message types as bit sets: bit c - 64 of HI for 'A'..'z', bit c of LO for '0'..'?'. */
#define HI(c) (1ULL << ((c)-64))
#define LO(c) (1ULL << (c))
#define CLIENT_HI                                                                                  \
	(HI('Q') | HI('P') | HI('B') | HI('E') | HI('D') | HI('C') | HI('S') | HI('H') | HI('F') | \
	 HI('X') | HI('d') | HI('c') | HI('f') | HI('p'))
#define SERVER_HI                                                                                  \
	(HI('R') | HI('K') | HI('S') | HI('Z') | HI('T') | HI('D') | HI('C') | HI('E') | HI('N') | \
	 HI('I') | HI('n') | HI('t') | HI('s') | HI('A') | HI('G') | HI('H') | HI('W') | HI('c') | \
	 HI('d') | HI('V') | HI('v'))
#define SERVER_LO (LO('1') | LO('2') | LO('3'))

/* Is t a message type of the client (or, rx, of the server)? */
static __always_inline bool known_type(__u8 t, bool rx)
{
	if (t >= 64 && t < 128)
		return ((rx ? SERVER_HI : CLIENT_HI) >> (t - 64)) & 1;
	return t < 64 && rx && (SERVER_LO >> t) & 1;
}

/* The untyped first message: start-up, or a request for TLS or GSS encryption first. */
static __always_inline __u32 untyped(struct conn *c, const __u8 *buf, __u32 off, __u32 len)
{
	__u8 m[8];
	__u32 mlen, code;

	if (len - off < 8 || bpf_probe_read_user(m, 8, buf + off)) {
		c->tx.lost = 1;
		return len;
	}
	mlen = be32(m);
	code = be32(m + 4);
	c->tx.untyped = 0;
	if (code == 80877103 || code == 80877104) /* SSLRequest, GSSENCRequest */
		c->rx.await_answer = 1;
	c->tx.skip = mlen > 8 ? mlen - 8 : 0;
	return off + 8;
}

static __always_inline void lose(struct framing *f)
{
	f->lost = 1;
	f->skip = 0;
	f->hlen = 0;
	f->want_status = 0;
	count(DROP_DESYNC);
}

/*
 * Out of step, the call's last six bytes are looked at: a ReadyForQuery there ends a response
 * and puts the framing back in step.
 */
static __always_inline void resync(struct conn *c, const __u8 *buf, __u32 len, __u64 now)
{
	__u8 z[6];

	if (len < 6 || bpf_probe_read_user(z, 6, buf + len - 6))
		return;
	if (z[0] != 'Z' || be32(z + 1) != 5)
		return;
	if (z[5] != 'I' && z[5] != 'T' && z[5] != 'E')
		return;
	c->rx.lost = 0;
	c->rx.skip = 0;
	c->rx.hlen = 0;
	ready(c, z[5], now);
}

/* A whole header (type, length) in hdr: what the message means, and how much of it to skip. */
static __always_inline void header(struct conn *c, struct framing *f, bool rx, __u64 t0, __u64 now)
{
	__u8 t = f->hdr[0];
	__u32 mlen = be32(f->hdr + 1);

	f->hlen = 0;
	if (t >= 20 && t <= 23 && f->hdr[1] == 3) {
		/* a TLS record: a connection found open, encrypted since before the trace */
		c->tls = 1;
		return;
	}
	if (mlen < 4 || mlen > (1U << 30) || !known_type(t, rx)) {
		if (f->joined) /* came in inside a message: not a loss, find the next boundary */
			f->lost = 1;
		else
			lose(f);
		return;
	}
	f->joined = 0;
	f->skip = mlen - 4;
	if (!rx) {
		client_message(c, t, t0);
		return;
	}
	if (t == 'Z' && mlen == 5) {
		f->want_status = 1;
		f->skip = 0;
	} else if (t == 'E') {
		c->errors++;
	}
}

static __always_inline void text_put(const struct text_key *k, const struct stmt_text *t)
{
	if (bpf_map_update_elem(&texts, k, t, BPF_ANY))
		count(DROP_TEXTS_FULL);
}

static __always_inline __u64 name_hash(const char *name, int n)
{
	__u64 h = PW_PATH_HASH_SEED;

	for (int i = 0; i < 64 && i < n && name[i]; i++)
		h = pw_path_hash_step(h, name[i]);
	return h | TEXT_NAMED;
}

/*
 * --statements: a client message of type t whose body is at body. A Query's text, a Parse's
 * statement (kept by its name too), a Bind's by the name it gives; a Query or Sync hands the
 * text to the request it ends. A message split across calls keeps what the first call has.
 */
static __always_inline void stmt_sent(const struct conn *c, __u8 t, __u64 body)
{
	struct text_key tk = {.tgid = c->pid, .fd = c->fd, .slot = TEXT_SENDING};
	struct text_key named = tk;
	struct stmt_text *st;
	__u32 zero = 0;
	char name[64];
	long n;

	if (t == 'S') {
		st = bpf_map_lookup_elem(&texts, &tk);
		if (!st || !c->pending || c->pending > MAX_PIPELINE)
			return;
		named.slot = (c->rq_head + c->pending - 1) & (MAX_PIPELINE - 1);
		text_put(&named, st);
		bpf_map_delete_elem(&texts, &tk);
		return;
	}
	st = bpf_map_lookup_elem(&text_scratch, &zero);
	if (!st)
		return;
	if (t == 'Q') {
		if (c->pending > MAX_PIPELINE || !c->pending)
			return;
		tk.slot = (c->rq_head + c->pending - 1) & (MAX_PIPELINE - 1);
		if (bpf_probe_read_user_str(st->text, STMT_LEN, (void *)body) > 0)
			text_put(&tk, st);
		return;
	}
	if (t != 'P' && t != 'B' && t != 'C')
		return;
	n = bpf_probe_read_user_str(name, sizeof(name), (void *)body);
	if (n <= 0)
		return;
	if (t == 'C') { /* Close: 'S' and a prepared statement's name, or 'P' and a portal's */
		if (name[0] != 'S')
			return;
		n = bpf_probe_read_user_str(name, sizeof(name), (void *)(body + 1));
		named.slot = name_hash(name, n);
		if (n > 0)
			bpf_map_delete_elem(&texts, &named);
		return;
	}
	if (t == 'B') { /* portal name, then the statement's */
		body += n;
		n = bpf_probe_read_user_str(name, sizeof(name), (void *)body);
		if (n <= 0)
			return;
		named.slot = name_hash(name, n);
		st = bpf_map_lookup_elem(&texts, &named);
		if (st)
			text_put(&tk, st);
		return;
	}
	if (bpf_probe_read_user_str(st->text, STMT_LEN, (void *)(body + n)) <= 0)
		return;
	named.slot = name_hash(name, n);
	text_put(&named, st);
	text_put(&tk, st);
}

/* The call being read: its direction, when it began and ended. */
struct call {
	__u64 t0, now;
	bool rx;
};

/*
 * Frames len bytes at buf: each step consumes a message's rest, its header or a status byte.
 * Returns false when the steps ran out (too many messages in one buffer). Global: the
 * verifier checks its loop once, not at each of its callers.
 */
__noinline bool frame(struct conn *c, __u64 ubuf, __u32 len, const struct call *k)
{
	const __u8 *buf = (const __u8 *)ubuf;
	bool rx;

	if (!c || !k)
		return true;
	rx = k->rx;
	__u64 t0 = k->t0, now = k->now;
	struct framing *f = rx ? &c->rx : &c->tx;

	__u32 off = 0, n;
	__u8 b;

	for (int i = 0; i < MAX_STEPS; i++) {
		if (off >= len || f->lost)
			return true;
		if (f->skip) {
			n = len - off < f->skip ? len - off : f->skip;
			f->skip -= n;
			off += n;
			continue;
		}
		if (!rx && f->untyped) {
			off = untyped(c, buf, off, len);
			continue;
		}
		/* a whole header here, and no status or answer byte due first: one read */
		if (f->hlen == 0 && len - off >= 5 &&
		    !(rx && (f->await_answer || f->want_status))) {
			if (bpf_probe_read_user(f->hdr, 5, buf + off)) {
				lose(f);
				return true;
			}
			off += 5;
			header(c, f, rx, t0, now);
			if (statements && !rx && !f->lost)
				stmt_sent(c, f->hdr[0], ubuf + off);
			continue;
		}
		if (bpf_probe_read_user(&b, 1, buf + off)) {
			lose(f);
			return true;
		}
		if (rx && f->await_answer) {
			f->await_answer = 0;
			if (b == 'S' || b == 'G') {
				c->tls = 1;
				/* its start-up and requests unseen unless libpq says */
				if (!libpq)
					set_state(c, CS_UNKNOWN, now);
			} else {
				c->tx.untyped = 1;
			}
			off++;
			continue;
		}
		if (rx && f->want_status) {
			f->want_status = 0;
			ready(c, b, now);
			off++;
			continue;
		}
		/* a header split across calls, a byte at a time */
		if (f->hlen < 5)
			f->hdr[f->hlen] = b;
		f->hlen++;
		off++;
		if (f->hlen >= 5)
			header(c, f, rx, t0, now);
	}
	return off >= len;
}

/* A call on a connection found open, out of step from its start: a TLS record's header? */
static __always_inline void tls_peek(struct conn *c, const __u8 *buf, __u32 len)
{
	__u8 h[3];

	if (len >= 5 && !bpf_probe_read_user(h, 3, buf) && h[0] >= 20 && h[0] <= 23 && h[1] == 3 &&
	    h[2] <= 4)
		c->tls = 1;
}

static __always_inline void segment(struct conn *c, const __u8 *buf, __u32 len,
				    const struct call *k)
{
	if (!c->tls && c->before_trace && (k->rx ? c->rx.lost : c->tx.lost))
		tls_peek(c, buf, len);
	if (c->tls || !len)
		return;
	if (!frame(c, (__u64)buf, len, k) && !(k->rx ? c->rx.lost : c->tx.lost))
		lose(k->rx ? &c->rx : &c->tx);
	if (k->rx && c->rx.lost)
		resync(c, buf, len, k->now);
}

/* ---- the calls ---- */

static __always_inline void enter(__s32 fd, __u64 buf, __u64 len, __u32 op)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	struct conn_key k = {.tgid = tgid, .fd = fd};
	struct inflight in = {.buf = buf, .fd = fd, .op = op, .len = len};

	if (!traced_tgid(tgid) || !bpf_map_lookup_elem(&conns, &k))
		return;
	in.enter_ns = bpf_ktime_get_ns();
	if (bpf_map_update_elem(&inflight, &tid, &in, BPF_ANY))
		count(DROP_INFLIGHT_FULL);
}

static __always_inline void iov_segments(struct conn *c, const struct iovec *iov, __u64 n,
					 __u64 bytes, const struct call *k)
{
	for (int i = 0; i < MAX_IOV && i < n && bytes; i++) {
		struct iovec v;
		__u64 take;

		if (bpf_probe_read_user(&v, sizeof(v), &iov[i]))
			return;
		take = v.iov_len < bytes ? v.iov_len : bytes;
		segment(c, v.iov_base, take, k);
		bytes -= take;
	}
}

static __always_inline void lpq_bind(const struct conn_key *k, struct conn *c);

static __always_inline void exit_io(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct inflight *in = bpf_map_lookup_elem(&inflight, &tid);
	struct conn_key k;
	struct call call;
	struct conn *c;

	if (!in)
		return;
	k.tgid = id >> 32;
	k.fd = in->fd;
	c = bpf_map_lookup_elem(&conns, &k);
	if (!c || ret <= 0)
		goto out;
	call.now = bpf_ktime_get_ns();
	call.t0 = in->enter_ns;
	call.rx = in->op == IO_READ || in->op == IO_READV || in->op == IO_RECVMSG;
	count(DROP_NR + CNT_CALLS);
	if (call.rx)
		c->bytes_rx += ret;
	else
		c->bytes_tx += ret;
	if (c->state == CS_STARTUP && !c->connected_ns)
		c->connected_ns = in->enter_ns; /* a non-blocking connect, done */
	if (c->tls && libpq)
		lpq_bind(&k, c);
	if (in->op == IO_READ || in->op == IO_WRITE) {
		segment(c, (const __u8 *)in->buf, ret, &call);
	} else if (in->op == IO_READV || in->op == IO_WRITEV) {
		iov_segments(c, (const struct iovec *)in->buf, in->len, ret, &call);
	} else {
		struct user_msghdr m;

		if (!bpf_probe_read_user(&m, sizeof(m), (void *)in->buf))
			iov_segments(c, m.msg_iov, m.msg_iovlen, ret, &call);
	}
out:
	bpf_map_delete_elem(&inflight, &tid);
}

/* Every call's exit, verified once: the framer's loop is most of the verifier's work. */
SEC("tracepoint")
int io_exit(struct trace_event_raw_sys_exit *ctx)
{
	exit_io(ctx->ret);
	return 0;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, int(void *));
} exits SEC(".maps") = {
	.values = {[0] = (void *)&io_exit},
};

#define IO_PROGS(name, op)                                                                         \
	SEC("tracepoint/syscalls/sys_enter_" #name)                                                \
	int name##_enter(struct trace_event_raw_sys_enter *ctx)                                    \
	{                                                                                          \
		enter(ctx->args[0], ctx->args[1], ctx->args[2], op);                               \
		return 0;                                                                          \
	}                                                                                          \
	SEC("tracepoint/syscalls/sys_exit_" #name)                                                 \
	int name##_exit(struct trace_event_raw_sys_exit *ctx)                                      \
	{                                                                                          \
		__u32 tid = (__u32)bpf_get_current_pid_tgid();                                     \
                                                                                                   \
		if (bpf_map_lookup_elem(&inflight, &tid)) /* a traced call: frame it */            \
			bpf_tail_call(ctx, &exits, 0);                                             \
		return 0;                                                                          \
	}

/* (fd, buffer or iovec array or msghdr, length or iovec count) */
IO_PROGS(read, IO_READ)
IO_PROGS(write, IO_WRITE)
IO_PROGS(recvfrom, IO_READ)
IO_PROGS(sendto, IO_WRITE)
IO_PROGS(readv, IO_READV)
IO_PROGS(writev, IO_WRITEV)
IO_PROGS(recvmsg, IO_RECVMSG)
IO_PROGS(sendmsg, IO_SENDMSG)

/* ---- connections: made, found, closed ---- */

/* Is this address the server's? The path of a unix socket is compared by its hash. */
static __always_inline bool server_addr(__u16 family, __u16 port, const __u8 *addr, __u64 hash)
{
	for (__u32 i = 0; i < MAX_ENDPOINTS && i < n_endpoints; i++) {
		const volatile struct pw_endpoint *e = &endpoints[i];
		bool same = true;

		if (e->family != family)
			continue;
		if (family == AF_UNIX) {
			if (e->path_hash == hash)
				return true;
			continue;
		}
		if (e->port != port)
			continue;
		for (int b = 0; b < 16; b++)
			if (e->addr[b] != addr[b])
				same = false;
		if (same)
			return true;
	}
	return false;
}

static __always_inline __u64 path_hash(const char *path, __u32 max, bool user)
{
	__u64 h = PW_PATH_HASH_SEED;
	char p[108];

	__builtin_memset(p, 0, sizeof(p));
	if (max > sizeof(p))
		max = sizeof(p);
	if (user ? bpf_probe_read_user(p, max & 127, path)
		 : bpf_probe_read_kernel(p, max & 127, path))
		return 0;
	for (int i = 0; i < (int)sizeof(p) && i < max && p[i]; i++)
		h = pw_path_hash_step(h, p[i]);
	return h;
}

/* ::ffff:a.b.c.d is a.b.c.d */
static __always_inline void unmap_v4(__u16 *family, __u8 *addr)
{
	static const __u8 prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (*family != AF_INET6)
		return;
	for (int i = 0; i < 12; i++)
		if (addr[i] != prefix[i])
			return;
	__builtin_memmove(addr, addr + 12, 4);
	__builtin_memset(addr + 4, 0, 12);
	*family = AF_INET;
}

/* The socket's addresses into c, and whether its peer is the server. */
static __always_inline bool sock_is_server(struct sock *sk, struct conn *c)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family), dport;
	__u64 hash = 0;

	if (family == AF_INET) {
		__u32 d = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		__u32 s = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);

		__builtin_memcpy(c->raddr, &d, 4);
		__builtin_memcpy(c->laddr, &s, 4);
	} else if (family == AF_INET6) {
		BPF_CORE_READ_INTO(&c->raddr, sk, __sk_common.skc_v6_daddr);
		BPF_CORE_READ_INTO(&c->laddr, sk, __sk_common.skc_v6_rcv_saddr);
	} else if (family == AF_UNIX) {
		struct unix_sock *peer = (void *)BPF_CORE_READ((struct unix_sock *)sk, peer);
		struct unix_address *a = peer ? BPF_CORE_READ(peer, addr) : NULL;
		int alen = a ? BPF_CORE_READ(a, len) : 0;

		if (alen <= 2)
			return false;
		hash = path_hash((const char *)a +
					 bpf_core_field_offset(struct unix_address, name) + 2,
				 alen - 2, false);
	} else {
		return false;
	}
	dport = BPF_CORE_READ(sk, __sk_common.skc_dport);
	c->rport = __builtin_bswap16(dport);
	c->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	if (family == AF_INET6)
		unmap_v4(&(__u16){AF_INET6}, c->laddr);
	unmap_v4(&family, c->raddr);
	c->family = family;
	return server_addr(family, dport, c->raddr, hash);
}

static __always_inline struct sock *fd_sock(__s32 fd, __u64 *ino)
{
	struct file *f = task_fd_file(bpf_get_current_task_btf(), fd);
	struct socket *sock;

	if (!f)
		return NULL;
	*ino = BPF_CORE_READ(f, f_inode, i_ino);
	sock = BPF_CORE_READ(f, private_data);
	return sock ? BPF_CORE_READ(sock, sk) : NULL;
}

/* connect(): is it to the server? Read the address the caller passes. */
SEC("tracepoint/syscalls/sys_enter_connect")
int connect_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	const __u8 *uaddr = (const __u8 *)ctx->args[1];
	__u32 alen = ctx->args[2];
	struct inflight in = {.fd = ctx->args[0], .op = IO_CONNECT};
	__u8 sa[24] = {};
	__u16 family, port;
	__u64 hash = 0;

	if (!traced_tgid(tgid) || bpf_probe_read_user(sa, sizeof(sa), uaddr))
		return 0;
	family = *(__u16 *)sa;
	port = *(__u16 *)(sa + 2);
	if (family == AF_INET) {
		__builtin_memmove(sa, sa + 4, 4);
		__builtin_memset(sa + 4, 0, 12);
	} else if (family == AF_INET6) {
		__builtin_memmove(sa, sa + 8, 16);
	} else if (family == AF_UNIX && alen > 2) {
		hash = path_hash((const char *)uaddr + 2, alen - 2, true);
	} else {
		return 0;
	}
	unmap_v4(&family, sa);
	/* a unix socket reached by another path (a link to the directory) is the server's if its
	 * peer, once connected, has the server's own path: looked at on exit */
	in.len = server_addr(family, port, sa, hash);
	if (!in.len && family != AF_UNIX)
		return 0;
	in.enter_ns = bpf_ktime_get_ns();
	if (bpf_map_update_elem(&inflight, &tid, &in, BPF_ANY))
		count(DROP_INFLIGHT_FULL);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_connect")
int connect_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), now = bpf_ktime_get_ns();
	__u32 tid = (__u32)id, zero = 0;
	struct inflight *in = bpf_map_lookup_elem(&inflight, &tid);
	struct conn_key k = {.tgid = id >> 32};
	struct conn *c;
	struct sock *sk;
	long ret = ctx->ret;

	if (!in || in->op != IO_CONNECT)
		return 0;
	k.fd = in->fd;
	c = bpf_map_lookup_elem(&conn_scratch, &zero);
	if (!c)
		goto out;
	if (ret < 0 && ret != -EINPROGRESS) {
		if (in->len) /* to the server's own address */
			connect_failed(k.tgid);
		goto out;
	}
	bpf_probe_read_kernel(c, sizeof(*c), &zero_conn);
	c->id = __sync_fetch_and_add(&next_id, 1) + 1;
	c->pid = k.tgid;
	c->tid = tid;
	c->connect_ns = in->enter_ns;
	c->connected_ns = ret == 0 ? now : 0;
	c->nonblocking = ret != 0;
	c->since_ns = now;
	c->fd = k.fd;
	c->state = CS_STARTUP;
	c->tx.untyped = 1;
	sk = fd_sock(k.fd, &c->ino);
	if (!(sk && sock_is_server(sk, c)) && !in->len)
		goto out;
	if (bpf_map_update_elem(&conns, &k, c, BPF_ANY)) {
		count(DROP_CONNS_FULL);
		goto out;
	}
	opened(c, now);
out:
	bpf_map_delete_elem(&inflight, &tid);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_close")
int close_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct conn_key k = {.tgid = id >> 32, .fd = ctx->args[0]};
	struct conn *c;

	if (!traced_tgid(k.tgid))
		return 0;
	c = bpf_map_lookup_elem(&conns, &k);
	if (c)
		closed(&k, c, bpf_ktime_get_ns());
	return 0;
}

/* Connections open before the trace began, found among every traced task's files. */
SEC("iter/task_file")
int find_conns(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct conn_key k = {.fd = ctx->fd};
	__u64 now = bpf_ktime_get_ns();
	__u32 zero = 0;
	struct socket *sock;
	struct conn *c;
	struct sock *sk;

	if (!task || !file)
		return 0;
	k.tgid = task->tgid;
	/* the iterator visits a file table once, through the leader or, if the leader is gone
	 * (pthread_exit), another thread; a connection already known is skipped */
	if (!traced_tgid(k.tgid))
		return 0;
	sock = bpf_sock_from_file(file);
	if (!sock || bpf_map_lookup_elem(&conns, &k))
		return 0;
	sk = BPF_CORE_READ(sock, sk);
	c = bpf_map_lookup_elem(&conn_scratch, &zero);
	if (!sk || !c)
		return 0;
	bpf_probe_read_kernel(c, sizeof(*c), &zero_conn);
	if (!sock_is_server(sk, c))
		return 0;
	if (c->family != AF_UNIX && BPF_CORE_READ(sk, __sk_common.skc_state) != TCP_ESTABLISHED)
		return 0;
	c->id = __sync_fetch_and_add(&next_id, 1) + 1;
	c->pid = k.tgid;
	c->fd = k.fd;
	c->ino = BPF_CORE_READ(file, f_inode, i_ino);
	c->before_trace = 1;
	c->tx.joined = c->rx.joined = 1;
	c->startup_seen = 1;
	c->state = CS_UNKNOWN;
	c->since_ns = now;
	if (bpf_map_update_elem(&conns, &k, c, BPF_NOEXIST)) {
		count(DROP_CONNS_FULL);
		return 0;
	}
	opened(c, now);
	bpf_seq_write(ctx->meta->seq, &k, sizeof(k));
	return 0;
}

/* ---- --libpq: requests timed by libpq's functions, for TLS connections ---- */

/*
 * A PGconn: its socket connection, learnt from the calls on a TLS connection made by a thread
 * inside one of its functions, and the request in flight.
 */
struct lpq_key {
	__u32 tgid, pad;
	__u64 pgconn;
};

struct lpq_conn {
	struct conn_key sock;
	__u64 start_ns;
	__u64 sent; /* the socket's bytes sent when the request began */
	__u8 bound, busy, pad[6];
};

/* the PGconn a thread is inside a function of, and how deep (PQexec calls PQsendQuery) */
struct lpq_cur {
	__u64 pgconn;
	__u32 depth, kind;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct lpq_key);
	__type(value, struct lpq_conn);
} lpq SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct lpq_cur);
} lpq_cur SEC(".maps");

static __always_inline struct conn *lpq_sock(struct lpq_conn *l)
{
	struct conn *c;

	if (!l->bound)
		return NULL;
	c = bpf_map_lookup_elem(&conns, &l->sock);
	return c && c->tls ? c : NULL;
}

/* A call on a TLS connection, from inside a libpq function: the PGconn's socket. */
static __always_inline void lpq_bind(const struct conn_key *k, struct conn *c)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct lpq_cur *cur = bpf_map_lookup_elem(&lpq_cur, &tid);
	struct lpq_key lk = {.tgid = k->tgid};
	struct lpq_conn *l;

	if (!cur)
		return;
	lk.pgconn = cur->pgconn;
	l = bpf_map_lookup_elem(&lpq, &lk);
	if (!l || l->bound)
		return;
	l->sock = *k;
	l->bound = 1;
	c->libpq = 1;
}

static __always_inline void lpq_request(struct lpq_conn *l, __u64 now)
{
	struct conn *c;

	if (l->busy)
		return;
	l->busy = 1;
	l->start_ns = now;
	c = lpq_sock(l);
	l->sent = c ? c->bytes_tx : 0;
	if (c && c->startup_seen && c->state != CS_BUSY)
		set_state(c, CS_BUSY, now);
}

/* PQgetResult gave NULL: the request's results are all in. */
static __always_inline void lpq_done(struct lpq_conn *l, __u64 now)
{
	struct conn *c = lpq_sock(l);
	__u64 d = now - l->start_ns;
	__u32 slot = fine_slot(d);

	/* PQexec first drains what an earlier request left: a NULL before anything was sent */
	if (!l->busy || !c || c->bytes_tx == l->sent)
		return;
	l->busy = 0;
	if (!c->startup_seen)
		return;
	c->rt_count++;
	c->rt_total_ns += d;
	if (d > c->rt_max_ns)
		c->rt_max_ns = d;
	if (slot < HIST_FINE_SLOTS)
		c->fine[slot]++;
	/* the status byte is encrypted: a transaction left open looks idle */
	set_state(c, CS_IDLE, now);
}

SEC("uprobe")
int lpq_enter(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), now = bpf_ktime_get_ns();
	__u32 tid = (__u32)id, kind = bpf_get_attach_cookie(ctx);
	struct lpq_key lk = {.tgid = id >> 32, .pgconn = PT_REGS_PARM1(ctx)};
	struct lpq_cur *cur = bpf_map_lookup_elem(&lpq_cur, &tid), init = {lk.pgconn, 1, kind};
	static const struct lpq_conn zero;
	struct lpq_conn *l;

	if (cur && cur->pgconn == lk.pgconn) {
		cur->depth++;
		return 0;
	}
	bpf_map_update_elem(&lpq_cur, &tid, &init, BPF_ANY);
	l = lookup_or_init(&lpq, &lk, &zero, DROP_LIBPQ_FULL);
	if (!l)
		return 0;
	if (kind == LPQ_SEND) {
		lpq_request(l, now);
	} else if (kind == LPQ_CONNPOLL && l->bound) {
		struct conn *c = lpq_sock(l);

		if (!c || c->ready_ns)
			l->bound = 0; /* a PGconn freed, its address reused for a new connection */
	}
	return 0;
}

SEC("uretprobe")
int lpq_return(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), now = bpf_ktime_get_ns(), rc = PT_REGS_RC(ctx);
	__u32 tid = (__u32)id, kind = bpf_get_attach_cookie(ctx);
	struct lpq_cur *cur = bpf_map_lookup_elem(&lpq_cur, &tid);
	struct lpq_key lk = {.tgid = id >> 32};
	struct lpq_conn *l;
	struct conn *c;

	if (!cur)
		return 0;
	lk.pgconn = cur->pgconn;
	if (--cur->depth == 0)
		bpf_map_delete_elem(&lpq_cur, &tid);
	l = bpf_map_lookup_elem(&lpq, &lk);
	if (!l)
		return 0;
	if (kind == LPQ_GETRESULT && rc == 0) {
		lpq_done(l, now);
	} else if (kind == LPQ_CONNPOLL && rc == 3 /* PGRES_POLLING_OK */) {
		c = lpq_sock(l);
		if (c && !c->startup_seen) {
			c->startup_seen = 1;
			c->ready_ns = now;
			set_state(c, CS_IDLE, now);
		}
	}
	return 0;
}

/* ---- --acquire: the pool's own functions ---- */

struct acquire_totals acq = {};

struct held_key {
	__u32 tgid, pad;
	__u64 what; /* the acquire's return value: the connection handed out */
};

/* a thread inside the acquire function: since when, and since when (and why) off the CPU */
struct acq_call {
	__u64 enter_ns, out_ns;
	__u16 reason, pad[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct acq_call);
} acquiring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct held_key);
	__type(value, __u64);
} held SEC(".maps");

SEC("uprobe")
int acquire_enter(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), now = bpf_ktime_get_ns();
	__u32 tid = (__u32)id;
	struct held_key hk = {.tgid = id >> 32, .what = PT_REGS_PARM1(ctx)};
	struct acq_call call = {.enter_ns = now};
	__u64 *t;
	__s64 w;

	if (bpf_get_attach_cookie(ctx) == ACQ_RELEASE) {
		t = bpf_map_lookup_elem(&held, &hk);
		if (t && now > *t) {
			__sync_fetch_and_add(&acq.holds, 1);
			__sync_fetch_and_add(&acq.hold_ns, now - *t);
			bpf_map_delete_elem(&held, &hk);
		}
		return 0;
	}
	if (bpf_map_update_elem(&acquiring, &tid, &call, BPF_ANY)) {
		count(DROP_INFLIGHT_FULL);
		return 0;
	}
	w = __sync_fetch_and_add(&acq.waiting, 1) + 1;
	if (w > acq.waiting_max)
		acq.waiting_max = w;
	return 0;
}

SEC("uretprobe")
int acquire_return(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid(), now = bpf_ktime_get_ns(), d;
	__u32 tid = (__u32)id, slot;
	struct held_key hk = {.tgid = id >> 32, .what = PT_REGS_RC(ctx)};
	struct acq_call *c = bpf_map_lookup_elem(&acquiring, &tid);

	if (!c)
		return 0;
	d = now > c->enter_ns ? now - c->enter_ns : 0;
	bpf_map_delete_elem(&acquiring, &tid);
	__sync_fetch_and_add(&acq.waiting, -1);
	__sync_fetch_and_add(&acq.calls, 1);
	__sync_fetch_and_add(&acq.wait_ns, d);
	if (d > acq.max_ns)
		acq.max_ns = d;
	slot = fine_slot(d);
	if (slot < HIST_FINE_SLOTS)
		__sync_fetch_and_add(&acq.fine[slot], 1);
	if (acquire_holds && hk.what && bpf_map_update_elem(&held, &hk, &now, BPF_ANY))
		count(DROP_HELD_FULL);
	return 0;
}

/*
 * What an acquire's wait is made of: the time its thread spends off the CPU, by the reason it
 * left (a blocked period's wakeup latency counts with it); the rest is on the CPU.
 */
static __always_inline int acquire_switch(__u32 prev, __u32 prev_tgid, __u32 next, __u32 state)
{
	__u64 now = bpf_ktime_get_ns();
	struct task_struct *cur;
	struct acq_call *c;
	__u16 syscall;

	if (traced_tgid(prev_tgid) && (c = bpf_map_lookup_elem(&acquiring, &prev))) {
		cur = bpf_get_current_task_btf(); /* at sched_switch, prev is the current task */
		c->out_ns = now;
		c->reason = classify(cur, (struct pt_regs *)bpf_task_pt_regs(cur), state, &syscall);
	}
	c = bpf_map_lookup_elem(&acquiring, &next);
	if (c && c->out_ns) {
		if (c->reason < REASON_NR)
			__sync_fetch_and_add(&acq.off_ns[c->reason], now - c->out_ns);
		c->out_ns = 0;
	}
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch_btf, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 state = has_prev_state ? (__u32)ctx[3] : prev->__state;

	return acquire_switch(prev->pid, prev->tgid, next->pid, state);
}

SEC("raw_tp/sched_switch")
int BPF_PROG(sched_switch_raw, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u32 state = has_prev_state ? (__u32)ctx[3] : BPF_CORE_READ(prev, __state);

	return acquire_switch(BPF_CORE_READ(prev, pid), BPF_CORE_READ(prev, tgid),
			      BPF_CORE_READ(next, pid), state);
}

char LICENSE[] SEC("license") = "GPL";
