#!/usr/bin/env bash
# Renders the cluster side of monitoring (examples/monitoring.yaml) for vanilla Kubernetes and
# OKD and checks every object with kubernetes-validate (strict, 1.33) and kubectl kustomize.
# Prometheus and Alertmanager are CRDs: kubernetes-validate has no schema for them and only
# warns; crates/harmony-cli/tests/monitoring_e2e.rs stores them through the real CRD schemas.
# Needs the venv made by .ci/install.
set -euo pipefail
cd "$(dirname "$0")/.."
work=.ci/work/monitoring
rm -rf "$work" && mkdir -p "$work"
cargo build --quiet -p harmony-cli
harmony=${CARGO_TARGET_DIR:-target}/debug/harmony

for flavor in kubernetes okd; do
  "$harmony" cluster monitoring render --flavor "$flavor" --monitoring examples/monitoring.yaml --out "$work/$flavor" >/dev/null
  mapfile -t files < <(find "$work/$flavor" -name '*.yaml' ! -name kustomization.yaml | sort)
  mapfile -t core < <(grep -L '^apiVersion: monitoring.coreos.com/' "${files[@]}")
  .venv-kv/bin/kubernetes-validate --strict --quiet -k 1.33.0 "${core[@]}"
  echo "kubernetes-validate ($flavor): ${#core[@]} objects valid against Kubernetes 1.33 (strict); $(( ${#files[@]} - ${#core[@]} )) prometheus-operator objects left to the e2e test"
  kubectl kustomize "$work/$flavor" >/dev/null
  echo "kubectl kustomize ($flavor): the monitoring folder builds"
done
echo "monitoring-validate: passed"
