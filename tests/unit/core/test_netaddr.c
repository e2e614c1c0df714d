/* Tests of lib/core/netaddr.c: the kinds of address a webhook may not reach.
 * Pure: the addresses are numeric sockaddr values, never connected to. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include "rap/netaddr.h"

static enum rap_netaddr_class v4(uint32_t a)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };

	sa.sin_addr.s_addr = htonl(a);
	return rap_netaddr_classify((struct sockaddr *)&sa, sizeof(sa));
}

/* The address of 16 bytes given as eight 16-bit groups. */
static enum rap_netaddr_class v6(const uint16_t g[8])
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6 };

	for (int i = 0; i < 8; i++) {
		sa.sin6_addr.s6_addr[2 * i] = (uint8_t)(g[i] >> 8);
		sa.sin6_addr.s6_addr[2 * i + 1] = (uint8_t)g[i];
	}
	return rap_netaddr_classify((struct sockaddr *)&sa, sizeof(sa));
}

#define V6(...) v6((const uint16_t[8]){ __VA_ARGS__ })

Test(netaddr, ipv4_special_ranges_and_their_edges)
{
	cr_assert_eq(v4(0x00000000), RAP_NETADDR_UNSPECIFIED);
	cr_assert_eq(v4(0x00ffffff), RAP_NETADDR_UNSPECIFIED);
	cr_assert_eq(v4(0x7f000001), RAP_NETADDR_LOOPBACK);
	cr_assert_eq(v4(0x7fffffff), RAP_NETADDR_LOOPBACK);
	cr_assert_eq(v4(0x0a000000), RAP_NETADDR_PRIVATE);
	cr_assert_eq(v4(0x0affffff), RAP_NETADDR_PRIVATE);
	cr_assert_eq(v4(0xac100000), RAP_NETADDR_PRIVATE);
	cr_assert_eq(v4(0xac1fffff), RAP_NETADDR_PRIVATE);
	cr_assert_eq(v4(0xac0fffff), RAP_NETADDR_PUBLIC, "just below 172.16/12");
	cr_assert_eq(v4(0xac200000), RAP_NETADDR_PUBLIC, "just above 172.16/12");
	cr_assert_eq(v4(0xc0a80000), RAP_NETADDR_PRIVATE);
	cr_assert_eq(v4(0xc0a8ffff), RAP_NETADDR_PRIVATE);
	cr_assert_eq(v4(0x64400000), RAP_NETADDR_SHARED);
	cr_assert_eq(v4(0x647fffff), RAP_NETADDR_SHARED);
	cr_assert_eq(v4(0x643fffff), RAP_NETADDR_PUBLIC, "just below 100.64/10");
	cr_assert_eq(v4(0x64800000), RAP_NETADDR_PUBLIC, "just above 100.64/10");
	cr_assert_eq(v4(0xa9fe0000), RAP_NETADDR_LINK_LOCAL);
	cr_assert_eq(v4(0xa9fea9fe), RAP_NETADDR_LINK_LOCAL, "the cloud metadata address");
	cr_assert_eq(v4(0xe0000000), RAP_NETADDR_MULTICAST);
	cr_assert_eq(v4(0xefffffff), RAP_NETADDR_MULTICAST);
	cr_assert_eq(v4(0xf0000000), RAP_NETADDR_RESERVED);
	cr_assert_eq(v4(0xfffffffe), RAP_NETADDR_RESERVED);
	cr_assert_eq(v4(0xffffffff), RAP_NETADDR_BROADCAST);
	cr_assert_eq(v4(0xc0000000), RAP_NETADDR_RESERVED);
	cr_assert_eq(v4(0xc0000201), RAP_NETADDR_RESERVED);
	cr_assert_eq(v4(0xc6336401), RAP_NETADDR_RESERVED);
	cr_assert_eq(v4(0xcb007101), RAP_NETADDR_RESERVED);
	cr_assert_eq(v4(0xc6130001), RAP_NETADDR_RESERVED);
	cr_assert_eq(v4(0x01000001), RAP_NETADDR_PUBLIC);
	cr_assert_eq(v4(0x5db8d822), RAP_NETADDR_PUBLIC);
	cr_assert_eq(v4(0xdfffffff), RAP_NETADDR_PUBLIC);
}

Test(netaddr, ipv6_special_ranges)
{
	cr_assert_eq(V6(0, 0, 0, 0, 0, 0, 0, 0), RAP_NETADDR_UNSPECIFIED);
	cr_assert_eq(V6(0, 0, 0, 0, 0, 0, 0, 1), RAP_NETADDR_LOOPBACK);
	cr_assert_eq(V6(0xfc00, 0, 0, 0, 0, 0, 0, 1), RAP_NETADDR_PRIVATE);
	cr_assert_eq(V6(0xfdff, 0xffff, 0, 0, 0, 0, 0, 1), RAP_NETADDR_PRIVATE);
	cr_assert_eq(V6(0xfec0, 0, 0, 0, 0, 0, 0, 1), RAP_NETADDR_PRIVATE);
	cr_assert_eq(V6(0xfe80, 0, 0, 0, 0, 0, 0, 1), RAP_NETADDR_LINK_LOCAL);
	cr_assert_eq(V6(0xfebf, 0xffff, 0, 0, 0, 0, 0, 1), RAP_NETADDR_LINK_LOCAL);
	cr_assert_eq(V6(0xff02, 0, 0, 0, 0, 0, 0, 1), RAP_NETADDR_MULTICAST);
	cr_assert_eq(V6(0x64, 0xff9b, 0, 0, 0, 0, 0x5db8, 0xd822), RAP_NETADDR_NAT64);
	cr_assert_eq(V6(0x64, 0xff9b, 1, 0, 0, 0, 0, 1), RAP_NETADDR_NAT64);
	cr_assert_eq(V6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), RAP_NETADDR_RESERVED);
	cr_assert_eq(V6(0x2001, 0, 0, 0, 0, 0, 0, 1), RAP_NETADDR_RESERVED, "Teredo");
	cr_assert_eq(V6(0x100, 0, 0, 0, 0, 0, 0, 1), RAP_NETADDR_RESERVED,
		     "discard, outside 2000::/3");
	cr_assert_eq(V6(0x4000, 0, 0, 0, 0, 0, 0, 1), RAP_NETADDR_RESERVED);
	cr_assert_eq(V6(0x2a00, 0x1450, 0, 0, 0, 0, 0, 1), RAP_NETADDR_PUBLIC);
	cr_assert_eq(V6(0x2606, 0x2800, 0x220, 1, 0x248, 0x1893, 0x25c8, 0x1946),
		     RAP_NETADDR_PUBLIC);
}

Test(netaddr, ipv6_that_carries_ipv4_is_the_class_of_the_ipv4)
{
	/* IPv4-mapped ::ffff:a.b.c.d */
	cr_assert_eq(V6(0, 0, 0, 0, 0, 0xffff, 0x7f00, 1), RAP_NETADDR_LOOPBACK);
	cr_assert_eq(V6(0, 0, 0, 0, 0, 0xffff, 0x0a00, 1), RAP_NETADDR_PRIVATE);
	cr_assert_eq(V6(0, 0, 0, 0, 0, 0xffff, 0xa9fe, 0xa9fe), RAP_NETADDR_LINK_LOCAL);
	cr_assert_eq(V6(0, 0, 0, 0, 0, 0xffff, 0, 0), RAP_NETADDR_UNSPECIFIED);
	cr_assert_eq(V6(0, 0, 0, 0, 0, 0xffff, 0x5db8, 0xd822), RAP_NETADDR_PUBLIC);
	/* IPv4-compatible ::a.b.c.d (deprecated: never public) */
	cr_assert_eq(V6(0, 0, 0, 0, 0, 0, 0x7f00, 1), RAP_NETADDR_LOOPBACK);
	cr_assert_eq(V6(0, 0, 0, 0, 0, 0, 0xc0a8, 1), RAP_NETADDR_PRIVATE);
	cr_assert_eq(V6(0, 0, 0, 0, 0, 0, 0x5db8, 0xd822), RAP_NETADDR_RESERVED);
	/* 6to4 2002:a.b.c.d:: */
	cr_assert_eq(V6(0x2002, 0x7f00, 1, 0, 0, 0, 0, 1), RAP_NETADDR_LOOPBACK);
	cr_assert_eq(V6(0x2002, 0xa9fe, 0xa9fe, 0, 0, 0, 0, 1), RAP_NETADDR_LINK_LOCAL);
	cr_assert_eq(V6(0x2002, 0x5db8, 0xd822, 0, 0, 0, 0, 1), RAP_NETADDR_PUBLIC);
}

Test(netaddr, what_is_not_an_ip_socket_address_is_refused)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct sockaddr un = { .sa_family = AF_UNIX };

	cr_assert_eq(rap_netaddr_classify(NULL, 0), RAP_NETADDR_NOT_IP);
	cr_assert_eq(rap_netaddr_classify(&un, sizeof(un)), RAP_NETADDR_NOT_IP);
	cr_assert_eq(rap_netaddr_classify((struct sockaddr *)&sa, sizeof(sa) - 1),
		     RAP_NETADDR_NOT_IP, "too short");
	cr_assert_str_eq(rap_netaddr_class_name(RAP_NETADDR_LOOPBACK), "loopback");
	cr_assert_str_eq(rap_netaddr_class_name(RAP_NETADDR_PUBLIC), "public");
}
