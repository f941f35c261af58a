/* SPDX-License-Identifier: GPL-2.0 */
/* Types shared by poolwait.bpf.c and the poolwait front end. */
#ifndef WAITSCOPE_POOLWAIT_H
#define WAITSCOPE_POOLWAIT_H

#include "hist_slots.h"
#include "reasons.h"

#define MAX_TARGETS   64
#define MAX_ENDPOINTS 32 /* the server's addresses and socket files */
#define MAX_PIPELINE  8	 /* requests in flight on one connection, each timed */
#define TASK_COMM_LEN 16

/* Counters of everything the BPF side had to drop or could not follow, then event counters. */
enum poolwait_drop {
	DROP_CONNS_FULL,    /* connection table full: a connection was not traced */
	DROP_PROCS_FULL,    /* process table full: a process's exhaustion was not traced */
	DROP_INFLIGHT_FULL, /* in-flight call table full: a socket call was not read */
	DROP_EVENTS,	    /* ring buffer full: an open or close was not reported */
	DROP_DESYNC,	    /* a message boundary was lost (too many messages in one call, or bytes
			     * that are no protocol message): framing restarts at the next
			     * ReadyForQuery */
	DROP_PIPELINE, /* more than MAX_PIPELINE requests in flight: one timed from a later one */
	DROP_THREADS_FULL, /* --by thread: thread table full, a round trip left out of it */
	DROP_LIBPQ_FULL,   /* --libpq: PGconn table full, a connection's requests not timed */
	DROP_TEXTS_FULL,   /* --statements: text table full, a statement's text not kept */
	DROP_HELD_FULL,	   /* --acquire: table of connections handed out full, a hold not timed */
	DROP_NR,
};

enum poolwait_counter {
	CNT_CALLS,     /* socket calls on traced connections */
	CNT_UNMATCHED, /* ReadyForQuery with no request seen (one in flight when the trace began) */
	CNT_CONNECT_FAILED, /* connect() to the server that failed */
	CNT_NR,
};

/* Where a connection is in its life, and what it is doing. */
enum conn_state {
	CS_CONNECTING, /* connect() called, not yet done */
	CS_STARTUP,    /* connected, before the first ReadyForQuery: authentication */
	CS_IDLE,       /* between requests, no transaction open */
	CS_IDLE_TX,    /* between requests inside a transaction (or a failed one) */
	CS_BUSY,       /* a request in flight */
	CS_UNKNOWN,    /* opened before the trace, nothing seen yet */
	CS_NR,
};

/* One direction's framing: where the next message header is. */
struct framing {
	__u32 skip;	   /* bytes of the current message still to come */
	__u8 hdr[5];	   /* a header split across calls, so far */
	__u8 hlen;	   /* bytes of it */
	__u8 want_status;  /* rx: the next byte is a ReadyForQuery's status */
	__u8 lost;	   /* out of step: looking for a ReadyForQuery at a call's end */
	__u8 untyped;	   /* tx: the next message has no type byte (start-up, SSL request) */
	__u8 await_answer; /* rx: the next byte answers an SSL or GSS request */
	__u8 joined;	   /* found open: the first call seen may begin inside a message */
	__u8 pad;
};

struct conn_key {
	__u32 tgid;
	__s32 fd;
};

struct conn {
	__u64 id;	    /* unique over the trace: fds are reused */
	__u32 pid, tid;	    /* the process, and the thread that connected */
	__u64 connect_ns;   /* connect() entered (0: opened before the trace) */
	__u64 connected_ns; /* connect() returned or, non-blocking, the first send */
	__u64 ready_ns;	    /* the first ReadyForQuery */
	__u64 since_ns;	    /* the state began */
	__u64 state_ns[CS_NR];
	__u64 rt_count, rt_total_ns, rt_max_ns;
	__u64 bytes_tx, bytes_rx;
	__u64 req_start[MAX_PIPELINE]; /* of the requests in flight, oldest at rq_head */
	__u32 req_tid[MAX_PIPELINE];   /* the threads that sent them */
	__u64 seg_start;	       /* the request being sent began */
	__u32 rq_head, pending;	       /* requests in flight (each ends at a ReadyForQuery) */
	__u32 errors;		       /* ErrorResponse messages */
	__u8 state, tls, before_trace, nonblocking;
	__u8 family, startup_seen;
	__u8 libpq; /* TLS: its round trips come from libpq's functions */
	__u8 pad;
	__s32 fd, pad2;
	__u16 lport, rport; /* host order */
	__u8 laddr[16], raddr[16];
	__u64 ino; /* the socket's inode */
	struct framing tx, rx;
	__u32 fine[HIST_FINE_SLOTS]; /* round trips */
};

/* Per process: how many connections are open and how many could take a request now. */
struct proc {
	__s64 open, avail;
	__u64 exh_since; /* every open connection in use since, or 0 */
	__u64 exh_ns, exh_count, exh_max_ns;
	__u64 opens, closes, connect_failed;
};

enum event_kind {
	EV_OPEN,  /* a connection opened (or was found at the start) */
	EV_CLOSE, /* it closed: its last record */
	EV_STMT,  /* --statements: a round trip and the text of its statement */
};

#define STMT_LEN 160 /* of a statement's text kept: the rest is cut */

struct stmt_text {
	char text[STMT_LEN];
};

struct stmt_event {
	__u32 kind, pid;
	__u64 ns; /* the round trip */
	struct stmt_text t;
};

struct event {
	__u32 kind;
	__u32 pad;
	__u64 ts;
	struct conn c;
};

/* --by thread|actor: round trips by the thread that sent the request. */
struct thread_rt {
	__u32 pid, pad;
	char comm[TASK_COMM_LEN]; /* as it sent its first request */
	__u64 count, total_ns, max_ns;
	__u32 fine[HIST_FINE_SLOTS];
};

/* --libpq: what each probed libpq function is (its cookie). */
enum { LPQ_SEND, LPQ_GETRESULT, LPQ_CONNPOLL };

/* --acquire: the pool's acquire function (cookie ACQ_ACQUIRE) and its release. */
enum { ACQ_ACQUIRE, ACQ_RELEASE };

struct acquire_totals {
	__u64 calls, wait_ns, max_ns;
	__u64 holds, hold_ns;
	__s64 waiting, waiting_max;
	__u64 off_ns[REASON_NR]; /* of the waits: off the CPU, by the reason it left */
	__u32 fine[HIST_FINE_SLOTS];
};

/* What the server is: an address and port, or a unix socket file by its path's hash. */
struct pw_endpoint {
	__u16 family;
	__u16 port; /* network order */
	__u8 addr[16];
	__u64 path_hash;
};

/* FNV-1a of a socket path, as both sides compute it. */
static inline __u64 pw_path_hash_step(__u64 h, unsigned char c)
{
	return (h ^ c) * 0x100000001b3ULL;
}
#define PW_PATH_HASH_SEED 0xcbf29ce484222325ULL

#endif
