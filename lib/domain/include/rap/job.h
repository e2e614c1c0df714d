#ifndef RAP_JOB_H
#define RAP_JOB_H

/*
 * The sizes of a job's fields, as the schemas in proto/ bound them and
 * every layer that stores or carries a job uses them.
 */
#define RAP_MAX_OBJECT_KEY 1024 /* bytes of an object key */
#define RAP_MAX_JOB_TYPE 64     /* bytes of a job type name */
#define RAP_MAX_OWNER 64        /* bytes of an owner name */
/** A job state's name ("PROCESSING") and the NUL. */
#define RAP_JOB_STATUS_LEN 16

#endif
