package nsenter

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/nsxproject/nsx/internal/errtext"
	"github.com/nsxproject/nsx/namespace"
)

// The planner's table tests: facts written as literals, no privileges, no
// process or namespace of anyone's. Each case states a command line (the
// nsenter options it stands for) and what the plan must be.

// ownIDs are "nsx's own" namespaces in these facts.
var ownIDs = map[namespace.Kind]namespace.ID{
	namespace.User: 4026531837, namespace.Cgroup: 4026531835, namespace.IPC: 4026531839,
	namespace.UTS: 4026531838, namespace.Net: 4026531840, namespace.PID: 4026531836,
	namespace.Mount: 4026531841, namespace.Time: 4026531834,
}

// pidFacts are the facts of a target process pinned by a pidfd whose
// namespaces are nsx's own except the kinds in differ.
func pidFacts(pid int, differ namespace.Set) *facts {
	f := &facts{
		pid: pid, ref: itoa(pid), desc: "PID " + itoa(pid),
		pidfdSetns: true, supported: namespace.AllKinds,
		own: map[namespace.Kind]namespace.ID{}, ids: map[namespace.Kind]idRead{},
		files: map[namespace.Kind]int{}, nsFds: map[namespace.Kind]fdRead{},
		ownEnv: []string{"PATH=/bin", "SHELL=/bin/bash", "HOME=/root"},
	}
	for _, k := range namespace.All {
		f.own[k] = ownIDs[k]
		f.ids[k] = idRead{id: ownIDs[k]}
		if differ.Has(k) {
			f.ids[k] = idRead{id: ownIDs[k] + 1000}
		}
	}
	return f
}

func itoa(n int) string { return strconv.Itoa(n) }

// The diff suite's fixtures as facts: A has namespaces of its own but nsx's
// user and time namespaces; B a user (and time) namespace of its own too;
// C a mount namespace with a marker; D a time namespace; F an environment.
func factsA() *facts {
	return pidFacts(100, namespace.AllKinds.Remove(namespace.User).Remove(namespace.Time))
}
func factsB() *facts { return pidFacts(200, namespace.AllKinds) }
func factsC() *facts { return pidFacts(300, namespace.SetOf(namespace.Mount)) }
func factsD() *facts { return pidFacts(400, namespace.SetOf(namespace.Time)) }
func factsF() *facts {
	f := pidFacts(500, namespace.SetOf(namespace.Net))
	f.env = []string{"X=second", "Y=1"}
	return f
}

// noTarget are the facts without a target (-t not given).
func noTarget() *facts {
	return &facts{supported: namespace.AllKinds, own: ownIDs, ids: map[namespace.Kind]idRead{},
		files: map[namespace.Kind]int{}, nsFds: map[namespace.Kind]fdRead{}, ownEnv: []string{"PATH=/bin"}}
}

// gone are the facts of a PID that names no process (the CLI's pin failed).
func gone(pid int) *facts { f := noTarget(); f.pid, f.gone = pid, true; return f }

// openAs is an open file that reports name, as a file opened by the CLI.
func openAs(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	fd, err := syscall.Dup(int(f.Fd()))
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	syscall.CloseOnExec(fd)
	named := os.NewFile(uintptr(fd), name)
	t.Cleanup(func() { named.Close() })
	return named
}

type planCase struct {
	name  string
	facts func() *facts
	opts  func(t *testing.T, o *Options)
	// program is path and args as the Cmd gets them; inPlace is -F.
	program []string
	inPlace bool
	env     []string
	// err is the exact message, or want the plan's summary (summary()).
	err, want string
	check     func(t *testing.T, p *Plan, f *facts)
}

func kinds(ks ...namespace.Kind) namespace.Set { return namespace.SetOf(ks...) }

const (
	mnt  = namespace.Mount
	uts  = namespace.UTS
	ipc  = namespace.IPC
	net  = namespace.Net
	pidk = namespace.PID
	usr  = namespace.User
	cgr  = namespace.Cgroup
	tim  = namespace.Time
)

// summary is a plan in one line: the steps and where they come from, the
// skips, the fork, the credentials and the program.
func summary(p *Plan) string {
	var b strings.Builder
	b.WriteString("steps=")
	for i, s := range p.Steps {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s.Kind.String())
		if s.Source != "target" {
			b.WriteString("@" + strings.Fields(s.Source)[0])
		}
	}
	b.WriteString(" skip=")
	for i, s := range p.Skipped {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s.Kind.String())
	}
	x := &p.exec
	fork := "no"
	switch {
	case !p.Fork:
	case x.prejoinPID != nil:
		fork = "prejoin"
	default:
		fork = "yes"
	}
	groups := "keep"
	if p.DropGroups {
		groups = "drop"
	}
	b.WriteString(" fork=" + fork + " uid=" + ids(p.UID) + " gid=" + ids(p.GID) + " groups=" + groups)
	b.WriteString(" prog=" + strings.Join(p.Program, " "))
	return b.String()
}

func ids(v int) string {
	if v < 0 {
		return "-"
	}
	return strconv.Itoa(v)
}

// planCases: one case per nsenter option, one per option combination of
// the differential suite (test/e2e/nsenter_diff_test.go, same names), and
// nsx's own options.
var planCases = []planCase{
	// The differential suite's "same" and "deviations" cases.
	{name: "net", facts: factsA, opts: sel(net), program: prog("readlink", "/proc/self/ns/net"),
		want:  "steps=net skip= fork=yes uid=- gid=- groups=keep prog=readlink /proc/self/ns/net",
		check: joinsAre("pidfd:net")},
	{name: "uts", facts: factsA, opts: sel(uts), program: prog("cat", "/proc/sys/kernel/hostname"),
		want: "steps=uts skip= fork=yes uid=- gid=- groups=keep prog=cat /proc/sys/kernel/hostname"},
	{name: "all-B-id", facts: factsB, opts: all, program: prog("sh", "-c", "id"),
		want:  "steps=cgroup,ipc,uts,net,pid,mnt,time,user skip= fork=prejoin uid=0 gid=0 groups=drop prog=sh -c id",
		check: joinsAre("pidfd:cgroup|ipc|uts|net|pid|mnt|time", "pidfd:user")},
	{name: "missing-n", facts: func() *facts { return gone(999999) }, opts: sel(net), program: prog("true"),
		err: "cannot open /proc/999999/ns/net: No such file or directory"},
	{name: "missing-nmuC", facts: func() *facts { return gone(999999) }, opts: sel(net, mnt, uts, cgr), program: prog("true"),
		err: "cannot open /proc/999999/ns/cgroup: No such file or directory"},
	{name: "missing-a", facts: func() *facts { return gone(999999) }, opts: all, program: prog("true"),
		err: "stat of /proc/999999/ns/user failed: No such file or directory"},
	{name: "net-passwd", facts: noTarget, opts: file(net, "/etc/passwd"), program: prog("true"),
		want:  "steps=net@file skip= fork=yes uid=- gid=- groups=keep prog=true",
		check: joinsAre("file:net")},
	{name: "net-uts-file", facts: noTarget, opts: file(net, "/proc/100/ns/uts"), program: prog("true"),
		want:  "steps=net@file skip= fork=yes uid=- gid=- groups=keep prog=true",
		check: joinsAre("file:net")},
	{name: "enoent", facts: factsA, opts: sel(net), program: prog("nonexistent_cmd"),
		want: "steps=net skip= fork=yes uid=- gid=- groups=keep prog=nonexistent_cmd"},
	{name: "eacces", facts: factsA, opts: sel(net), program: prog("/etc/passwd"),
		want: "steps=net skip= fork=yes uid=- gid=- groups=keep prog=/etc/passwd"},
	{name: "pid-enoent", facts: factsA, opts: sel(pidk), program: prog("nonexistent_cmd"),
		want: "steps=pid skip= fork=prejoin uid=- gid=- groups=keep prog=nonexistent_cmd"},
	{name: "C-m-r-w", facts: withDirs(factsC), opts: with(sel(mnt), rootOpt, wdOpt), program: prog("/bin/pwd"),
		want: "steps=mnt skip= fork=yes uid=- gid=- groups=keep prog=/bin/pwd", check: dirs(dirTarget, dirTarget, "", true)},
	{name: "C-m-r-Wsub", facts: withDirs(factsC), opts: with(sel(mnt), rootOpt, wdns("/sub")), program: prog("/bin/pwd"),
		want: "steps=mnt skip= fork=yes uid=- gid=- groups=keep prog=/bin/pwd", check: dirs(dirTarget, dirUnchanged, "/sub", true)},
	{name: "C-m-r-marker", facts: withDirs(factsC), opts: with(sel(mnt), rootOpt), program: prog("cat", "/marker"),
		want: "steps=mnt skip= fork=yes uid=- gid=- groups=keep prog=cat /marker", check: dirs(dirTarget, dirUnchanged, "", true)},
	{name: "C-m-w", facts: withDirs(factsC), opts: with(sel(mnt), wdOpt), program: prog("pwd"),
		want: "steps=mnt skip= fork=yes uid=- gid=- groups=keep prog=pwd", check: dirs(dirUnchanged, dirTarget, "", false)},
	{name: "C-root-file", facts: factsC, opts: with(sel(mnt), rootFile("/etc/passwd")), program: prog("true"),
		want: "steps=mnt skip= fork=yes uid=- gid=- groups=keep prog=true", check: dirs(dirOption, dirUnchanged, "", true)},
	{name: "C-wd-file", facts: factsC, opts: with(sel(mnt), wdFile("/etc/passwd")), program: prog("true"),
		want: "steps=mnt skip= fork=yes uid=- gid=- groups=keep prog=true", check: dirs(dirUnchanged, dirOption, "", false)},
	{name: "C-W-nonexistent", facts: withDirs(factsC), opts: with(sel(mnt), rootOpt, wdns("/nonexistent")), program: prog("true"),
		want: "steps=mnt skip= fork=yes uid=- gid=- groups=keep prog=true", check: dirs(dirTarget, dirUnchanged, "/nonexistent", true)},
	// --wdns takes an optional argument: a separate word is the program.
	{name: "C-wdns-long-separate", facts: withDirs(factsC), opts: with(sel(mnt), rootOpt, wdns("")), program: prog("/sub", "/bin/pwd"),
		want: "steps=mnt skip= fork=yes uid=- gid=- groups=keep prog=/sub /bin/pwd", check: dirs(dirTarget, dirUnchanged, "", true)},
	{name: "C-W-separate", facts: withDirs(factsC), opts: with(sel(mnt), rootOpt, wdns("")), program: prog("/sub", "/bin/pwd"),
		want: "steps=mnt skip= fork=yes uid=- gid=- groups=keep prog=/sub /bin/pwd"},
	{name: "w-W-exclusive", facts: withDirs(factsC), opts: with(wdOpt, wdns("/")), program: prog("true"),
		err: "mutually exclusive arguments: --wdns --wd"},
	{name: "wd-wdns-exclusive", facts: noTarget, opts: with(wdFile("/"), wdns("/")), program: prog("true"),
		err: "mutually exclusive arguments: --wdns --wd"},
	{name: "S-1000", facts: factsA, opts: with(sel(net), uid(1000)), program: prog("id", "-u"),
		want: "steps=net skip= fork=yes uid=1000 gid=- groups=keep prog=id -u", check: dropsEarly(false)},
	{name: "S-G-1000", facts: factsA, opts: with(sel(net), uid(1000), gid(1000)), program: prog("sh", "-c", "id -u; id -g; id -G"),
		want: "steps=net skip= fork=yes uid=1000 gid=1000 groups=drop prog=sh -c id -u; id -g; id -G", check: dropsEarly(true)},
	{name: "S-1000-groups", facts: factsA, opts: with(sel(net), uid(1000)), program: prog("sh", "-c", "id -g; id -G"),
		want: "steps=net skip= fork=yes uid=1000 gid=- groups=keep prog=sh -c id -g; id -G"},
	{name: "targ-prefix", facts: factsA, opts: sel(net), program: prog("readlink", "/proc/self/ns/net"),
		want: "steps=net skip= fork=yes uid=- gid=- groups=keep prog=readlink /proc/self/ns/net"},
	{name: "stop-at-operand", facts: factsA, opts: sel(net), program: prog("echo", "-n", "x"),
		want: "steps=net skip= fork=yes uid=- gid=- groups=keep prog=echo -n x"},
	{name: "dashdash", facts: factsA, opts: sel(net), program: prog("-x"),
		want: "steps=net skip= fork=yes uid=- gid=- groups=keep prog=-x"},
	// The kernel refuses the uid (EINVAL): the plan passes it on.
	{name: "S-4294967295", facts: factsA, opts: with(sel(net), uid(4294967295)), program: prog("id"),
		want: "steps=net skip= fork=yes uid=4294967295 gid=- groups=keep prog=id"},
	// --keep-caps with a user namespace and another (util-linux ignores
	// it with -U alone, docs/compat.md): ambient capabilities, or none.
	{name: "B-U-u-keep-caps", facts: factsB, opts: with(sel(usr, uts), func(_ *testing.T, o *Options) { o.KeepCaps = true }), program: prog("awk"),
		want: "steps=uts,user skip= fork=yes uid=0 gid=0 groups=drop prog=awk", check: func(t *testing.T, p *Plan, _ *facts) {
			if !p.KeepCaps || !p.exec.keepCaps {
				t.Error("--keep-caps: capabilities not kept")
			}
		}},
	{name: "B-U-u-no-keep-caps", facts: factsB, opts: sel(usr, uts), program: prog("awk"),
		want: "steps=uts,user skip= fork=yes uid=0 gid=0 groups=drop prog=awk", check: func(t *testing.T, p *Plan, _ *facts) {
			if p.KeepCaps || p.exec.keepCaps {
				t.Error("capabilities kept without --keep-caps")
			}
		}},
	{name: "B-U-S-1000", facts: factsB, opts: with(sel(usr), uid(1000)), program: prog("id"),
		want: "steps=user skip= fork=yes uid=1000 gid=0 groups=drop prog=id", check: joinsAre("pidfd:user")},
	{name: "C-r-nothing", facts: withDirs(factsC), opts: rootOpt, program: prog("/bin/pwd"), err: "no namespace specified"},
	{name: "C-r-w-nothing", facts: withDirs(factsC), opts: with(rootOpt, wdOpt), program: prog("/bin/pwd"), err: "no namespace specified"},
	{name: "C-r-cat-nothing", facts: withDirs(factsC), opts: rootOpt, program: prog("cat", "/marker"), err: "no namespace specified"},
	{name: "C-w-nothing", facts: withDirs(factsC), opts: wdOpt, program: prog("pwd"), err: "no namespace specified"},
	{name: "root-file-nothing", facts: noTarget, opts: rootFile("/etc/passwd"), program: prog("true"), err: "no namespace specified"},
	{name: "nothing", facts: noTarget, opts: none, program: prog("true"), err: "no namespace specified"},
	{name: "nothing-operand-n", facts: noTarget, opts: none, program: prog("true", "-n"), err: "no namespace specified"},
	{name: "n-no-target", facts: noTarget, opts: sel(net), program: prog("true"), err: "no target PID specified"},
	{name: "environ", facts: factsF, opts: with(sel(net), targetEnv), program: prog("env"),
		want: "steps=net skip= fork=yes uid=- gid=- groups=keep prog=env", check: targetEnvIs("X=second", "Y=1")},
	{name: "p-exit-42", facts: factsA, opts: sel(pidk), program: prog("sh", "-c", "exit 42"),
		want: "steps=pid skip= fork=prejoin uid=- gid=- groups=keep prog=sh -c exit 42", check: prejoin(joinPidfd)},
	{name: "p-F-exit-42", facts: factsA, opts: sel(pidk), inPlace: true, program: prog("sh", "-c", "exit 42"),
		want: "steps=pid skip= fork=no uid=- gid=- groups=keep prog=sh -c exit 42"},
	{name: "nested-sh-under-F", facts: factsA, opts: sel(pidk), inPlace: true, program: prog("sh", "-c", "sh -c 'echo $$'"),
		want: "steps=pid skip= fork=no uid=- gid=- groups=keep prog=sh -c sh -c 'echo $$'"},
	// nsx names the namespace the kernel would refuse (docs/compat.md).
	{name: "own-user", facts: factsA, opts: sel(usr), program: prog("true"),
		err: "reassociate to namespace 'ns/user' failed: Invalid argument"},
	{name: "all-own-user", facts: factsA, opts: with(all, sel(usr)), program: prog("true"),
		err: "reassociate to namespace 'ns/user' failed: Invalid argument"},
	{name: "all-no-target", facts: noTarget, opts: all, program: prog("true"), err: "no target PID specified for --all"},

	// The differential suite's subtests.
	{name: "enter-all", facts: factsA, opts: all, program: prog("sh", "-c", "probe"),
		want: "steps=cgroup,ipc,uts,net,pid,mnt skip=user,time fork=prejoin uid=- gid=- groups=keep prog=sh -c probe"},
	{name: "exit-codes", facts: factsB, opts: sel(usr, net), program: prog("sh", "-c", "exit 3"),
		want: "steps=net,user skip= fork=yes uid=0 gid=0 groups=drop prog=sh -c exit 3", check: joinsAre("pidfd:net", "pidfd:user")},
	{name: "signals", facts: factsB, opts: all, program: prog("sh", "-c", "kill -TERM $$"),
		want: "steps=cgroup,ipc,uts,net,pid,mnt,time,user skip= fork=prejoin uid=0 gid=0 groups=drop prog=sh -c kill -TERM $$"},
	{name: "pid-namespace-pids", facts: factsA, opts: sel(pidk), program: prog("sh", "-c", "echo $$"),
		want: "steps=pid skip= fork=prejoin uid=- gid=- groups=keep prog=sh -c echo $$"},
	{name: "chroot", facts: withDirs(factsC), opts: with(sel(mnt), rootOpt), program: prog("/bin/pwd"),
		want: "steps=mnt skip= fork=yes uid=- gid=- groups=keep prog=/bin/pwd"},
	{name: "time", facts: factsD, opts: sel(tim), program: prog("cat", "/proc/uptime"),
		want: "steps=time skip= fork=yes uid=- gid=- groups=keep prog=cat /proc/uptime"},
	{name: "time-no-fork", facts: factsD, opts: sel(tim), inPlace: true, program: prog("cat", "/proc/uptime"),
		err: "--no-fork cannot enter a user or time namespace: the kernel lets only a single-threaded process join those, and nsx (a Go program) is multithreaded; drop -F and nsx forks a single-threaded child for them"},
	{name: "environment", facts: factsF, opts: with(sel(net), targetEnv), env: []string{"CALLER=1"}, program: prog("env"),
		want: "steps=net skip= fork=yes uid=- gid=- groups=keep prog=env", check: targetEnvIs("X=second", "Y=1")},
	{name: "shell", facts: factsA, opts: sel(net), env: []string{"SHELL=/bin/sh"},
		want: "steps=net skip= fork=yes uid=- gid=- groups=keep prog=-sh"},
	{name: "shell-unset", facts: factsA, opts: sel(net), env: []string{"PATH=/bin"},
		want: "steps=net skip= fork=yes uid=- gid=- groups=keep prog=-sh", check: shellIs("/bin/sh ($SHELL is not set)")},
	{name: "shell-B-all", facts: factsB, opts: all, env: []string{"SHELL=/bin/sh"},
		want: "steps=cgroup,ipc,uts,net,pid,mnt,time,user skip= fork=prejoin uid=0 gid=0 groups=drop prog=-sh"},
	{name: "fds", facts: factsA, opts: with(sel(pidk, mnt)), program: prog("sh", "-c", "ls /proc/self/fd"),
		want: "steps=pid,mnt skip= fork=prejoin uid=- gid=- groups=keep prog=sh -c ls /proc/self/fd", check: joinsAre("pidfd:pid|mnt")},
	{name: "group-stop-continue", facts: factsA, opts: sel(pidk), program: prog("sh"),
		want: "steps=pid skip= fork=prejoin uid=- gid=- groups=keep prog=sh"},
	{name: "stop-continue", facts: factsA, opts: sel(net), program: prog("sh"),
		want: "steps=net skip= fork=yes uid=- gid=- groups=keep prog=sh"},

	// Each nsenter option.
	{name: "opt-m", facts: factsA, opts: sel(mnt), program: prog("true"),
		want: "steps=mnt skip= fork=yes uid=- gid=- groups=keep prog=true", check: rootCwd("the mount namespace's root", "the mount namespace's root")},
	{name: "opt-i", facts: factsA, opts: sel(ipc), program: prog("true"), want: "steps=ipc skip= fork=yes uid=- gid=- groups=keep prog=true"},
	{name: "opt-C", facts: factsA, opts: sel(cgr), program: prog("true"), want: "steps=cgroup skip= fork=yes uid=- gid=- groups=keep prog=true"},
	{name: "opt-T", facts: factsD, opts: sel(tim), program: prog("true"), want: "steps=time skip= fork=yes uid=- gid=- groups=keep prog=true"},
	{name: "opt-U-preserve-credentials", facts: factsB, opts: with(sel(usr), func(_ *testing.T, o *Options) { o.PreserveCredentials = true }), program: prog("id"),
		want: "steps=user skip= fork=yes uid=- gid=- groups=keep prog=id"},
	{name: "opt-keep-caps", facts: factsB, opts: with(sel(usr), func(_ *testing.T, o *Options) { o.KeepCaps = true }), program: prog("true"),
		want: "steps=user skip= fork=yes uid=0 gid=0 groups=drop prog=true", check: func(t *testing.T, p *Plan, _ *facts) {
			if !p.KeepCaps {
				t.Error("--keep-caps with a user namespace: capabilities not kept")
			}
		}},
	{name: "opt-keep-caps-no-user", facts: factsA, opts: with(sel(net), func(_ *testing.T, o *Options) { o.KeepCaps = true }), program: prog("true"),
		want: "steps=net skip= fork=yes uid=- gid=- groups=keep prog=true", check: func(t *testing.T, p *Plan, _ *facts) {
			if p.KeepCaps {
				t.Error("--keep-caps without a user namespace keeps capabilities")
			}
		}},
	{name: "opt-N", facts: func() *facts { f := factsA(); f.socket.fd = 9; return f }, opts: func(_ *testing.T, o *Options) { o.NetSocketFd = 3 }, program: prog("true"),
		want: "steps=net@target's skip= fork=yes uid=- gid=- groups=keep prog=true", check: joinsAre("socket:net")},
	{name: "opt-N-with-n", facts: func() *facts { f := factsA(); f.socket.fd = 9; return f }, opts: with(sel(net, uts), func(_ *testing.T, o *Options) { o.NetSocketFd = 0 }), program: prog("true"),
		want: "steps=uts,net@target's skip= fork=yes uid=- gid=- groups=keep prog=true", check: joinsAre("pidfd:uts", "socket:net")},
	{name: "opt-N-no-pidfd", facts: func() *facts {
		f := factsA()
		f.socket.err = errorf(nil, "failed to pidfd_open() for 100")
		return f
	}, opts: func(_ *testing.T, o *Options) { o.NetSocketFd = 3 }, program: prog("true"), err: "failed to pidfd_open() for 100"},
	{name: "opt-N-no-target", facts: noTarget, opts: func(_ *testing.T, o *Options) { o.NetSocketFd = 3 }, program: prog("true"), err: "no target PID specified"},
	{name: "opt-user-parent", facts: func() *facts { f := factsB(); f.userParent.fd = 8; return f }, opts: func(_ *testing.T, o *Options) { o.UserParent = true }, program: prog("id"),
		want: "steps=user@parent skip= fork=yes uid=0 gid=0 groups=drop prog=id", check: joinsAre("userparent:user")},
	{name: "opt-user-parent-F", facts: factsB, opts: func(_ *testing.T, o *Options) { o.UserParent = true }, inPlace: true, program: prog("id"),
		err: "--no-fork cannot enter a user or time namespace: the kernel lets only a single-threaded process join those, and nsx (a Go program) is multithreaded; drop -F and nsx forks a single-threaded child for them"},
	{name: "opt-S-follow", facts: func() *facts { f := factsB(); f.follow.uid, f.follow.gid = 1000, 1001; return f }, opts: with(sel(usr), func(_ *testing.T, o *Options) { o.FollowUID, o.FollowGID = true, true }), program: prog("id"),
		want: "steps=user skip= fork=yes uid=1000 gid=1001 groups=drop prog=id"},
	{name: "opt-S-follow-no-target", facts: noTarget, opts: with(file(net, "/run/netns/x"), func(_ *testing.T, o *Options) { o.FollowUID = true }), program: prog("id"),
		err: "neither filename nor target pid supplied for "},
	{name: "opt-G", facts: factsA, opts: with(sel(net), gid(5)), program: prog("id"), want: "steps=net skip= fork=yes uid=- gid=5 groups=drop prog=id"},
	{name: "opt-r-no-target", facts: noTarget, opts: with(file(net, "/run/netns/x"), rootOpt), program: prog("true"),
		err: "neither filename nor target pid supplied for root"},
	{name: "opt-w-no-target", facts: noTarget, opts: with(file(net, "/run/netns/x"), wdOpt), program: prog("true"),
		err: "neither filename nor target pid supplied for cwd"},
	{name: "opt-e-no-target", facts: noTarget, opts: with(file(net, "/run/netns/x"), targetEnv), program: prog("true"),
		err: "neither filename nor target pid supplied for environ"},
	{name: "opt-c", facts: func() *facts { f := factsA(); f.cgroup.fd, f.cgroup.path = 7, "/sys/fs/cgroup/unified/x"; return f }, opts: with(sel(net), cgroupOpt), program: prog("true"),
		want: "steps=net skip= fork=yes uid=- gid=- groups=keep prog=true", check: func(t *testing.T, p *Plan, _ *facts) {
			if p.Cgroup != "/sys/fs/cgroup/unified/x" || !p.exec.cgroup {
				t.Errorf("cgroup %q, joined %v", p.Cgroup, p.exec.cgroup)
			}
		}},
	{name: "opt-c-F", facts: func() *facts { f := factsA(); f.cgroup.fd = 7; return f }, opts: with(sel(net), cgroupOpt), inPlace: true, program: prog("true"),
		err: "--join-cgroup with --no-fork is not supported: nsx starts the program directly in the cgroup (clone3 CLONE_INTO_CGROUP), which needs a fork"},
	{name: "opt-c-no-target", facts: noTarget, opts: with(file(net, "/run/netns/x"), cgroupOpt), program: prog("true"),
		err: "neither filename nor target pid supplied for cgroup"},
	{name: "opt-F", facts: factsA, opts: sel(net), inPlace: true, program: prog("true"), want: "steps=net skip= fork=no uid=- gid=- groups=keep prog=true"},
	// -Z is the CLI's (SELinux is refused there); the plan ignores it.
	{name: "opt-Z", facts: factsA, opts: with(sel(net), func(_ *testing.T, o *Options) { o.FollowContext = true }), program: prog("true"),
		want: "steps=net skip= fork=yes uid=- gid=- groups=keep prog=true"},
	{name: "opt-a-namespace-file-target", facts: func() *facts {
		f := noTarget()
		f.nsFile, f.nsFileKind, f.nsFileName, f.files[net] = true, net, "/run/netns/blue", 5
		return f
	}, opts: all, program: prog("ip", "a"), want: "steps=net@file skip= fork=yes uid=- gid=- groups=keep prog=ip a"},
	{name: "opt-a-user-unreadable", facts: func() *facts { f := factsA(); f.ids[usr] = idRead{err: syscall.EACCES}; return f }, opts: all, program: prog("true"),
		err: "stat of /proc/100/ns/user failed: Permission denied"},
	{name: "opt-a-no-time-kernel", facts: func() *facts { f := factsB(); f.supported = f.supported.Remove(tim); return f }, opts: all, program: prog("true"),
		want: "steps=cgroup,ipc,uts,net,pid,mnt,user skip=time fork=prejoin uid=0 gid=0 groups=drop prog=true"},
	{name: "opt-a-container-userns", facts: func() *facts {
		f := pidFacts(600, kinds(usr, net, uts, ipc, pidk, mnt))
		f.container = true
		return f
	}, opts: all, program: prog("true"),
		want: "steps=ipc,uts,net,pid,mnt,user skip=cgroup,time fork=prejoin uid=0 gid=0 groups=drop prog=true"},
	{name: "opt-a-file-replaces", facts: factsB, opts: with(all, file(net, "/run/netns/x")), program: prog("true"),
		want:  "steps=cgroup,ipc,uts,net@file,pid,mnt,time,user skip= fork=prejoin uid=0 gid=0 groups=drop prog=true",
		check: joinsAre("pidfd:cgroup|ipc|uts|pid|mnt|time", "file:net", "pidfd:user")},
	{name: "opt-p-file", facts: noTarget, opts: file(pidk, "/proc/1/ns/pid"), program: prog("true"),
		want: "steps=pid@file skip= fork=prejoin uid=- gid=- groups=keep prog=true", check: prejoin(joinFile)},
	{name: "opt-U-file", facts: noTarget, opts: file(usr, "/proc/1/ns/user"), program: prog("true"),
		want: "steps=user@file skip= fork=yes uid=0 gid=0 groups=drop prog=true", check: joinsAre("file:user")},
	{name: "no-pidfd-setns", facts: func() *facts {
		f := factsB()
		f.pidfdSetns = false
		for _, k := range namespace.All {
			f.nsFds[k] = fdRead{fd: 20}
		}
		return f
	}, opts: sel(net, pidk, usr), program: prog("true"),
		want: "steps=net,pid,user skip= fork=prejoin uid=0 gid=0 groups=drop prog=true",
		check: func(t *testing.T, p *Plan, f *facts) {
			joinsAre("targetfile:net", "targetfile:pid", "targetfile:user")(t, p, f)
			prejoin(joinTargetFile)(t, p, f)
		}},
	{name: "no-pidfd-open-fails", facts: func() *facts {
		f := factsA()
		f.pidfdFd, f.pidfdSetns = -1, false
		f.nsFds[net] = fdRead{fd: -1, err: errorf(syscall.EACCES, "cannot open /proc/100/ns/net")}
		return f
	}, opts: sel(net), program: prog("true"), err: "cannot open /proc/100/ns/net: Permission denied"},

	// nsx enter's own options.
	{name: "read-only", facts: factsA, opts: with(sel(mnt), func(_ *testing.T, o *Options) { o.ReadOnly = true }), program: prog("true"),
		want: "steps=mnt skip= fork=yes uid=- gid=- groups=keep prog=true", check: func(t *testing.T, p *Plan, _ *facts) {
			if !p.ReadOnly || !p.exec.readOnly {
				t.Error("not read-only")
			}
		}},
	{name: "read-only-no-mount", facts: factsA, opts: with(sel(net), func(_ *testing.T, o *Options) { o.ReadOnly = true }), program: prog("true"),
		err: "--read-only needs the mount namespace entered (-m or -a)"},
	{name: "read-only-root", facts: withDirs(factsA), opts: with(sel(mnt), rootOpt, func(_ *testing.T, o *Options) { o.ReadOnly = true }), program: prog("true"),
		err: "--read-only cannot be combined with --root or --wd: their directories are in the target's writable mounts, not in the read-only copy (use --wdns for a directory inside)"},
	{name: "as", facts: func() *facts { f := factsA(); f.as.uid, f.as.gid = 33, 34; return f }, opts: with(all, func(_ *testing.T, o *Options) { o.As = "www-data" }), program: prog("id"),
		want: "steps=cgroup,ipc,uts,net,pid,mnt skip=user,time fork=prejoin uid=33 gid=34 groups=drop prog=id"},
	{name: "as-unknown", facts: func() *facts {
		f := factsA()
		f.as.err = errorf(nil, "--as nobody2: no user %q in the target's /etc/passwd", "nobody2")
		return f
	}, opts: with(all, func(_ *testing.T, o *Options) { o.As = "nobody2" }), program: prog("id"),
		err: `--as nobody2: no user "nobody2" in the target's /etc/passwd`},
	{name: "setenv", facts: factsA, opts: with(sel(net), func(_ *testing.T, o *Options) { o.SetEnv = []string{"A=1", "PATH=/x"} }), program: prog("env"),
		want: "steps=net skip= fork=yes uid=- gid=- groups=keep prog=env", check: envIs("SHELL=/bin/bash", "HOME=/root", "A=1", "PATH=/x")},
	{name: "workdir", facts: factsA, opts: with(all, wdns("/app"), func(_ *testing.T, o *Options) { o.ConfineCwd = true }), program: prog("pwd"),
		want: "steps=cgroup,ipc,uts,net,pid,mnt skip=user,time fork=prejoin uid=- gid=- groups=keep prog=pwd", check: dirs(dirUnchanged, dirUnchanged, "/app", true)},
	{name: "wdns-empty", facts: factsA, opts: with(sel(mnt), func(_ *testing.T, o *Options) { o.WdnsGiven, o.WdnsEmpty = true, true }), program: prog("pwd"),
		err: "cannot open current working directory: No such file or directory"},
	{name: "shell-fallback", facts: func() *facts { f := factsA(); f.shell, f.shellMissing = "/bin/bash", true; return f }, opts: with(all, func(_ *testing.T, o *Options) { o.ShellFallback = true }),
		want: "steps=cgroup,ipc,uts,net,pid,mnt skip=user,time fork=prejoin uid=- gid=- groups=keep prog=-sh", check: shellIs("/bin/sh ($SHELL /bin/bash does not exist in the target)")},
	{name: "shell-exists", facts: func() *facts { f := factsA(); f.shell = "/bin/bash"; return f }, opts: with(all, func(_ *testing.T, o *Options) { o.ShellFallback = true }),
		want: "steps=cgroup,ipc,uts,net,pid,mnt skip=user,time fork=prejoin uid=- gid=- groups=keep prog=-bash", check: shellIs("/bin/bash ($SHELL)")},
	{name: "debug", facts: debugFacts, opts: debugOpt, program: prog("ps"),
		want: "steps=cgroup,ipc,uts,net,pid skip=user,time,mnt fork=prejoin uid=- gid=- groups=keep prog=ps", check: func(t *testing.T, p *Plan, _ *facts) {
			if p.Debug == nil || !p.exec.debug || p.Debug.Toolbox != "/" || !p.exec.debugPIDFromTarget {
				t.Fatalf("debug plan %+v", p.Debug)
			}
			envIs("PATH=/bin", "SHELL=/bin/bash", "HOME=/root", "NSX_TARGET=/target", "PS1=[nsx debug docker:web1] # ", "debian_chroot=nsx debug docker:web1")(t, p, nil)
		}},
	{name: "debug-default-program", facts: debugFacts, opts: debugOpt,
		want: "steps=cgroup,ipc,uts,net,pid skip=user,time,mnt fork=prejoin uid=- gid=- groups=keep prog=/bin/sh"},
	{name: "debug-no-shell", facts: func() *facts { f := debugFacts(); f.debug.shell = ""; return f }, opts: debugOpt,
		err: "toolbox / is not a root filesystem: it has no /bin/sh; name the program to run"},
	{name: "debug-mount", facts: debugFacts, opts: with(debugOpt, sel(mnt)), program: prog("ps"),
		err: "debug does not enter the target's mount namespace: its files are at /target"},
	{name: "debug-F", facts: debugFacts, opts: debugOpt, inPlace: true, program: prog("ps"),
		err: "debug cannot run without a fork: the new /proc is mounted by a process born in the target's PID namespace"},
	{name: "debug-namespace-file", facts: noTarget, opts: debugOpt, program: prog("ps"),
		err: "debug needs a target process (a PID or a container), not a namespace file"},
}

func debugFacts() *facts {
	f := factsA()
	f.ref = "docker:web1"
	f.debug.toolbox, f.debug.shell = "/", "/bin/sh"
	return f
}

func prog(argv ...string) []string { return argv }

func sel(ks ...namespace.Kind) func(*testing.T, *Options) {
	return func(_ *testing.T, o *Options) { o.Kinds |= kinds(ks...) }
}

func all(_ *testing.T, o *Options)       { o.All = true }
func none(*testing.T, *Options)          {}
func rootOpt(_ *testing.T, o *Options)   { o.Root = true }
func wdOpt(_ *testing.T, o *Options)     { o.WorkDir = true }
func targetEnv(_ *testing.T, o *Options) { o.TargetEnv = true }
func cgroupOpt(_ *testing.T, o *Options) { o.JoinCgroup = true }
func debugOpt(_ *testing.T, o *Options)  { o.Debug = &DebugOptions{}; o.All = true }
func uid(n int) func(*testing.T, *Options) {
	return func(_ *testing.T, o *Options) { o.UID = n }
}
func gid(n int) func(*testing.T, *Options) {
	return func(_ *testing.T, o *Options) { o.GID = n }
}
func wdns(dir string) func(*testing.T, *Options) {
	return func(_ *testing.T, o *Options) { o.WdnsGiven, o.WorkDirInNS = true, dir }
}
func file(k namespace.Kind, name string) func(*testing.T, *Options) {
	return func(t *testing.T, o *Options) {
		if o.Files == nil {
			o.Files = map[namespace.Kind]*os.File{}
		}
		o.Files[k] = openAs(t, name)
	}
}
func rootFile(name string) func(*testing.T, *Options) {
	return func(t *testing.T, o *Options) { o.Root, o.RootDir = true, openAs(t, name) }
}
func wdFile(name string) func(*testing.T, *Options) {
	return func(t *testing.T, o *Options) { o.WorkDir, o.WorkDirFile = true, openAs(t, name) }
}
func with(fs ...func(*testing.T, *Options)) func(*testing.T, *Options) {
	return func(t *testing.T, o *Options) {
		for _, f := range fs {
			f(t, o)
		}
	}
}

// withDirs gives the target a root and working directory to open.
func withDirs(mk func() *facts) func() *facts {
	return func() *facts { f := mk(); f.root.fd, f.cwd.fd = 11, 12; return f }
}

// joinsAre checks the joins of the spec, first pass then user: source and
// kinds, e.g. "pidfd:net|uts".
func joinsAre(want ...string) func(*testing.T, *Plan, *facts) {
	return func(t *testing.T, p *Plan, _ *facts) {
		t.Helper()
		names := map[joinFrom]string{joinPidfd: "pidfd", joinTargetFile: "targetfile", joinFile: "file", joinSocket: "socket", joinUserParent: "userparent"}
		var got []string
		js := p.exec.tolerant
		if p.exec.user != nil {
			js = append(slices.Clone(js), *p.exec.user)
		}
		for _, j := range js {
			var ks []string
			for _, k := range j.kinds.Kinds() {
				ks = append(ks, k.String())
			}
			got = append(got, names[j.from]+":"+strings.Join(ks, "|"))
		}
		if !slices.Equal(got, want) {
			t.Errorf("joins %q, want %q", got, want)
		}
	}
}

func prejoin(from joinFrom) func(*testing.T, *Plan, *facts) {
	return func(t *testing.T, p *Plan, _ *facts) {
		t.Helper()
		if j := p.exec.prejoinPID; j == nil || j.from != from || j.kinds != kinds(pidk) {
			t.Errorf("PID prejoin %+v, want from %d", j, from)
		}
	}
}

func dirs(root, cwd dirFrom, wdns string, check bool) func(*testing.T, *Plan, *facts) {
	return func(t *testing.T, p *Plan, _ *facts) {
		t.Helper()
		x := &p.exec
		if x.root != root || x.cwd != cwd || x.wdnsPath != wdns || x.checkCwd != check {
			t.Errorf("root %d cwd %d wdns %q checkCwd %v; want %d %d %q %v", x.root, x.cwd, x.wdnsPath, x.checkCwd, root, cwd, wdns, check)
		}
	}
}

func rootCwd(root, cwd string) func(*testing.T, *Plan, *facts) {
	return func(t *testing.T, p *Plan, _ *facts) {
		t.Helper()
		if p.Root != root || p.Cwd != cwd {
			t.Errorf("root %q cwd %q; want %q %q", p.Root, p.Cwd, root, cwd)
		}
	}
}

func envIs(want ...string) func(*testing.T, *Plan, *facts) {
	return func(t *testing.T, p *Plan, _ *facts) {
		t.Helper()
		if !slices.Equal(p.exec.env, want) {
			t.Errorf("environment %q, want %q", p.exec.env, want)
		}
	}
}

// targetEnvIs checks -e: the program gets the target's environment, and
// the plan (what --explain prints) says so.
func targetEnvIs(want ...string) func(*testing.T, *Plan, *facts) {
	return func(t *testing.T, p *Plan, f *facts) {
		t.Helper()
		envIs(want...)(t, p, f)
		if p.Env != "the target's" {
			t.Errorf("plan says the environment is %q, want the target's", p.Env)
		}
	}
}

func shellIs(want string) func(*testing.T, *Plan, *facts) {
	return func(t *testing.T, p *Plan, _ *facts) {
		t.Helper()
		if p.Shell != want {
			t.Errorf("shell %q, want %q", p.Shell, want)
		}
	}
}

func dropsEarly(want bool) func(*testing.T, *Plan, *facts) {
	return func(t *testing.T, p *Plan, _ *facts) {
		t.Helper()
		if p.exec.dropGroupsEarly != want {
			t.Errorf("groups dropped before the joins: %v, want %v", p.exec.dropGroupsEarly, want)
		}
	}
}

// utilLinux is err as nsx's CLI words it, util-linux's way (internal/cli).
func utilLinux(err error) string {
	var e *Error
	if !errors.As(err, &e) {
		return fmt.Sprint(err)
	}
	if e.Err == nil {
		return e.Op
	}
	return e.Op + ": " + errtext.Strerror(e.Err)
}

func TestPlan(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range planCases {
		if seen[c.name] {
			t.Errorf("two cases named %s", c.name)
		}
		seen[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			o := DefaultOptions()
			c.opts(t, &o)
			r := &request{opts: o.effective(), inPlace: c.inPlace, env: c.env}
			if len(c.program) > 0 {
				r.path, r.args = c.program[0], c.program
			}
			f := c.facts()
			p, err := plan(f, r)
			if c.err != "" {
				if err == nil {
					t.Fatalf("planned %s; want the error %q", summary(p), c.err)
				}
				if utilLinux(err) != c.err {
					t.Fatalf("error %q, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("plan: %v", err)
			}
			if got := summary(p); got != c.want {
				t.Errorf("plan\n got %s\nwant %s", got, c.want)
			}
			if c.check != nil {
				c.check(t, p, f)
			}
		})
	}
}

// parsedBeforePlanning are the differential cases whose outcome the CLI's
// option parser decides (a bad number, an unknown or ambiguous option, a
// file that cannot be opened): no plan is ever made for them.
var parsedBeforePlanning = map[string]bool{
	"net-nonexistent": true, "cluster-nt": true, "w-ambiguous": true, "invalid-x": true,
	"unrecognized": true, "t-needs-arg": true, "all-no-arg": true, "first-error-wins": true,
	"t-abc": true, "S-abc": true, "G-abc": true, "G-minus-1": true, "G-minus-1-nothing": true,
	"ne-ambiguous": true, "help": true, "option-parsing-2.41": true,
	"W-w-before-open": true, "w-W-before-bad-option": true,
	// Not cases: the subtests that run the two tables above.
	"same": true, "deviations": true,
}

// TestPlanCoversDiffSuite fails when a case of the differential suite has
// no planner case of the same name (or is not a parser case): the planner
// must be tested, without privileges, on every option combination the
// suite compares with util-linux.
func TestPlanCoversDiffSuite(t *testing.T) {
	src, err := os.ReadFile("../test/e2e/nsenter_diff_test.go")
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	start := strings.Index(text, "func TestNsenterDiff(")
	if start < 0 {
		t.Fatal("no TestNsenterDiff in the differential suite")
	}
	body := text[start:]
	if end := strings.Index(body[1:], "\nfunc "); end >= 0 {
		body = body[:end+1]
	}
	var names []string
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^\t\t\{"([^"]+)", (?:\[\]string|")`), // the case tables
		regexp.MustCompile(`(?m)^\tt\.Run\("([^"]+)"`),               // the subtests
	} {
		for _, m := range re.FindAllStringSubmatch(body, -1) {
			names = append(names, m[1])
		}
	}
	if len(names) < 50 {
		t.Fatalf("found only %d cases in the differential suite: the pattern no longer matches it", len(names))
	}
	planned := map[string]bool{}
	for _, c := range planCases {
		planned[c.name] = true
	}
	for _, n := range names {
		if !planned[n] && !parsedBeforePlanning[n] {
			t.Errorf("differential case %q has no planner case", n)
		}
	}
}

// TestMissingTargetError: the CLI's message for a PID that names no process
// comes from the planner.
func TestMissingTargetError(t *testing.T) {
	o := DefaultOptions()
	o.Kinds = kinds(net, uts)
	if err := o.MissingTargetError(7); utilLinux(err) != "cannot open /proc/7/ns/uts: No such file or directory" || !errors.Is(err, ErrTargetGone) {
		t.Errorf("-n -u: %v", err)
	}
	o = DefaultOptions()
	o.NetSocketFd = 3
	if err := o.MissingTargetError(7); utilLinux(err) != "failed to pidfd_open() for 7: No such process" || !errors.Is(err, ErrTargetGone) {
		t.Errorf("-N: %v", err)
	}
}
