package container

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/nsxproject/nsx/procfs"
)

// validate checks that pid is a live, non-zombie process of container id
// before anyone uses it: its cgroup names the container, or its start time
// equals the one the runtime recorded. recorded is that record when the
// source had it at hand (0 if not); recordedLater, when non-nil, fetches it
// (from runc's state file) only if the cgroup check fails, which keeps the
// common case to two small /proc reads. It returns the process's start time.
func validate(ref string, pid int, id string, recorded uint64, recordedLater func() uint64) (uint64, error) {
	if pid <= 0 {
		return 0, newErr(ref, ErrNotRunning, "container has no running process")
	}
	st, err := procfs.ReadStat(pid)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return 0, newErr(ref, ErrNotRunning, fmt.Sprintf("container process %d has exited", pid))
		}
		return 0, newErr(ref, ErrNotRunning, fmt.Sprintf("container process %d: %v", pid, err))
	}
	if st.State == 'Z' {
		return 0, newErr(ref, ErrNotRunning, fmt.Sprintf("container process %d has exited (zombie)", pid))
	}
	if recorded != 0 && recorded != st.StartTime {
		return 0, newErr(ref, ErrNotRunning, fmt.Sprintf("container process %d has exited (PID %d now belongs to a process started at tick %d, not %d)", pid, pid, st.StartTime, recorded))
	}
	if recorded != 0 {
		return st.StartTime, nil
	}
	if text, err := procfs.ReadCgroupText(pid); err == nil && cgroupNames(text, id) {
		return st.StartTime, nil
	}
	if recordedLater != nil {
		if r := recordedLater(); r != 0 && r == st.StartTime {
			return st.StartTime, nil
		}
	}
	return 0, newErr(ref, ErrNotRunning, fmt.Sprintf("process %d is not in container %s's cgroup and its start time does not match the runtime's record (container exited and PID reused?)", pid, shortID(id)))
}

// procStatAlive reports whether pid is a live, non-zombie process that
// started at tick start (any start when 0), and returns its start time.
func procStatAlive(pid int, start uint64) (uint64, error) {
	if pid <= 0 {
		return 0, fs.ErrNotExist
	}
	st, err := procfs.ReadStat(pid)
	if err != nil {
		return 0, err
	}
	if st.State == 'Z' || (start != 0 && st.StartTime != start) {
		return 0, fs.ErrNotExist
	}
	return st.StartTime, nil
}
