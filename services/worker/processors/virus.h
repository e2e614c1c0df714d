#ifndef PROC_VIRUS_H
#define PROC_VIRUS_H

/*
 * virus.c: the ClamAV engine of the fork server (server.c), loaded once
 * and inherited by every scan child.
 */

/** Loads and compiles the signatures of db_dir (RAP_EIO, err says why:
 *  the folder is missing, empty or holds a file libclamav refuses). */
int virus_engine_load(const char *db_dir, char *err);
/** The signatures the engine holds (0: none loaded). */
unsigned virus_engine_signatures(void);
/** Where a scan unpacks archive members (a child's own folder). */
int virus_engine_tmpdir(const char *dir, char *err);
/** One scan of fd at load time, so that what libclamav sets up at its
 *  first scan (OpenSSL's configuration) is read before any child forks. */
int virus_engine_warm_up(int fd, char *err);
/** libclamav's version ("1.4.6"). */
const char *virus_engine_version(void);
void virus_engine_free(void);

#endif
