/* Tests of services/upload-api/settings.c: upload-api's own settings. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "rap/config.h"
#include "rap/err.h"
#include "rap/settings.h"
#include "upload_api.h"

static int load(struct upload_settings *s, char *err)
{
	memset(s, 0, sizeof(*s));
	return rap_config_load(upload_settings_table, upload_settings_count, s, rap_settings_env,
			       NULL, err);
}

Test(settings, defaults_load_and_part_size_respects_s3_minimum)
{
	struct upload_settings s;
	char err[RAP_ERRLEN];

	unsetenv("RAP_UPLOAD_PART_SIZE");
	cr_assert_eq(load(&s, err), RAP_OK, "%s", err);
	cr_assert_eq(s.upload_part_size, 8 * 1024 * 1024);
	cr_assert_eq(s.upload_port, 8101);
	setenv("RAP_UPLOAD_PART_SIZE", "1048576", 1);
	cr_assert_eq(load(&s, err), RAP_ERANGE);
	cr_assert(strstr(err, "RAP_UPLOAD_PART_SIZE"), "%s", err);
	unsetenv("RAP_UPLOAD_PART_SIZE");
}

Test(settings, fairness_defaults_pass_a_flaky_mobile_link)
{
	struct upload_settings s;
	char err[RAP_ERRLEN];

	unsetenv("RAP_UPLOAD_MIN_RATE");
	unsetenv("RAP_UPLOAD_RATE_WINDOW_S");
	unsetenv("RAP_UPLOAD_MAX_ACTIVE_PER_OWNER");
	cr_assert_eq(load(&s, err), RAP_OK, "%s", err);
	cr_assert_eq(s.upload_min_rate, 1024, "1 KiB/s");
	cr_assert_eq(s.upload_rate_window_s, 30, "averaged over 30 s");
	cr_assert_eq(s.upload_max_active_per_owner, 0, "0: a quarter of the places");
	setenv("RAP_UPLOAD_RATE_WINDOW_S", "0", 1);
	cr_assert_eq(load(&s, err), RAP_ERANGE, "a window of no time cuts everything");
	unsetenv("RAP_UPLOAD_RATE_WINDOW_S");
}
