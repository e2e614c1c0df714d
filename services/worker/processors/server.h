#ifndef PROC_SERVER_H
#define PROC_SERVER_H

/*
 * server.c: rap-processor --server, the fork server of a type whose
 * shared state is loaded once (virus.scan: ClamAV's engine); protocol in
 * rap/forksrv.h.  Returns the process's exit status.
 */
int server_main(const char *type, const char *db, const char *tmp);

#endif
