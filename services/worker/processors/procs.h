#ifndef PROC_PROCS_H
#define PROC_PROCS_H

#include "processor.h"

/* The processors of this folder, one file each; registry.c lists them. */
extern const struct processor proc_file_inspect;    /* inspect.c */
extern const struct processor proc_test_sandbox;    /* test_sandbox.c */
extern const struct processor proc_image_thumbnail; /* image.c */
extern const struct processor proc_pdf_text;        /* pdf.c */
extern const struct processor proc_video_probe;     /* video.c */
extern const struct processor proc_virus_scan;      /* virus.c */

#endif
