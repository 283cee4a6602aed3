package kubectl

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
)

// The agent's pod is found by node, and the node is known only once the
// target pod is: two round trips in a row. The plugin remembers, per
// cluster and pod, the node a call found it on and whether the agent
// served it; the next call for that pod asks for the agent's pod and the
// node's runtime socket at the same time as for the pod itself, and uses
// those answers only when the pod is still on that node. A stale or
// tampered entry costs a wasted request, never a wrong helper.

// nodeHint is what the last call for one pod found.
type nodeHint struct {
	node  string
	agent bool // the agent's pod served it
}

// maxHints bounds the cache file; the oldest entries go first.
const maxHints = 256

func hintFile() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "kubectl-nsx", "nodes")
}

// hintKey is one pod of one cluster: tabs and newlines cannot occur in
// names, and the server URL holds neither.
func (s *session) hintKey(pod string) string {
	return s.config.Host + "\t" + s.namespace + "\t" + pod
}

// readHints reads the cache: key → "node\tagent" lines, in file order.
func readHints() ([]string, map[string]nodeHint) {
	var order []string
	hints := map[string]nodeHint{}
	f := hintFile()
	if f == "" {
		return order, hints
	}
	file, err := os.Open(f)
	if err != nil {
		return order, hints
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) != 5 {
			continue
		}
		key := strings.Join(fields[:3], "\t")
		if _, seen := hints[key]; !seen {
			order = append(order, key)
		}
		hints[key] = nodeHint{node: fields[3], agent: fields[4] == "agent"}
	}
	return order, hints
}

// loadHint is the cached hint for pod, if any.
func (s *session) loadHint(pod string) (nodeHint, bool) {
	_, hints := readHints()
	h, ok := hints[s.hintKey(pod)]
	return h, ok && h.node != ""
}

// storeHint records what this call found, when it differs from the cache:
// written to a new file renamed over the old one, so that concurrent calls
// never read half a file.
func (s *session) storeHint(pod string, h nodeHint) {
	f := hintFile()
	if f == "" || strings.ContainsAny(h.node, "\t\n") {
		return
	}
	order, hints := readHints()
	key := s.hintKey(pod)
	if old, ok := hints[key]; ok && old == h {
		return
	}
	if _, ok := hints[key]; !ok {
		order = append(order, key)
	}
	hints[key] = h
	if len(order) > maxHints {
		for _, k := range order[:len(order)-maxHints] {
			delete(hints, k)
		}
		order = order[len(order)-maxHints:]
	}
	if err := os.MkdirAll(filepath.Dir(f), 0o700); err != nil {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(f), ".nodes-*")
	if err != nil {
		return
	}
	w := bufio.NewWriter(tmp)
	for _, k := range order {
		kind := "helper"
		if hints[k].agent {
			kind = "agent"
		}
		w.WriteString(k + "\t" + hints[k].node + "\t" + kind + "\n")
	}
	if w.Flush() != nil || tmp.Close() != nil || os.Rename(tmp.Name(), f) != nil {
		os.Remove(tmp.Name())
	}
}
