package listing

import (
	"strconv"

	"github.com/nsxproject/nsx/container"
	"github.com/nsxproject/nsx/procfs"
)

// containerOf returns the container process pid belongs to, or nil: the
// one identity container.OfProcess gives from the process's cgroup.
func containerOf(pid int) *container.Container {
	b, err := procfs.ReadSmall(procfs.Root + "/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return nil
	}
	return container.OfProcess(pid, b)
}
