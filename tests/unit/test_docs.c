/* SPDX-License-Identifier: MIT */
/*
 * test_docs.c: the documentation keeps up with the code: every config key
 * the parser knows is in ripcord.ini(5), and every command has its page.
 */
#include "helpers.h"

#include "ripcord/config.h"
#include "ripcord/fsutil.h"

static const char *const commands[] = {
	"init", "keygen", "cut", "verify", "releases", "migrate", "deploy",
	"rollout", "rollback", "log", "status", "gc", "drill", "report",
	"agent", "targets",
};

static void read_page(struct rip_buf *out, const char *name)
{
	struct rip_err err = { 0 };
	const char *root = getenv("SOURCE_ROOT");
	char path[512];

	assert_non_null(root);
	snprintf(path, sizeof(path), "%s/man/%s", root, name);
	if (rip_read_file(out, path, 1 << 20, &err) < 0)
		fail_msg("%s", err.msg);
}

static void test_every_key_documented(void **state)
{
	struct rip_buf page = RIP_BUF_INIT;

	(void)state;
	read_page(&page, "ripcord.ini.5.scd");
	for (size_t i = 0; i < rip_config_nkeys; i++) {
		char needle[128];

		snprintf(needle, sizeof(needle), "*%s*", rip_config_keys[i].name);
		if (!strstr(page.buf, needle))
			fail_msg("ripcord.ini(5) does not document [%s] %s",
				rip_config_keys[i].section, rip_config_keys[i].name);
	}
	rip_buf_release(&page);
}

static void test_every_command_has_a_page(void **state)
{
	struct rip_buf main_page = RIP_BUF_INIT;

	(void)state;
	read_page(&main_page, "ripcord.1.scd");
	assert_non_null(strstr(main_page.buf, "EXIT STATUS"));
	for (size_t i = 0; i < RIP_ARRAY_SIZE(commands); i++) {
		struct rip_buf page = RIP_BUF_INIT;
		char name[64], ref[64];

		snprintf(name, sizeof(name), "ripcord-%s.1.scd", commands[i]);
		read_page(&page, name);
		snprintf(ref, sizeof(ref), "ripcord-%s", commands[i]);
		assert_non_null(strstr(page.buf, ref));
		if (!strstr(main_page.buf, ref))
			fail_msg("ripcord(1) does not point to %s", ref);
		rip_buf_release(&page);
	}
	rip_buf_release(&main_page);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_key_documented),
		cmocka_unit_test(test_every_command_has_a_page),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
