//! The `harmony tenant` commands as a user runs them: exit codes, messages, files written.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

fn harmony() -> Command {
    Command::cargo_bin("harmony").unwrap()
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

const HEADER: &str = "apiVersion: harmony.nationtech.io/v1alpha1\nkind: Tenant\n";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path
}

/// Runs `validate` on `text` and returns stderr, asserting the refusal.
fn refused(text: &str) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "t.yaml", text);
    let output = harmony()
        .args(["tenant", "validate", "-f"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    String::from_utf8(output.stderr)
        .unwrap()
        .replace(&*file.to_string_lossy(), "t.yaml")
}

#[test]
fn init_prints_a_tenant_file_that_validates() {
    let out = harmony()
        .args(["tenant", "init", "acme", "--flavor", "okd"])
        .output()
        .unwrap();
    assert!(out.status.success());
    harmony()
        .args(["tenant", "validate", "--flavor", "okd", "-f", "-"])
        .write_stdin(out.stdout)
        .assert()
        .success()
        .stdout("1 tenant valid\n");
}

#[test]
fn init_refuses_a_bad_name() {
    harmony()
        .args(["tenant", "init", "ACME"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("`ACME` is not a valid tenant id"));
}

#[test]
fn the_shipped_examples_validate_for_both_flavors() {
    harmony()
        .args(["tenant", "validate", "-f"])
        .arg(examples().join("tenants"))
        .assert()
        .success()
        .stdout("3 tenants valid\n");
    harmony()
        .args(["tenant", "validate", "-f"])
        .arg(examples().join("tenants"))
        .arg("--cluster")
        .arg(examples().join("clusters/okd.yaml"))
        .assert()
        .success();
}

#[test]
fn malformed_yaml_is_located() {
    let err = refused(&format!("{HEADER}metadata: {{ name: acme\n"));
    assert!(err.contains("t.yaml:4:"), "{err}");
    assert!(err.contains("not valid YAML"), "{err}");
}

#[test]
fn wrong_kind_and_api_version_are_refused() {
    let err = refused("apiVersion: v1\nkind: Namespace\nmetadata: { name: acme }\n");
    assert!(
        err.contains(
            "t.yaml:1:13: apiVersion: `v1` is not supported: use `harmony.nationtech.io/v1alpha1`"
        ),
        "{err}"
    );
    assert!(
        err.contains("t.yaml:2:7: kind: `Namespace` is not a Tenant file"),
        "{err}"
    );
}

#[test]
fn every_problem_of_a_file_is_reported_at_once_with_line_and_column() {
    let err = refused(&format!(
        "{HEADER}metadata:\n  name: Acme\nspec:\n  namespace: openshift-x\n  colour: red\n  resourceQuotas:\n    requests: {{ cpu: lots, memory: 32Gi }}\n    objects: {{ pods: -1 }}\n  networkIsolation:\n    allowEgressTo: [\"10.0.0.0\"]\n  rbac:\n    members:\n      - {{ name: a, role: owner, user: x }}\n      - {{ name: b, role: viewer }}\n      - {{ name: c, role: viewer, user: u, serviceAccount: true }}\n      - {{ name: c, role: viewer, group: g }}\n"
    ));
    for expected in [
        "t.yaml:4:9: metadata.name: `Acme` is not a valid tenant id",
        "t.yaml:6:14: spec.namespace: namespace `openshift-x` is reserved",
        "t.yaml:7:3: spec.colour: unknown field `colour`",
        "t.yaml:9:22: spec.resourceQuotas.requests.cpu: `lots` is not a quantity",
        "t.yaml:9:36: spec.resourceQuotas.requests.memory: 32Gi is above spec.resourceQuotas.limits.memory (8Gi)",
        "t.yaml:10:22: spec.resourceQuotas.objects.pods: `-1` is negative",
        "t.yaml:12:21: spec.networkIsolation.allowEgressTo[0]: `10.0.0.0` is not a CIDR",
        "t.yaml:15:26: spec.rbac.members[0].role: unknown variant `owner`, expected one of `admin`, `developer`, `viewer`",
        "t.yaml:16:9: spec.rbac.members[1]: has no identity",
        "t.yaml:17:9: spec.rbac.members[2]: has 2 identities (user, serviceAccount)",
        "t.yaml:18:17: spec.rbac.members[3].name: member `c` is listed twice",
        "11 problems found; nothing was written",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in\n{err}");
    }
}

#[test]
fn duplicate_tenants_across_files_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "a.yaml",
        &format!("{HEADER}metadata: {{ name: acme }}\n"),
    );
    write(
        tmp.path(),
        "b.yaml",
        &format!(
            "{HEADER}metadata: {{ name: acme }}\n---\n{HEADER}metadata: {{ name: other }}\nspec: {{ namespace: acme }}\n"
        ),
    );
    harmony()
        .args(["tenant", "validate", "-f"])
        .arg(tmp.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "b.yaml:3:19: metadata.name: tenant `acme` is defined twice",
        ))
        .stderr(predicate::str::contains(
            "b.yaml:8:20: spec.namespace: namespace `acme` is already used by tenant `acme`",
        ));
}

#[test]
fn a_repeated_key_is_named_with_its_location() {
    let err = refused(&format!(
        "{HEADER}metadata:\n  name: acme\nspec:\n  podSecurity: baseline\n  podSecurity: restricted\n"
    ));
    assert_eq!(
        err,
        "error: t.yaml:7:3: key `podSecurity` appears twice in the same mapping: keep one (YAML \
         takes no repeated keys)\n1 problem found; nothing was written\n"
    );
}

#[test]
fn a_top_level_list_is_refused() {
    let err = refused(
        "- apiVersion: harmony.nationtech.io/v1alpha1\n  kind: Tenant\n  metadata: { name: acme }\n",
    );
    assert!(
        err.contains(
            "t.yaml:1:1: expected one Tenant mapping, found a list: write the fields (apiVersion, \
             kind, metadata, spec) at the top level, and put several Tenants in documents \
             separated by `---`"
        ),
        "{err}"
    );
    assert!(
        err.contains("1 problem found; nothing was written"),
        "{err}"
    );
}

#[test]
fn reserved_identities_are_refused_with_the_fix() {
    let err = refused(&format!(
        "{HEADER}metadata: {{ name: acme }}\nspec:\n  rbac:\n    members:\n      - {{ name: a, role: admin, user: \"system:admin\" }}\n      - {{ name: b, role: viewer, group: \"system:authenticated\" }}\n      - {{ name: c, role: admin, user: \"system:serviceaccount:globex:ci\" }}\n      - {{ name: d, role: admin, group: \"system:masters\" }}\n      - {{ name: e, role: viewer, user: \"system:anonymous\" }}\n"
    ));
    for expected in [
        "t.yaml:7:39: spec.rbac.members[0].user: `system:admin` is reserved: `system:` names \
         belong to Kubernetes and its components: use the person's user name as your identity \
         provider authenticates it (e.g. `alice@acme.com`), or `serviceAccount: true` for a workload",
        "t.yaml:8:41: spec.rbac.members[1].group: `system:authenticated` is every authenticated \
         user of the cluster, other tenants included: name a group of your identity provider",
        "t.yaml:9:39: spec.rbac.members[2].user: `system:serviceaccount:globex:ci` is \
         ServiceAccount `ci` of namespace `globex`: a member may not be a ServiceAccount of \
         another namespace; use `serviceAccount: true`",
        "t.yaml:10:40: spec.rbac.members[3].group: `system:masters` is the cluster-admin group",
        "t.yaml:11:40: spec.rbac.members[4].user: `system:anonymous` is the identity of \
         unauthenticated requests",
        "5 problems found; nothing was written",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in\n{err}");
    }
}

#[test]
fn a_member_of_two_tenants_must_be_shared_on_purpose() {
    let tmp = tempfile::tempdir().unwrap();
    let tenant = |name: &str, shared: &str| {
        write(
            tmp.path(),
            &format!("{name}.yaml"),
            &format!(
                "{HEADER}metadata: {{ name: {name} }}\nspec:\n  rbac:\n    members:\n      - {{ name: ops, role: viewer, user: ops@example.com{shared} }}\n"
            ),
        )
    };
    tenant("acme", "");
    tenant("globex", "");
    let out = tmp.path().join("out");
    harmony()
        .args(["tenant", "render", "-f"])
        .arg(tmp.path())
        .arg("--out")
        .arg(&out)
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains(
            "globex.yaml:7:42: spec.rbac.members[0].user: user `ops@example.com` is already a \
             member of tenant `acme` (spec.rbac.members[0].user): a user belongs to one tenant; \
             if sharing it is intended, set `shared: true` on both members, else remove one (see ",
        ))
        .stderr(predicate::str::contains("acme.yaml:7:42)"));
    assert!(!out.exists());

    tenant("acme", ", shared: true");
    harmony()
        .args(["tenant", "validate", "-f"])
        .arg(tmp.path())
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "set `shared: true` on this member too",
        ));
    tenant("globex", ", shared: true");
    harmony()
        .args(["tenant", "validate", "-f"])
        .arg(tmp.path())
        .assert()
        .success()
        .stdout("2 tenants valid\n");
}

#[test]
fn a_count_the_compiler_would_override_is_refused() {
    let err = refused(&format!(
        "{HEADER}metadata: {{ name: acme }}\nspec:\n  resourceQuotas:\n    objects: {{ persistentVolumeClaims: 4 }}\n"
    ));
    assert!(
        err.contains(
            "t.yaml:6:40: spec.resourceQuotas.objects.persistentVolumeClaims: `4` PVCs, but no \
             storage class is allowed, so the quota holds 0: allow a class in \
             spec.storageAccess.storageClasses (e.g. `- { name: standard, requests: 10Gi }`) or \
             remove the count"
        ),
        "{err}"
    );
}

#[test]
fn invalid_input_writes_nothing_not_even_the_output_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let good = write(
        tmp.path(),
        "good.yaml",
        &format!("{HEADER}metadata: {{ name: acme }}\n"),
    );
    let bad = write(
        tmp.path(),
        "bad.yaml",
        &format!("{HEADER}metadata: {{ name: Bad }}\n"),
    );
    let out = tmp.path().join("out");
    harmony()
        .args(["tenant", "render", "-f"])
        .args([&good, &bad])
        .arg("--out")
        .arg(&out)
        .assert()
        .code(1)
        .stdout("");
    assert!(!out.exists());
}

#[test]
fn render_to_a_folder_is_byte_identical_and_idempotent() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    for out in [&a, &b] {
        harmony()
            .args(["tenant", "render", "-f"])
            .arg(examples().join("tenants"))
            .arg("--out")
            .arg(out)
            .assert()
            .success();
    }
    let files = |dir: &Path| {
        let mut all = Vec::new();
        for tenant in fs::read_dir(dir).unwrap() {
            for file in fs::read_dir(tenant.unwrap().path()).unwrap() {
                let path = file.unwrap().path();
                all.push((
                    path.strip_prefix(dir).unwrap().to_path_buf(),
                    fs::read(&path).unwrap(),
                ));
            }
        }
        all.sort();
        all
    };
    assert_eq!(files(&a), files(&b));
    assert!(!files(&a).is_empty());
    harmony()
        .args(["tenant", "render", "-f"])
        .arg(examples().join("tenants"))
        .arg("--out")
        .arg(&a)
        .assert()
        .success()
        .stdout(predicate::str::contains("0 changed, 3 unchanged, 0 failed"));
}

#[test]
fn render_streams_yaml_from_stdin_and_json() {
    let tenant = format!("{HEADER}metadata: {{ name: acme }}\n");
    harmony()
        .args(["tenant", "render", "-f", "-", "-o", "yaml"])
        .write_stdin(tenant.clone())
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "---\napiVersion: v1\nkind: Namespace\n",
        ));
    let out = harmony()
        .args(["tenant", "render", "-f", "-", "-o", "json"])
        .write_stdin(tenant)
        .output()
        .unwrap();
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let kinds: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    // In apply order: no member, so no RoleBinding; the quotas phase comes last.
    assert_eq!(kinds.first(), Some(&"Namespace"));
    assert_eq!(kinds.last(), Some(&"ResourceQuota"));
}

#[test]
fn render_needs_a_destination_and_readable_inputs() {
    harmony()
        .args(["tenant", "render", "-f", "-"])
        .write_stdin(format!("{HEADER}metadata: {{ name: acme }}\n"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--out DIR"));
    harmony()
        .args(["tenant", "validate", "-f", "/nonexistent/t.yaml"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "/nonexistent/t.yaml: cannot read: No such file or directory",
        ));
    harmony()
        .args(["tenant", "render", "-f", "x", "--out", "d", "-o", "yaml"])
        .assert()
        .code(2);
}

#[test]
fn unsafe_cluster_profiles_are_refused_with_their_location() {
    let tmp = tempfile::tempdir().unwrap();
    let profile = write(
        tmp.path(),
        "p.yaml",
        "apiVersion: harmony.nationtech.io/v1alpha1\nkind: ClusterProfile\nmetadata: { name: p }\nspec:\n  ingress:\n    namespaceSelector: {}\n  dns: { namespaceSelector: { a: b }, ports: [] }\n",
    );
    harmony()
        .args(["tenant", "render", "-o", "yaml", "-f"])
        .arg(examples().join("tenants"))
        .arg("--cluster")
        .arg(&profile)
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains("p.yaml:6:24: spec.ingress.namespaceSelector: is empty, which would select every namespace"))
        .stderr(predicate::str::contains("p.yaml:7:46: spec.dns.ports: must list the DNS ports"));
}

/// The README's tenant with three namespaces: each shares the total on Kubernetes.
const THREE_NAMESPACES: &str = "metadata: { name: initech }
spec:
  resourceQuotas:
    requests: { cpu: \"4\", memory: 8Gi, ephemeralStorage: 12Gi }
    limits: { cpu: \"8\", memory: 16Gi, ephemeralStorage: 24Gi }
    objects: { pods: 60 }
  namespaces:
    - name: initech-dev
      podSecurity: baseline
      internetEgress: deny
      resourceQuotas:
        requests: { cpu: \"1\", memory: 2Gi, ephemeralStorage: 4Gi }
        limits: { cpu: \"2\", memory: 4Gi, ephemeralStorage: 8Gi }
        objects: { pods: 20 }
    - name: initech-staging
      resourceQuotas:
        requests: { cpu: \"1\", memory: 2Gi, ephemeralStorage: 4Gi }
        limits: { cpu: \"2\", memory: 4Gi, ephemeralStorage: 8Gi }
        objects: { pods: 20 }
    - name: initech-prod
      resourceQuotas:
        requests: { cpu: \"2\", memory: 4Gi, ephemeralStorage: 4Gi }
        limits: { cpu: \"4\", memory: 8Gi, ephemeralStorage: 8Gi }
        objects: { pods: 20 }
";

#[test]
fn several_namespaces_render_on_both_flavors_with_a_cluster_quota_on_okd() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(tmp.path(), "t.yaml", &format!("{HEADER}{THREE_NAMESPACES}"));
    for (flavor, quotas) in [("kubernetes", 0), ("okd", 1)] {
        let output = harmony()
            .args(["tenant", "render", "-o", "yaml", "--flavor", flavor, "-f"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        let yaml = String::from_utf8(output.stdout).unwrap();
        assert_eq!(yaml.matches("kind: Namespace\n").count(), 3, "{flavor}");
        assert_eq!(
            yaml.matches("name: allow-same-tenant\n").count(),
            3,
            "{flavor}"
        );
        assert_eq!(
            yaml.matches("kind: ClusterResourceQuota\n").count(),
            quotas,
            "{flavor}"
        );
    }
}

#[test]
fn max_namespaces_below_the_listed_ones_is_located_with_its_fix() {
    let below = refused(&format!(
        "{HEADER}metadata: {{ name: initech }}\nspec:\n  maxNamespaces: 1\n  namespaces:\n    - name: initech-dev\n    - name: initech-prod\n"
    ));
    assert!(
        below.contains(
            "t.yaml:5:18: spec.maxNamespaces: is 1, below the tenant's 2 listed namespaces: set \
             it to at least 2, or leave it out to allow the listed namespaces only"
        ),
        "{below}"
    );
}

#[test]
fn several_namespaces_refusals_are_located_with_their_fix() {
    let both = refused(&format!(
        "{HEADER}metadata: {{ name: initech }}\nspec:\n  namespace: initech\n  namespaces:\n    - name: initech-dev\n"
    ));
    assert!(
        both.contains(
            "t.yaml:7:5: spec.namespaces: is set together with spec.namespace (`initech`): set one \
             of them; to give the tenant several namespaces, list `initech` under spec.namespaces \
             and remove spec.namespace"
        ),
        "{both}"
    );
    let over = refused(&format!(
        "{HEADER}metadata: {{ name: initech }}\nspec:\n  namespaces:\n    - name: initech-dev\n    - name: initech-prod\n"
    ));
    assert!(
        over.contains(
            "t.yaml:6:5: spec.namespaces: the namespaces' requests.cpu add up to 4 (initech-dev 2 \
             + initech-prod 2), above the tenant total spec.resourceQuotas.requests.cpu (2)"
        ),
        "{over}"
    );
    let shared = refused(&format!(
        "{HEADER}{THREE_NAMESPACES}---\n{HEADER}metadata: {{ name: globex }}\nspec: {{ namespace: initech-prod }}\n"
    ));
    assert!(
        shared.contains(
            "spec.namespace: namespace `initech-prod` is already used by tenant `initech`: each \
             namespace belongs to one tenant; choose another name"
        ),
        "{shared}"
    );
}
