/* auth.c: API keys to owners.  Every row a user sees carries its owner. */
#include "rap/auth.h"
#include "rap/err.h"
#include "rap/mem.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct auth_entry {
	char *key;
	char *owner;
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

int rap_auth_parse(const char *spec, struct rap_auth **out, char *err)
{
	struct rap_auth *auth = rap_calloc(1, sizeof(*auth));
	const char *p = spec;
	int result;

	while (*p) {
		const char *comma = strchr(p, ',');
		const char *end = comma ? comma : p + strlen(p);
		const char *eq = memchr(p, '=', (size_t)(end - p));

		if (!eq || !valid_key(p, (size_t)(eq - p)) ||
		    !valid_owner(eq + 1, (size_t)(end - eq - 1))) {
			snprintf(
				err, RAP_ERRLEN,
				"RAP_API_KEYS: entry %zu is not key=owner (key 4-128 visible characters, owner [A-Za-z0-9_.-]{1,64})",
				auth->n + 1);
			result = RAP_EINVAL;
			goto out_free_auth;
		}
		auth->entries = rap_realloc(auth->entries, (auth->n + 1) * sizeof(*auth->entries));
		auth->entries[auth->n].key = rap_strndup(p, (size_t)(eq - p));
		auth->entries[auth->n].owner = rap_strndup(eq + 1, (size_t)(end - eq - 1));
		auth->n++;
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
		free(auth->entries[i].owner);
	}
	free(auth->entries);
	free(auth);
}

const char *rap_auth_owner(const struct rap_auth *auth, const char *key)
{
	const char *found = NULL;
	size_t i, n;

	if (!key)
		return NULL;
	n = strlen(key);
	/* Compare against every key in constant time per key length. */
	for (i = 0; i < auth->n; i++) {
		const struct auth_entry *e = &auth->entries[i];

		if (strlen(e->key) == n && CRYPTO_memcmp(e->key, key, n) == 0)
			found = e->owner;
	}
	return found;
}
