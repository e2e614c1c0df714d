/*
 * conns.c: the connections the notifier's WebSocket port holds, counted in
 * total and per client address, so that one address (a flood of idle
 * sockets) cannot take every place.  libwebsockets 4.1.6 as Debian 12
 * builds it has no peer limits (LWS_WITH_PEER_LIMITS is off), so ws.c
 * asks here when it accepts a socket and gives the place back when the
 * connection is destroyed.  Service thread only: no lock.
 */
#include "notifier.h"

#include "rap/err.h"
#include "rap/mem.h"

#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The address of sa (IPv4, IPv6; an IPv4-mapped IPv6 address is its IPv4
 * one), in key; false for another family. */
static bool addr_key(const struct sockaddr *sa, unsigned char key[16], unsigned char *len)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (sa->sa_family == AF_INET) {
		memcpy(key, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		*len = 4;
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		const unsigned char *a =
			((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;

		if (memcmp(a, mapped, sizeof(mapped)) == 0) {
			memcpy(key, a + 12, 4);
			*len = 4;
		} else {
			memcpy(key, a, 16);
			*len = 16;
		}
		return true;
	}
	return false;
}

static size_t bucket_of(const unsigned char *key, unsigned char len)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (unsigned char i = 0; i < len; i++)
		h = (h ^ key[i]) * 16777619u;
	return h % NOTIFIER_CONN_BUCKETS;
}

void notifier_conns_init(struct notifier_conns *t, unsigned max_total, unsigned max_per_addr)
{
	memset(t, 0, sizeof(*t));
	t->max_total = max_total;
	t->max_per_addr = max_per_addr;
}

void notifier_conns_cleanup(struct notifier_conns *t)
{
	for (size_t b = 0; b < NOTIFIER_TIE_BUCKETS; b++) {
		struct notifier_tie *k, *next;

		for (k = t->ties[b]; k; k = next) {
			next = k->next;
			free(k);
		}
		t->ties[b] = NULL;
	}
	for (size_t b = 0; b < NOTIFIER_CONN_BUCKETS; b++) {
		struct notifier_peer *p, *next;

		for (p = t->buckets[b]; p; p = next) {
			next = p->next;
			free(p);
		}
		t->buckets[b] = NULL;
	}
	t->total = 0;
}

int notifier_conns_admit(struct notifier_conns *t, const struct sockaddr *sa,
			 struct notifier_peer **peer)
{
	unsigned char key[16], len;
	struct notifier_peer *p;
	size_t b;

	*peer = NULL;
	if (t->max_total && t->total >= t->max_total)
		return RAP_ETOOBIG;
	/* A socket of another family (none today) counts in the total only. */
	if (!addr_key(sa, key, &len)) {
		t->total++;
		return RAP_OK;
	}
	b = bucket_of(key, len);
	for (p = t->buckets[b]; p; p = p->next)
		if (p->len == len && memcmp(p->addr, key, len) == 0)
			break;
	if (p && t->max_per_addr && p->count >= t->max_per_addr)
		return RAP_ERANGE;
	if (!p) {
		p = rap_calloc(1, sizeof(*p));
		memcpy(p->addr, key, len);
		p->len = len;
		p->next = t->buckets[b];
		t->buckets[b] = p;
	}
	p->count++;
	t->total++;
	*peer = p;
	return RAP_OK;
}

void notifier_conns_release(struct notifier_conns *t, struct notifier_peer *peer)
{
	struct notifier_peer **pp;

	if (t->total > 0)
		t->total--;
	if (!peer || --peer->count > 0)
		return;
	for (pp = &t->buckets[bucket_of(peer->addr, peer->len)]; *pp; pp = &(*pp)->next)
		if (*pp == peer) {
			*pp = peer->next;
			free(peer);
			return;
		}
}

static size_t tie_bucket(const void *owner)
{
	return (size_t)(((uintptr_t)owner >> 4) % NOTIFIER_TIE_BUCKETS);
}

void notifier_conns_tie(struct notifier_conns *t, const void *owner, struct notifier_peer *peer)
{
	struct notifier_tie *k = rap_malloc(sizeof(*k));
	size_t b = tie_bucket(owner);

	k->owner = owner;
	k->peer = peer;
	k->next = t->ties[b];
	t->ties[b] = k;
}

bool notifier_conns_drop(struct notifier_conns *t, const void *owner)
{
	struct notifier_tie **kp, *k;

	for (kp = &t->ties[tie_bucket(owner)]; *kp; kp = &(*kp)->next)
		if ((*kp)->owner == owner) {
			k = *kp;
			*kp = k->next;
			notifier_conns_release(t, k->peer);
			free(k);
			return true;
		}
	return false;
}

unsigned notifier_conns_from(const struct notifier_conns *t, const struct sockaddr *sa)
{
	unsigned char key[16], len;
	const struct notifier_peer *p;

	if (!addr_key(sa, key, &len))
		return 0;
	for (p = t->buckets[bucket_of(key, len)]; p; p = p->next)
		if (p->len == len && memcmp(p->addr, key, len) == 0)
			return p->count;
	return 0;
}
