package e2e

// What a docker exec user expects from nsx enter: --as, --setenv,
// --workdir, and a shell that exists in the target.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/nsxproject/nsx/internal/enginetest"
	"github.com/nsxproject/nsx/internal/testutil"
)

func TestEnterExecStyleDocker(t *testing.T) {
	enginetest.Require(t, "docker")
	nsx := exactNSX(t)
	name := enginetest.Name("nsx-exact-exec")
	enginetest.RunDocker(t, name)
	ref := "docker:" + name
	for _, c := range []struct {
		args         []string
		code         int
		stdout, errs string
	}{
		// Names from the container's own files (busybox: nobody is
		// 65534:65534, and the host's users do not exist there).
		{[]string{"--as", "nobody", ref, "--", "id"}, 0, "uid=65534(nobody) gid=65534(nogroup)\n", ""},
		{[]string{"--as", "root:nogroup", ref, "--", "id", "-g"}, 0, "65534\n", ""},
		{[]string{"--as", "123:456", ref, "--", "id"}, 0, "uid=123 gid=456\n", ""},
		{[]string{"--as", "nsx-exact-nosuch", ref, "--", "id"}, 1, "", `nsx enter: --as nsx-exact-nosuch: no user "nsx-exact-nosuch" in the target's /etc/passwd` + "\n"},
		{[]string{"--as", "root:nsx-exact-nosuch", ref, "--", "id"}, 1, "", `nsx enter: --as root:nsx-exact-nosuch: no group "nsx-exact-nosuch" in the target's /etc/group` + "\n"},
		{[]string{"--as", "nobody", "-S", "0", ref, "--", "id"}, 1, "", "nsx enter: --as cannot be combined with -S/--setuid or -G/--setgid\n"},
		// --setenv: repeatable, the last of a name wins.
		{[]string{"--setenv", "NSX_A=1", "--setenv", "NSX_A=2", "--setenv", "NSX_B=x y", ref, "--", "sh", "-c", `echo "$NSX_A/$NSX_B"`}, 0, "2/x y\n", ""},
		{[]string{"--setenv", "NSX_A", ref, "--", "true"}, 1, "", "nsx enter: --setenv NSX_A: expected KEY=VALUE\n"},
		// --workdir: a directory inside the container.
		{[]string{"--workdir", "/etc", ref, "--", "pwd"}, 0, "/etc\n", ""},
	} {
		r := ctrRun(t, nsx, append([]string{"enter"}, c.args...)...)
		if r.code != c.code || r.stdout != c.stdout || r.stderr != c.errs {
			t.Errorf("nsx enter %q: rc=%d stdout=%q stderr=%q\n want rc=%d stdout=%q stderr=%q", c.args, r.code, r.stdout, r.stderr, c.code, c.stdout, c.errs)
		}
	}

	// No program: the caller's $SHELL (bash) is not in busybox, so the
	// container's /bin/sh runs, and --explain says so.
	cmd := exec.Command(nsx, "enter", ref)
	cmd.Env = []string{"SHELL=/bin/bash", "PATH=" + diffPath}
	cmd.Stdin = strings.NewReader("echo $0\n")
	out, err := cmd.CombinedOutput()
	if err != nil || string(out) != "-sh\n" {
		t.Errorf("nsx enter %s with SHELL=/bin/bash: %v %q; want the container's -sh", ref, err, out)
	}
	cmd = exec.Command(nsx, "enter", "--explain", ref)
	cmd.Env = []string{"SHELL=/bin/bash", "PATH=" + diffPath}
	out, _ = cmd.CombinedOutput()
	if !strings.Contains(string(out), "shell: /bin/sh ($SHELL /bin/bash does not exist in the target)\n") {
		t.Errorf("--explain does not say which shell:\n%s", out)
	}
}

// TestEnterAsNoSymlinkEscape: the target's /etc/passwd is a symlink that
// climbs out of its root. Resolved in the target's root it loops inside the
// root and the name is unknown; nsx must not read the host's file.
func TestEnterAsNoSymlinkEscape(t *testing.T) {
	testutil.RequireRoot(t)
	nsx := exactNSX(t)
	dir := t.TempDir()
	for _, d := range []string{"bin", "etc"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Skip("no /bin/busybox") // diffPrereq makes it a CI failure
	}
	if err := os.WriteFile(filepath.Join(dir, "bin", "busybox"), bb, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(strings.Repeat("../", 12)+"etc/passwd", filepath.Join(dir, "etc", "passwd")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "etc", "group"), []byte("nsxgrp:x:4242:\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := exec.Command("chroot", dir, "/bin/busybox", "sleep", "1000")
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Process.Kill(); c.Wait() })
	pid := strconv.Itoa(c.Process.Pid)
	diffWaitFor(t, "the chroot", func() bool {
		l, _ := os.Readlink("/proc/" + pid + "/root")
		return l == dir
	})
	// root exists in the host's /etc/passwd: reading it would succeed.
	r := ctrRun(t, nsx, "enter", "-t", pid, "-r", "--as", "root", "--", "/bin/busybox", "id", "-u")
	if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "the target's /etc/passwd") {
		t.Errorf("--as root through an escaping symlink: rc=%d %q %q; want a refusal", r.code, r.stdout, r.stderr)
	}
	// The group file is the target's own.
	r = ctrRun(t, nsx, "enter", "-t", pid, "-r", "--as", "0:nsxgrp", "--", "/bin/busybox", "id", "-g")
	if r.code != 0 || r.stdout != "4242\n" {
		t.Errorf("--as 0:nsxgrp: rc=%d %q %q; want 4242", r.code, r.stdout, r.stderr)
	}
}
