/* files — output directories and atomic writes, shared by flags (saved images) and sha (--dump). */
#ifndef CONCBENCH_FILES_H
#define CONCBENCH_FILES_H

#include <stddef.h>

/* Create dir (and its parents) if missing and prove it writable by creating and removing
 * a temporary file in it. *created: how many trailing components of dir this call made
 * (0 when dir existed), for files_remove_created; with a `..` after a new component it
 * is 0, so that what was made may stay but nothing the user had is ever removed. 0, or
 * -errno with "cannot write DIR: reason" in err (and nothing left of what it made). */
int files_prepare_dir(const char *dir, unsigned *created, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Undo files_prepare_dir: remove the `created` deepest components of dir, deepest first,
 * stopping at the first that is not empty. A run that could not run leaves nothing. */
void files_remove_created(const char *dir, unsigned created);

/* Write len bytes to dir/name through a temporary file in the same directory and
 * rename(2): readers see the old file, or the whole new one, never a part. On failure the
 * temporary file is removed. 0, or -errno with "cannot write DIR/NAME: reason" in err.
 * Thread-safe; async-signal-unsafe. */
int files_write_atomic(const char *dir, const char *name, const void *buf, size_t len, char *err,
                       size_t errlen) __attribute__((warn_unused_result));

/* As files_write_atomic, but never replacing a file of other content: when dir/name
 * exists and differs from buf, nothing is written and 1 is returned (the caller picks
 * another name). An existing file of the same bytes is replaced (a run again into the
 * same directory). 0, 1, or -errno with "cannot write DIR/NAME: reason" in err.
 * Thread-safe (link(2) decides between two savers of one name); async-signal-unsafe. */
__attribute__((warn_unused_result)) int files_write_new(const char *dir, const char *name,
                                                        const void *buf, size_t len, char *err,
                                                        size_t errlen);

#endif
