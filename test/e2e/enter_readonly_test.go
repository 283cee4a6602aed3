package e2e

// --read-only past the mount table: device nodes and capabilities. The
// kernel decides: an open of a device on a nodev mount is EACCES, and
// /proc/self/status shows the bounding set the program got.

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsxproject/nsx/internal/testutil"
)

func TestEnterReadOnlyDevicesAndCaps(t *testing.T) {
	_, nsx := diffBins(t)
	nsxCmd := filepath.Join(filepath.Dir(nsx), "nsx")
	tg := testutil.Start(t, []string{"--mount", "--propagation", "private"}, `echo ready > "$READY"; exec sleep 1000`)
	// A character device node of our own (a copy of /dev/null, harmless
	// to write) outside /dev: writable through any mount without nodev.
	dir := t.TempDir()
	mynull := filepath.Join(dir, "nsx-exact-null")
	if err := unix.Mknod(mynull, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf(`for f in /dev/null /dev/zero /dev/full /dev/urandom %s /dev/kmsg; do
		if true > $f; then echo "$f writable"; else echo "$f refused"; fi
	done 2>/dev/null
	head -c 4 /dev/zero | wc -c
	sed -n 's/^CapBnd:[[:space:]]*//p' /proc/self/status`, mynull)
	T := strconv.Itoa(tg.PID)
	run := func(args ...string) (lines []string, capBnd uint64) {
		t.Helper()
		r := ctrRun(t, nsxCmd, append(append([]string{"enter"}, args...), "-t", T, "-m", "--", "sh", "-c", script)...)
		if r.code != 0 {
			t.Fatalf("nsx enter %q: rc=%d %q %q", args, r.code, r.stdout, r.stderr)
		}
		lines = strings.Split(strings.TrimSpace(r.stdout), "\n")
		capBnd, err := strconv.ParseUint(lines[len(lines)-1], 16, 64)
		if err != nil {
			t.Fatalf("CapBnd: %q", r.stdout)
		}
		return lines[:len(lines)-1], capBnd
	}
	plain, plainCaps := run()
	if want := mynull + " writable"; plain[4] != want {
		t.Fatalf("without --read-only: %q, want %q (is %s on a nodev mount?)", plain[4], want, dir)
	}
	for _, extra := range [][]string{{"--read-only"}, {"--read-only", "-S", "0"}} {
		got, caps := run(extra...)
		want := []string{"/dev/null writable", "/dev/zero writable", "/dev/full writable", "/dev/urandom writable",
			mynull + " refused", "/dev/kmsg refused", "4"}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("nsx enter %q: devices\n%s\nwant\n%s", extra, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		for _, c := range []int{unix.CAP_SYS_ADMIN, unix.CAP_SYS_RAWIO, unix.CAP_MKNOD, unix.CAP_SYS_MODULE, unix.CAP_SYS_PTRACE, unix.CAP_NET_ADMIN} {
			if caps&(1<<c) != 0 {
				t.Errorf("nsx enter %q: capability %d still in the bounding set %x", extra, c, caps)
			}
		}
		// What remains is documented: e.g. KILL and DAC_OVERRIDE.
		for _, c := range []int{unix.CAP_KILL, unix.CAP_DAC_OVERRIDE} {
			if plainCaps&(1<<c) != 0 && caps&(1<<c) == 0 {
				t.Errorf("nsx enter %q: capability %d dropped, but docs say it remains", extra, c)
			}
		}
	}
}
