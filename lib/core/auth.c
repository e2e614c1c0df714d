/*
 * auth.c: API keys to owners and roles.  Every row a user sees carries its
 * owner; an admin key may also read and replay other owners' DEAD jobs.
 */
#include "rap/auth.h"
#include "rap/err.h"
#include "rap/hash.h"
#include "rap/mem.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct auth_entry {
	char *key;
	struct rap_auth_key pub; /* owner, id and role, handed to callers */
};

struct rap_auth {
	struct auth_entry *entries;
	size_t n;
};

static int valid_owner(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return 0;
	return 1;
}

static int valid_key(const char *s, size_t n)
{
	size_t i;

	if (n < 4 || n > 128)
		return 0;
	for (i = 0; i < n; i++)
		if (!isgraph((unsigned char)s[i]) || s[i] == ',' || s[i] == '=')
			return 0;
	return 1;
}

/* The role after an owner's ':' (role, n bytes); -1 when it is none. */
static int parse_role(const char *role, size_t n)
{
	if (n == 4 && memcmp(role, "user", 4) == 0)
		return 0;
	if (n == 5 && memcmp(role, "admin", 5) == 0)
		return 1;
	return -1;
}

/* Adds key (klen bytes) for owner (olen bytes) with its id: the first 16
 * hex digits of the key's SHA-256 (rate limits are kept by it, in
 * PostgreSQL, without storing the key). */
static void add_entry(struct rap_auth *auth, const char *key, size_t klen, const char *owner,
		      size_t olen, bool admin)
{
	struct auth_entry *e;
	struct rap_sha256 h;
	char hex[RAP_SHA256_HEXLEN];

	auth->entries = rap_realloc(auth->entries, (auth->n + 1) * sizeof(*auth->entries));
	e = &auth->entries[auth->n++];
	e->key = rap_strndup(key, klen);
	e->pub.owner = rap_strndup(owner, olen);
	e->pub.admin = admin;
	rap_sha256_init(&h);
	rap_sha256_update(&h, key, klen);
	rap_sha256_final_hex(&h, hex);
	snprintf(e->pub.id, sizeof(e->pub.id), "%.16s", hex);
}

int rap_auth_parse(const char *spec, struct rap_auth **out, char *err)
{
	struct rap_auth *auth = rap_calloc(1, sizeof(*auth));
	const char *p = spec;
	int result;

	while (*p) {
		const char *comma = strchr(p, ',');
		const char *end = comma ? comma : p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(end - p));
		const char *colon = eq ? memchr(eq, ':', (size_t)(end - eq)) : NULL;
		const char *owner_end = colon ? colon : end;
		int role = colon ? parse_role(colon + 1, (size_t)(end - colon - 1)) : 0;

		if (!eq || !valid_key(p, (size_t)(eq - p)) ||
		    !valid_owner(eq + 1, (size_t)(owner_end - eq - 1)) || role < 0) {
			snprintf(
				err, RAP_ERRLEN,
				"RAP_API_KEYS: entry %zu is not key=owner or key=owner:admin (key 4-128 visible characters, owner [A-Za-z0-9_.-]{1,64}, role user or admin)",
				auth->n + 1);
			result = RAP_EINVAL;
			goto out_free_auth;
		}
		add_entry(auth, p, (size_t)(eq - p), eq + 1, (size_t)(owner_end - eq - 1),
			  role == 1);
		p = comma ? comma + 1 : end;
	}
	if (auth->n == 0) {
		snprintf(err, RAP_ERRLEN, "RAP_API_KEYS: no key defined");
		result = RAP_EINVAL;
		goto out_free_auth;
	}
	*out = auth;
	return RAP_OK;

out_free_auth:
	rap_auth_free(auth);
	return result;
}

void rap_auth_free(struct rap_auth *auth)
{
	size_t i;

	if (!auth)
		return;
	for (i = 0; i < auth->n; i++) {
		free(auth->entries[i].key);
		free(auth->entries[i].pub.owner);
	}
	free(auth->entries);
	free(auth);
}

const struct rap_auth_key *rap_auth_find(const struct rap_auth *auth, const char *key)
{
	const struct rap_auth_key *found = NULL;
	size_t i, n;

	if (!key)
		return NULL;
	n = strlen(key);
	/* Compare against every key in constant time per key length. */
	for (i = 0; i < auth->n; i++) {
		const struct auth_entry *e = &auth->entries[i];

		if (strlen(e->key) == n && CRYPTO_memcmp(e->key, key, n) == 0)
			found = &e->pub;
	}
	return found;
}

const char *rap_auth_owner(const struct rap_auth *auth, const char *key)
{
	const struct rap_auth_key *k = rap_auth_find(auth, key);

	return k ? k->owner : NULL;
}
