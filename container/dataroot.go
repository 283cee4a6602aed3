package container

// Where the runtimes keep what the daemonless sources read. Each default
// moves with the runtime's configuration: Docker's data-root and exec-root
// (daemon.json, or the running dockerd's flags), containerd's state
// directory and its runc shim's Root (config.toml, or a running
// containerd's --config and --state), podman's graphroot and runroot
// (storage.conf, podmanStorageRoots). Each is worked out once per process,
// the first time a source needs it.

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/nsxproject/nsx/procfs"
)

const (
	dockerDaemonJSON     = "/etc/docker/daemon.json"
	dockerPIDFile        = "/var/run/docker.pid"
	containerdConfigFile = "/etc/containerd/config.toml"
)

// dockerDirs are dockerd's data root (containers/<id>/config.v2.json) and
// exec root (runtime-runc/moby/<id>/state.json).
type dockerDirs struct{ dataRoot, execRoot string }

var configuredDockerDirs = sync.OnceValue(func() dockerDirs {
	return findDockerDirs(dockerd(dockerPIDFile))
})

func dockerDataRoot() string { return configuredDockerDirs().dataRoot }

// dockerRuncRoot is where Docker's runc keeps its containers' state.
func dockerRuncRoot() string {
	return filepath.Join(configuredDockerDirs().execRoot, "runtime-runc", "moby")
}

// dockerd returns the arguments of the running dockerd that pidFile
// names, nil when there is none (no daemon, or the PID now belongs to
// another program).
func dockerd(pidFile string) []string {
	pid, err := readPIDFile(pidFile)
	if err != nil {
		return nil
	}
	args := cmdlineOf(pid)
	if len(args) == 0 || filepath.Base(args[0]) != "dockerd" {
		return nil
	}
	return args[1:]
}

// findDockerDirs reads the data and exec roots from dockerd's flags
// (args), else the daemon.json they name, else the defaults.
func findDockerDirs(args []string) dockerDirs {
	d := dockerDirs{dataRoot: "/var/lib/docker", execRoot: "/var/run/docker"}
	conf := dockerDaemonJSON
	if v, ok := flagValue(args, "config-file"); ok {
		conf = v
	}
	if b, err := readBounded(conf); err == nil {
		var cfg struct {
			DataRoot string `json:"data-root"`
			Graph    string `json:"graph"`
			ExecRoot string `json:"exec-root"`
		}
		if json.Unmarshal(b, &cfg) == nil {
			switch {
			case cfg.DataRoot != "":
				d.dataRoot = cfg.DataRoot
			case cfg.Graph != "":
				d.dataRoot = cfg.Graph
			}
			if cfg.ExecRoot != "" {
				d.execRoot = cfg.ExecRoot
			}
		}
	}
	// dockerd refuses a directory set both ways, so the flags simply win.
	for _, name := range []string{"data-root", "graph", "g"} {
		if v, ok := flagValue(args, name); ok {
			d.dataRoot = v
			break
		}
	}
	if v, ok := flagValue(args, "exec-root"); ok {
		d.execRoot = v
	}
	return d
}

// containerdDirs are the state directories (io.containerd.runtime.v2.task)
// and the runc shim's roots (before the namespace) of containerd daemons.
type containerdDirs struct{ states, runcBases []string }

// fileContainerdDirs are the defaults and config.toml's: cheap, and enough
// on most hosts; listings name containers from these first.
var fileContainerdDirs = sync.OnceValue(func() containerdDirs {
	var d containerdDirs
	d.add("/run/containerd", "/run/containerd/runc")
	d.addConfig(containerdConfigFile, "")
	return d
})

// configuredContainerdDirs adds those of every running containerd (its
// --config and --state), which costs a read of every process's comm: the
// daemonless resolvers use them, listings only for a container the files'
// directories do not know.
var configuredContainerdDirs = sync.OnceValue(func() containerdDirs {
	f := fileContainerdDirs()
	d := containerdDirs{states: slices.Clone(f.states), runcBases: slices.Clone(f.runcBases)}
	for _, args := range runningContainerds() {
		conf := containerdConfigFile
		if v, ok := flagValue(args, "config", "c"); ok {
			conf = v
		}
		state, _ := flagValue(args, "state")
		if conf == containerdConfigFile && state == "" {
			continue // fileContainerdDirs has read it
		}
		d.addConfig(conf, state)
	}
	return d
})

func (d *containerdDirs) add(state, runcBase string) {
	if state != "" && !slices.Contains(d.states, state) {
		d.states = append(d.states, state)
	}
	if runcBase != "" && !slices.Contains(d.runcBases, runcBase) {
		d.runcBases = append(d.runcBases, runcBase)
	}
}

// addConfig adds what a containerd config file says; state, when set, is
// the daemon's --state, which wins over the file's.
func (d *containerdDirs) addConfig(path, state string) {
	b, err := readBounded(path)
	if err != nil {
		d.add(state, "")
		return
	}
	fileState, roots := parseContainerdConfig(string(b))
	if state == "" {
		state = fileState
	}
	d.add(state, "")
	for _, r := range roots {
		d.add("", r)
	}
}

// containerdTaskRoots are the shims' bundle directories, one per state.
func containerdTaskRoots() []string {
	var roots []string
	for _, s := range configuredContainerdDirs().states {
		roots = append(roots, filepath.Join(s, "io.containerd.runtime.v2.task"))
	}
	return roots
}

// containerdRuncNamespaceRoots are runc's roots for namespace ns's
// containers under every runc shim root.
func containerdRuncNamespaceRoots(ns string) []string {
	return runcNamespaceRoots(configuredContainerdDirs(), ns)
}

func runcNamespaceRoots(d containerdDirs, ns string) []string {
	var roots []string
	for _, b := range d.runcBases {
		roots = append(roots, filepath.Join(b, ns))
	}
	return roots
}

// parseContainerdConfig reads containerd's config.toml: the top-level
// state, and the Root option of every runc runtime (the CRI plugin's
// ...runtimes.runc.options tables, version 2 and 3 layouts alike).
func parseContainerdConfig(text string) (state string, runcRoots []string) {
	tomlKeys(text, func(table, k, v string) {
		switch {
		case table == "" && k == "state":
			state = v
		case k == "Root" && strings.Contains(table, "runtimes.") && strings.HasSuffix(table, ".options") && v != "":
			runcRoots = append(runcRoots, v)
		}
	})
	return state, runcRoots
}

// runningContainerds returns the arguments of every running containerd.
// It reads every process's comm: the one price of finding a containerd
// started with its own --config or --state, paid once, and only by the
// daemonless sources.
func runningContainerds() [][]string {
	pids, err := procfs.ListPIDs()
	if err != nil {
		return nil
	}
	var out [][]string
	for _, pid := range pids {
		comm, err := procfs.ReadSmall(procfs.Root + "/" + strconv.Itoa(pid) + "/comm")
		if err != nil || string(bytes.TrimSpace(comm)) != "containerd" {
			continue
		}
		if args := cmdlineOf(pid); len(args) > 0 {
			out = append(out, args[1:])
		}
	}
	return out
}

// cmdlineOf returns a process's arguments, nil when unreadable.
func cmdlineOf(pid int) []string {
	b, err := procfs.ReadSmall(procfs.Root + "/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil || len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
}

// flagValue finds a flag's value in a daemon's arguments, written as Go's
// flag and cobra accept it: --name=v, --name v, -name v, -n v.
func flagValue(args []string, names ...string) (string, bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") {
			continue
		}
		a = strings.TrimLeft(a, "-")
		for _, n := range names {
			if v, ok := strings.CutPrefix(a, n+"="); ok {
				return v, true
			}
			if a == n && i+1 < len(args) {
				return args[i+1], true
			}
		}
	}
	return "", false
}
