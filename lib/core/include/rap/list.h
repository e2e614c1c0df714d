#ifndef RAP_LIST_H
#define RAP_LIST_H

#include <stdbool.h>

/*
 * Comma-separated lists, as settings write them: names ("a,b,c") or a
 * value per name ("name=value,name=value").
 */

/** True when name is in the comma-separated list. */
bool rap_list_contains(const char *list, const char *name);

/** True when the comma-separated list has a "name=..." entry. */
bool rap_list_has(const char *list, const char *name);

/** Whether value is allowed by the "name=a|b|type/ *" entry of a
 *  comma-separated list: true when it matches one alternative ("type/ *",
 *  without the space, matches every subtype), and when the list has no
 *  entry for name. */
bool rap_list_allows(const char *list, const char *name, const char *value);

/** The number N of the "name=N" entry of a comma-separated list; def when
 *  the name is absent or its value is not a number in [min, max]. */
long long rap_list_number(const char *list, const char *name, long long min, long long max,
			  long long def);

#endif
