# Shared by the bench scripts: run hyperfine on commands in one run and print
# a markdown table of medians with the first command's (nsx's) median over
# each one's: above 1.0 nsx is slower. With BENCH_MEDIANS set, each call
# appends its medians (ms, in command order) as a line to that file.
# usage: compare TITLE -- CMD1 CMD2 ...
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
