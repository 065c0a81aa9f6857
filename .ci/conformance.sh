#!/usr/bin/env bash
# Renders the shipped example tenants (vanilla Kubernetes and OKD) and checks them with independent
# tools: kubernetes-validate (schemas, strict), checkov (RBAC hygiene), kubectl kustomize, and
# network-config-analyzer (no tenant reaches another; DNS, ingress, monitoring and internet paths).
# Needs the venvs made by .ci/install.
set -euo pipefail
cd "$(dirname "$0")/.."
work=.ci/work/conformance
rm -rf "$work" && mkdir -p "$work"
cargo build --quiet -p harmony-cli
harmony=${CARGO_TARGET_DIR:-target}/debug/harmony

"$harmony" tenant render -f examples/tenants --out "$work/vanilla" >/dev/null
"$harmony" tenant render -f examples/tenants --cluster examples/clusters/okd.yaml --out "$work/okd" >/dev/null
"$harmony" tenant render -f examples/tenants --cluster .ci/okd-nca-profile.yaml --out "$work/okd-nca" >/dev/null

for flavor in vanilla okd; do
  mapfile -t files < <(find "$work/$flavor" -name '*.yaml' ! -name kustomization.yaml | sort)
  .venv-kv/bin/kubernetes-validate --strict --quiet -k 1.33.0 "${files[@]}"
  echo "kubernetes-validate ($flavor): ${#files[@]} objects valid against Kubernetes 1.33 (strict)"
  for tenant in "$work/$flavor"/*/; do
    kubectl kustomize "$tenant" >/dev/null
  done
  echo "kubectl kustomize ($flavor): every tenant folder builds"
  .venv-ck/bin/checkov -d "$work/$flavor" --framework kubernetes --skip-download --compact --quiet \
    > "$work/checkov-$flavor.txt" || { cat "$work/checkov-$flavor.txt"; exit 1; }
  echo "checkov ($flavor): $(grep -o 'Passed checks: [0-9]*, Failed checks: [0-9]*' "$work/checkov-$flavor.txt" || echo 'no failed checks')"
done

.venv-nca/bin/python .ci/nca_conformance.py "$work/vanilla" vanilla examples/tenants .venv-nca/bin/nca
.venv-nca/bin/python .ci/nca_conformance.py "$work/okd-nca" okd examples/tenants .venv-nca/bin/nca
echo "conformance: passed"
