package container

import (
	"os"
	"strings"
	"testing"

	"github.com/nsxproject/nsx/internal/enginetest"
)

// The package's other tests check which source answered; the cache would
// answer their second lookups. It is tested on its own below.
func init() { dockerCacheDir = "" }

// useDockerCache turns the cache on in a directory of t's.
func useDockerCache(t *testing.T) {
	t.Helper()
	old := dockerCacheDir
	dockerCacheDir = t.TempDir()
	t.Cleanup(func() { dockerCacheDir = old })
}

const sampleConfig = `{"StreamConfig":{},"State":{"Running":true,"Paused":false,"Restarting":false,"OOMKilled":false,"RemovalInProgress":false,"Dead":false,"Pid":17205,"ExitCode":0,"Error":"","StartedAt":"2026-12-01T21:36:49.27195464Z","Health":null},"ID":"822b6dbb3b6609692713d538832657612f7f026d2c1687cea289251ed80fef44","Path":"sleep","Args":["3600"],"Config":{"Env":["A=\"Pid\":1"],"Labels":{"Pid":"99","Name":"/evil","State":"{\"Pid\":5}"}},"Name":"/web1","Mounts":{}}`

func TestScanDockerConfig(t *testing.T) {
	c, ok := scanDockerConfig([]byte(sampleConfig))
	if !ok {
		t.Fatal("sample config not scanned")
	}
	want := dockerConfigFacts{id: "822b6dbb3b6609692713d538832657612f7f026d2c1687cea289251ed80fef44", name: "/web1", pid: 17205, running: true}
	if c != want {
		t.Errorf("scanned %+v, want %+v (labels must not pass for top-level keys)", c, want)
	}
	for _, bad := range []string{
		strings.Replace(sampleConfig, `"Name":"/web1"`, `"Name":"/web1","Name":"/web2"`, 1), // duplicate key
		strings.Replace(sampleConfig, `"Pid":17205,`, `"Pid":17205,"Pid":1,`, 1),            // duplicate in State
		strings.Replace(sampleConfig, `"Name":"/web1"`, `"Name":"/web\u0031"`, 1),           // escaped value
		strings.Replace(sampleConfig, `"Pid":17205,`, ``, 1),                                // no PID
		strings.Replace(sampleConfig, `"Running":true`, `"Running":1`, 1),                   // not a boolean
		sampleConfig[:len(sampleConfig)-1],                                                  // truncated
		sampleConfig + "{}",                                                                 // trailing data
		`[` + sampleConfig + `]`,
	} {
		if c, ok := scanDockerConfig([]byte(bad)); ok {
			t.Errorf("accepted %s\nas %+v", bad, c)
		}
	}
}

func TestCacheableName(t *testing.T) {
	for name, want := range map[string]bool{
		"web1": true, "my_app.v2-x": true, "A": true,
		"": false, "-x": false, ".x": false, "a/b": false, "a b": false, "../x": false,
		strings.Repeat("a", 64): false, // reads as a full ID
		strings.Repeat("a", 63): true,
	} {
		if got := cacheableName(name); got != want {
			t.Errorf("cacheableName(%q) = %v, want %v", name, got, want)
		}
	}
}

// resolveSource resolves ref and checks it is the container id has now.
func resolveSource(t *testing.T, ref, id, name string) string {
	t.Helper()
	f := resolveT(t, ref)
	checkFound(t, f, "docker", id, enginetest.InspectPID(t, "docker", name), "")
	return f.Source
}

// The cache answers a repeated lookup, and never with a container that is
// gone: recreated under the same name, renamed, restarted or stopped.
func TestDockerCacheNeverStale(t *testing.T) {
	enginetest.Require(t, "docker")
	if os.Geteuid() != 0 {
		enginetest.Unavailable(t, "the cache is used by root only")
	}
	useDockerCache(t)
	name := enginetest.Name("nsx-speed-cache")
	ref := "docker:" + name
	a := enginetest.RunDocker(t, name, "--network", "none")
	if s := resolveSource(t, ref, a, name); s != "docker API" {
		t.Fatalf("first lookup answered by %q, want the docker API", s)
	}
	if s := resolveSource(t, ref, a, name); s != dockerCacheSource {
		t.Fatalf("second lookup answered by %q, want the cache", s)
	}

	// Removed and recreated under the same name.
	enginetest.Run(t, "docker", "rm", "-f", name)
	b := enginetest.RunDocker(t, name, "--network", "none")
	if s := resolveSource(t, ref, b, name); s != "docker API" {
		t.Errorf("after recreating: answered by %q, want the docker API", s)
	}
	if s := resolveSource(t, ref, b, name); s != dockerCacheSource {
		t.Errorf("after recreating, second lookup: answered by %q, want the cache", s)
	}

	// Renamed, and a new container takes the name: the old one is still
	// running in its cgroup with the cached PID, only docker's record of
	// its name tells them apart.
	old := enginetest.Name("nsx-speed-cache-old")
	enginetest.Run(t, "docker", "rename", name, old)
	t.Cleanup(func() { enginetest.Run(t, "docker", "rm", "-f", old) })
	c := enginetest.RunDocker(t, name, "--network", "none")
	if s := resolveSource(t, ref, c, name); s != "docker API" {
		t.Errorf("after renaming: answered by %q, want the docker API", s)
	}
	resolveSource(t, ref, c, name)

	// Restarted: same ID, new process.
	enginetest.Run(t, "docker", "restart", "-t", "0", name)
	if s := resolveSource(t, ref, c, name); s != "docker API" {
		t.Errorf("after a restart: answered by %q, want the docker API", s)
	}

	// Paused and stopped: the API's errors, not the cache's PID.
	resolveSource(t, ref, c, name)
	enginetest.Run(t, "docker", "pause", name)
	wantErr(t, ref, ErrNotRunning, "paused")
	enginetest.Run(t, "docker", "unpause", name)
	resolveSource(t, ref, c, name)
	enginetest.Run(t, "docker", "kill", name)
	wantErr(t, ref, ErrNotRunning, "has exited")
}

// A cache entry that someone else could have written is not used.
func TestDockerCacheEntryOwnership(t *testing.T) {
	enginetest.Require(t, "docker")
	if os.Geteuid() != 0 {
		enginetest.Unavailable(t, "the cache is used by root only")
	}
	useDockerCache(t)
	name := enginetest.Name("nsx-speed-cache-perm")
	ref := "docker:" + name
	id := enginetest.RunDocker(t, name, "--network", "none")
	resolveSource(t, ref, id, name)
	if s := resolveSource(t, ref, id, name); s != dockerCacheSource {
		t.Fatalf("second lookup answered by %q, want the cache", s)
	}
	entry := dockerCacheDir + "/" + name
	if err := os.Chmod(entry, 0o666); err != nil {
		t.Fatal(err)
	}
	if s := resolveSource(t, ref, id, name); s != "docker API" {
		t.Errorf("world-writable entry: answered by %q, want the docker API", s)
	}
	if err := os.Chmod(dockerCacheDir, 0o777); err != nil {
		t.Fatal(err)
	}
	if s := resolveSource(t, ref, id, name); s != "docker API" {
		t.Errorf("world-writable directory: answered by %q, want the docker API", s)
	}
	os.Chmod(dockerCacheDir, 0o700)
	// NSX_CACHE=off.
	resolveSource(t, ref, id, name)
	setEnv(t, map[string]string{"NSX_CACHE": "off"})
	if s := resolveSource(t, ref, id, name); s != "docker API" {
		t.Errorf("NSX_CACHE=off: answered by %q, want the docker API", s)
	}
}

// Entries of removed containers are pruned by the next API lookup.
func TestDockerCachePrunes(t *testing.T) {
	enginetest.Require(t, "docker")
	if os.Geteuid() != 0 {
		enginetest.Unavailable(t, "the cache is used by root only")
	}
	useDockerCache(t)
	gone := enginetest.Name("nsx-speed-cache-gone")
	id := enginetest.RunDocker(t, gone, "--network", "none")
	resolveSource(t, "docker:"+gone, id, gone)
	if _, err := os.Stat(dockerCacheDir + "/" + gone); err != nil {
		t.Fatalf("no cache entry after a lookup: %v", err)
	}
	enginetest.Run(t, "docker", "rm", "-f", gone)
	other := enginetest.Name("nsx-speed-cache-other")
	oid := enginetest.RunDocker(t, other, "--network", "none")
	resolveSource(t, "docker:"+other, oid, other)
	if _, err := os.Stat(dockerCacheDir + "/" + gone); err == nil {
		t.Errorf("the entry of removed container %s survived the next API lookup", gone)
	}
	if _, err := os.Stat(dockerCacheDir + "/" + other); err != nil {
		t.Errorf("the new entry is missing: %v", err)
	}
}
