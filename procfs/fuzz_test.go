package procfs

import (
	"fmt"
	"strings"
	"testing"
)

func FuzzParseStatus(f *testing.F) {
	f.Add("Name:\tcat\nState:\tR (running)\nPid:\t5\nPPid:\t1\nUid:\t0\t0\t0\t0\nNSpid:\t5\t1\nCapEff:\t000001ffffffffff\nSeccomp:\t2\n")
	f.Add("Name:\ta\\nb\\\\c\nVmRSS:\t  12 kB\n")
	f.Add("Uid:\t1 2 3\n")
	f.Fuzz(func(t *testing.T, s string) {
		st, err := ParseStatus(s)
		if err != nil {
			return
		}
		if st.Seccomp < -1 && !strings.Contains(s, "Seccomp") {
			t.Fatalf("seccomp %d without a Seccomp line", st.Seccomp)
		}
	})
}

// FuzzParseStat checks that a parsed command is what the first '(' and
// the last ')' enclose, whatever the command holds, and that every number
// field was there: a line cut short is an error, never zeros.
func FuzzParseStat(f *testing.F) {
	f.Add("1 (systemd) S 0 1 1 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 9 10 11 12 13 14\n")
	f.Add("42 (a b) c)) R 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25\n")
	f.Add("7 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20\n")
	f.Fuzz(func(t *testing.T, s string) {
		st, err := ParseStat(s)
		if err != nil {
			return
		}
		open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if st.Comm != s[open+1:closing] {
			t.Fatalf("comm %q from %q", st.Comm, s)
		}
		if len(strings.Fields(s[closing+1:])) < 22 {
			t.Fatalf("%q parsed with fewer than 22 fields after the command", s)
		}
	})
}

func FuzzParseMountinfo(f *testing.F) {
	f.Add("65 64 0:4 net:[4026532459] /run/netns/x rw shared:2 - nsfs nsfs rw\n")
	f.Add("22 27 0:21 / /my\\040dir rw,relatime - proc proc rw\n")
	f.Add("1 2 3:4 / / rw - ext4\n")
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := ParseMountinfo(s)
		if err != nil {
			return
		}
		if len(ms) > strings.Count(s, "\n")+1 {
			t.Fatalf("%d mounts from %d lines", len(ms), strings.Count(s, "\n")+1)
		}
	})
}

func FuzzParseIDMap(f *testing.F) {
	f.Add("         0          0 4294967295\n")
	f.Add("0 1000 1\n1 100000 65536\n")
	f.Add("0 0 0\n")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseIDMap(s)
		if err != nil {
			return
		}
		for _, r := range m {
			in, ok := m.ToInside(r.Outside)
			if !ok {
				t.Fatalf("range %v does not map its own start", r)
			}
			if in != r.Inside && !overlapsOutside(m, r) {
				t.Fatalf("%d maps in to %d, not %d", r.Outside, in, r.Inside)
			}
		}
		again, err := ParseIDMap(formatIDMap(m))
		if err != nil || len(again) != len(m) {
			t.Fatalf("round trip of %q: %v, %v", formatIDMap(m), again, err)
		}
	})
}

func FuzzParseCgroup(f *testing.F) {
	f.Add("12:pids:/docker/abc\n0::/system.slice/docker-abc.scope\n")
	f.Add("1:name=systemd:/a:b:c\n")
	f.Add("x::/\n")
	f.Fuzz(func(t *testing.T, s string) {
		lines, err := ParseCgroup(s)
		if err != nil {
			return
		}
		for _, l := range lines {
			if strings.Contains(l.Path, "\n") {
				t.Fatalf("path %q holds a newline", l.Path)
			}
		}
		UnifiedPath(lines)
	})
}

// overlapsOutside reports whether an earlier range than r covers r's
// outside start (the kernel refuses such maps; ParseIDMap need not).
func overlapsOutside(m IDMap, r IDMapRange) bool {
	for _, o := range m {
		if o == r {
			return false
		}
		if r.Outside >= o.Outside && uint64(r.Outside) < uint64(o.Outside)+uint64(o.Count) {
			return true
		}
	}
	return false
}

// formatIDMap writes a map as the kernel does, one range a line.
func formatIDMap(m IDMap) string {
	var b strings.Builder
	for _, r := range m {
		fmt.Fprintf(&b, "%d %d %d\n", r.Inside, r.Outside, r.Count)
	}
	return b.String()
}
