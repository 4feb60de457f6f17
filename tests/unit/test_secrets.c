/* SPDX-License-Identifier: MIT */
/*
 * test_secrets.c: the secret sniffer cut runs over every blob. PEM private
 * keys (and not public keys, certificates or source that merely names
 * them), .env files by name (and not their templates), AWS access key ids
 * (and not look-alikes), at the edges of the buffer and inside binary
 * data. Buffers are allocated to their exact length so that ASan catches
 * a read past the end.
 */
#include "helpers.h"

#include "ripcord/secrets.h"

/* rip_secret_reason over an exact-length heap copy of len bytes of data. */
static const char *reason_n(const char *path, const char *data, size_t len)
{
	char *copy = malloc(len ? len : 1);
	const char *why;

	assert_non_null(copy);
	memcpy(copy, data, len);
	why = rip_secret_reason(path, copy, len);
	free(copy);
	return why;
}

static const char *reason(const char *path, const char *text)
{
	return reason_n(path, text, strlen(text));
}

static void assert_reason(const char *why, const char *needle,
	const char *what)
{
	if (!why)
		fail_msg("%s: not detected", what);
	if (!strstr(why, needle))
		fail_msg("%s: reason '%s' lacks '%s'", what, why, needle);
}

static void test_pem_private_keys(void **state)
{
	static const char *const keys[] = {
		"-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n"
		"-----END RSA PRIVATE KEY-----\n",
		"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEA\n"
		"-----END OPENSSH PRIVATE KEY-----\n",
		"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI\n"
		"-----END PRIVATE KEY-----\n",
		"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG\n"
		"-----END ENCRYPTED PRIVATE KEY-----\n",
		"-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEI\n",
		/* after other PEM blocks and text */
		"# deploy key\n-----BEGIN CERTIFICATE-----\nMIIB\n"
		"-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nMC4\n",
	};

	(void)state;
	for (size_t i = 0; i < RIP_ARRAY_SIZE(keys); i++)
		assert_reason(reason("keys/deploy.pem", keys[i]), "private key",
			keys[i]);
}

static void test_pem_not_private(void **state)
{
	static const char *const harmless[] = {
		"-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n"
		"-----END PUBLIC KEY-----\n",
		"-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgI\n"
		"-----END CERTIFICATE-----\n",
		"-----BEGIN RSA PUBLIC KEY-----\nMIIBCgKCAQEA\n",
		"#define PEM_STRING \"RSA PRIVATE KEY\"\n",
		"#define PEM_STRING_PKCS8 \"ENCRYPTED PRIVATE KEY\"\n"
		"#define PEM_STRING_PKCS8INF \"PRIVATE KEY\"\n",
		"# read a file holding a PRIVATE KEY\n",
		"-----BEGIN private key-----\n",
		"",
	};

	(void)state;
	for (size_t i = 0; i < RIP_ARRAY_SIZE(harmless); i++) {
		const char *why = reason("src/pem.h", harmless[i]);

		if (why)
			fail_msg("'%s' flagged as %s", harmless[i], why);
	}
}

static void test_env_files(void **state)
{
	static const struct {
		const char *path;
		bool secret;
	} cases[] = {
		{ ".env", true },
		{ "config/.env", true },
		{ ".env.production", true },
		{ "deploy/prod/.env.local", true },
		{ ".env.example", false },
		{ ".env.sample", false },
		{ "config/.env.example", false },
		{ ".envrc", false },
		{ "env.txt", false },
		{ "config/env", false },
		{ "docs/.environment.md", false },
		{ "x.env", false },
	};

	(void)state;
	for (size_t i = 0; i < RIP_ARRAY_SIZE(cases); i++) {
		/* the name alone decides: the content is harmless */
		const char *why = reason(cases[i].path, "PORT=8080\n");

		if (cases[i].secret)
			assert_reason(why, ".env", cases[i].path);
		else if (why)
			fail_msg("'%s' flagged as %s", cases[i].path, why);
	}
	/* an empty .env is still one */
	assert_reason(reason(".env", ""), ".env", "empty .env");
}

static void test_aws_key_ids(void **state)
{
	static const struct {
		const char *text;
		bool secret;
	} cases[] = {
		{ "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n", true },
		{ "key: \"ASIAY34FZKBOKMUTVV7A\"", true },
		{ "AKIA0123456789ABCDEF,", true },
		{ "id=AKIAIOSFODNN7EXAMPLE;next", true },
		/* inside a longer word */
		{ "XAKIAIOSFODNN7EXAMPLE", false },
		{ "AKIAIOSFODNN7EXAMPLEX", false },
		{ "AKIAIOSFODNN7EXAMPLE1", false },
		{ "fooASIAIOSFODNN7EXAMPLE", false },
		{ "AKIAIOSFODNN7EXAMPLEs", false },
		/* 15 characters after the anchor */
		{ "AKIAIOSFODNN7EXAMPL ", false },
		{ "AKIAIOSFODNN7EXAMPL", false },
		/* lowercase */
		{ "akiaiosfodnn7example", false },
		{ "AKIAiosfodnn7example", false },
		{ "AKIAIOSFODNN7EXAMPLe", false },
		{ "asiaY34FZKBOKMUTVV7A", false },
		/* other prefixes */
		{ "AKIBIOSFODNN7EXAMPLE", false },
		{ "ABIAIOSFODNN7EXAMPLE", false },
	};

	(void)state;
	for (size_t i = 0; i < RIP_ARRAY_SIZE(cases); i++) {
		const char *why = reason("src/settings.py", cases[i].text);

		if (cases[i].secret)
			assert_reason(why, "AWS", cases[i].text);
		else if (why)
			fail_msg("'%s' flagged as %s", cases[i].text, why);
	}
}

/* Anchors at offset 0 and ending exactly at the last byte of the buffer. */
static void test_buffer_edges(void **state)
{
	static const char pem[] = "-----BEGIN PRIVATE KEY-----";
	static const char aws[] = "AKIAIOSFODNN7EXAMPLE";
	static const char asia[] = "ASIAIOSFODNN7EXAMPLE";

	(void)state;
	/* the whole buffer is the secret: no byte before nor after */
	assert_reason(reason_n("a.pem", pem, sizeof(pem) - 1), "private key",
		"bare PEM header");
	assert_reason(reason_n("a.txt", aws, sizeof(aws) - 1), "AWS",
		"bare AKIA id");
	assert_reason(reason_n("a.txt", asia, sizeof(asia) - 1), "AWS",
		"bare ASIA id");
	/* at the very start, then text */
	assert_reason(reason("a.txt", "AKIAIOSFODNN7EXAMPLE is the id"), "AWS",
		"AKIA at start");
	/* text, then at the very end */
	assert_reason(reason("a.txt", "the id is ASIAIOSFODNN7EXAMPLE"), "AWS",
		"ASIA at end");
	assert_reason(reason("a.txt", "key:\n-----BEGIN PRIVATE KEY-----"),
		"private key", "PEM at end");
	/* cut one byte short of complete at the end of the buffer */
	assert_null(reason_n("a.txt", aws, sizeof(aws) - 2));
	assert_null(reason_n("a.pem", pem, sizeof(pem) - 2));
	/* only the anchor, at the very end */
	assert_null(reason("a.txt", "prefix AKIA"));
	assert_null(reason("a.txt", "-----BEGIN "));
	assert_null(reason("a.txt", "-----BEGIN PRIVATE KEY"));
}

static void test_binary_data(void **state)
{
	static const char aws[] = "\x00\x01\xff\x00" "AKIAIOSFODNN7EXAMPLE"
		"\x00\x7f\x00";
	static const char pem[] = "\x00\x00\x89PNG\x00"
		"-----BEGIN RSA PRIVATE KEY-----\x00\xfe";
	static const char plain[] = "\x00\x01\x02AKIA\x00IOSFODNN7EXAMPLE\x00"
		"-----BEGIN PUBLIC KEY-----\x00";
	static const char split[] = "\x00-----BEGIN RSA PRIVATE\x00KEY-----\x00";

	(void)state;
	assert_reason(reason_n("bin/blob", aws, sizeof(aws) - 1), "AWS",
		"AKIA between NULs");
	assert_reason(reason_n("bin/blob", pem, sizeof(pem) - 1),
		"private key", "PEM between NULs");
	assert_null(reason_n("bin/blob", plain, sizeof(plain) - 1));
	assert_null(reason_n("bin/blob", split, sizeof(split) - 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pem_private_keys),
		cmocka_unit_test(test_pem_not_private),
		cmocka_unit_test(test_env_files),
		cmocka_unit_test(test_aws_key_ids),
		cmocka_unit_test(test_buffer_edges),
		cmocka_unit_test(test_binary_data),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
