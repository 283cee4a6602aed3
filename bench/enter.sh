#!/usr/bin/env bash
# bench/enter.sh NSX: nsx enter against util-linux nsenter, paired in one
# hyperfine run, for a target sharing our user namespace and for one with
# its own user and time namespaces. Prints a markdown section.
set -euo pipefail
NSX=$(readlink -f "${1:?usage: bench/enter.sh path/to/nsx}")
. "$(dirname "$0")/lib.sh"
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
start -pmnuiCT --mount-proc
shared=$target
start -U --map-root-user -pmnuiCT --mount-proc
own=$target

export BENCH_MEDIANS; BENCH_MEDIANS=$(mktemp)
echo "## nsx enter vs util-linux nsenter"
echo
echo "Same machine, same run, hyperfine -N. util-linux $(nsenter -V | awk '{print $NF}'), $(uname -sr)."
compare "Target sharing our user namespace (-a joins 7 kinds)" -- \
	"$NSX enter -t $shared -a true" "nsenter -t $shared -a true"
compare "Target with its own user and time namespaces (-a joins all 8)" -- \
	"$NSX enter -t $own -a true" "nsenter -t $own -a true"
compare "Start-up alone: printing the version, no namespaces (the ratio is what Go's runtime start-up costs over C's)" -- \
	"$NSX version" "nsenter -V"
python3 - "$BENCH_MEDIANS" <<'PY'
import sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
(nsx7, ul7), (nsx8, ul8), (nsxv, ulv) = rows[:3]
print()
print("Beyond start-up, the work of entering and running `true` costs nsx "
      f"{nsx7 - nsxv:.2f} ms against util-linux's {ul7 - ulv:.2f} ms (shared user namespace) and "
      f"{nsx8 - nsxv:.2f} ms against {ul8 - ulv:.2f} ms (own user and time namespaces). The rest of "
      "the difference in the totals is start-up (table above): a static Go program's runtime "
      "start alone costs more than util-linux's whole start, which no pure-Go binary avoids.")
PY
rm -f "$BENCH_MEDIANS"
