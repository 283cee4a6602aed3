package container

// /proc readers the resolver needs beyond the procfs package.

import (
	"bytes"
	"os"
	"strconv"
	"strings"

	"github.com/nsxproject/nsx/procfs"
)

func itoa(n int) string { return strconv.Itoa(n) }

// readNSpid returns the NSpid line of /proc/PID/status: the process's PID in
// each PID namespace it belongs to, outermost first.
func readNSpid(pid int) ([]int, error) {
	b, err := os.ReadFile(procfs.Root + "/" + itoa(pid) + "/status")
	if err != nil {
		return nil, err
	}
	return parseNSpid(b), nil
}

func parseNSpid(status []byte) []int {
	for len(status) > 0 {
		line := status
		if i := bytes.IndexByte(status, '\n'); i >= 0 {
			line, status = status[:i], status[i+1:]
		} else {
			status = nil
		}
		rest, ok := bytes.CutPrefix(line, []byte("NSpid:"))
		if !ok {
			continue
		}
		var out []int
		for _, f := range strings.Fields(string(rest)) {
			n, err := strconv.Atoi(f)
			if err != nil {
				return nil
			}
			out = append(out, n)
		}
		return out
	}
	return nil
}

// listPIDs returns the PIDs under /proc.
func listPIDs() ([]int, error) {
	f, err := os.Open(procfs.Root)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	pids := make([]int, 0, len(names))
	for _, n := range names {
		if n == "" || n[0] < '0' || n[0] > '9' {
			continue
		}
		if p, err := strconv.Atoi(n); err == nil {
			pids = append(pids, p)
		}
	}
	return pids, nil
}
