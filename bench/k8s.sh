#!/usr/bin/env bash
# bench/k8s.sh NSX — prints a markdown section timing `kubectl nsx POD -- true`
# on the test cluster (make k8s-up) beside `kubectl exec POD -- true`, each
# group in one hyperfine run:
#
#   first call     --keep=0: a new helper pod per call (created, run, deleted)
#   kept helper    the helper a previous call left on the node
#   agent          the agent DaemonSet's pod (kubectl nsx agent install)
#
# Targets: a repeated call (kept helper or agent) at most 1.2 times kubectl
# exec's time; a first call under 1 s. kubectl-nsx is taken from beside NSX
# (make build), its default image built from NSX and imported here. Without
# a cluster it prints a note and exits 0.
set -euo pipefail

NSX=$(readlink -f "${1:?usage: bench/k8s.sh PATH-TO-NSX}")
BIN=$(dirname "$NSX")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
KUBECTL=$ROOT/.k8s/bin/kubectl
export KUBECONFIG=$ROOT/.k8s/admin.kubeconfig
export PATH=$BIN:$PATH

echo "## kubectl nsx on a single-node cluster"
echo
if [ ! -x "$KUBECTL" ] || ! "$KUBECTL" get --raw /readyz >/dev/null 2>&1; then
	echo "No cluster: run \`make k8s-up\` first (skipped)."
	exit 0
fi
[ -x "$BIN/kubectl-nsx" ] || {
	echo "k8s.sh: $BIN/kubectl-nsx missing: run make build" >&2
	exit 1
}
IMAGE=$("$BIN/kubectl-nsx" --version | awk '{print "ghcr.io/nsxproject/nsx:" $2}')
bash "$ROOT/scripts/k8s.sh" image "$NSX" "$IMAGE" 2>/dev/null

NS=nsx-k8s-bench-$$
NODE=$("$KUBECTL" get nodes -o 'jsonpath={.items[0].metadata.name}')
TMP=$(mktemp -d)
cleanup() {
	"$KUBECTL" nsx agent remove >/dev/null 2>&1 || true
	"$KUBECTL" delete namespace "$NS" --wait=false >/dev/null 2>&1 || true
	rm -rf "$TMP"
}
trap cleanup EXIT

"$KUBECTL" create namespace "$NS" >/dev/null
"$KUBECTL" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: $NS}
spec:
  nodeName: $NODE
  automountServiceAccountToken: false
  terminationGracePeriodSeconds: 0
  containers:
  - {name: app, image: docker.io/library/nsx-busybox:latest, imagePullPolicy: Never, command: [sleep, "100000"]}
EOF
"$KUBECTL" wait -n "$NS" --for=condition=Ready pod/web --timeout=90s >/dev/null

EXEC="kubectl exec -n $NS web -- true"
FIRST="kubectl nsx -n $NS web --keep=0 -- true"
KEPT="kubectl nsx -n $NS web --keep=10m -- true"
AGENT="kubectl nsx -n $NS web -- true"
# Every command must work before it is timed.
for c in "$EXEC" "$FIRST" "$KEPT"; do $c; done

# run NAME RUNS CMD...: one hyperfine run, CSV rows in command order.
run() {
	local name=$1 runs=$2
	shift 2
	hyperfine -N --style none --warmup 2 --runs "$runs" --export-csv "$TMP/$name.csv" "$@" \
		>"$TMP/$name.txt" 2>&1 || {
		cat "$TMP/$name.txt" >&2
		exit 1
	}
}
# CSV: command,mean,stddev,median,… (seconds).
median() { awk -F, -v n="$2" 'NR == n + 1 { print $4 }' "$TMP/$1.csv"; }
stats() { awk -F, -v n="$2" 'NR == n + 1 { printf "%.0f ± %.0f ms", $2 * 1000, $3 * 1000 }' "$TMP/$1.csv"; }

run helpers 15 "$EXEC" "$KEPT" "$FIRST"
"$KUBECTL" nsx --cleanup -n "$NS" >/dev/null
"$KUBECTL" nsx agent install >/dev/null
for _ in $(seq 1 300); do
	"$KUBECTL" get pods -n kube-system -l app.kubernetes.io/component=agent \
		-o 'jsonpath={.items[*].status.phase}' | grep -q Running && break
	sleep 0.2
done
$AGENT
run agent 15 "$EXEC" "$AGENT"

base=$(median helpers 1)
abase=$(median agent 1)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
ms() { awk -v a="$1" 'BEGIN { printf "%.0f ms", a * 1000 }'; }
echo "Medians of 15 runs each; ratio = this ÷ \`kubectl exec\` in the same run (target: ≤ 1.2 for"
echo "a repeated call, a first call ≤ 1 s)."
echo
echo "| command | median | mean ± σ | ÷ kubectl exec |"
echo "|---|---:|---:|---:|"
echo "| \`$EXEC\` | $(ms "$base") | $(stats helpers 1) | 1.00 |"
echo "| kept helper: \`$KEPT\` | $(ms "$(median helpers 2)") | $(stats helpers 2) | $(ratio "$(median helpers 2)" "$base") |"
echo "| first call: \`$FIRST\` | $(ms "$(median helpers 3)") | $(stats helpers 3) | $(ratio "$(median helpers 3)" "$base") |"
echo "| \`$EXEC\` (agent run) | $(ms "$abase") | $(stats agent 1) | 1.00 |"
echo "| agent: \`$AGENT\` | $(ms "$(median agent 2)") | $(stats agent 2) | $(ratio "$(median agent 2)" "$abase") |"
