package nsenter

// What a docker exec user expects from nsx enter: a shell that exists in the
// target, a user and group named as the target names them, extra
// environment variables. Names are looked up in the target's own
// /etc/passwd and /etc/group, opened through the root the program will get
// with openat2(RESOLVE_IN_ROOT), so a symlink in the target cannot make nsx
// read a host file instead.

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsxproject/nsx/namespace"
	"github.com/nsxproject/nsx/target"
)

// programRoot opens (O_PATH) the root directory the program will have, for
// looking up files as the program will see them: the -r directory, else the
// target's root when its mount namespace is entered, else nsx's own. It
// returns -1 when that root is a namespace file's, which nsx cannot look
// into without joining it.
func programRoot(o *Options, t *target.Pinned, want namespace.Set) (int, error) {
	switch {
	case o.Root && o.RootDir != nil:
		return unix.FcntlInt(o.RootDir.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	case o.Root || want.Has(namespace.Mount):
		if t == nil || t.PID() == 0 {
			return -1, nil
		}
		return t.OpenAt("root", unix.O_PATH|unix.O_DIRECTORY)
	}
	return unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
}

// openInRoot opens path below root as if root were "/".
func openInRoot(root int, path string, flags uint64) (int, error) {
	return unix.Openat2(root, path, &unix.OpenHow{
		Flags:   flags | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
}

// existsInRoot reports whether path names an executable regular file as the
// program will see it.
func existsInRoot(root int, path string) bool {
	fd, err := openInRoot(root, path, unix.O_PATH)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	return unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG && st.Mode&0o111 != 0
}

// readInRoot reads a small file below root.
func readInRoot(root int, path string) ([]byte, error) {
	fd, err := openInRoot(root, path, unix.O_RDONLY|unix.O_NONBLOCK)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, unix.EINVAL
	}
	var b bytes.Buffer
	_, err = b.ReadFrom(&limitedReader{f, 16 << 20})
	return b.Bytes(), err
}

type limitedReader struct {
	f *os.File
	n int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, fmt.Errorf("file too large")
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.f.Read(p)
	l.n -= int64(n)
	return n, err
}

// lookupDB finds name in a passwd- or group-format file and returns its
// third field (the id) and, for passwd, its fourth (the primary group).
func lookupDB(data []byte, name string) (id, group int, ok bool) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Split(sc.Text(), ":")
		if len(f) < 3 || f[0] != name {
			continue
		}
		id, err := strconv.ParseUint(f[2], 10, 32)
		if err != nil {
			return 0, 0, false
		}
		group = -1
		if len(f) >= 4 {
			if g, err := strconv.ParseUint(f[3], 10, 32); err == nil {
				group = int(g)
			}
		}
		return int(id), group, true
	}
	return 0, 0, false
}

// resolveAs turns --as USER[:GROUP] into ids. Numbers are taken as they
// are; names come from the target's /etc/passwd and /etc/group. A user
// without a group gets its primary group from /etc/passwd (or keeps the
// group when given as a number).
func resolveAs(root int, spec string) (uid, gid int, err error) {
	user, group, hasGroup := strings.Cut(spec, ":")
	if user == "" || hasGroup && group == "" {
		return 0, 0, errorf(nil, "--as %s: expected USER[:GROUP]", spec)
	}
	gid = -1
	if n, err := strconv.ParseUint(user, 10, 32); err == nil {
		uid = int(n)
	} else {
		if root < 0 {
			return 0, 0, errorf(nil, "--as %s: cannot look up names without the target's files (give numeric ids)", spec)
		}
		data, err := readInRoot(root, "/etc/passwd")
		if err != nil {
			return 0, 0, errorf(err, "--as %s: cannot read the target's /etc/passwd", spec)
		}
		var primary int
		var ok bool
		if uid, primary, ok = lookupDB(data, user); !ok {
			return 0, 0, errorf(nil, "--as %s: no user %q in the target's /etc/passwd", spec, user)
		}
		gid = primary
	}
	if hasGroup {
		if n, err := strconv.ParseUint(group, 10, 32); err == nil {
			return uid, int(n), nil
		}
		if root < 0 {
			return 0, 0, errorf(nil, "--as %s: cannot look up names without the target's files (give numeric ids)", spec)
		}
		data, err := readInRoot(root, "/etc/group")
		if err != nil {
			return 0, 0, errorf(err, "--as %s: cannot read the target's /etc/group", spec)
		}
		var ok bool
		if gid, _, ok = lookupDB(data, group); !ok {
			return 0, 0, errorf(nil, "--as %s: no group %q in the target's /etc/group", spec, group)
		}
	}
	return uid, gid, nil
}

// setEnv applies --setenv KEY=VALUE entries: each replaces any entry of
// that name.
func setEnv(env, set []string) []string {
	if len(set) == 0 {
		return env
	}
	out := make([]string, 0, len(env)+len(set))
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		replaced := false
		for _, s := range set {
			if n, _, _ := strings.Cut(s, "="); n == name {
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, kv)
		}
	}
	// A later --setenv of the same name wins.
	for i, s := range set {
		n, _, _ := strings.Cut(s, "=")
		later := false
		for _, t := range set[i+1:] {
			if m, _, _ := strings.Cut(t, "="); m == n {
				later = true
			}
		}
		if !later {
			out = append(out, s)
		}
	}
	return out
}
