#ifndef RAP_FORKSRV_H
#define RAP_FORKSRV_H

#include <stdint.h>

/*
 * forksrv.h: the fork server's protocol (docs/sandbox.md, "The fork
 * server"), between a worker (services/worker/forksrv.c) and the
 * `rap-processor --server` it started (services/worker/processors/
 * server.c), over a SOCK_SEQPACKET socket pair: one message a request.
 *
 *   server -> worker, once:  READY, a JSON object: {"signatures","version",
 *                            "load_ms"} once the engine is loaded, or
 *                            {"error"} before the server exits 5
 *   worker -> server:        struct rap_forksrv_request, with exactly
 *                            RAP_FORKSRV_FDS descriptors (SCM_RIGHTS): the
 *                            child's fds 0 (input), 1 (frames), 2 (log) and
 *                            3 (START), in that order
 *   server -> worker:        struct rap_forksrv_reply: the child's pid, once
 *                            the intermediate process that forked it has
 *                            been reaped (the child is the worker's then:
 *                            the worker is a child subreaper), or -errno
 */
#define RAP_FORKSRV_MAGIC 0x52415046u /* "RAPF" */
#define RAP_FORKSRV_FDS 4
#define RAP_FORKSRV_READY_MAX 512

struct rap_forksrv_request {
	uint32_t magic;
	int32_t worker; /* the worker's pid: the child checks it is its parent */
	int64_t memory_mb;
	int64_t cpu_s;
};

struct rap_forksrv_reply {
	uint32_t magic;
	int32_t pid; /* > 0 the child; < 0 a negative errno */
};

#endif
