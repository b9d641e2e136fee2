package cloudmgmt

import "golang.org/x/sys/unix"

// execNice is the nice value of the thread that runs remote execs.
const execNice = 10

// lowerThreadPriority gives the calling OS thread (locked by the caller)
// nice execNice. On Linux a nice value belongs to one thread, not to the
// process. Raising one's own nice value needs no privilege; if it fails
// anyway (a seccomp filter), execs run at normal priority.
func lowerThreadPriority() { unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), execNice) }
