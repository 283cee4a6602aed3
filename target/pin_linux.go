package target

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsxproject/nsx/container"
	"github.com/nsxproject/nsx/namespace"
	"github.com/nsxproject/nsx/procfs"
)

// Pinned is a target held open: a process pinned by a pidfd and a dirfd on
// its /proc entry, or a namespace file. It is a handle: its fds are its own,
// valid until Close, and never change. Close releases it.
type Pinned struct {
	ref       Ref
	pid       int // 0 for a namespace-file target
	pidfd     int // -1 when the kernel has no pidfds, or for a namespace file
	procDir   int // /proc/PID, -1 when none
	startTime uint64
	file      *os.File // a namespace-file target
	fileKind  namespace.Kind
	container *container.Found
}

// Ref is the reference the target was pinned from.
func (p *Pinned) Ref() Ref { return p.ref }

// PID is the target process, 0 for a namespace-file target.
func (p *Pinned) PID() int { return p.pid }

// Pidfd is the pidfd that pins the process: -1 when the kernel has no
// pidfds or for a namespace file (fd 0 is a valid pidfd). It belongs to p:
// valid until Close, never to be closed by the caller.
func (p *Pinned) Pidfd() int { return p.pidfd }

// ProcDir is a directory fd on /proc/PID, -1 when there is none. Files of
// the target are opened relative to it, so they belong to the pinned
// process even if the PID is reused. It belongs to p, as Pidfd.
func (p *Pinned) ProcDir() int { return p.procDir }

// StartTime is field 22 of /proc/PID/stat when the target was pinned.
func (p *Pinned) StartTime() uint64 { return p.startTime }

// NamespaceFile returns the fd and kind of a namespace-file target; ok is
// false for a process. The fd belongs to p, as Pidfd.
func (p *Pinned) NamespaceFile() (fd int, kind namespace.Kind, ok bool) {
	if p.file == nil {
		return -1, 0, false
	}
	return int(p.file.Fd()), p.fileKind, true
}

// Container is the container the target was resolved from, or nil.
func (p *Pinned) Container() *container.Found { return p.container }

// String gives the target back as the user named it.
func (p *Pinned) String() string { return p.ref.String() }

// Equal reports whether p and q pin the same thing: the same process (the
// same pidfs inode, or PID and start time without pidfds), or the same
// namespace for namespace files.
func (p *Pinned) Equal(q *Pinned) bool {
	if p == nil || q == nil {
		return p == q
	}
	if p.file != nil || q.file != nil {
		if p.file == nil || q.file == nil {
			return false
		}
		return sameFile(int(p.file.Fd()), int(q.file.Fd()))
	}
	if p.pid != q.pid || p.startTime != q.startTime {
		return false
	}
	if p.pidfd >= 0 && q.pidfd >= 0 {
		// pidfs gives every process an inode of its own.
		return sameFile(p.pidfd, q.pidfd)
	}
	return true
}

func sameFile(a, b int) bool {
	var sa, sb unix.Stat_t
	if unix.Fstat(a, &sa) != nil || unix.Fstat(b, &sb) != nil {
		return false
	}
	return sa.Dev == sb.Dev && sa.Ino == sb.Ino
}

// ErrGone reports a target process that exited or was replaced.
var ErrGone = errors.New("target process is gone")

// PinPID pins process pid: it opens a pidfd first and /proc/PID afterwards,
// then checks through the pidfd that the process is still the one the pidfd
// names. inode, when non-zero, must be the pidfd's pidfs inode.
func PinPID(pid int, inode uint64) (*Pinned, error) {
	p := &Pinned{ref: Ref{PID: pid, Inode: inode}, pid: pid, pidfd: -1, procDir: -1}
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil && !errors.Is(err, unix.ENOSYS) && isThread(pid) {
		// A thread ID (util-linux enters its namespaces, which may
		// differ from its process's): a thread pidfd, Linux 6.9 or
		// later; before that, /proc/TID alone.
		if fd, err = unix.PidfdOpen(pid, unix.PIDFD_THREAD); err != nil {
			err = unix.EINVAL
		}
	}
	switch {
	case err == nil:
		p.pidfd = fd // pidfds are always close-on-exec
	case errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EINVAL):
		// Kernel before 5.3 (or pidfds disabled): fall back to /proc alone.
		if inode != 0 {
			return nil, fmt.Errorf("PID:INODE needs pidfd support: %w", err)
		}
	default:
		return nil, &os.PathError{Op: "pidfd_open", Path: strconv.Itoa(pid), Err: err}
	}
	if inode != 0 {
		var st unix.Stat_t
		if err := unix.Fstat(p.pidfd, &st); err != nil || st.Ino != inode {
			p.Close()
			// glibc's wording, as util-linux prints it.
			return nil, fmt.Errorf("failed to obtain a valid file descriptor for PID %d: No such process", pid)
		}
	}
	dir, err := unix.Open(procfs.Root+"/"+strconv.Itoa(pid), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		p.Close()
		return nil, &os.PathError{Op: "open", Path: procfs.Root + "/" + strconv.Itoa(pid), Err: err}
	}
	p.procDir = dir
	if b, err := p.ReadFile("stat"); err == nil {
		st, _ := procfs.ParseStat(string(b))
		p.startTime = st.StartTime
		if st.State == 'Z' {
			p.Close()
			return nil, fmt.Errorf("process %d is a zombie: %w", pid, ErrGone)
		}
	}
	if err := p.Alive(); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// Pin pins the target the reference names; a container reference is
// resolved by the zero container.Resolver.
func (r Ref) Pin(ctx context.Context) (*Pinned, error) { return r.PinWith(ctx, nil) }

// PinWith is Pin with a container reference resolved by res (nil: the zero
// container.Resolver).
func (r Ref) PinWith(ctx context.Context, res *container.Resolver) (*Pinned, error) {
	switch {
	case r.Path != "":
		f, err := namespace.OpenFile(r.Path)
		if err != nil {
			return nil, err
		}
		k, err := namespace.KindOf(int(f.Fd()))
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: not a namespace file", r.Path)
		}
		return &Pinned{ref: r, pidfd: -1, procDir: -1, file: f, fileKind: k}, nil
	case r.Container != "":
		found, err := res.Resolve(ctx, r.Container)
		if err != nil {
			return nil, err
		}
		p, err := PinPID(found.PID, 0)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.Container, err)
		}
		if found.StartTime != 0 && p.startTime != found.StartTime {
			p.Close()
			return nil, fmt.Errorf("%s: process %d was replaced since the runtime recorded it: %w", r.Container, found.PID, ErrGone)
		}
		p.ref = r
		p.container = found
		return p, nil
	}
	return PinPID(r.PID, r.Inode)
}

// isThread reports whether tid is a thread that is not its process's
// leader: /proc/TID exists although readdir never lists it.
func isThread(tid int) bool {
	b, err := os.ReadFile(procfs.Root + "/" + strconv.Itoa(tid) + "/status")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Tgid:"); ok {
			return strings.TrimSpace(v) != strconv.Itoa(tid)
		}
	}
	return false
}

// Alive checks through the pidfd that the pinned process still runs.
func (p *Pinned) Alive() error {
	if p.pidfd < 0 {
		if p.pid == 0 {
			return nil
		}
		if err := unix.Kill(p.pid, 0); errors.Is(err, unix.ESRCH) {
			return ErrGone
		}
		return nil
	}
	if err := unix.PidfdSendSignal(p.pidfd, 0, nil, 0); errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("process %d: %w", p.pid, ErrGone)
	}
	return nil
}

// OpenNS opens the target's namespace of kind k, read-only and close-on-exec,
// relative to the pinned /proc directory.
func (p *Pinned) OpenNS(k namespace.Kind) (int, error) {
	return p.OpenAt("ns/"+k.ProcName(), unix.O_RDONLY)
}

// OpenAt opens a file below the pinned /proc/PID, close-on-exec.
func (p *Pinned) OpenAt(name string, flags int) (int, error) {
	if p.procDir < 0 {
		return -1, fmt.Errorf("%s: target has no process", name)
	}
	fd, err := unix.Openat(p.procDir, name, flags|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: procfs.Root + "/" + strconv.Itoa(p.pid) + "/" + name, Err: err}
	}
	return fd, nil
}

// ReadFile reads a file below the pinned /proc/PID, such as "environ".
func (p *Pinned) ReadFile(name string) ([]byte, error) {
	fd, err := p.OpenAt(name, unix.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	b, err := procfs.ReadFd(fd)
	if err != nil {
		return nil, &os.PathError{Op: "read", Path: procfs.Root + "/" + strconv.Itoa(p.pid) + "/" + name, Err: err}
	}
	return b, nil
}

// Close releases the pins.
func (p *Pinned) Close() error {
	if p.pidfd >= 0 {
		unix.Close(p.pidfd)
		p.pidfd = -1
	}
	if p.procDir >= 0 {
		unix.Close(p.procDir)
		p.procDir = -1
	}
	if p.file != nil {
		p.file.Close()
	}
	return nil
}
