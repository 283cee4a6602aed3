package container

// State files runtimes leave on disk: runc's state.json, crun's status,
// Docker's config.v2.json, podman's containers.json.

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// runcState is the part of runc's state.json the resolver uses.
type runcState struct {
	ID        string `json:"id"`
	InitPID   int    `json:"init_process_pid"`
	InitStart uint64 `json:"init_process_start"`
	Config    struct {
		// Labels are "key=value": bundle=<path> and every OCI annotation.
		Labels []string `json:"labels"`
	} `json:"config"`
}

func parseRuncState(b []byte) (*runcState, error) {
	var s runcState
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	if s.ID == "" || s.InitPID <= 0 {
		return nil, errors.New("runc state without id or init_process_pid")
	}
	return &s, nil
}

// label returns the value of a runc label (an OCI annotation).
func (s *runcState) label(key string) string {
	for _, l := range s.Config.Labels {
		if k, v, ok := strings.Cut(l, "="); ok && k == key {
			return v
		}
	}
	return ""
}

// readRuncState reads <root>/<id>/state.json.
func readRuncState(root, id string) (*runcState, error) {
	if id == "" || strings.ContainsAny(id, "/\x00") || id == "." || id == ".." {
		return nil, os.ErrNotExist
	}
	b, err := readBounded(filepath.Join(root, id, "state.json"))
	if err != nil {
		return nil, err
	}
	return parseRuncState(b)
}

// crunStatus is crun's /run/crun/<id>/status.
type crunStatus struct {
	PID       int    `json:"pid"`
	StartTime uint64 `json:"process-start-time"`
	Bundle    string `json:"bundle"`
}

func parseCrunStatus(b []byte) (*crunStatus, error) {
	var s crunStatus
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	if s.PID <= 0 {
		return nil, errors.New("crun status without pid")
	}
	return &s, nil
}

// ociStartTime returns the PID and start time that runc (under runcRoots) or
// crun (under crunRoots) recorded for container id; 0, 0 when neither has
// it.
func ociStartTime(runcRoots []string, id string) (int, uint64) {
	for _, root := range runcRoots {
		if s, err := readRuncState(root, id); err == nil {
			return s.InitPID, s.InitStart
		}
	}
	for _, root := range crunRoots() {
		if b, err := readBounded(filepath.Join(root, id, "status")); err == nil {
			if s, err := parseCrunStatus(b); err == nil {
				return s.PID, s.StartTime
			}
		}
	}
	return 0, 0
}

// crunRoots are where crun keeps its status files: the rootless crun of
// an unprivileged caller keeps them in its runtime directory.
func crunRoots() []string {
	if os.Geteuid() != 0 {
		if xdg := getenv("XDG_RUNTIME_DIR"); xdg != "" {
			return []string{filepath.Join(xdg, "crun"), crunRoot}
		}
	}
	return []string{crunRoot}
}

const crunRoot = "/run/crun"

// dockerConfig is the part of Docker's config.v2.json the resolver uses.
type dockerConfig struct {
	ID    string `json:"ID"`
	Name  string `json:"Name"`
	State struct {
		Running    bool
		Paused     bool
		Restarting bool
		Dead       bool
		Pid        int
		ExitCode   int
		StartedAt  string
		FinishedAt string
	} `json:"State"`
}

func parseDockerConfig(b []byte) (*dockerConfig, error) {
	var c dockerConfig
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	if c.ID == "" {
		return nil, errors.New("config.v2.json without ID")
	}
	return &c, nil
}

// status is the state word Docker's API would give for this config.
func (c *dockerConfig) status() string {
	switch {
	case c.State.Dead:
		return "dead"
	case c.State.Restarting:
		return "restarting"
	case c.State.Paused:
		return "paused"
	case c.State.Running:
		return "running"
	case c.State.StartedAt == "" || strings.HasPrefix(c.State.StartedAt, "0001-"):
		return "created"
	}
	return "exited"
}

// podmanStorageEntry is one element of c/storage's containers.json.
type podmanStorageEntry struct {
	ID    string   `json:"id"`
	Names []string `json:"names"`
}

func parsePodmanContainers(b []byte) ([]podmanStorageEntry, error) {
	var out []podmanStorageEntry
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// storageConf reads graphroot and runroot from a containers-storage.conf;
// only the two keys of the [storage] table matter here.
func parseStorageConf(text string) (graphroot, runroot string) {
	tomlKeys(text, func(table, k, v string) {
		switch {
		case table != "storage":
		case k == "graphroot":
			graphroot = v
		case k == "runroot":
			runroot = v
		}
	})
	return graphroot, runroot
}

// tomlKeys calls fn with every key = value line of a TOML file, the value
// read by tomlString, and the table it stands in ("" before the first
// table header). Enough of TOML for the runtimes' configuration files:
// one key a line, no inline tables or multi-line values.
func tomlKeys(text string, fn func(table, key, value string)) {
	table := ""
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if line[0] == '[' {
			table = strings.Trim(line, "[] \t")
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok {
			fn(table, strings.TrimSpace(k), tomlString(strings.TrimSpace(v)))
		}
	}
}

// tomlString returns the value of a TOML string (basic or literal) at the
// start of v, or v up to a comment when it is not quoted.
func tomlString(v string) string {
	switch {
	case strings.HasPrefix(v, `"`):
		for i := 1; i < len(v); i++ {
			if v[i] == '\\' {
				i++
				continue
			}
			if v[i] == '"' {
				if uq, err := strconv.Unquote(v[:i+1]); err == nil {
					return uq
				}
				return v[1:i]
			}
		}
		return strings.Trim(v, `"`)
	case strings.HasPrefix(v, "'"):
		if i := strings.IndexByte(v[1:], '\''); i >= 0 {
			return v[1 : i+1]
		}
		return strings.Trim(v, "'")
	}
	if i := strings.IndexByte(v, '#'); i >= 0 {
		v = v[:i]
	}
	return strings.TrimSpace(v)
}

// readPIDFile reads a file holding one decimal PID.
func readPIDFile(path string) (int, error) {
	b, err := readBounded(path)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n <= 0 {
		return 0, errors.New(path + ": not a PID")
	}
	return n, nil
}
