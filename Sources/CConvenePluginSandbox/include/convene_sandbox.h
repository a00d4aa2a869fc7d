/*
 * The sandbox of an isolated plugin's runner process: Linux's Landlock, applied by the
 * runner to itself before it loads the plugin (see Docs/PLUGINS.md, "Isolation").
 */
#ifndef CONVENE_SANDBOX_H
#define CONVENE_SANDBOX_H

#include <stddef.h>

/* The Landlock ABI version this kernel offers; 0 when it has none (or it is disabled). */
int convene_sandbox_abi(void);

/* Restricts the calling process, for good, to: reading (and mapping, executing) beneath
 * each of `readable` (directories or files), and reading and writing each of `writable`
 * (files: /dev/null and the like); it may create, remove or rename nothing on disk. With
 * Landlock ABI 6 or later it also sends no signal to, and connects to no abstract socket
 * of, a process outside its sandbox (the server); at any ABI it cannot trace one. A path
 * that does not exist is skipped. Call it while the process has one thread: the
 * restriction binds the calling thread and the threads and processes it starts later.
 * Returns the ABI used; -1 with errno (and `*what` naming the step) on failure, when the
 * process is left unrestricted. */
int convene_sandbox_restrict(const char *const *readable, size_t readable_count,
                             const char *const *writable, size_t writable_count, const char **what);

/* Drops every capability the process has, for good (the bounding and ambient sets too, and
 * uid 0's special treatment at exec): a runner of a server run as root is root without its
 * powers. Returns 0, or -1 with errno. */
int convene_sandbox_drop_capabilities(void);

/* A seccomp filter refusing (EPERM) what Landlock does not cover: changing a file's mode,
 * owner, times or extended attributes, the kernel's keyrings, System V IPC, new namespaces,
 * new sockets but (with `allow_network`) of the internet's domains, and socket pairs but of
 * a stream, besides calls of another architecture. io_uring is refused (ENOSYS, as on a kernel without it):
 * its operations open sockets no filter sees. Returns 0, or -1 with errno (EOPNOTSUPP on an
 * architecture it is not written for). */
int convene_sandbox_filter_system_calls(int allow_network);

#endif
