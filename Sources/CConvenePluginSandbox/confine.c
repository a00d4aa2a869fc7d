#define _GNU_SOURCE
#include "convene_sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif
/* SECBIT_NOROOT and friends, with their locks: uid 0 gains nothing by exec. */
#define SECURE_BITS_NO_ROOT 0x2f

int convene_sandbox_drop_capabilities(void) {
    /* As root, the bits and the bounding set first (they need CAP_SETPCAP); without it they
     * fail, and there is nothing to drop there. */
    (void)prctl(PR_SET_SECUREBITS, SECURE_BITS_NO_ROOT, 0, 0, 0);
    for (int capability = 0; capability <= 63; capability++) {
        if (prctl(PR_CAPBSET_READ, capability, 0, 0, 0) < 0) break;  /* past the last one */
        (void)prctl(PR_CAPBSET_DROP, capability, 0, 0, 0);
    }
    (void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    struct __user_cap_header_struct header = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
    struct __user_cap_data_struct data[2] = {{0}};
    return (int)syscall(SYS_capset, &header, data);
}

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#endif

#ifdef NATIVE_ARCH
/* Numbers that old headers may lack (the same on every architecture since 5.x). */
#ifndef __NR_fchmodat2
#define __NR_fchmodat2 452
#endif
#ifndef __NR_setxattrat
#define __NR_setxattrat 463
#endif
#ifndef __NR_removexattrat
#define __NR_removexattrat 466
#endif
#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#define __NR_io_uring_enter 426
#define __NR_io_uring_register 427
#endif

#define DENY_WITH(nr, error) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (error))
#define DENY(nr) DENY_WITH(nr, EPERM)
/* `nr` only on the calling process itself: its argument `arg` (a pid, or 0 for "this
 * process") is 0. Another process of the same user (the server, whose limits would end it)
 * is out of reach: these calls check only the user, and no Landlock rule covers them. */
#define SELF_ONLY(nr, arg) \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 4), \
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[arg])), \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0), \
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM), \
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
/* The same for calls that name a kind of target first (`which`): only `kind` with 0. */
#define SELF_ONLY_AS(nr, kind) \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 6), \
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])), \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (kind), 0, 2), \
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])), \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0), \
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM), \
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)
#define IOPRIO_WHO_PROCESS 1
#define NAMESPACES (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP)
#endif

int convene_sandbox_filter_system_calls(int allow_network) {
#ifndef NATIVE_ARCH
    (void)allow_network;
    errno = EOPNOTSUPP;
    return -1;
#else
    struct sock_filter program[] = {
        /* Another architecture's calls (i386's int 0x80 on x86-64) are refused whole. */
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
#if defined(__x86_64__)
        /* x32's numbers, which would name the same calls past this list. */
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        DENY(__NR_chmod), DENY(__NR_chown), DENY(__NR_lchown), DENY(__NR_utime), DENY(__NR_utimes), DENY(__NR_futimesat),
#endif
        /* What Landlock does not cover: a file's mode, owner, times and attributes. */
        DENY(__NR_fchmod), DENY(__NR_fchmodat), DENY(__NR_fchmodat2), DENY(__NR_fchown), DENY(__NR_fchownat),
        DENY(__NR_utimensat), DENY(__NR_setxattr), DENY(__NR_lsetxattr), DENY(__NR_fsetxattr), DENY(__NR_setxattrat),
        DENY(__NR_removexattr), DENY(__NR_lremovexattr), DENY(__NR_fremovexattr), DENY(__NR_removexattrat),
        /* The keyrings it shares with the server's session; other namespaces. */
        DENY(__NR_add_key), DENY(__NR_request_key), DENY(__NR_keyctl), DENY(__NR_unshare), DENY(__NR_setns),
        /* io_uring's operations open files and sockets past this filter (the socket rule
         * below): refused as by a kernel without it, so that a library falls back to calls. */
        DENY_WITH(__NR_io_uring_setup, ENOSYS), DENY_WITH(__NR_io_uring_enter, ENOSYS),
        DENY_WITH(__NR_io_uring_register, ENOSYS),
        /* System V IPC: its queues, segments and semaphores are the machine's, reached by key
         * or by a guessed id, outside any file rule. */
        DENY(__NR_msgget), DENY(__NR_msgsnd), DENY(__NR_msgrcv), DENY(__NR_msgctl),
        DENY(__NR_shmget), DENY(__NR_shmat), DENY(__NR_shmctl), DENY(__NR_shmdt),
        DENY(__NR_semget), DENY(__NR_semop), DENY(__NR_semctl), DENY(__NR_semtimedop),
        /* Leaving its process group, which the server ends whole with the runner. */
        DENY(__NR_setsid), DENY(__NR_setpgid),
        /* Locks and leases on files it may read, which would hold up their writers outside. */
        DENY(__NR_flock),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_fcntl, 0, 8),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_SETLK, 5, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_SETLKW, 4, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_OFD_SETLK, 3, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_OFD_SETLKW, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_SETLEASE, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        /* Limits, priorities and scheduling: its own only. */
        SELF_ONLY(__NR_prlimit64, 0), SELF_ONLY(__NR_sched_setaffinity, 0), SELF_ONLY(__NR_sched_setscheduler, 0),
        SELF_ONLY(__NR_sched_setparam, 0), SELF_ONLY(__NR_sched_setattr, 0),
        SELF_ONLY_AS(__NR_setpriority, PRIO_PROCESS), SELF_ONLY_AS(__NR_ioprio_set, IOPRIO_WHO_PROCESS),
        /* Binding a name: without the network it has no socket to bind but its pair's ends,
         * whose names (abstract ones) would only be taken from a service outside. */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, allow_network ? 0xffffffffu : (uint32_t)__NR_bind, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        /* clone3's flags are out of a filter's reach: refused, so the C library falls back to clone. */
        DENY_WITH(__NR_clone3, ENOSYS),
        /* clone into new namespaces. */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 0, 4),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, NAMESPACES, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        /* A new socket: with the network, of the internet's domains only (not a service's
         * socket on disk, not the kernel's netlink); without it, none (the connection to
         * the server was made before). No domain is 0xffffffff: that comparison never holds. */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, 5),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, allow_network ? (uint32_t)AF_INET : 0xffffffffu, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, allow_network ? (uint32_t)AF_INET6 : 0xffffffffu, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        /* A pair of connected sockets of a stream, which nothing can point elsewhere: not of
         * datagrams, which may be sent to any datagram socket on disk (journald, a daemon's
         * control socket) and be given a network socket back from outside. */
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socketpair, 0, 6),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
        BPF_STMT(BPF_ALU | BPF_AND | BPF_K, ~(uint32_t)(SOCK_NONBLOCK | SOCK_CLOEXEC)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SOCK_STREAM, 2, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SOCK_SEQPACKET, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        /* Everything else. */
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog filter = { .len = (unsigned short)(sizeof program / sizeof program[0]), .filter = program };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &filter, 0, 0);
#endif
}
