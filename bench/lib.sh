# Shared by the bench scripts. Every comparison runs through bench/alternate:
# the commands alternate round by round (the order rotating), and each ratio
# is the median of per-round ratios, so that the drifting load of a shared
# machine hits both sides alike. hyperfine, which runs all of one command's
# repetitions before the next command's, swung ±30% between runs here.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# build_tool VAR PACKAGE [BUILD FLAGS...]: builds ./PACKAGE into BENCH_BIN
# and sets VAR to it, unless the caller gave VAR. run.sh makes BENCH_BIN,
# builds the tools once for every script and removes it at the end; a
# script run alone gets a directory of its own.
build_tool() {
	local var=$1 pkg=$2
	shift 2
	[ -n "${!var:-}" ] && return
	: "${BENCH_BIN:=$(mktemp -d)}"
	printf -v "$var" '%s' "$BENCH_BIN/${pkg##*/}"
	(cd "$BENCH_DIR/.." && CGO_ENABLED=0 go build "$@" -o "${!var}" "./$pkg")
}

# ALT is bench/alternate, the timer.
build_alt() { build_tool ALT bench/alternate; }

# FLOOR is bench/floor, the least a Go program does to enter (see its doc).
build_floor() { build_tool FLOOR bench/floor -trimpath -ldflags '-s -w'; }

# alt ARGS...: bench/alternate with the round counts from the environment.
# With BENCH_TSV set, the results are also appended to that file (run.sh
# builds its summary from it).
alt() {
	build_alt
	"$ALT" -rounds "${BENCH_ROUNDS:-400}" -warmup "${BENCH_WARMUP:-20}" ${BENCH_TSV:+-tsv "$BENCH_TSV"} "$@"
}

# BENCH_PATH is the PATH the commands that start a program run with: each
# one looks \`true\` up along it (an execve per directory until one has it),
# so the operator's own PATH would add its length to every side. build_alt
# and build_floor run first, since they need go from the caller's PATH.
BENCH_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
standard_path() {
	build_alt
	build_floor
	export PATH=$BENCH_PATH
}

# machine: one line saying where this ran.
machine() {
	local cpu mem
	cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	mem=$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
	echo "$(nproc) × $cpu, $mem, $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg) at the start"
}

# UL238 and UL241: the system's util-linux nsenter and the 2.41.5 oracle.
UL238=${UL238:-/usr/bin/nsenter}
UL241=${UL241:-/opt/util-linux-2.41/bin/nsenter}
ul_version() { "$1" -V | awk '{ print $NF }'; }

# compare TITLE -- CMD1 CMD2 ...: the older hyperfine table (sequential
# runs, not alternating), kept for bench/audit.sh: a markdown table of
# medians with the first command's median over each one's. With
# BENCH_MEDIANS set, each call appends its medians (ms, in command order) as
# a line to that file.
compare() {
	local title=$1; shift; [ "$1" = -- ] && shift
	local json; json=$(mktemp)
	hyperfine -N --warmup 20 --runs "${BENCH_RUNS:-300}" --export-json "$json" "$@" >/dev/null 2>&1
	python3 - "$json" "$title" ${BENCH_MEDIANS:+"$BENCH_MEDIANS"} <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))["results"]
base = data[0]["median"]
print(f"\n**{sys.argv[2]}**\n")
print("| command | median | mean ± σ | nsx ÷ this (medians) |")
print("|---|---:|---:|---:|")
for r in data:
    print(f"| `{r['command']}` | {r['median']*1e3:.2f} ms | {r['mean']*1e3:.2f} ± {r['stddev']*1e3:.2f} ms | {base/r['median']:.2f} |")
if len(sys.argv) > 3:
    with open(sys.argv[3], "a") as f:
        f.write(" ".join(f"{r['median']*1e3:.3f}" for r in data) + "\n")
PY
	rm -f "$json"
}
