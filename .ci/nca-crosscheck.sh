#!/usr/bin/env bash
# Cross-check harmony-audit's NetworkPolicy verdicts with network-config-analyzer on seeded
# scenarios: every pod pair must agree; every every-pod counterexample (instantiated as pods) must
# be a path nca finds, and sampled pods of tenants holding for every pod must have no path to or
# from another tenant. Usage: .ci/nca-crosscheck.sh [SCENARIOS] [NAMESPACES]
set -euo pipefail
cd "$(dirname "$0")/.."
scenarios=${1:-8}
namespaces=${2:-30}
work=.ci/work/nca
if [ ! -x .venv-nca/bin/nca ]; then
  python3 -m venv .venv-nca
  .venv-nca/bin/pip install -q network-config-analyzer
fi
cargo build -q -p harmony-audit --example nca_scenario
bin=${CARGO_TARGET_DIR:-target}/debug/examples/nca_scenario
rm -rf "$work" && mkdir -p "$work"
failed=0
for seed in $(seq 1 "$scenarios"); do
  dir=$work/s$seed
  "$bin" generate "$seed" "$namespaces" "$dir"
  .venv-nca/bin/nca --connectivity "$dir/policies" -n "$dir/namespaces.yaml" -p "$dir/pods.yaml" \
    -o txt_no_fw_rules -f "$dir/nca.txt" > "$dir/nca.log" 2>&1 || { echo "nca failed on $dir:"; cat "$dir/nca.log"; exit 2; }
  "$bin" compare "$dir" "$dir/nca.txt" || failed=1
done
exit $failed
