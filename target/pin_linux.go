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

// Pinned is a target held open: a process pinned by a pidfd and a dirfd on its
// /proc entry, or a namespace file. Close releases it.
type Pinned struct {
	Ref Ref
	// PID is the target process, 0 for a namespace-file target.
	PID int
	// Pidfd pins the process; -1 when the kernel has no pidfds or for a
	// namespace file. Fd 0 is a valid pidfd.
	Pidfd int
	// ProcDir is an O_PATH-free directory fd on /proc/PID, -1 when none.
	// Files of the target are opened relative to it, so they belong to the
	// pinned process even if the PID is reused.
	ProcDir int
	// StartTime is field 22 of /proc/PID/stat when the target was pinned.
	StartTime uint64
	// File is the namespace file of a namespace-file target, and FileKind
	// its kind.
	File     *os.File
	FileKind namespace.Kind
	// Container is the container the target was resolved from, or nil.
	Container *container.Found
}

// ErrGone reports a target process that exited or was replaced.
var ErrGone = errors.New("target process is gone")

// PinPID pins process pid: it opens a pidfd first and /proc/PID afterwards,
// then checks through the pidfd that the process is still the one the pidfd
// names. inode, when non-zero, must be the pidfd's pidfs inode.
func PinPID(pid int, inode uint64) (*Pinned, error) {
	p := &Pinned{Ref: Ref{PID: pid, Inode: inode}, PID: pid, Pidfd: -1, ProcDir: -1}
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
		p.Pidfd = fd // pidfds are always close-on-exec
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
		if err := unix.Fstat(p.Pidfd, &st); err != nil || st.Ino != inode {
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
	p.ProcDir = dir
	if b, err := p.ReadFile("stat"); err == nil {
		st, _ := procfs.ParseStat(string(b))
		p.StartTime = st.StartTime
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
		return &Pinned{Ref: r, Pidfd: -1, ProcDir: -1, File: f, FileKind: k}, nil
	case r.Container != "":
		found, err := res.Resolve(ctx, r.Container)
		if err != nil {
			return nil, err
		}
		p, err := PinPID(found.PID, 0)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.Container, err)
		}
		if found.StartTime != 0 && p.StartTime != found.StartTime {
			p.Close()
			return nil, fmt.Errorf("%s: process %d was replaced since the runtime recorded it: %w", r.Container, found.PID, ErrGone)
		}
		p.Ref = r
		p.Container = found
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
	if p.Pidfd < 0 {
		if p.PID == 0 {
			return nil
		}
		if err := unix.Kill(p.PID, 0); errors.Is(err, unix.ESRCH) {
			return ErrGone
		}
		return nil
	}
	if err := unix.PidfdSendSignal(p.Pidfd, 0, nil, 0); errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("process %d: %w", p.PID, ErrGone)
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
	if p.ProcDir < 0 {
		return -1, fmt.Errorf("%s: target has no process", name)
	}
	fd, err := unix.Openat(p.ProcDir, name, flags|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: procfs.Root + "/" + strconv.Itoa(p.PID) + "/" + name, Err: err}
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
		return nil, &os.PathError{Op: "read", Path: procfs.Root + "/" + strconv.Itoa(p.PID) + "/" + name, Err: err}
	}
	return b, nil
}

// Close releases the pins.
func (p *Pinned) Close() error {
	if p.Pidfd >= 0 {
		unix.Close(p.Pidfd)
		p.Pidfd = -1
	}
	if p.ProcDir >= 0 {
		unix.Close(p.ProcDir)
		p.ProcDir = -1
	}
	if p.File != nil {
		p.File.Close()
	}
	return nil
}
