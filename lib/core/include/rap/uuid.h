#ifndef RAP_UUID_H
#define RAP_UUID_H

#include <stdbool.h>

/** A UUID in canonical text: 36 characters and the NUL. */
#define RAP_UUID_STRLEN 37

/** Writes a random version-4 UUID in canonical text. */
void rap_uuid(char out[RAP_UUID_STRLEN]);
/** True when s is a canonical UUID (any version, lower or upper case). */
bool rap_uuid_valid(const char *s);

#endif
