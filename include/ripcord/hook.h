/* SPDX-License-Identifier: MIT */
/*
 * hook.h: running a user's hook script (activate, gate_command, weight
 * hooks, the command driver's program) the one safe way: posix_spawn with
 * an argument vector, ripcord's environment plus named variables, a
 * timeout, and the output captured for the log.
 */
#ifndef RIPCORD_HOOK_H
#define RIPCORD_HOOK_H

#include <spawn.h>
#include <stdatomic.h>

#include "ripcord/buf.h"
#include "ripcord/err.h"

struct rip_hook_env {
	const char *name;         /* e.g. "RIPCORD_TARGET" */
	const char *value;        /* NULL: unset it for the hook */
};

struct rip_hook_result {
	int exit_code;            /* when it exited; -1 when it did not */
	int signal;               /* the signal that ended it, or 0 */
	bool started;             /* false: it never ran (no such file, not
				     executable, bad cwd: err says which) */
	bool timed_out;           /* it ran past the timeout (SIGTERM, then
				     SIGKILL 2 s later if still there) */
	bool stopped;             /* ended the same way because its caller
				     asked (rip_hook_run_stoppable) */
	pid_t pgid;               /* its process group (its pid) once it
				     started, else 0: what it left running
				     (a service it started) is in it */
	double seconds;
	struct rip_buf output;    /* stdout and stderr, interleaved: the last
				     64 KiB, after a "[... N bytes dropped]"
				     line when there was more */
};

/*
 * Runs argv[0] (an absolute path; no PATH search, no shell) with argv, in
 * cwd (or ripcord's when NULL), with ripcord's environment plus
 * env[0..nenv) (a NULL value removes the variable). stdin is /dev/null;
 * no descriptor of ours beyond 0-2 is inherited. After timeout_ms (0:
 * none) the hook's whole process group gets SIGTERM, then SIGKILL 2 s
 * later. Once the hook exited, whatever it started that still holds its
 * output gets 1 s, then its group is killed: a hook that starts a service
 * must detach it and redirect its output. Returns 0 when the hook ran to an
 * exit (whatever its code: check out->exit_code), RIP_EFAIL when it could
 * not start or timed out (err says which, with the last output lines),
 * RIP_EIO when a system call of ours failed. out is set on every return;
 * release it with rip_hook_result_release.
 */
RIP_MUST_CHECK int rip_hook_run(struct rip_hook_result *out,
	const char *const *argv, const char *cwd,
	const struct rip_hook_env *env, size_t nenv, uint64_t timeout_ms,
	struct rip_err *err);

/*
 * rip_hook_run that also ends the hook when *stop turns true (another
 * thread sets it; it is read every 100 ms): its process group gets
 * SIGTERM, then SIGKILL 2 s later, as on a timeout. Then out->stopped is
 * set and it returns RIP_EINTR, err naming the hook and how it ended. A
 * hook that exits on its own first is not stopped.
 */
RIP_MUST_CHECK int rip_hook_run_stoppable(struct rip_hook_result *out,
	const char *const *argv, const char *cwd,
	const struct rip_hook_env *env, size_t nenv, uint64_t timeout_ms,
	const atomic_bool *stop, struct rip_err *err);
void rip_hook_result_release(struct rip_hook_result *r);

/*
 * What every process ripcord starts gets (hooks, ssh), appended after the
 * caller's own file actions (its dup2s onto 0-2): no descriptor of ours
 * beyond 0-2 (closefrom, where the C library has it: one opened without
 * O_CLOEXEC, a lock, must not outlive us in a daemon or a ControlPersist
 * master it starts), its own process group (a ^C is ours to handle, and
 * we end the whole group), default signal dispositions and an empty
 * signal mask. Returns 0 or an errno value.
 */
int rip_spawn_defaults(posix_spawn_file_actions_t *fa, posix_spawnattr_t *at);

#endif
