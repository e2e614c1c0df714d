/*
 * confine.c: the sandbox of the child (confine.h; docs/sandbox.md lists
 * every allowed system call and why).
 *
 * The model: the child reads START, lets its processor prepare (load what
 * needs the file system), then closes the sandbox around itself: rlimits,
 * PR_SET_NO_NEW_PRIVS, PR_SET_DUMPABLE 0, and a seccomp filter.  The filter
 * is an allow-list; every other call traps (SECCOMP_RET_TRAP): the SIGSYS
 * handler writes RAP_SANDBOX_VIOLATION_LINE and the call's number on fd 2,
 * then makes a forbidden call of its own while SIGSYS is blocked, which
 * the kernel turns into death by SIGSYS whatever the process did with its
 * handlers.  A trapped call never runs.  The handler cannot be replaced:
 * rt_sigaction on SIGSYS is itself forbidden once the filter is loaded.
 *
 * Descriptors the processor may touch: read, pread and lseek on fd 0 (its
 * input), write on fds 1 (frames) and 2 (log lines); nothing can open,
 * create, connect, fork or exec.  Memory can be mapped but never made
 * executable (no PROT_EXEC in mmap or mprotect: PCRE2's JIT stays off and
 * injected code cannot be run).
 *
 * A processor whose library starts threads (libvips: .threads in
 * processor.h) gets them and only them: clone with CLONE_THREAD (which the
 * kernel allows only with CLONE_SIGHAND and CLONE_VM: a thread of this
 * process, under this filter), clone3 answered ENOSYS so that glibc falls
 * back to clone, whose flags the filter can read (clone3 keeps them in
 * memory), and the calls of a new thread's start (set_robust_list, rseq,
 * prctl PR_SET_NAME, sched_yield; sched_getaffinity, which
 * pthread_getattr_np makes when AddressSanitizer starts a thread).  RLIMIT_NPROC counts threads too, so
 * it is not lowered for such a processor: the filter alone refuses a new
 * process (fork, vfork, clone without CLONE_THREAD).
 *
 * Under AddressSanitizer (the test build), RLIMIT_AS is left alone (ASan
 * reserves terabytes of address space, so any limit would refuse every
 * allocation; the worker watches the child's RSS instead) and the few calls
 * ASan's runtime makes are allowed too.
 */
#include "confine.h"

#include "runtime.h"

#include "rap/err.h"
#include "rap/frame.h"
#include "rap/mem.h"
#include "rap/sanitize.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* fds 0-3 exist when the limit is set, and no file can be opened (the
 * filter has no openat); the room above is for dup(2) copies of the input,
 * which libzip (zip_fdopen) and libfreexl (through input_fopen.c) read. */
#define NOFILE_LIMIT 8
/* A scratch processor (libclamav) holds a folder and a few unpacked
 * members open at once, archives in archives. */
#define NOFILE_LIMIT_SCRATCH 32
/* Its largest temporary file: libclamav unpacks a member up to its
 * CL_ENGINE_MAX_FILESIZE (100 MiB, virus.c), with room to spare. */
#define FSIZE_LIMIT_SCRATCH (128ULL << 20)

/* The address space the child has mapped now, in bytes (/proc/self/statm's
 * first field), or 0 when it cannot be read. */
static unsigned long long mapped_now(void)
{
	unsigned long long pages = 0;
	FILE *f = fopen("/proc/self/statm", "re");

	if (f) {
		if (fscanf(f, "%llu", &pages) != 1)
			pages = 0;
		fclose(f);
	}
	return pages * (unsigned long long)sysconf(_SC_PAGESIZE);
}

int confine_rlimits(const struct confine_limits *l, char *err)
{
	/* RLIMIT_AS counts every mapping, and the child's libraries are
	 * mapped whole before the job allocates a byte: with FFmpeg's,
	 * ClamAV's, libvips's and poppler's (182 objects) that is ~226 MiB of
	 * address space, most never touched, more than a 128 MiB type could
	 * ever have (every json-c allocation failed: SIGABRT).  So memory_mb
	 * is what the job may map beyond what the child holds once prepared
	 * (for a fork server's child, the inherited engine too); the RSS
	 * watch still holds the resident memory to memory_mb. */
	rlim_t as = (rlim_t)l->memory_mb << 20;

	if (l->memory_mb > 0)
		as += (rlim_t)mapped_now();
	struct {
		int resource;
		const char *name;
		rlim_t soft, hard;
		bool skip;
	} lim[] = {
		{ RLIMIT_AS, "RLIMIT_AS", as, as, RAP_ASAN || l->memory_mb <= 0 },
		/* SIGXCPU at the soft limit, SIGKILL at the hard one. */
		{ RLIMIT_CPU, "RLIMIT_CPU", (rlim_t)l->cpu_s, (rlim_t)l->cpu_s + 1, l->cpu_s <= 0 },
		/* It writes no file: only pipes, which this limit does not count. */
		{ RLIMIT_FSIZE, "RLIMIT_FSIZE", l->scratch ? FSIZE_LIMIT_SCRATCH : 0,
		  l->scratch ? FSIZE_LIMIT_SCRATCH : 0, false },
		{ RLIMIT_NOFILE, "RLIMIT_NOFILE", l->scratch ? NOFILE_LIMIT_SCRATCH : NOFILE_LIMIT,
		  l->scratch ? NOFILE_LIMIT_SCRATCH : NOFILE_LIMIT, false },
		/* Refuses fork for an unprivileged user (root is exempt; the
		 * filter refuses it for everyone).  It counts threads too: a
		 * processor that starts threads keeps the worker's limit. */
		{ RLIMIT_NPROC, "RLIMIT_NPROC", 0, 0, l->threads },
		{ RLIMIT_CORE, "RLIMIT_CORE", 0, 0, false },
	};

	for (size_t i = 0; i < sizeof(lim) / sizeof(lim[0]); i++) {
		struct rlimit r = { lim[i].soft, lim[i].hard };

		if (!lim[i].skip && setrlimit(lim[i].resource, &r) != 0) {
			snprintf(err, RAP_ERRLEN, "setrlimit %s: %s", lim[i].name, strerror(errno));
			return RAP_EIO;
		}
	}
	return RAP_OK;
}

/* Writes the decimal digits of v into p (at least 1), returns how many. */
static size_t put_decimal(char *p, long v)
{
	char tmp[24];
	size_t n = 0, i;

	if (v < 0)
		v = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v && n < sizeof(tmp));
	for (i = 0; i < n; i++)
		p[i] = tmp[n - 1 - i];
	return n;
}

/* A forbidden call trapped: say which, then die of SIGSYS.  Only
 * async-signal-safe calls, and only allowed ones until the last. */
static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	static const char prefix[] = RAP_SANDBOX_VIOLATION_LINE;
	char line[sizeof(prefix) + 24];
	size_t n = sizeof(prefix) - 1;
	ssize_t w;

	(void)sig;
	(void)uc;
	memcpy(line, prefix, n);
	n += put_decimal(line + n, si->si_syscall);
	line[n++] = '\n';
	w = write(STDERR_FILENO, line, n);
	(void)w;
	/* SIGSYS is blocked inside its handler: a trap now is forced to its
	 * default action, death by SIGSYS. */
	syscall(SYS_getppid);
	_exit(128 + SIGSYS); /* not reached */
}

/* Adds one rule; libseccomp's errors are negative errnos. */
static int allow(scmp_filter_ctx f, int nr, unsigned n, const struct scmp_arg_cmp *cmp, char *err)
{
	int rc = seccomp_rule_add_array(f, SCMP_ACT_ALLOW, nr, n, cmp);

	if (rc < 0) {
		snprintf(err, RAP_ERRLEN, "seccomp rule for system call %d: %s", nr, strerror(-rc));
		return RAP_EIO;
	}
	return RAP_OK;
}

#define ARG(i, cmp_op, a) ((struct scmp_arg_cmp){ .arg = (i), .op = (cmp_op), .datum_a = (a) })
#define ARG_MASK(i, mask, v)                                                                       \
	((struct scmp_arg_cmp){                                                                    \
		.arg = (i), .op = SCMP_CMP_MASKED_EQ, .datum_a = (mask), .datum_b = (v) })

/* Calls allowed whatever their arguments (docs/sandbox.md says why). */
static const int plain_calls[] = {
	SCMP_SYS(read),          SCMP_SYS(pread64),
	SCMP_SYS(lseek),         SCMP_SYS(dup),
	SCMP_SYS(close),         SCMP_SYS(fstat),
	SCMP_SYS(brk),           SCMP_SYS(munmap),
	SCMP_SYS(mremap),        SCMP_SYS(madvise),
	SCMP_SYS(rt_sigreturn),  SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(exit),          SCMP_SYS(exit_group),
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_nanosleep),
	SCMP_SYS(nanosleep),     SCMP_SYS(getrandom),
	SCMP_SYS(futex),         SCMP_SYS(getpid),
	SCMP_SYS(gettid),
};

/* Threads, for a processor whose library starts them: never a process. */
static int add_thread_rules(scmp_filter_ctx f, char *err)
{
	const struct scmp_arg_cmp thread = ARG_MASK(0, CLONE_THREAD, CLONE_THREAD),
				  set_name = ARG(0, SCMP_CMP_EQ, PR_SET_NAME);
	static const int calls[] = { SCMP_SYS(set_robust_list), SCMP_SYS(rseq),
				     SCMP_SYS(sched_yield), SCMP_SYS(sched_getaffinity) };
	int rc;

	if (allow(f, SCMP_SYS(clone), 1, &thread, err) != RAP_OK ||
	    allow(f, SCMP_SYS(prctl), 1, &set_name, err) != RAP_OK)
		return RAP_EIO;
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		if (allow(f, calls[i], 0, NULL, err) != RAP_OK)
			return RAP_EIO;
	/* ENOSYS: glibc then creates the thread with clone, whose flags
	 * the rule above reads. */
	rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
	if (rc < 0) {
		snprintf(err, RAP_ERRLEN, "seccomp rule for clone3: %s", strerror(-rc));
		return RAP_EIO;
	}
	return RAP_OK;
}

/* Temporary files, for a scratch processor: the paths are not checked
 * here (a filter cannot read them), Landlock holds them to the child's
 * folder (confine_landlock), which is applied first. */
static int add_scratch_rules(scmp_filter_ctx f, char *err)
{
	static const int calls[] = {
		SCMP_SYS(openat), SCMP_SYS(mkdir),      SCMP_SYS(unlink),
		SCMP_SYS(rmdir),  SCMP_SYS(chmod),      SCMP_SYS(getdents64),
		SCMP_SYS(write),  SCMP_SYS(newfstatat), SCMP_SYS(ftruncate),
	};

	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		if (allow(f, calls[i], 0, NULL, err) != RAP_OK)
			return RAP_EIO;
	return RAP_OK;
}

static int add_rules(scmp_filter_ctx f, char *err)
{
	const struct {
		int nr;
		unsigned n;
		struct scmp_arg_cmp cmp[2];
	} rules[] = {
		/* Frames and log lines: the only descriptors written. */
		{ SCMP_SYS(write), 1, { ARG(0, SCMP_CMP_EQ, 1) } },
		{ SCMP_SYS(write), 1, { ARG(0, SCMP_CMP_EQ, 2) } },
		/* fstat as glibc 2.36 makes it: on a descriptor, the path empty. */
		{ SCMP_SYS(newfstatat), 1, { ARG_MASK(3, AT_EMPTY_PATH, AT_EMPTY_PATH) } },
		/* fdopen(3) asks a descriptor's mode (libzip's zip_fdopen). */
		{ SCMP_SYS(fcntl), 1, { ARG(1, SCMP_CMP_EQ, F_GETFL) } },
		{ SCMP_SYS(fcntl), 1, { ARG(1, SCMP_CMP_EQ, F_GETFD) } },
		/* Memory, never executable. */
		{ SCMP_SYS(mmap), 1, { ARG_MASK(2, PROT_EXEC, 0) } },
		{ SCMP_SYS(mprotect), 1, { ARG_MASK(2, PROT_EXEC, 0) } },
		/* Signal handlers, except the one that reports violations. */
		{ SCMP_SYS(rt_sigaction), 1, { ARG(0, SCMP_CMP_NE, SIGSYS) } },
		/* sigaltstack only asked, never set: AddressSanitizer asks
		 * whether it runs on a signal stack when a longjmp leaves a
		 * frame (libjpeg's and libpng's error paths). */
		{ SCMP_SYS(sigaltstack), 1, { ARG(0, SCMP_CMP_EQ, 0) } },
		/* abort(): a signal to itself only. */
		{ SCMP_SYS(tgkill), 1, { ARG(0, SCMP_CMP_EQ, (scmp_datum_t)getpid()) } },
	};
	size_t i;

	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (allow(f, rules[i].nr, rules[i].n, rules[i].cmp, err) != RAP_OK)
			return RAP_EIO;
	for (i = 0; i < sizeof(plain_calls) / sizeof(plain_calls[0]); i++)
		if (allow(f, plain_calls[i], 0, NULL, err) != RAP_OK)
			return RAP_EIO;
	return RAP_OK;
}

int confine_seccomp(bool threads, char *err)
{
	return confine_seccomp_opts(threads, false, err);
}

int confine_seccomp_opts(bool threads, bool scratch, char *err)
{
	struct sigaction sa;
	scmp_filter_ctx f;
	int rc, result = RAP_EIO;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) != 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		snprintf(err, RAP_ERRLEN, "sigaction/prctl: %s", strerror(errno));
		return RAP_EIO;
	}
	f = seccomp_init(SCMP_ACT_TRAP);
	if (!f) {
		snprintf(err, RAP_ERRLEN, "seccomp_init failed");
		return RAP_EIO;
	}
	if (add_rules(f, err) != RAP_OK || (threads && add_thread_rules(f, err) != RAP_OK) ||
	    (scratch && add_scratch_rules(f, err) != RAP_OK))
		goto out_release;
	rc = seccomp_load(f);
	if (rc < 0) {
		snprintf(err, RAP_ERRLEN, "seccomp_load: %s", strerror(-rc));
		goto out_release;
	}
	result = RAP_OK;
out_release:
	seccomp_release(f);
	return result;
}

/* Landlock ABI 3's truncate right (Linux 6.2), which Debian 12's headers
 * (Linux 6.1) do not name yet. */
#define LANDLOCK_TRUNCATE (1ULL << 14)

int confine_server(char *err)
{
	static const int denied[] = {
		SCMP_SYS(socket),  SCMP_SYS(socketpair),       SCMP_SYS(connect),
		SCMP_SYS(bind),    SCMP_SYS(listen),           SCMP_SYS(accept),
		SCMP_SYS(accept4), SCMP_SYS(execve),           SCMP_SYS(execveat),
		SCMP_SYS(ptrace),  SCMP_SYS(process_vm_readv), SCMP_SYS(process_vm_writev),
		SCMP_SYS(mount),   SCMP_SYS(umount2),          SCMP_SYS(pivot_root),
		SCMP_SYS(chroot),  SCMP_SYS(kexec_load),       SCMP_SYS(init_module),
	};
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_ALLOW);
	int rc, result = RAP_EIO;

	if (!f) {
		snprintf(err, RAP_ERRLEN, "seccomp_init failed");
		return RAP_EIO;
	}
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), denied[i], 0);
		if (rc < 0) {
			snprintf(err, RAP_ERRLEN, "seccomp rule for system call %d: %s", denied[i],
				 strerror(-rc));
			goto out_release;
		}
	}
	rc = seccomp_load(f);
	if (rc < 0) {
		snprintf(err, RAP_ERRLEN, "seccomp_load: %s", strerror(-rc));
		goto out_release;
	}
	result = RAP_OK;
out_release:
	seccomp_release(f);
	return result;
}

/* One Landlock rule: what may be done beneath path. */
static int landlock_rule(int rs, const char *path, uint64_t access, char *err)
{
	struct landlock_path_beneath_attr pb = { .allowed_access = access };
	int fd = open(path, O_PATH | O_CLOEXEC | O_DIRECTORY), rc;

	if (fd < 0) {
		snprintf(err, RAP_ERRLEN, "landlock: %s: %s", path, strerror(errno));
		return RAP_EIO;
	}
	pb.parent_fd = fd;
	rc = (int)syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
	close(fd);
	if (rc != 0) {
		snprintf(err, RAP_ERRLEN, "landlock_add_rule %s: %s", path, strerror(errno));
		return RAP_EIO;
	}
	return RAP_OK;
}

int confine_landlock(const char *dir, const char *base, char *err)
{
	/* Every right of ABI 1, and REFER (2) and TRUNCATE (3) when the
	 * kernel has them: what is handled and not granted is refused. */
	uint64_t handled = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
			   LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
			   LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
			   LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
			   LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK |
			   LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
			   LANDLOCK_ACCESS_FS_MAKE_SYM,
		 own = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |
		       LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR |
		       LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_DIR |
		       LANDLOCK_ACCESS_FS_MAKE_REG;
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	struct landlock_ruleset_attr attr;
	int rs, result = RAP_EIO;

	if (abi < 1) {
		snprintf(err, RAP_ERRLEN,
			 "Landlock is not available (%s): a child that writes temporary files "
			 "is never run without it (Linux 5.13 or later, landlock in its LSMs)",
			 strerror(errno));
		return RAP_EIO;
	}
	if (abi >= 2)
		handled |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3) {
		handled |= LANDLOCK_TRUNCATE;
		own |= LANDLOCK_TRUNCATE;
	}
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = handled;
	rs = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (rs < 0) {
		snprintf(err, RAP_ERRLEN, "landlock_create_ruleset: %s", strerror(errno));
		return RAP_EIO;
	}
	if (landlock_rule(rs, dir, own, err) != RAP_OK ||
	    landlock_rule(rs, base, LANDLOCK_ACCESS_FS_REMOVE_DIR, err) != RAP_OK)
		goto out_close;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    syscall(SYS_landlock_restrict_self, rs, 0) != 0) {
		snprintf(err, RAP_ERRLEN, "landlock_restrict_self: %s", strerror(errno));
		goto out_close;
	}
	result = RAP_OK;
out_close:
	close(rs);
	return result;
}

static int oom_fd = -1;
static long long oom_limit_mb;

static void on_oom(size_t n)
{
	char payload[160];
	int len;

	if (n > 0)
		len = snprintf(payload, sizeof(payload),
			       "{\"code\":\"memory_limit\",\"message\":\"out of memory allocating"
			       " %zu bytes (limit %lld MiB)\"}",
			       n, oom_limit_mb);
	else
		len = snprintf(payload, sizeof(payload),
			       "{\"code\":\"memory_limit\",\"message\":\"out of memory in the"
			       " decoding library (limit %lld MiB)\"}",
			       oom_limit_mb);
	if (len > 0 && (size_t)len < sizeof(payload))
		rap_frame_write(oom_fd, RAP_FRAME_FAIL, payload, (uint32_t)len);
	_exit(RAP_CHILD_EXIT_OOM);
}

/* C++'s operator new failing under RLIMIT_AS, in a library written in C++
 * (poppler): by default it throws std::bad_alloc, nobody catches it, and
 * the child aborts (processor_crashed, SIGABRT) although it only hit its
 * memory limit.  Its new-handler is called first instead. */
static void on_new_failure(void)
{
	on_oom(0);
}

typedef void (*new_handler_fn)(void);

void confine_oom_report(int fd, long long memory_mb)
{
	new_handler_fn (*set_new_handler)(new_handler_fn);

	oom_fd = fd;
	oom_limit_mb = memory_mb;
	rap_mem_set_oom(on_oom);
	/* std::set_new_handler by its mangled name, when libstdc++ is loaded
	 * at all (a processor's library links it; rap-processor does not). */
	*(void **)&set_new_handler = dlsym(RTLD_DEFAULT, "_ZSt15set_new_handlerPFvvE");
	if (set_new_handler)
		set_new_handler(on_new_failure);
}
