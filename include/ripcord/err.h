/* SPDX-License-Identifier: MIT */
/*
 * err.h: error codes and the error detail carried up the call chain.
 *
 * Functions that can fail return 0 or a negative enum rip_code. The codes
 * never change meaning; the CLI maps them to exit codes in one place.
 */
#ifndef RIPCORD_ERR_H
#define RIPCORD_ERR_H

#include "ripcord/common.h"

enum rip_code {
	RIP_OK = 0,
	RIP_EFAIL = -1,      /* the operation ran and failed */
	RIP_EUSAGE = -2,     /* bad command line */
	RIP_ECONFIG = -3,    /* bad configuration */
	RIP_ENOTFOUND = -4,  /* a named thing does not exist */
	RIP_EEXISTS = -5,    /* refusing to overwrite */
	RIP_EINTEGRITY = -6, /* checksum, manifest or archive mismatch */
	RIP_ESECURITY = -7,  /* signature, secrets, hostile input */
	RIP_EBUSY = -8,      /* another operation holds the lock */
	RIP_EINTR = -9,      /* interrupted; state saved */
	RIP_EIO = -10,       /* a system call failed */
	RIP_ENOMEM = -11,
	RIP_EGIT = -12,      /* libgit2 failed */
	RIP_EDB = -13,       /* the state database failed */
	RIP_EUNREACH = -14,  /* a remote host could not be reached or did
				not answer (ssh failed, timed out) */
};

struct rip_err {
	int code;
	char msg[1024];
};

/* Records code and message in err (if not NULL); returns code. */
int rip_err_set(struct rip_err *err, int code, const char *fmt, ...)
	RIP_PRINTF(3, 4);

/* Like rip_err_set, appending ": strerror(errno)". Returns code. */
int rip_err_errno(struct rip_err *err, int code, const char *fmt, ...)
	RIP_PRINTF(3, 4);

/* Prepends "context: " to the message; returns err->code (or RIP_EFAIL). */
int rip_err_prefix(struct rip_err *err, const char *fmt, ...) RIP_PRINTF(2, 3);

/* Empties err. */
void rip_err_clear(struct rip_err *err);

/* The process exit code DESIGN.md assigns to a code (0..5). */
int rip_err_exit_code(int code);

#endif
