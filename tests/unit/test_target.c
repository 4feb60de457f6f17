/* SPDX-License-Identifier: MIT */
/*
 * test_target.c: deploy roots: what counts as ours, the atomic switch of
 * current, removal that never touches what runs, and the clean-up of what
 * interrupted extractions left.
 */
#include "helpers.h"

#include <sys/stat.h>

#include "ripcord/fsutil.h"
#include "ripcord/target.h"

static char root[600];

static void mkrel(const char *id)
{
	char *d = rip_root_release_dir(root, id);
	struct rip_err err = { 0 };

	assert_int_equal(rip_mkdir_p(d, 0755, &err), 0);
	free(d);
}

static int setup(void **state)
{
	int rc = tmpdir_setup(state);

	snprintf(root, sizeof(root), "%s", tpath(state, "srv/web-1"));
	return rc;
}

static void test_prepare_new_root(void **state)
{
	struct rip_root_state st;
	struct rip_err err = { 0 };

	(void)state;
	assert_int_equal(rip_root_prepare(root, &err), 0);
	assert_true(rip_is_dir(root));
	assert_int_equal(rip_root_inspect(&st, root, &err), 0);
	assert_null(st.current);
	assert_true(st.has_releases);
	assert_int_equal(st.extracted.n, 0);
	rip_root_state_release(&st);
	/* preparing again is fine */
	assert_int_equal(rip_root_prepare(root, &err), 0);
}

static void test_not_ours(void **state)
{
	struct rip_err err = { 0 };
	char path[700];

	(void)state;
	assert_int_equal(rip_mkdir_p(root, 0755, &err), 0);
	snprintf(path, sizeof(path), "%s/index.html", root);
	write_text(path, "someone's site\n");
	assert_int_equal(rip_root_prepare(root, &err), RIP_EEXISTS);
	assert_err_contains(&err, "it is not ours");
	/* nothing was created */
	snprintf(path, sizeof(path), "%s/releases", root);
	assert_false(rip_path_exists(path));
}

static void test_current_not_a_link(void **state)
{
	struct rip_root_state st;
	struct rip_err err = { 0 };
	char path[700];

	(void)state;
	assert_int_equal(rip_root_prepare(root, &err), 0);
	snprintf(path, sizeof(path), "%s/current", root);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(rip_root_prepare(root, &err), RIP_ESECURITY);
	assert_err_contains(&err, "is not a symlink");
	assert_int_equal(rip_root_inspect(&st, root, &err), RIP_ESECURITY);
	mkrel("v1");
	assert_int_equal(rip_root_switch(root, "v1", &err), RIP_ESECURITY);
	assert_true(rip_is_dir(path));  /* never overwritten */
}

static void test_switch(void **state)
{
	struct rip_root_state st;
	struct rip_err err = { 0 };
	char link[700], buf[256];
	ssize_t n;

	(void)state;
	assert_int_equal(rip_root_prepare(root, &err), 0);
	mkrel("v1");
	mkrel("v2");
	assert_int_equal(rip_root_switch(root, "v1", &err), 0);
	snprintf(link, sizeof(link), "%s/current", root);
	n = readlink(link, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, "releases/v1");  /* relative */
	assert_int_equal(rip_root_switch(root, "v2", &err), 0);
	assert_int_equal(rip_root_inspect(&st, root, &err), 0);
	assert_string_equal(st.current, "v2");
	assert_int_equal(st.extracted.n, 2);
	assert_string_equal(st.extracted.v[0], "v1");
	rip_root_state_release(&st);
	/* no temporary link is left behind */
	assert_int_equal(count_entries(root), 2);  /* releases, current */
	/* a release that is not extracted cannot be switched to */
	assert_int_equal(rip_root_switch(root, "v3", &err), RIP_ENOTFOUND);
	assert_err_contains(&err, "release 'v3' is not extracted");
	assert_int_equal(rip_root_switch(root, "../x", &err), RIP_EUSAGE);
}

static void test_current_points_elsewhere(void **state)
{
	struct rip_root_state st;
	struct rip_err err = { 0 };
	char link[700];

	(void)state;
	assert_int_equal(rip_root_prepare(root, &err), 0);
	snprintf(link, sizeof(link), "%s/current", root);
	assert_int_equal(symlink("/etc", link), 0);
	assert_int_equal(rip_root_inspect(&st, root, &err), RIP_ESECURITY);
	assert_err_contains(&err, "points at '/etc', not at releases/<id>");
}

static void test_remove(void **state)
{
	struct rip_err err = { 0 };
	char path[700];
	char *d;

	(void)state;
	assert_int_equal(rip_root_prepare(root, &err), 0);
	mkrel("v1");
	mkrel("v2");
	d = rip_root_release_dir(root, "v1");
	snprintf(path, sizeof(path), "%s/app.txt", d);
	write_text(path, "x");
	assert_int_equal(rip_root_switch(root, "v2", &err), 0);
	assert_int_equal(rip_root_remove(root, "v2", &err), RIP_EUSAGE);
	assert_err_contains(&err, "it is never removed");
	assert_int_equal(rip_root_remove(root, "v1", &err), 0);
	assert_false(rip_path_exists(d));
	/* removing what is not there is fine */
	assert_int_equal(rip_root_remove(root, "v1", &err), 0);
	free(d);
}

/* Only extract_dest.c's ".<id>.tmp-XXXXXX" folders go. */
static void test_clean_temps(void **state)
{
	static const char *const gone[] = { ".v1.tmp-Ab12Cd",
		".2026-01-02_x+y.tmp-000000" };
	static const char *const kept[] = { "v1", ".keep", ".v1.tmp-short",
		"..v1.tmp-Ab12Cd", ".v1.tmp-Ab12Cdx", ".current.tmp-1-2.d" };
	struct rip_err err = { 0 };
	char path[800];
	size_t n = 99;

	(void)state;
	assert_int_equal(rip_root_clean_temps(&n, root, &err), 0);
	assert_int_equal(n, 0);            /* no root at all */
	assert_int_equal(rip_root_prepare(root, &err), 0);
	for (size_t i = 0; i < RIP_ARRAY_SIZE(gone); i++) {
		snprintf(path, sizeof(path), "%s/releases/%s/a/b", root, gone[i]);
		assert_int_equal(rip_mkdir_p(path, 0755, &err), 0);
	}
	for (size_t i = 0; i < RIP_ARRAY_SIZE(kept); i++) {
		snprintf(path, sizeof(path), "%s/releases/%s", root, kept[i]);
		assert_int_equal(rip_mkdir_p(path, 0755, &err), 0);
	}
	/* a file of such a name is not a folder we made */
	snprintf(path, sizeof(path), "%s/releases/.v2.tmp-zzzzzz", root);
	write_text(path, "x");
	assert_int_equal(rip_root_clean_temps(&n, root, &err), 0);
	assert_int_equal(n, RIP_ARRAY_SIZE(gone));
	for (size_t i = 0; i < RIP_ARRAY_SIZE(gone); i++) {
		snprintf(path, sizeof(path), "%s/releases/%s", root, gone[i]);
		assert_false(rip_path_exists(path));
	}
	for (size_t i = 0; i < RIP_ARRAY_SIZE(kept); i++) {
		snprintf(path, sizeof(path), "%s/releases/%s", root, kept[i]);
		assert_true(rip_is_dir(path));
	}
	snprintf(path, sizeof(path), "%s/releases/.v2.tmp-zzzzzz", root);
	assert_true(rip_path_exists(path));
	assert_int_equal(rip_root_clean_temps(&n, root, &err), 0);
	assert_int_equal(n, 0);
	/* gc's one unfinished extraction at a time: an extraction's
	 * temporary folder only; another dot-folder is someone else's */
	snprintf(path, sizeof(path), "%s/releases/.keep/x", root);
	assert_int_equal(rip_mkdir_p(path, 0755, &err), 0);
	assert_int_equal(rip_root_remove_partial(root, ".keep", &err),
		RIP_EUSAGE);
	assert_true(rip_is_dir(path));
	snprintf(path, sizeof(path), "%s/releases/.v3.tmp-Ab12Cd/payload", root);
	assert_int_equal(rip_mkdir_p(path, 0755, &err), 0);
	assert_int_equal(rip_root_remove_partial(root, ".v3.tmp-Ab12Cd", &err),
		0);
	snprintf(path, sizeof(path), "%s/releases/.v3.tmp-Ab12Cd", root);
	assert_false(rip_path_exists(path));
	assert_int_equal(rip_root_remove_partial(root, ".v2.tmp-zzzzzz", &err),
		RIP_EUSAGE);
	assert_int_equal(rip_root_remove_partial(root, "v1", &err), RIP_EUSAGE);
	assert_int_equal(rip_root_remove_partial(root, ".v9.tmp-aaaaaa", &err),
		0);
	assert_true(rip_root_temp_name(".v9.tmp-aaaaaa"));
	assert_false(rip_root_temp_name(".keep-me"));
	assert_false(rip_root_temp_name(".v9.tmp-aaaaa"));
	assert_false(rip_root_temp_name("..tmp-aaaaaa"));
}

/* A folder outside the root, with a release folder and an extraction's
 * dot-folder of its own, and the path of its "v1". */
static void outside_folder(void **state, char *out, size_t n)
{
	struct rip_err err = { 0 };
	char path[800];

	snprintf(out, n, "%s", tpath(state, "outside"));
	snprintf(path, sizeof(path), "%s/v1/app", out);
	assert_int_equal(rip_mkdir_p(path, 0755, &err), 0);
	snprintf(path, sizeof(path), "%s/v1/app/data", out);
	write_text(path, "precious");
	snprintf(path, sizeof(path), "%s/.v2.tmp-Ab12Cd", out);
	assert_int_equal(rip_mkdir_p(path, 0755, &err), 0);
}

/* releases/ planted as a link out of the root: nothing reads, removes or
 * switches through it. */
static void test_releases_link(void **state)
{
	struct rip_root_state st;
	struct rip_err err = { 0 };
	char out[700], path[800];
	size_t n = 99;

	outside_folder(state, out, sizeof(out));
	assert_int_equal(rip_mkdir_p(root, 0755, &err), 0);
	snprintf(path, sizeof(path), "%s/releases", root);
	assert_int_equal(symlink(out, path), 0);
	assert_int_equal(rip_root_remove(root, "v1", &err), RIP_ESECURITY);
	assert_err_contains(&err, "is a symbolic link");
	assert_int_equal(rip_root_clean_temps(&n, root, &err), RIP_ESECURITY);
	assert_int_equal(rip_root_remove_partial(root, ".v2.tmp-Ab12Cd", &err),
		RIP_ESECURITY);
	assert_int_equal(rip_root_inspect(&st, root, &err), RIP_ESECURITY);
	assert_int_equal(rip_root_switch(root, "v1", &err), RIP_ESECURITY);
	assert_int_equal(rip_root_prepare(root, &err), RIP_ESECURITY);
	snprintf(path, sizeof(path), "%s/v1/app/data", out);
	assert_true(rip_path_exists(path));
	snprintf(path, sizeof(path), "%s/.v2.tmp-Ab12Cd", out);
	assert_true(rip_is_dir(path));
	snprintf(path, sizeof(path), "%s/current", root);
	assert_false(rip_path_exists(path));
}

/* releases/<id> planted as a link: not a release of ours, so it is not
 * listed, switched to or removed (not even the link). */
static void test_release_link(void **state)
{
	struct rip_root_state st;
	struct rip_err err = { 0 };
	char out[700], path[800];

	outside_folder(state, out, sizeof(out));
	assert_int_equal(rip_root_prepare(root, &err), 0);
	mkrel("v2");
	snprintf(path, sizeof(path), "%s/v1", out);
	snprintf(out, sizeof(out), "%s/releases/v1", root);
	assert_int_equal(symlink(path, out), 0);
	assert_int_equal(rip_root_inspect(&st, root, &err), 0);
	assert_int_equal(st.extracted.n, 1);
	assert_string_equal(st.extracted.v[0], "v2");
	rip_root_state_release(&st);
	assert_int_equal(rip_root_switch(root, "v1", &err), RIP_ESECURITY);
	assert_err_contains(&err, "is a symbolic link");
	assert_int_equal(rip_root_remove(root, "v1", &err), RIP_ESECURITY);
	assert_true(rip_path_exists(out));
	snprintf(path, sizeof(path), "%s/v1/app/data", tpath(state, "outside"));
	assert_true(rip_path_exists(path));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_prepare_new_root, setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_not_ours, setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_current_not_a_link, setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_switch, setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_current_points_elsewhere,
			setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_remove, setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_clean_temps, setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_releases_link, setup,
			tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_release_link, setup,
			tmpdir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
