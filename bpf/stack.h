/* SPDX-License-Identifier: GPL-2.0 */
/* A stack as the programs store it, shared with user space. */
#ifndef WAITSCOPE_STACK_H
#define WAITSCOPE_STACK_H

#define MAX_STACK_DEPTH 127

/* A stack is stored once, keyed by a 64-bit hash of its frames. */
struct stack {
	__u32 nr;
	__u32 pad;
	__u64 ips[MAX_STACK_DEPTH];
};

#endif
