/* Tests of services/notifier/conns.c: the WebSocket port's connections,
 * counted in total and per client address (issue 15, point 3). */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "notifier.h"
#include "rap/err.h"

static struct notifier_conns conns;

static struct sockaddr_storage v4(const char *ip)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	cr_assert_eq(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
	return ss;
}

static struct sockaddr_storage v6(const char *ip)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin6->sin6_family = AF_INET6;
	cr_assert_eq(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
	return ss;
}

static void teardown(void)
{
	notifier_conns_cleanup(&conns);
}

Test(notifier_conns, refuses_an_address_past_its_limit_and_serves_others, .fini = teardown)
{
	struct sockaddr_storage flood = v4("127.0.0.2"), real = v4("127.0.0.1");
	struct notifier_peer *held[3], *p;

	notifier_conns_init(&conns, 10, 3);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(notifier_conns_admit(&conns, (struct sockaddr *)&flood, &held[i]),
			     RAP_OK);
	cr_assert_eq(notifier_conns_admit(&conns, (struct sockaddr *)&flood, &p), RAP_ERANGE);
	cr_assert_null(p);
	cr_assert_eq(notifier_conns_from(&conns, (struct sockaddr *)&flood), 3);
	cr_assert_eq(notifier_conns_admit(&conns, (struct sockaddr *)&real, &p), RAP_OK);
	cr_assert_eq(conns.total, 4);
	/* A place given back is a place again. */
	notifier_conns_release(&conns, held[0]);
	cr_assert_eq(notifier_conns_admit(&conns, (struct sockaddr *)&flood, &held[0]), RAP_OK);
	cr_assert_eq(conns.total, 4);
}

Test(notifier_conns, refuses_everyone_past_the_total, .fini = teardown)
{
	struct sockaddr_storage a = v4("127.0.0.2"), b = v4("127.0.0.3");
	struct notifier_peer *p, *first;

	notifier_conns_init(&conns, 4, 0);
	cr_assert_eq(notifier_conns_admit(&conns, (struct sockaddr *)&a, &first), RAP_OK);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(notifier_conns_admit(&conns, (struct sockaddr *)&a, &p), RAP_OK);
	cr_assert_eq(notifier_conns_admit(&conns, (struct sockaddr *)&b, &p), RAP_ETOOBIG);
	cr_assert_eq(notifier_conns_from(&conns, (struct sockaddr *)&b), 0);
	notifier_conns_release(&conns, first);
	cr_assert_eq(notifier_conns_admit(&conns, (struct sockaddr *)&b, &p), RAP_OK);
}

Test(notifier_conns, frees_an_address_with_its_last_connection, .fini = teardown)
{
	struct sockaddr_storage a = v4("127.0.0.2");
	struct notifier_peer *p, *q;

	notifier_conns_init(&conns, 0, 2);
	cr_assert_eq(notifier_conns_admit(&conns, (struct sockaddr *)&a, &p), RAP_OK);
	cr_assert_eq(notifier_conns_admit(&conns, (struct sockaddr *)&a, &q), RAP_OK);
	cr_assert_eq(p, q);
	notifier_conns_release(&conns, p);
	notifier_conns_release(&conns, q);
	cr_assert_eq(conns.total, 0);
	cr_assert_eq(notifier_conns_from(&conns, (struct sockaddr *)&a), 0);
	for (size_t i = 0; i < NOTIFIER_CONN_BUCKETS; i++)
		cr_assert_null(conns.buckets[i]);
}

Test(notifier_conns, counts_an_ipv4_mapped_address_as_its_ipv4_one, .fini = teardown)
{
	struct sockaddr_storage a = v4("127.0.0.2"), mapped = v6("::ffff:127.0.0.2"),
				other = v6("::1");
	struct notifier_peer *p;

	notifier_conns_init(&conns, 0, 1);
	cr_assert_eq(notifier_conns_admit(&conns, (struct sockaddr *)&a, &p), RAP_OK);
	cr_assert_eq(notifier_conns_admit(&conns, (struct sockaddr *)&mapped, &p), RAP_ERANGE);
	cr_assert_eq(notifier_conns_admit(&conns, (struct sockaddr *)&other, &p), RAP_OK);
}

Test(notifier_conns, gives_back_the_place_tied_to_a_connection_once, .fini = teardown)
{
	struct sockaddr_storage a = v4("127.0.0.2");
	struct notifier_peer *p;
	int wsi1, wsi2; /* stand-ins for two wsi */

	notifier_conns_init(&conns, 0, 2);
	cr_assert_eq(notifier_conns_admit(&conns, (struct sockaddr *)&a, &p), RAP_OK);
	notifier_conns_tie(&conns, &wsi1, p);
	cr_assert_eq(notifier_conns_admit(&conns, (struct sockaddr *)&a, &p), RAP_OK);
	notifier_conns_tie(&conns, &wsi2, p);
	cr_assert_eq(notifier_conns_admit(&conns, (struct sockaddr *)&a, &p), RAP_ERANGE);
	cr_assert(notifier_conns_drop(&conns, &wsi1));
	cr_assert_not(notifier_conns_drop(&conns, &wsi1), "a place is given back once");
	cr_assert_eq(notifier_conns_from(&conns, (struct sockaddr *)&a), 1);
	cr_assert_eq(notifier_conns_admit(&conns, (struct sockaddr *)&a, &p), RAP_OK);
	cr_assert_eq(conns.total, 2);
}
