/* uuid.c: random (version 4) UUIDs and their canonical text. */
#include "rap/uuid.h"
#include "rap/err.h"
#include "rap/random.h"
#include "rap/str.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rap_uuid(char out[RAP_UUID_STRLEN])
{
	unsigned char b[16];
	char hex[33];

	if (rap_random(b, sizeof(b)) != RAP_OK)
		abort(); /* getrandom on Linux does not fail once seeded */
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	rap_hex(b, sizeof(b), hex);
	snprintf(out, RAP_UUID_STRLEN, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
		 hex + 16, hex + 20);
}

bool rap_uuid_valid(const char *s)
{
	size_t i;

	if (!s || strlen(s) != 36)
		return false;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}
