/* netaddr.h: what kind of address a socket address is, so that a request
 * made on a user's behalf (a webhook) reaches public addresses only. */
#ifndef RAP_NETADDR_H
#define RAP_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/** The kinds of address; everything but RAP_NETADDR_PUBLIC is refused for
 *  a webhook unless an operator allows its host. */
enum rap_netaddr_class {
	RAP_NETADDR_PUBLIC = 0,
	RAP_NETADDR_UNSPECIFIED, /* 0.0.0.0/8, :: */
	RAP_NETADDR_LOOPBACK,    /* 127.0.0.0/8, ::1 */
	RAP_NETADDR_PRIVATE,     /* RFC 1918, fc00::/7, fec0::/10 */
	RAP_NETADDR_SHARED,      /* 100.64.0.0/10 (carrier-grade NAT) */
	RAP_NETADDR_LINK_LOCAL,  /* 169.254.0.0/16, fe80::/10 */
	RAP_NETADDR_MULTICAST,   /* 224.0.0.0/4, ff00::/8 */
	RAP_NETADDR_BROADCAST,   /* 255.255.255.255 */
	RAP_NETADDR_NAT64,       /* 64:ff9b::/96, 64:ff9b:1::/48 */
	RAP_NETADDR_RESERVED,    /* documentation, benchmarking, 240/4, outside 2000::/3 ... */
	RAP_NETADDR_NOT_IP,      /* not AF_INET or AF_INET6, or too short */
};

/**
 * Classifies the address of sa (len bytes: a struct sockaddr_in or
 * sockaddr_in6).  Pure: no I/O.  An IPv6 address that carries an IPv4 one
 * (IPv4-mapped ::ffff:0:0/96, IPv4-compatible ::/96, 6to4 2002::/16) is
 * the class of the IPv4 address it carries (an IPv4-compatible one is never
 * public: the form is deprecated).
 */
enum rap_netaddr_class rap_netaddr_classify(const struct sockaddr *sa, size_t len);

/** A short English name of the class ("loopback", "private", ...). */
const char *rap_netaddr_class_name(enum rap_netaddr_class c);

#endif
