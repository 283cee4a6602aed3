package container

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCRIStateNames(t *testing.T) {
	st, err := parseRuncState(readTestdata(t, "runc-state-cri.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := criStateName(st); got != "sample-ns/sample-pod/app" {
		t.Errorf("application container named %q", got)
	}
	sandbox := &runcState{}
	sandbox.Config.Labels = []string{"io.kubernetes.cri.container-type=sandbox", "io.kubernetes.cri.sandbox-name=web", "io.kubernetes.cri.sandbox-namespace=prod"}
	if got := criStateName(sandbox); got != "prod/web" {
		t.Errorf("sandbox named %q", got)
	}
	crio := &runcState{}
	crio.Config.Labels = []string{"io.kubernetes.container.name=POD", "io.kubernetes.pod.name=web", "io.kubernetes.pod.namespace=prod"}
	if got := criStateName(crio); got != "prod/web" {
		t.Errorf("CRI-O sandbox named %q", got)
	}
	if got := criStateName(&runcState{}); got != "" {
		t.Errorf("a container without CRI labels named %q", got)
	}
}

// The name of a rootless container comes from the containers.json beside
// its bundle, and only from one owned by the user whose runtime directory
// recorded it.
func TestPodmanNameBeside(t *testing.T) {
	id := strings.Repeat("ab", 32)
	graph := t.TempDir()
	bundle := filepath.Join(graph, "vfs-containers", id, "userdata")
	if err := os.MkdirAll(bundle, 0o755); err != nil {
		t.Fatal(err)
	}
	list := filepath.Join(graph, "vfs-containers", "containers.json")
	if err := os.WriteFile(list, []byte(`[{"id":"`+id+`","names":["web1"]}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	me := uint32(os.Geteuid())
	if got := podmanNameBeside(bundle, id, me); got != "web1" {
		t.Errorf("name %q, want web1", got)
	}
	if got := podmanNameBeside(bundle, id, me+1); got != "" {
		t.Errorf("a containers.json of another user gave %q", got)
	}
	if got := podmanNameBeside(filepath.Join(graph, "vfs-containers", "other", "userdata"), id, me); got != "" {
		t.Errorf("a bundle of another container gave %q", got)
	}
	if got := podmanNameBeside("/etc/"+id+"/userdata", id, me); got != "" {
		t.Errorf("a bundle outside any storage gave %q", got)
	}
}
