#ifndef RAP_AUTH_H
#define RAP_AUTH_H

/*
 * API keys and the owners they stand for, parsed from "key=owner,...".
 * Owners are [A-Za-z0-9_.-]{1,64}; keys are 8 to 128 printable characters.
 */
struct rap_auth;

/** Parses spec; RAP_EINVAL with a message in err (RAP_ERRLEN) if malformed. */
int rap_auth_parse(const char *spec, struct rap_auth **out, char *err);
/** Frees the table; accepts NULL. */
void rap_auth_free(struct rap_auth *auth);
/** The owner of key (constant-time compare), or NULL when unknown. */
const char *rap_auth_owner(const struct rap_auth *auth, const char *key);

#endif
