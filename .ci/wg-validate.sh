#!/usr/bin/env bash
# Validates harmony-vpn output with the real tools, no kernel module needed (run as root):
# the server config, a client config and the `wg syncconf` peer set go through `wg setconf` /
# `wg syncconf` on a userspace interface (wireguard-go inside `unshare -n`), and the nftables
# ruleset through `nft -c`. Fails loudly on any error; cleans up its processes and files.
set -euo pipefail

cd "$(dirname "$0")/.."
need() { command -v "$1" >/dev/null || { echo "wg-validate: missing $1 (apt-get install -y --no-install-recommends wireguard-tools wireguard-go nftables)" >&2; exit 1; }; }
need wg; need wg-quick; need wireguard-go; need unshare; need nft

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The example gateway, with its endpoint as an IP literal: `wg setconf` resolves host names.
sed 's/^  endpoint: .*/  endpoint: 192.0.2.1:51820/' examples/vpn-gateway.yaml >"$work/gateway.yaml"
cargo run -q -p harmony-vpn --example render-sample -- "$work/out" "$work/gateway.yaml" >/dev/null

# Runs inside a fresh network namespace: every interface and process dies with it.
check_in_netns() {
    set -euo pipefail
    out=$1
    export WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1
    pids=()
    cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
    trap cleanup EXIT
    up() {
        wireguard-go -f "$1" >"$out/$1.log" 2>&1 &
        pids+=($!)
        for _ in $(seq 50); do wg show "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done
        echo "wg-validate: wireguard-go did not bring up $1:" >&2; cat "$out/$1.log" >&2; return 1
    }
    up wgsrv
    up wgcli
    wg-quick strip "$out/server.conf" | wg setconf wgsrv /dev/stdin
    wg-quick strip "$out/client.conf" | wg setconf wgcli /dev/stdin
    [ "$(wg show wgsrv peers | wc -l)" = 2 ] || { echo "wg-validate: server should have 2 peers" >&2; return 1; }
    [ "$(wg show wgcli peers | wc -l)" = 1 ] || { echo "wg-validate: client should have 1 peer" >&2; return 1; }
    # The client's AllowedIPs are the reachable VIPs only.
    allowed=$(wg show wgcli allowed-ips | cut -f2)
    case "$allowed" in *0.0.0.0/0*|*::/0*) echo "wg-validate: client routes everything: $allowed" >&2; return 1;; esac
    # syncconf with the peer set keeps the private key and the peers.
    key_before=$(wg show wgsrv public-key)
    wg syncconf wgsrv "$out/peers.conf"
    [ "$(wg show wgsrv public-key)" = "$key_before" ] || { echo "wg-validate: syncconf changed the server key" >&2; return 1; }
    [ "$(wg show wgsrv peers | wc -l)" = 2 ] || { echo "wg-validate: syncconf lost peers" >&2; return 1; }
    nft -c -f "$out/vpn.nft"
    echo "wg-validate: server, client, peer set and nftables rules accepted"
}
export -f check_in_netns
unshare -n bash -c 'check_in_netns "$1"' _ "$work/out"
