package e2e

// nsx ps and nsx inspect against a real docker container: the values they
// report must be the ones the kernel and the engine report.

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/nsxproject/nsx/internal/enginetest"
)

func TestPsInspectDocker(t *testing.T) {
	enginetest.Require(t, "docker")
	nsx, _ := buildLs(t)
	name := enginetest.Name("nsx-e2e-view")
	id := enginetest.RunDocker(t, name, "--memory", "64m", "--hostname", "nsx-view")
	pid := enginetest.InspectPID(t, "docker", name)
	ip := enginetest.Run(t, "docker", "inspect", "-f", "{{.NetworkSettings.IPAddress}}", name)
	ref := "docker:" + name

	r := run(nsx, "ps", "-J", ref)
	if r.code != 0 {
		t.Fatalf("nsx ps %s: %d %s", ref, r.code, r.stderr)
	}
	var ps struct {
		PIDNS     uint64 `json:"pid_ns"`
		Container *struct {
			Runtime, ID, Name string
		} `json:"container"`
		Processes []struct {
			PID     int    `json:"pid"`
			NSpid   int    `json:"nspid"`
			UID     int    `json:"uid"`
			Command string `json:"command"`
		} `json:"processes"`
		Cgroup *struct {
			MemoryLimit int64 `json:"memory_limit_bytes"`
			MemoryBytes int64 `json:"memory_bytes"`
		} `json:"cgroup"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &ps); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if got, want := strconv.FormatUint(ps.PIDNS, 10), nsInode(t, pid, "pid"); got != want {
		t.Errorf("pid_ns %s, kernel says %s", got, want)
	}
	if len(ps.Processes) != 1 || ps.Processes[0].PID != pid || ps.Processes[0].NSpid != 1 ||
		ps.Processes[0].UID != 0 || ps.Processes[0].Command != "sleep 3600" {
		t.Errorf("processes %+v, want the container's sleep as PID %d, PID 1 inside", ps.Processes, pid)
	}
	if ps.Container == nil || ps.Container.ID != id {
		t.Errorf("container %+v, want ID %s", ps.Container, id)
	}
	if ps.Cgroup == nil || ps.Cgroup.MemoryLimit != 64<<20 || ps.Cgroup.MemoryBytes <= 0 {
		t.Errorf("cgroup %+v, want the 64 MiB limit docker set and some memory in use", ps.Cgroup)
	}

	r = run(nsx, "inspect", "-J", ref)
	if r.code != 0 {
		t.Fatalf("nsx inspect %s: %d %s", ref, r.code, r.stderr)
	}
	var in struct {
		PID        int `json:"pid"`
		Namespaces []struct {
			Type string `json:"type"`
			ID   uint64 `json:"id"`
			Host bool   `json:"host"`
		} `json:"namespaces"`
		Hostname   string `json:"hostname"`
		Interfaces []struct {
			Name  string   `json:"name"`
			Addrs []string `json:"addresses"`
		} `json:"interfaces"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &in); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if in.PID != pid || in.Hostname != "nsx-view" {
		t.Errorf("pid %d hostname %q, want %d and nsx-view", in.PID, in.Hostname, pid)
	}
	for _, n := range in.Namespaces {
		if got := strconv.FormatUint(n.ID, 10); got != nsInode(t, pid, n.Type) {
			t.Errorf("%s: id %s, kernel says %s", n.Type, got, nsInode(t, pid, n.Type))
		}
		// Docker gives a container its own namespaces of these kinds and
		// shares the user namespace with the host.
		switch n.Type {
		case "mnt", "uts", "ipc", "net", "pid":
			if n.Host {
				t.Errorf("%s reported as the host's", n.Type)
			}
		case "user":
			if !n.Host {
				t.Errorf("user namespace not reported as the host's")
			}
		}
	}
	var addrs []string
	for _, i := range in.Interfaces {
		addrs = append(addrs, i.Addrs...)
	}
	if !strings.Contains(strings.Join(addrs, " "), ip+"/") {
		t.Errorf("addresses %q lack the container's %s", addrs, ip)
	}

	// nsx ls names the container that owns a namespace.
	r = run(nsx, "ls", "-n", "-o", "NS,CONTAINER", "-t", "uts")
	want := nsInode(t, pid, "uts") + " " + ref
	found := false
	for _, line := range strings.Split(r.stdout, "\n") {
		found = found || strings.Join(strings.Fields(line), " ") == want
	}
	if r.code != 0 || !found {
		t.Errorf("nsx ls: want a row %q in\n%s%s", want, r.stdout, r.stderr)
	}
}

// TestReadOnlyDocker: --read-only lets a debugging session look at a
// container without being able to change it, while the container itself
// keeps writing.
func TestReadOnlyDocker(t *testing.T) {
	enginetest.Require(t, "docker")
	nsx := ctrNSX(t)
	name := enginetest.Name("nsx-e2e-ro")
	enginetest.RunDocker(t, name)
	ref := "docker:" + name
	r := run(nsx, "enter", "--read-only", ref, "--", "sh", "-c", "touch /nsx-probe /dev/shm/nsx-probe")
	if r.code == 0 || strings.Count(r.stderr, "Read-only file system") != 2 {
		t.Errorf("writes under --read-only: exit %d, stderr %q; want two EROFS failures", r.code, r.stderr)
	}
	r = run(nsx, "enter", ref, "--", "sh", "-c", "touch /nsx-probe /dev/shm/nsx-probe && rm /nsx-probe /dev/shm/nsx-probe")
	if r.code != 0 {
		t.Errorf("the container cannot write any more: exit %d, %q", r.code, r.stderr)
	}
}
