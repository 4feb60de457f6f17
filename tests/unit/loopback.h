/* SPDX-License-Identifier: MIT */
/*
 * loopback.h: real HTTP servers on 127.0.0.1 for the unit tests of the
 * code that speaks HTTP (probe, gate, notify). A forking server runs in
 * its own process group, one process per connection, so a test can make
 * an endpoint hang or stream without stalling the others, and teardown
 * kills them all.
 */
#ifndef RIPCORD_TEST_LOOPBACK_H
#define RIPCORD_TEST_LOOPBACK_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* Writes all of data; a peer that went away ends the connection process. */
static inline void write_all(int fd, const char *data, size_t len)
{
	ssize_t w;

	while (len > 0) {
		w = write(fd, data, len);
		if (w <= 0)
			_exit(0);
		data += w;
		len -= (size_t)w;
	}
}

/* Reads until the end of the request head (or n - 1 bytes); NUL-terminates. */
static inline void read_head(int fd, char *buf, size_t n)
{
	size_t len = 0;
	ssize_t r;

	memset(buf, 0, n);
	while (len < n - 1 && !strstr(buf, "\r\n\r\n")) {
		r = read(fd, buf + len, n - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
		buf[len] = '\0';
	}
}

/* A TCP socket bound to 127.0.0.1 on a free port; the port in *port. */
static inline int bind_loopback(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
		getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static inline _Noreturn void loopback_loop(int lfd, void (*serve)(int fd))
{
	pid_t pid;
	int fd;

	signal(SIGCHLD, SIG_IGN); /* connection processes reap themselves */
	signal(SIGPIPE, SIG_DFL);
	for (;;) {
		fd = accept(lfd, NULL, NULL);
		if (fd < 0 && errno == EINTR)
			continue;
		if (fd < 0)
			_exit(1);
		pid = fork();
		if (pid == 0) {
			close(lfd);
			serve(fd);
			_exit(0);
		}
		close(fd);
	}
}

/*
 * Starts a forking server calling serve(fd) for each connection; its pid
 * and port in *pid and *port. Listening starts before the fork, so there
 * is no race with the child's start. 0, or -1.
 */
static inline int loopback_start(pid_t *pid, int *port, int backlog,
	void (*serve)(int fd))
{
	int lfd = bind_loopback(port);

	if (lfd < 0 || listen(lfd, backlog) < 0)
		return -1;
	*pid = fork();
	if (*pid < 0)
		return -1;
	if (*pid == 0) {
		setpgid(0, 0);
		loopback_loop(lfd, serve);
	}
	setpgid(*pid, *pid);
	close(lfd);
	return 0;
}

/* Kills the server and every connection process it started. */
static inline void loopback_stop(pid_t pid)
{
	if (pid > 0) {
		kill(-pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

#endif
