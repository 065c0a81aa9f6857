#!/usr/bin/env bash
# Renders the cluster guardrails (examples/guardrails.yaml with the shipped example tenants) for
# OKD and vanilla Kubernetes and checks every object with kubernetes-validate (strict, 1.33).
# AdminNetworkPolicy and BaselineAdminNetworkPolicy are CRDs: kubernetes-validate has no schema
# for them and only warns; their shape is covered by the crate's tests.
# Needs the venv made by .ci/install.
set -euo pipefail
cd "$(dirname "$0")/.."
work=.ci/work/guardrails
rm -rf "$work" && mkdir -p "$work"
cargo build --quiet -p harmony-manifests --example render_guardrails
render=${CARGO_TARGET_DIR:-target}/debug/examples/render_guardrails
tenants=(examples/tenants/acme.yaml examples/tenants/globex.yaml)

for flavor in kubernetes okd; do
  "$render" examples/guardrails.yaml "$work/$flavor" "$flavor" "${tenants[@]}" >/dev/null
  mapfile -t files < <(find "$work/$flavor" -name '*.yaml' ! -name kustomization.yaml | sort)
  mapfile -t core < <(grep -L '^apiVersion: policy.networking.k8s.io/' "${files[@]}")
  .venv-kv/bin/kubernetes-validate --strict --quiet -k 1.33.0 "${core[@]}"
  echo "kubernetes-validate ($flavor): ${#core[@]} objects valid against Kubernetes 1.33 (strict); $(( ${#files[@]} - ${#core[@]} )) network-tier CRD objects not schema-checked"
  kubectl kustomize "$work/$flavor" >/dev/null
  echo "kubectl kustomize ($flavor): the guardrails folder builds"
done
echo "guardrails-validate: passed"
