#!/usr/bin/env bash
# bench/enter.sh NSX: nsx enter against util-linux nsenter (the system's
# 2.38 and the 2.41.5 oracle), alternating in one run per target, with the
# breakdown of nsx's time. Prints a markdown section.
set -euo pipefail
NSX=$(readlink -f "${1:?usage: bench/enter.sh path/to/nsx}")
. "$(dirname "$0")/lib.sh"
standard_path
[ -x "$UL241" ] || { echo "bench/enter.sh: $UL241 missing (bash scripts/oracle.sh install)" >&2; exit 1; }
pids=()
trap 'for p in "${pids[@]}"; do kill -KILL -- "-$p" 2>/dev/null || true; done' EXIT
# start FLAGS...: a sandbox from util-linux unshare in its own session; sets
# $target to the process inside (not in a subshell, so the trap sees it).
start() {
	setsid unshare "$@" --fork sleep 3600 </dev/null >/dev/null 2>&1 &
	local launcher=$!
	pids+=("$launcher")
	target=
	for _ in $(seq 100); do
		target=$(pgrep -P "$launcher" | head -1 || true)
		[ -n "$target" ] && return
		sleep 0.02
	done
	echo "bench/enter.sh: fixture did not start" >&2
	exit 1
}
# The common container: its own mount, UTS, IPC, net, PID and cgroup
# namespaces, the host's user and time namespaces (as Docker makes them).
start -pmnuiC --mount-proc
shared=$target
start -pmnuiCT --mount-proc
sharedtime=$target
start -U --map-root-user -pmnuiCT --mount-proc
own=$target

TRUE=$(type -P true)
echo "## nsx enter vs util-linux nsenter"
echo
echo "Machine: $(machine). util-linux $(ul_version "$UL238") (\`$UL238\`) and $(ul_version "$UL241") (\`$UL241\`)."
echo "Every command runs \`true\` ($TRUE, looked up along PATH=$BENCH_PATH). Ratios are nsx's time over util-linux's: below 1.00 nsx is faster."
echo
echo "### Target sharing nsx's user and time namespaces (the common container; -a joins 6 kinds)"
echo
alt -cmd "nsx=$NSX enter -t $shared -a true" \
	-cmd "ul238=$UL238 -t $shared -a true" \
	-cmd "ul241=$UL241 -t $shared -a true" \
	-cmd "nsx_version=$NSX version" \
	-cmd "ulV=$UL238 -V" \
	-cmd "nsx_explain=$NSX enter --explain -t $shared -a" \
	-cmd "true=$TRUE" \
	-cmd "floor=$FLOOR $shared true" \
	-cmd "floor_startup=$FLOOR" \
	-ratio "nsx enter -t PID -a ÷ nsenter 2.38, target sharing nsx's user and time ns=nsx/ul238<=1.00" \
	-ratio "the same, sharing, ÷ nsenter 2.41.5=nsx/ul241<=1.00" \
	-ratio "pure-Go floor (bench/floor, nothing checked) ÷ nsenter 2.38, sharing=floor/ul238<=1.00" \
	-ratio "start-up alone=nsx_version/ulV" \
	-ratio "a Go program's start-up alone (bench/floor, no arguments) ÷ nsenter -V=floor_startup/ulV" \
	-diff "nsx start-up (runtime, package init, exit)=nsx_version" \
	-diff "nsx resolution (parse, pin by pidfd, plan, namespace ids)=nsx_explain-nsx_version" \
	-diff "nsx join and spawn (setns, vfork)=nsx-nsx_explain-true" \
	-diff "exec and wait (the program alone)=true" \
	-diff "util-linux beyond its start-up and the program=ul238-ulV-true"
echo
echo "The parts are differences of the commands above: \`--explain\` does the"
echo "resolution and planning of an entry and prints instead of joining (it reads the namespace"
echo "ids too, which the entry does not, so resolution is slightly over- and join slightly"
echo "under-counted)."
echo
echo "\`floor\` is bench/floor: the least a Go program can do to run \`true\` in the target's"
echo "namespaces (a pidfd, one setns, two vforks, the PATH walk; no /proc read, no check, no"
echo "signal relaying). Its ratio is what any pure-Go \`nsenter\` reaches on this machine."
echo
echo "### Target with its own user and time namespaces (-a joins all 8)"
echo
alt -cmd "nsx=$NSX enter -t $own -a true" \
	-cmd "ul238=$UL238 -t $own -a true" \
	-cmd "ul241=$UL241 -t $own -a true" \
	-cmd "floor=$FLOOR -own $own true" \
	-ratio "nsx enter -t PID -a ÷ nsenter 2.38, target with its own user and time ns=nsx/ul238<=1.05" \
	-ratio "the same, own user and time ns, ÷ nsenter 2.41.5=nsx/ul241<=1.05" \
	-ratio "pure-Go floor (bench/floor -own: a fork, then a vfork) ÷ nsenter 2.38, own user and time ns=floor/ul238<=1.05"
echo
echo "### Target sharing nsx's user namespace, with a time namespace of its own (-a joins 7)"
echo
echo "A time namespace can only be joined by a single-threaded process, so nsx forks a raw"
echo "child here instead of using a vfork."
echo
alt -cmd "nsx=$NSX enter -t $sharedtime -a true" \
	-cmd "ul238=$UL238 -t $sharedtime -a true" \
	-cmd "ul241=$UL241 -t $sharedtime -a true" \
	-ratio "own time ns=nsx/ul238" \
	-ratio "own time ns, 2.41=nsx/ul241"
