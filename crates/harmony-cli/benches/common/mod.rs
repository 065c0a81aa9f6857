//! What the audit benches share: the tenant files they generate and their settings.

/// `name` from the environment as a number, or `default`.
pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).map_or(default, |v| {
        v.parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number"))
    })
}

/// The name of tenant `i`.
pub fn tenant_name(i: usize) -> String {
    format!("t{i:04}")
}

/// A tenant file of examples/tenants/acme.yaml's shape, varied: every third tenant denies
/// internet egress, every fourth lets in only the ingress controller, every fifth has an extra
/// egress range, every fourth a viewer, every other one self-service role bindings.
fn tenant_file(i: usize) -> String {
    let egress = if i.is_multiple_of(3) { "deny" } else { "allow" };
    let allow_from = if i % 4 == 1 {
        "[ingress]"
    } else {
        "[ingress, monitoring]"
    };
    let extra_egress = if i.is_multiple_of(5) {
        "\n    allowEgressTo: [\"203.0.113.0/24\"]"
    } else {
        ""
    };
    let viewer = if i.is_multiple_of(4) {
        format!("\n      - {{ name: auditor, role: viewer, user: auditor@t{i}.example }}")
    } else {
        String::new()
    };
    let self_service = i.is_multiple_of(2);
    format!(
        "apiVersion: harmony.nationtech.io/v1alpha1
kind: Tenant
metadata:
  name: {name}
spec:
  displayName: Tenant {i}
  podSecurity: restricted
  resourceQuotas:
    requests: {{ cpu: \"4\", memory: 8Gi, ephemeralStorage: 10Gi }}
    limits:   {{ cpu: \"8\", memory: 16Gi, ephemeralStorage: 20Gi }}
    objects:  {{ pods: 50, services: 10, secrets: 50, configMaps: 50, persistentVolumeClaims: 10,
                replicationControllers: 0, resourceQuotas: 1, nodePorts: 0, loadBalancers: 0 }}
    containerDefaults:
      request: {{ cpu: 100m, memory: 128Mi }}
      limit:   {{ cpu: 500m, memory: 512Mi }}
      max:     {{ cpu: \"2\", memory: 4Gi }}
  networkIsolation:
    internetEgress: {egress}
    allowFrom: {allow_from}{extra_egress}
  storageAccess:
    storageClasses:
      - {{ name: standard, requests: 100Gi }}
  rbac:
    members:
      - {{ name: owner, role: admin, user: owner@t{i}.example }}
      - {{ name: devs, role: developer, group: t{i}-devs }}
      - {{ name: ci, role: developer, serviceAccount: true }}{viewer}
    selfService:
      roleBindings: {self_service}
",
        name = tenant_name(i)
    )
}

/// Writes `tenants` tenant files into `dir` (created) and returns it.
pub fn write_tenant_files(dir: &std::path::Path, tenants: usize) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).expect("tenant folder");
    for i in 0..tenants {
        std::fs::write(dir.join(format!("{}.yaml", tenant_name(i))), tenant_file(i))
            .expect("tenant file");
    }
    dir.to_path_buf()
}
