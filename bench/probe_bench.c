/* SPDX-License-Identifier: MIT */
/*
 * probe_bench.c: benchmark driver (not a test) for rip_probe_run, the call
 * a rollout's bake makes every probe_interval. Reads URLs, one a line, and
 * probes all of them at once, ROUNDS times back to back, in one process,
 * exactly as the rollout does: nothing of libcurl is touched here.
 *
 *   probe_bench URLFILE ROUNDS TIMEOUT_MS
 *
 * ROUNDS 0: one round per line read from stdin, until EOF (bench/probe.sh
 * interleaves the rounds with curl's that way, in one long-lived process
 * like the rollout's). Prints to stdout, for bench/probe.sh to parse:
 *   fail round=K count=N reason=TEXT      (one per distinct error text)
 *   round=K n=N wall_s=S cpu_s=S ok=N failed=N p50_ms=X p99_ms=X max_ms=X
 *   total rounds=R cpu_user_s=S cpu_sys_s=S maxrss_kib=N nofile=N
 * cpu_s is this process's user + system time over the round (getrusage),
 * so libcurl's resolver threads count too. Latencies are the probes' own.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "ripcord/probe.h"

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double tv(struct timeval t)
{
	return (double)t.tv_sec + (double)t.tv_usec / 1e6;
}

static double cpu_now(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return tv(ru.ru_utime) + tv(ru.ru_stime);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int cmp_error(const void *a, const void *b)
{
	const struct rip_probe *x = a, *y = b;

	return strcmp(x->error, y->error);
}

/* Reads the non-empty lines of path; NULL (and a message) on failure. */
static char **read_urls(const char *path, size_t *n)
{
	char **urls = NULL, line[4096];
	size_t len, cap = 0;
	FILE *f = fopen(path, "r");

	*n = 0;
	if (!f) {
		fprintf(stderr, "probe_bench: cannot open '%s': %s\n", path,
			strerror(errno));
		return NULL;
	}
	while (fgets(line, sizeof(line), f)) {
		len = strcspn(line, "\r\n");
		line[len] = '\0';
		if (!len)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 1024;
			urls = realloc(urls, cap * sizeof(*urls));
		}
		if (!urls || !(urls[*n] = strdup(line))) {
			fprintf(stderr, "probe_bench: out of memory\n");
			exit(1);
		}
		(*n)++;
	}
	fclose(f);
	return urls;
}

/* The distinct error texts of the failed probes, with their counts. */
static void print_failures(int round, const struct rip_probe *probes,
	size_t n)
{
	struct rip_probe *failed = calloc(n ? n : 1, sizeof(*failed));
	size_t i, j, k = 0;

	if (!failed)
		exit(1);
	for (i = 0; i < n; i++)
		if (!probes[i].ok)
			failed[k++] = probes[i];
	qsort(failed, k, sizeof(*failed), cmp_error);
	for (i = 0; i < k; i = j) {
		for (j = i; j < k && !strcmp(failed[i].error, failed[j].error);
			j++)
			;
		printf("fail round=%d count=%zu reason=%s\n", round, j - i,
			failed[i].error);
	}
	free(failed);
}

static int run_round(int round, struct rip_probe *probes, size_t n,
	uint64_t timeout_ms, double *lat)
{
	struct rip_err err = {0};
	double t0, c0, wall, cpu;
	size_t i, ok = 0;

	c0 = cpu_now();
	t0 = mono();
	if (rip_probe_run(probes, n, timeout_ms, &err) < 0) {
		fprintf(stderr, "probe_bench: %s\n", err.msg);
		return -1;
	}
	wall = mono() - t0;
	cpu = cpu_now() - c0;
	for (i = 0; i < n; i++) {
		lat[i] = probes[i].seconds * 1e3;
		ok += probes[i].ok;
	}
	qsort(lat, n, sizeof(*lat), cmp_double);
	print_failures(round, probes, n);
	printf("round=%d n=%zu wall_s=%.6f cpu_s=%.6f ok=%zu failed=%zu "
		"p50_ms=%.3f p99_ms=%.3f max_ms=%.3f\n", round, n, wall, cpu,
		ok, n - ok, lat[n / 2], lat[(n * 99 + 99) / 100 - 1],
		lat[n - 1]);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	struct rip_probe *probes;
	struct rlimit rl;
	struct rusage ru;
	char **urls, go[64];
	uint64_t timeout_ms;
	double *lat;
	size_t n, i;
	int rounds, r;

	if (argc != 4) {
		fprintf(stderr, "usage: probe_bench URLFILE ROUNDS TIMEOUT_MS\n");
		return 2;
	}
	urls = read_urls(argv[1], &n);
	rounds = (int)strtol(argv[2], NULL, 10);
	timeout_ms = strtoull(argv[3], NULL, 10);
	if (!urls || !n || rounds < 0)
		return 2;
	probes = calloc(n, sizeof(*probes));
	lat = calloc(n, sizeof(*lat));
	if (!probes || !lat)
		return 1;
	for (i = 0; i < n; i++)
		probes[i].url = urls[i];
	for (r = 1; rounds ? r <= rounds : fgets(go, sizeof(go), stdin) != NULL;
		r++)
		if (run_round(r, probes, n, timeout_ms, lat) < 0)
			return 1;
	rounds = r - 1;
	getrusage(RUSAGE_SELF, &ru);
	getrlimit(RLIMIT_NOFILE, &rl);
	printf("total rounds=%d cpu_user_s=%.6f cpu_sys_s=%.6f maxrss_kib=%ld "
		"nofile=%llu\n", rounds, tv(ru.ru_utime), tv(ru.ru_stime),
		ru.ru_maxrss, (unsigned long long)rl.rlim_cur);
	for (i = 0; i < n; i++)
		free(urls[i]);
	free(urls);
	free(probes);
	free(lat);
	return 0;
}
