package container

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/nsxproject/nsx/internal/enginetest"
)

func TestFlagValue(t *testing.T) {
	args := []string{"--containerd=/run/containerd/containerd.sock", "--data-root", "/srv/docker",
		"-g=/old", "--exec-root=/run/d", "-c", "/etc/c.toml", "--", "--state=/nope"}
	for _, tc := range []struct {
		names []string
		want  string
		ok    bool
	}{
		{[]string{"data-root"}, "/srv/docker", true},
		{[]string{"g"}, "/old", true},
		{[]string{"exec-root"}, "/run/d", true},
		{[]string{"config", "c"}, "/etc/c.toml", true},
		{[]string{"containerd"}, "/run/containerd/containerd.sock", true},
		{[]string{"state"}, "", false}, // after "--"
		{[]string{"data"}, "", false},  // no prefix matches
	} {
		if v, ok := flagValue(args, tc.names...); v != tc.want || ok != tc.ok {
			t.Errorf("flagValue(%v) = %q %v, want %q %v", tc.names, v, ok, tc.want, tc.ok)
		}
	}
}

func TestFindDockerDirs(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "daemon.json")
	if err := os.WriteFile(conf, []byte(`{"data-root": "/srv/docker-data", "exec-root": "/run/docker-exec", "log-level": "warn"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	graph := filepath.Join(dir, "graph.json")
	if err := os.WriteFile(graph, []byte(`{"graph": "/srv/old-graph"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		what       string
		args       []string
		data, exec string
	}{
		{"a config file", []string{"--config-file", conf}, "/srv/docker-data", "/run/docker-exec"},
		{"flags win", []string{"--config-file=" + conf, "--data-root=/flag/data"}, "/flag/data", "/run/docker-exec"},
		{"the old graph key", []string{"--config-file", graph}, "/srv/old-graph", "/var/run/docker"},
		{"-g", []string{"--config-file", filepath.Join(dir, "none.json"), "-g", "/g/data", "--exec-root", "/e"}, "/g/data", "/e"},
		{"defaults", []string{"--config-file", filepath.Join(dir, "none.json")}, "/var/lib/docker", "/var/run/docker"},
	} {
		d := findDockerDirs(tc.args)
		if d.dataRoot != tc.data || d.execRoot != tc.exec {
			t.Errorf("%s: %+v, want %s %s", tc.what, d, tc.data, tc.exec)
		}
	}
}

func TestParseContainerdConfig(t *testing.T) {
	text := `version = 2
root = "/var/lib/nsx-container-k8s/containerd"
state = "/run/nsx-container-k8s/state"   # comment

[grpc]
  address = "/run/nsx-container-k8s/containerd.sock"
  state = "/not/top/level"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
    SystemdCgroup = false
    Root = "/run/nsx-container-k8s/runc"
[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.other.options]
  Root = '/run/other-runc'
[plugins."io.containerd.internal.v1.opt"]
  Root = "/not/a/runtime"
`
	state, roots := parseContainerdConfig(text)
	if state != "/run/nsx-container-k8s/state" {
		t.Errorf("state %q", state)
	}
	if !slices.Equal(roots, []string{"/run/nsx-container-k8s/runc", "/run/other-runc"}) {
		t.Errorf("runc roots %q", roots)
	}
	if s, r := parseContainerdConfig(""); s != "" || r != nil {
		t.Errorf("empty: %q %q", s, r)
	}
}

func TestContainerdDirsAddConfig(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(conf, []byte("state = \"/run/from-file\"\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\nRoot = \"/run/file-runc\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var d containerdDirs
	d.add("/run/containerd", "/run/containerd/runc")
	d.addConfig(conf, "")
	d.addConfig(conf, "/run/from-flag") // a second daemon on the same file with --state
	d.addConfig(filepath.Join(dir, "missing.toml"), "/run/flag-only")
	d.addConfig(conf, "") // duplicates are dropped
	if want := []string{"/run/containerd", "/run/from-file", "/run/from-flag", "/run/flag-only"}; !slices.Equal(d.states, want) {
		t.Errorf("states %q, want %q", d.states, want)
	}
	if want := []string{"/run/containerd/runc", "/run/file-runc"}; !slices.Equal(d.runcBases, want) {
		t.Errorf("runc bases %q, want %q", d.runcBases, want)
	}
}

// On this host: the running daemons' configuration is found, and the
// default layout is always among the places looked at.
func TestConfiguredDirsOnThisHost(t *testing.T) {
	d0 := configuredContainerdDirs()
	t.Logf("containerd dirs: %+v", d0)
	if d := d0; len(d.states) == 0 || d.states[0] != "/run/containerd" || d.runcBases[0] != "/run/containerd/runc" {
		t.Errorf("containerd dirs %+v", d)
	}
	enginetest.Require(t, "docker")
	// dockerd makes its runtime's state directory for the first
	// container it runs, not at start: on a fresh machine there is none
	// before one runs.
	enginetest.RunDocker(t, enginetest.Name("nsx-dataroot"))
	args := dockerd(dockerPIDFile)
	if args == nil {
		t.Fatalf("dockerd is up but %s names no running dockerd", dockerPIDFile)
	}
	d := findDockerDirs(args)
	if _, err := os.Stat(filepath.Join(d.dataRoot, "containers")); err != nil {
		t.Errorf("docker data root %s: %v", d.dataRoot, err)
	}
	if _, err := os.Stat(filepath.Join(d.execRoot, "runtime-runc")); err != nil {
		t.Errorf("docker exec root %s: %v", d.execRoot, err)
	}
}
