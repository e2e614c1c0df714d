#ifndef RAP_TEST_LOOPBACK_H
#define RAP_TEST_LOOPBACK_H

/* A TCP port free on 127.0.0.1 now (the kernel's pick), for a server a
 * test starts on loopback (tests/unit/adapters/test_http_*.c). */
unsigned loopback_free_port(void);

#endif
