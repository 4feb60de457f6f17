/* SPDX-License-Identifier: MIT */
/*
 * sqltok.h: the library's one SQL scanner, shared inside it. It cuts a
 * script into tokens without knowing any statement; the drivers' splitter
 * (rip_sql_next and friends, below, in sqltok.c) and lint read scripts
 * through it.
 *
 * Two readings. The plain one, the drivers', knows quotes, dollar quotes
 * and comments and nothing else: every other byte is a token of its own,
 * and block comments end at the first close. The careful one, lint's,
 * also reads words and numbers, E'...' strings (a backslash escapes the
 * next byte) and nested block comments, as PostgreSQL does.
 */
#ifndef RIPCORD_SQLTOK_H
#define RIPCORD_SQLTOK_H

#include "ripcord/common.h"

enum rip_sqltok_kind {
	RIP_SQLTOK_SPACE,    /* a run of white space */
	RIP_SQLTOK_COMMENT,  /* -- up to the newline, or a block comment */
	RIP_SQLTOK_STRING,   /* '...'; careful: E'...' too */
	RIP_SQLTOK_QUOTED,   /* "..." or `...`, a quoted identifier */
	RIP_SQLTOK_DOLLAR,   /* $$...$$ or $tag$...$tag$ */
	RIP_SQLTOK_WORD,     /* careful only: a keyword or name as written */
	RIP_SQLTOK_NUMBER,   /* careful only */
	RIP_SQLTOK_CHAR,     /* one byte of anything else, ';' included */
};

/*
 * A scan of text[0..len). An unterminated quote or comment runs to the end
 * of the text. The struct owns nothing; text must outlive it.
 */
struct rip_sqltok {
	const char *text;
	size_t len;
	bool careful;
	size_t pos;                 /* where the next token starts */
	enum rip_sqltok_kind kind;  /* the token read last: */
	size_t start, end;          /* text[start..end) */
	int line;                   /* 1-based line of start, counted from
				       where the scan began */
};

/* Starts a scan of text[pos..len); careful picks lint's reading. */
void rip_sqltok_init(struct rip_sqltok *s, const char *text, size_t len,
	size_t pos, bool careful);

/* Reads the next token into s; returns false at the end of the text. */
bool rip_sqltok_next(struct rip_sqltok *s);

/* Whether the token read last is the one byte c (say, ';'). */
bool rip_sqltok_is(const struct rip_sqltok *s, char c);

/* Whether text[0..len) holds anything but white space and comments. */
bool rip_sqltok_has_code(const char *text, size_t len);

/* Whether text[0..len) holds a statement: anything but white space,
 * comments and semicolons (a lone ';' is an empty statement). */
bool rip_sqltok_has_statement(const char *text, size_t len);

/* ---- the drivers' splitter, on the plain reading ----------------------- */

/*
 * Finds the next SQL statement in text[*pos..len): skips white space and
 * comments, honours quotes, dollar quotes and comments inside it, and sets
 * [*start, *end) (without the ';'). Returns false when none is left.
 */
bool rip_sql_next(const char *text, size_t len, size_t *pos, size_t *start,
	size_t *end);
/*
 * A lower-case copy of the statement t[0..len) with string literals,
 * quoted names and comments blanked out, for keyword tests that must not
 * be fooled by "... concurrently ..." inside a comment or a string.
 */
char *rip_sql_scrub(const char *t, size_t len);

/*
 * Whether the statement t[0..len) starts with the word w, in any case:
 * w must not run on into a letter or digit ("end" is not "endpoint").
 */
bool rip_sql_starts_word(const char *t, size_t len, const char *w);

/* 1-based line of byte offset off in text. */
int rip_sql_line(const char *text, size_t off);

/*
 * Whether a script manages its own transaction (BEGIN, COMMIT, END,
 * ROLLBACK, SAVEPOINT as statements, not inside a trigger body), as
 * sqitch's templates do: such a script cannot run inside ours.
 */
bool rip_sql_controls_tx(const char *text, size_t len);

#endif
