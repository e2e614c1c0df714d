#ifndef RAP_ERR_H
#define RAP_ERR_H

/*
 * One error type for the whole library: every fallible function returns an
 * int that is RAP_OK (0) on success, RAP_AGAIN on a non-blocking path that
 * has to be tried again, RAP_DONE where a loop's work is over (rap/task.h),
 * or one of the negative codes below.  Predicates
 * return bool instead.  The library never logs: where a code is not enough,
 * functions fill a caller's buffer of RAP_ERRLEN bytes with a message.
 */
enum rap_err {
	RAP_OK = 0,
	RAP_AGAIN = 1,
	RAP_DONE = 2,          /* (not a failure) the work is over: a task ends */
	RAP_ENOMEM = -1,       /* an allocation failed */
	RAP_EINVAL = -2,       /* an argument or input is malformed */
	RAP_ERANGE = -3,       /* a number is out of its bounds */
	RAP_ENOENT = -4,       /* the thing asked for does not exist */
	RAP_EIO = -5,          /* a system call or stream failed */
	RAP_ETOOBIG = -6,      /* a buffer or body passed its maximum */
	RAP_EPROTO = -7,       /* a peer spoke the protocol wrongly */
	RAP_ECONFLICT = -8,    /* the state changed under us */
	RAP_EDB = -9,          /* PostgreSQL failed */
	RAP_EAMQP = -10,       /* RabbitMQ failed */
	RAP_ES3 = -11,         /* the S3 server failed or refused */
	RAP_ETRANSITION = -12, /* a job state transition is not allowed */
	RAP_ETIMEDOUT = -13,   /* a bounded wait ran out */
	RAP_ECANCELED = -14,   /* the work was cancelled */
	RAP_EAUTH = -15,       /* missing or wrong credentials */
	RAP_EUNSUPPORTED = -16 /* a known but unsupported value */
};

#define RAP_ERRLEN 256

/** Returns a static, human-readable name for an error code. */
const char *rap_strerror(int err);

#endif
