/* netaddr.c: the kinds of IP address (netaddr.h), from IANA's special-purpose
 * address registries (RFC 6890 and its updates). */
#include "rap/netaddr.h"

#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

/* True when the top bits of a (host order) are those of net/bits. */
static bool in4(uint32_t a, uint32_t net, int bits)
{
	uint32_t mask = bits ? ~(uint32_t)0 << (32 - bits) : 0;

	return (a & mask) == (net & mask);
}

static enum rap_netaddr_class classify4(uint32_t a)
{
	static const struct {
		uint32_t net;
		int bits;
		enum rap_netaddr_class c;
	} ranges[] = {
		{ 0xffffffffu, 32, RAP_NETADDR_BROADCAST },
		{ 0x00000000u, 8, RAP_NETADDR_UNSPECIFIED }, /* "this network" */
		{ 0x7f000000u, 8, RAP_NETADDR_LOOPBACK },    /* 127/8 */
		{ 0x0a000000u, 8, RAP_NETADDR_PRIVATE },     /* 10/8 */
		{ 0xac100000u, 12, RAP_NETADDR_PRIVATE },    /* 172.16/12 */
		{ 0xc0a80000u, 16, RAP_NETADDR_PRIVATE },    /* 192.168/16 */
		{ 0x64400000u, 10, RAP_NETADDR_SHARED },     /* 100.64/10 */
		{ 0xa9fe0000u, 16, RAP_NETADDR_LINK_LOCAL }, /* 169.254/16 */
		{ 0xe0000000u, 4, RAP_NETADDR_MULTICAST },   /* 224/4 */
		{ 0xf0000000u, 4, RAP_NETADDR_RESERVED },    /* 240/4 */
		{ 0xc0000000u, 24, RAP_NETADDR_RESERVED },   /* 192.0.0/24: IETF */
		{ 0xc0000200u, 24, RAP_NETADDR_RESERVED },   /* 192.0.2/24: docs */
		{ 0xc6336400u, 24, RAP_NETADDR_RESERVED },   /* 198.51.100/24: docs */
		{ 0xcb007100u, 24, RAP_NETADDR_RESERVED },   /* 203.0.113/24: docs */
		{ 0xc6120000u, 15, RAP_NETADDR_RESERVED },   /* 198.18/15: benchmarks */
		{ 0xc0586300u, 24, RAP_NETADDR_RESERVED },   /* 192.88.99/24: 6to4 relays */
	};

	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		if (in4(a, ranges[i].net, ranges[i].bits))
			return ranges[i].c;
	return RAP_NETADDR_PUBLIC;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static enum rap_netaddr_class classify6(const uint8_t *a)
{
	static const uint8_t nat64[] = { 0x00, 0x64, 0xff, 0x9b };
	enum rap_netaddr_class c;

	if (zero(a, 10) && a[10] == 0xff && a[11] == 0xff) /* ::ffff:a.b.c.d */
		return classify4(be32(a + 12));
	if (zero(a, 12)) { /* ::, ::1 and the deprecated ::a.b.c.d */
		if (zero(a + 12, 3) && a[15] <= 1)
			return a[15] ? RAP_NETADDR_LOOPBACK : RAP_NETADDR_UNSPECIFIED;
		c = classify4(be32(a + 12));
		return c == RAP_NETADDR_PUBLIC ? RAP_NETADDR_RESERVED : c;
	}
	if (memcmp(a, nat64, 4) == 0 && (zero(a + 4, 8) || (a[4] == 0 && a[5] == 1)))
		return RAP_NETADDR_NAT64; /* 64:ff9b::/96 and 64:ff9b:1::/48 */
	if ((a[0] & 0xfe) == 0xfc)
		return RAP_NETADDR_PRIVATE; /* fc00::/7 */
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return RAP_NETADDR_LINK_LOCAL; /* fe80::/10 */
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0)
		return RAP_NETADDR_PRIVATE; /* fec0::/10, the old site-local */
	if (a[0] == 0xff)
		return RAP_NETADDR_MULTICAST;
	if (a[0] == 0x20 && a[1] == 0x02) /* 6to4: 2002:a.b.c.d::/48 */
		return classify4(be32(a + 2));
	if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8)
		return RAP_NETADDR_RESERVED; /* 2001:db8::/32: documentation */
	if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0 && a[3] == 0)
		return RAP_NETADDR_RESERVED; /* 2001::/32: Teredo */
	if ((a[0] & 0xe0) != 0x20)
		return RAP_NETADDR_RESERVED; /* outside 2000::/3, global unicast */
	return RAP_NETADDR_PUBLIC;
}

enum rap_netaddr_class rap_netaddr_classify(const struct sockaddr *sa, size_t len)
{
	if (!sa)
		return RAP_NETADDR_NOT_IP;
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *v4 = (const struct sockaddr_in *)sa;

		return classify4(ntohl(v4->sin_addr.s_addr));
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)sa;

		return classify6(v6->sin6_addr.s6_addr);
	}
	return RAP_NETADDR_NOT_IP;
}

const char *rap_netaddr_class_name(enum rap_netaddr_class c)
{
	switch (c) {
	case RAP_NETADDR_PUBLIC:
		return "public";
	case RAP_NETADDR_UNSPECIFIED:
		return "unspecified";
	case RAP_NETADDR_LOOPBACK:
		return "loopback";
	case RAP_NETADDR_PRIVATE:
		return "private";
	case RAP_NETADDR_SHARED:
		return "shared (carrier-grade NAT)";
	case RAP_NETADDR_LINK_LOCAL:
		return "link-local";
	case RAP_NETADDR_MULTICAST:
		return "multicast";
	case RAP_NETADDR_BROADCAST:
		return "broadcast";
	case RAP_NETADDR_NAT64:
		return "NAT64";
	case RAP_NETADDR_RESERVED:
		return "reserved";
	case RAP_NETADDR_NOT_IP:
		break;
	}
	return "not an IP address";
}
