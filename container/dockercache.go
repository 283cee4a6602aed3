package container

// A cache of docker:NAME → (container ID, PID, start time), so that entering
// a container by name costs a few /proc and state-file reads instead of an
// Engine API round trip and a JSON decode (0.4–0.6 ms, and the network
// poller started for the socket's deadline).
//
// A cached answer is used only when everything that could have changed since
// agrees with it, read fresh at every use:
//   - the process: /proc/PID/stat shows the recorded start time and no
//     zombie (and target.Pin checks that start time again through the pidfd);
//   - the process is in the container's cgroup (the ID is a path component);
//   - the daemon's own record, <data-root>/containers/ID/config.v2.json,
//     still gives the container this name, says it is running (not paused,
//     restarting, dead or being removed) and names this PID;
//   - the daemon endpoint is the one the entry was made for, and
//     /etc/docker/daemon.json (which may move the data root) is unchanged.
//
// Anything else (a container removed and recreated under the same name, one
// renamed, restarted, stopped, a daemon reconfigured) is a miss: the API is
// asked and the entry rewritten. Only names resolved by exact name are
// cached, never ID prefixes, whose meaning changes as containers come and
// go. The cache lives in /run (memory, gone at reboot), is used only by root
// and only when its directory and entry belong to root and nobody else can
// write them. NSX_CACHE=off turns it off.

import (
	"bytes"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsxproject/nsx/procfs"
)

// dockerCacheDir holds one entry file per container name; "" turns the
// cache off.
var dockerCacheDir = "/run/nsx/cache/docker"

const dockerCacheVersion = "nsx-docker-cache 1"

// dockerCacheSource is Found.Source for a cache hit.
const dockerCacheSource = "nsx's cache, checked against docker's state file"

// dockerCacheEntry is one cached resolution.
type dockerCacheEntry struct {
	endpoint   string
	dataRoot   string
	daemonJSON string // identity of /etc/docker/daemon.json, see fileIdentity
	id         string
	pid        int
	start      uint64
}

func dockerCacheEnabled() bool {
	return dockerCacheDir != "" && os.Geteuid() == 0 && getenv("NSX_CACHE") != "off"
}

// cacheableName reports whether name can key the cache: a Docker container
// name (which is also a safe file name) that cannot be read as a full ID,
// since the daemon looks full IDs up before names.
func cacheableName(name string) bool {
	if name == "" || len(name) > 128 || isHexID(name) {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case i > 0 && (c == '_' || c == '.' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// dockerCacheLookup returns the cached container for name when every check
// above passes, else nil.
func dockerCacheLookup(name, endpoint string) *Found {
	if !dockerCacheEnabled() || !cacheableName(name) {
		return nil
	}
	e, ok := readDockerCacheEntry(name)
	if !ok {
		return nil
	}
	if f := validDockerCacheEntry(name, endpoint, e); f != nil {
		return f
	}
	// Stale: the API answers now, and an entry for a container that is
	// gone for good does not linger.
	unix.Unlink(dockerCacheDir + "/" + name)
	return nil
}

// validDockerCacheEntry checks e against the process and docker's state.
func validDockerCacheEntry(name, endpoint string, e dockerCacheEntry) *Found {
	if e.endpoint != endpoint || e.daemonJSON != fileIdentity(dockerDaemonJSON) {
		return nil
	}
	st, err := procfs.ReadStat(e.pid)
	if err != nil || st.State == 'Z' || st.StartTime != e.start {
		return nil
	}
	text, err := procfs.ReadCgroupText(e.pid)
	if err != nil || !cgroupNames(text, e.id) {
		return nil
	}
	b, err := readBounded(e.dataRoot + "/containers/" + e.id + "/config.v2.json")
	if err != nil {
		return nil
	}
	c, ok := scanDockerConfig(b)
	if !ok || c.id != e.id || c.name != "/"+name || c.pid != e.pid ||
		!c.running || c.paused || c.restarting || c.dead || c.removing {
		return nil
	}
	return &Found{PID: e.pid, StartTime: e.start,
		Container: Container{Runtime: "docker", ID: e.id, Name: name, Source: dockerCacheSource}}
}

// dockerCacheStore records what the API said about name. Failing to write
// the cache is not an error: the next run asks the API again.
func dockerCacheStore(name, endpoint string, f *Found) {
	if f == nil || f.Name != name || f.StartTime == 0 || !isHexID(f.ID) || !dockerCacheEnabled() || !cacheableName(name) {
		return
	}
	e := dockerCacheEntry{endpoint: endpoint, daemonJSON: fileIdentity(dockerDaemonJSON), id: f.ID, pid: f.PID, start: f.StartTime}
	e.dataRoot = dockerDataRoot()
	if strings.ContainsAny(endpoint+e.dataRoot, "\n\x00") {
		return
	}
	if err := os.MkdirAll(dockerCacheDir, 0o700); err != nil {
		return
	}
	text := strings.Join([]string{dockerCacheVersion, e.endpoint, e.dataRoot, e.daemonJSON, e.id,
		strconv.Itoa(e.pid), strconv.FormatUint(e.start, 10)}, "\n") + "\n"
	tmp := dockerCacheDir + "/." + name + "." + strconv.Itoa(os.Getpid())
	fd, err := unix.Open(tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return
	}
	_, werr := unix.Write(fd, []byte(text))
	unix.Close(fd)
	if werr != nil || unix.Rename(tmp, dockerCacheDir+"/"+name) != nil {
		unix.Unlink(tmp)
	}
	pruneDockerCache(name)
}

// pruneDockerCache removes the entries of containers docker no longer has
// (their state directory is gone), so that names used once do not
// accumulate. It runs only after an API lookup, never on the fast path.
func pruneDockerCache(keep string) {
	names, err := procfs.ReadDirNames(dockerCacheDir)
	if err != nil {
		return
	}
	for _, n := range names {
		if n == keep || !cacheableName(n) {
			continue
		}
		e, ok := readDockerCacheEntry(n)
		var st unix.Stat_t
		if ok && unix.Stat(e.dataRoot+"/containers/"+e.id, &st) == nil {
			continue
		}
		unix.Unlink(dockerCacheDir + "/" + n)
	}
}

// readDockerCacheEntry reads name's entry, which must be a regular file
// owned by root in a directory owned by root, neither writable by others.
func readDockerCacheEntry(name string) (dockerCacheEntry, bool) {
	var e dockerCacheEntry
	var st unix.Stat_t
	if unix.Lstat(dockerCacheDir, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR || st.Uid != 0 || st.Mode&0o022 != 0 {
		return e, false
	}
	fd, err := unix.Open(dockerCacheDir+"/"+name, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return e, false
	}
	defer unix.Close(fd)
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Uid != 0 || st.Mode&0o022 != 0 {
		return e, false
	}
	if st.Size > 4096 { // an entry is a few hundred bytes
		return e, false
	}
	b, err := procfs.AppendFd(make([]byte, 0, st.Size+1), fd)
	if err != nil {
		return e, false
	}
	// Seven lines, each cut out of the one string in place.
	var f [8]string
	text := string(b)
	for i := range f {
		var ok bool
		if f[i], text, ok = strings.Cut(text, "\n"); !ok && i < len(f)-1 {
			return e, false
		}
	}
	if f[0] != dockerCacheVersion || f[7] != "" || text != "" {
		return e, false
	}
	e.endpoint, e.dataRoot, e.daemonJSON, e.id = f[1], f[2], f[3], f[4]
	pid, err1 := strconv.Atoi(f[5])
	start, err2 := strconv.ParseUint(f[6], 10, 64)
	if err1 != nil || err2 != nil || pid <= 0 || start == 0 || !isHexID(e.id) || !strings.HasPrefix(e.dataRoot, "/") {
		return e, false
	}
	e.pid, e.start = pid, start
	return e, true
}

// fileIdentity names a file's current version: device, inode, size and
// modification time, or "absent". Editors and the daemon's tooling replace
// or rewrite the file, which changes at least one of them.
func fileIdentity(path string) string {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return "absent"
	}
	return strconv.FormatUint(st.Dev, 10) + ":" + strconv.FormatUint(st.Ino, 10) + ":" +
		strconv.FormatInt(st.Size, 10) + ":" + strconv.FormatInt(st.Mtim.Sec, 10) + "." + strconv.FormatInt(st.Mtim.Nsec, 10)
}

// dockerConfigFacts are the fields of config.v2.json the cache checks.
type dockerConfigFacts struct {
	id, name                                    string
	pid                                         int
	running, paused, restarting, dead, removing bool
}

// scanDockerConfig reads the cache's fields out of config.v2.json without
// encoding/json, whose first decode in a process costs more than all the
// other checks together. It walks the JSON structure (strings, nesting), so
// a key of the same name inside a label or an environment value cannot
// pass for a top-level one. Anything unexpected (a duplicate key, an
// escaped string where a value is compared, a missing field) fails, which
// makes the caller ask the API.
func scanDockerConfig(b []byte) (dockerConfigFacts, bool) {
	var c dockerConfigFacts
	s := &jsonScan{b: b}
	seen := map[string]bool{}
	ok := s.object(func(key string) bool {
		if seen[key] {
			return false
		}
		switch key {
		case "ID", "Name":
			seen[key] = true
			v, ok := s.plainString()
			if key == "ID" {
				c.id = v
			} else {
				c.name = v
			}
			return ok
		case "State":
			seen[key] = true
			return s.object(func(k string) bool {
				if seen["State."+k] {
					return false
				}
				var dst *bool
				switch k {
				case "Pid":
					seen["State."+k] = true
					n, ok := s.integer()
					c.pid = n
					return ok
				case "Running":
					dst = &c.running
				case "Paused":
					dst = &c.paused
				case "Restarting":
					dst = &c.restarting
				case "Dead":
					dst = &c.dead
				case "RemovalInProgress":
					dst = &c.removing
				default:
					return s.skip()
				}
				seen["State."+k] = true
				v, ok := s.boolean()
				*dst = v
				return ok
			})
		}
		return s.skip()
	})
	if !ok || !seen["ID"] || !seen["Name"] || !seen["State.Pid"] || !seen["State.Running"] {
		return c, false
	}
	s.space()
	return c, s.i == len(s.b)
}

// jsonScan is a cursor over a JSON text that can step over any value.
type jsonScan struct {
	b []byte
	i int
}

func (s *jsonScan) space() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

func (s *jsonScan) eat(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// object walks an object, calling member with each key; member must consume
// the value.
func (s *jsonScan) object(member func(key string) bool) bool {
	if !s.eat('{') {
		return false
	}
	if s.eat('}') {
		return true
	}
	for {
		key, ok := s.plainString()
		if !ok || !s.eat(':') || !member(key) {
			return false
		}
		if s.eat(',') {
			continue
		}
		return s.eat('}')
	}
}

// plainString reads a string without escapes; an escaped one fails.
func (s *jsonScan) plainString() (string, bool) {
	s.space()
	start := s.i
	if !s.str() {
		return "", false
	}
	raw := s.b[start+1 : s.i-1]
	if bytes.IndexByte(raw, '\\') >= 0 {
		return "", false
	}
	return string(raw), true
}

// str steps over a string, escapes included.
func (s *jsonScan) str() bool {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return false
	}
	for s.i++; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '\\':
			s.i++
		case c == '"':
			s.i++
			return true
		case c < 0x20:
			return false
		}
	}
	return false
}

func (s *jsonScan) integer() (int, bool) {
	s.space()
	start := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	n, err := strconv.Atoi(string(s.b[start:s.i]))
	return n, err == nil && s.i-start < 10
}

func (s *jsonScan) boolean() (bool, bool) {
	s.space()
	switch {
	case bytes.HasPrefix(s.b[s.i:], []byte("true")):
		s.i += 4
		return true, true
	case bytes.HasPrefix(s.b[s.i:], []byte("false")):
		s.i += 5
		return false, true
	}
	return false, false
}

// skip steps over one value of any kind. Nesting is counted, not recursed
// into, so a deep document cannot exhaust the stack.
func (s *jsonScan) skip() bool {
	s.space()
	if s.i >= len(s.b) {
		return false
	}
	switch s.b[s.i] {
	case '"':
		return s.str()
	case '{', '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				if !s.str() {
					return false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.i++
					return true
				}
			}
			s.i++
		}
		return false
	}
	start := s.i
	for s.i < len(s.b) && !strings.ContainsRune(",}] \t\r\n", rune(s.b[s.i])) {
		s.i++
	}
	return s.i > start
}
