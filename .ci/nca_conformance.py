"""Checks rendered tenants' NetworkPolicies with network-config-analyzer (NCA).

Usage: nca_conformance.py RENDERED_DIR FLAVOR TENANT_FILES_DIR NCA_BIN

Expectations come from the tenant files (not from our compiler): no tenant reaches another, each
tenant reaches cluster DNS on its ports only, platform ingress/monitoring reach a tenant when its
`allowFrom` says so, and internet egress is allowed or denied as `internetEgress` says.
Placeholder pods are added to every namespace, as NCA needs pods.
"""
import csv, ipaddress, pathlib, subprocess, sys

import yaml

rendered, flavor, tenant_dir, nca = pathlib.Path(sys.argv[1]), sys.argv[2], pathlib.Path(sys.argv[3]), sys.argv[4]
work = rendered.parent / f"nca-{flavor}"
(work / "policies").mkdir(parents=True, exist_ok=True)

# Platform namespaces and their pods, as the cluster profile selects them.
PLATFORM = {
    "vanilla": {"dns": ("kube-system", {"k8s-app": "kube-dns"}, {53}),
                "ingress": ("ingress-nginx", {"app": "router"}), "monitoring": ("monitoring", {"app": "prometheus"}),
                # pod, service, node (default: all private ranges) and link-local addresses
                "internal": ["10.244.1.1", "10.96.0.1", "10.1.2.3", "172.20.0.1", "192.168.1.1", "169.254.169.254"]},
    "okd": {"dns": ("openshift-dns", {"dns.operator.openshift.io/daemonset-dns": "default"}, {53, 5353}),
            "ingress": ("openshift-ingress", {"app": "router"}), "monitoring": ("openshift-monitoring", {"app": "prometheus"}),
            # pod, service and node networks of .ci/okd-nca-profile.yaml, link-local, and private
            # space outside that narrow profile (internet egress once reached it)
            "internal": ["10.128.0.5", "10.131.255.1", "172.30.0.1", "192.168.10.7", "169.254.169.254",
                         "10.20.0.1", "172.16.0.1", "192.168.99.1"]},
}[flavor]
# Non-public addresses no tenant may reach whatever the profile (crates/harmony-tenant/src/nonpublic.rs)
# unless its file grants them: CGNAT, loopback, "this network", benchmarking, multicast, broadcast,
# and IPv6 loopback, unique local (the cloud metadata fd00:ec2::254), link-local and multicast.
NON_PUBLIC = ["100.64.0.1", "127.0.0.1", "0.0.0.1", "198.18.0.1", "224.0.0.1", "255.255.255.255",
              "::1", "fd00:ec2::254", "fe80::1", "ff02::1"]

tenants = {}
for path in sorted(tenant_dir.glob("*.yaml")):
    for doc in yaml.safe_load_all(path.read_text()):
        if doc and doc.get("kind") == "Tenant":
            spec = doc.get("spec") or {}
            ni = spec.get("networkIsolation") or {}
            tenants[spec.get("namespace", doc["metadata"]["name"])] = {
                "internet": ni.get("internetEgress", "allow") == "allow",
                "from": set(ni.get("allowFrom", ["ingress", "monitoring"])),
                "granted": [ipaddress.ip_network(c) for c in ni.get("allowEgressTo", [])]
                           + [ipaddress.ip_network(p["cidr"]) for p in ni.get("allowPrivateEgressTo", [])],
            }

objects = []
for f in sorted(rendered.rglob("*.yaml")):
    if f.name != "kustomization.yaml":
        objects.extend(d for d in yaml.safe_load_all(f.read_text()) if d)
namespaces = [o for o in objects if o["kind"] == "Namespace"]
assert {n["metadata"]["name"] for n in namespaces} == set(tenants), "rendered namespaces differ from tenant files"
for name in [PLATFORM["dns"][0], PLATFORM["ingress"][0], PLATFORM["monitoring"][0], "other-platform"]:
    namespaces.append({"apiVersion": "v1", "kind": "Namespace",
                       "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}}})
pod_labels = {PLATFORM["dns"][0]: PLATFORM["dns"][1], PLATFORM["ingress"][0]: PLATFORM["ingress"][1],
              PLATFORM["monitoring"][0]: PLATFORM["monitoring"][1]}
pods = []
for ns in namespaces:
    name = ns["metadata"]["name"]
    for i, labels in enumerate([pod_labels.get(name, {"app": "web"}), {"app": "db"}]):
        pods.append({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p{i}", "namespace": name, "labels": labels},
                     "spec": {"containers": [{"name": "c", "image": "placeholder"}]}})
(work / "namespaces.yaml").write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": namespaces}))
(work / "pods.yaml").write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": pods}))
(work / "policies" / "policies.yaml").write_text(yaml.safe_dump(
    {"apiVersion": "v1", "kind": "List", "items": [o for o in objects if o["kind"] == "NetworkPolicy"]}))

(work / "conn.csv").unlink(missing_ok=True)  # nca appends to an existing output file
subprocess.run([nca, "--connectivity", str(work / "policies"), "-n", str(work / "namespaces.yaml"),
                "-p", str(work / "pods.yaml"), "-o", "csv", "-f", str(work / "conn.csv")],
               check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

def items(cell):
    return [x.strip() for x in cell.strip("[]").split(",") if x.strip()]

def ip_ranges(cell):
    """NCA writes address sets in the pods column, as CIDRs or `first-last` ranges."""
    ranges = []
    for part in cell.split(","):
        part = part.strip()
        if "-" in part:
            lo, hi = part.split("-")
            ranges.append((ipaddress.ip_address(lo), ipaddress.ip_address(hi)))
        elif part:
            net = ipaddress.ip_network(part, strict=False)
            ranges.append((net[0], net[-1]))
    return ranges

edges = []  # (src namespace or "ip", dst namespace or "ip", connection, address ranges)
with open(work / "conn.csv") as f:
    for row in list(csv.reader(f))[2:]:
        src = items(row[1]) or ["ip"]
        dst = items(row[3]) or ["ip"]
        ranges = ip_ranges(row[2]) if src == ["ip"] else ip_ranges(row[4]) if dst == ["ip"] else []
        for s_ in src:
            for d in dst:
                edges.append((s_, d, row[5], ranges))

failures = []
def reaches(src, dst):
    return [e for e in edges if e[0] == src and e[1] == dst]

for t, want in tenants.items():
    for other in tenants:
        if other != t and reaches(t, other):
            failures.append(f"{t} reaches tenant {other}: {reaches(t, other)}")
    dns_ns, _, dns_ports = PLATFORM["dns"]
    dns = reaches(t, dns_ns)
    ports = {int(p) for e in dns for p in e[2].split("dst_ports:")[-1].strip("}").split(",") if p.strip().isdigit()}
    if not dns or any("TCP, UDP" not in e[2] for e in dns) or ports != dns_ports:
        failures.append(f"{t} -> DNS {dns_ns}: expected TCP+UDP on {sorted(dns_ports)}, got {dns}")
    for name in [PLATFORM["ingress"][0], PLATFORM["monitoring"][0], "other-platform"]:
        if reaches(t, name):
            failures.append(f"{t} reaches platform namespace {name}: {reaches(t, name)}")
    for source in ["ingress", "monitoring"]:
        ns = PLATFORM[source][0]
        got = any(e[2] == "All connections" for e in reaches(ns, t))
        if got != (source in want["from"]):
            failures.append(f"{ns} -> {t}: expected {'allowed' if source in want['from'] else 'blocked'}, got {reaches(ns, t)}")
    if reaches("other-platform", t):
        failures.append(f"other-platform reaches {t}")
    if reaches("ip", t):
        failures.append(f"external addresses reach {t}: {reaches('ip', t)}")
    ranges = [r for e in reaches(t, "ip") for r in e[3]]
    def inside(addr):
        a = ipaddress.ip_address(addr)
        return any(lo.version == a.version and lo <= a <= hi for lo, hi in ranges)
    if inside("8.8.8.8") != want["internet"] or inside("2001:4860:4860::8888") != want["internet"]:
        failures.append(f"{t} -> internet: expected {'allowed' if want['internet'] else 'denied'}")
    for private in PLATFORM["internal"] + NON_PUBLIC:
        granted = any(ipaddress.ip_address(private) in net for net in want["granted"])
        if inside(private) and not granted:
            failures.append(f"{t} reaches non-public or cluster-internal address {private}")

print(f"NCA ({flavor}): {len(tenants)} tenants, {len(edges)} connectivity edges checked")
for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
