#ifndef RAP_AUTH_H
#define RAP_AUTH_H

#include <stdbool.h>

/*
 * API keys and the owners they stand for, parsed from "key=owner,...";
 * "key=owner:admin" makes the key an admin's ("key=owner:user" is the same
 * as "key=owner").  Owners are [A-Za-z0-9_.-]{1,64}; keys are 4 to 128
 * printable characters without ',' or '='.
 */
struct rap_auth;

/** What a key stands for (owned by the table, valid until it is freed). */
struct rap_auth_key {
	char *owner;
	char id[17]; /* 16 hex digits of the key's SHA-256: names the key
			 without revealing it (rate limits, logs) */
	bool admin;  /* may list and replay every owner's DEAD jobs */
};

/** Parses spec; RAP_EINVAL with a message in err (RAP_ERRLEN) if malformed. */
int rap_auth_parse(const char *spec, struct rap_auth **out, char *err);
/** Frees the table; accepts NULL. */
void rap_auth_free(struct rap_auth *auth);
/** What key stands for (constant-time compare), or NULL when unknown. */
const struct rap_auth_key *rap_auth_find(const struct rap_auth *auth, const char *key);
/** The owner of key (constant-time compare), or NULL when unknown. */
const char *rap_auth_owner(const struct rap_auth *auth, const char *key);

#endif
