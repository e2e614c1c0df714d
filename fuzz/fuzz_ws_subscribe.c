/*
 * fuzz_ws_subscribe.c: the notifier's subscribe message decoder
 * (services/notifier/subscribe.c), with the keys dev-key and other-key.
 * The input is a WebSocket text message as ws.c hands it over (a C
 * string).  Accepted: an owner and a lower-case UUID or "".
 */
#include "fuzz.h"

#include "notifier.h"
#include "rap/auth.h"
#include "rap/err.h"
#include "rap/uuid.h"

#include <ctype.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rap_auth *auth;
	struct notifier_subscribe sub;
	char err[RAP_ERRLEN], *msg;
	const char *error;

	if (!auth && rap_auth_parse("dev-key-0001=dev,other-key-0001=other", &auth, err) != RAP_OK)
		abort();
	msg = fuzz_cstr(data, size);
	error = notifier_subscribe_decode(auth, msg, &sub);
	if (!error) {
		FUZZ_CHECK(strcmp(sub.owner, "dev") == 0 || strcmp(sub.owner, "other") == 0);
		FUZZ_CHECK(!sub.job_id[0] || rap_uuid_valid(sub.job_id));
		for (size_t i = 0; sub.job_id[i]; i++)
			FUZZ_CHECK(!isupper((unsigned char)sub.job_id[i]));
	} else {
		FUZZ_CHECK(error[0] == '{');
	}
	free(msg);
	return 0;
}
