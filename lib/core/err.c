/* err.c: names of the library's error codes. */
#include "rap/err.h"

const char *rap_strerror(int err)
{
	switch (err) {
	case RAP_OK:
		return "ok";
	case RAP_AGAIN:
		return "try again";
	case RAP_DONE:
		return "done";
	case RAP_ENOMEM:
		return "out of memory";
	case RAP_EINVAL:
		return "invalid input";
	case RAP_ERANGE:
		return "out of range";
	case RAP_ENOENT:
		return "not found";
	case RAP_EIO:
		return "input/output error";
	case RAP_ETOOBIG:
		return "too big";
	case RAP_EPROTO:
		return "protocol error";
	case RAP_ECONFLICT:
		return "conflict";
	case RAP_EDB:
		return "database error";
	case RAP_EAMQP:
		return "message broker error";
	case RAP_ES3:
		return "object store error";
	case RAP_ETRANSITION:
		return "state transition not allowed";
	case RAP_ETIMEDOUT:
		return "timed out";
	case RAP_ECANCELED:
		return "cancelled";
	case RAP_EAUTH:
		return "unauthorized";
	case RAP_EUNSUPPORTED:
		return "not supported";
	}
	return "unknown error";
}
