//! `harmony cluster identity render`: the Kubernetes AuthenticationConfiguration and the OKD
//! OAuth provider from an IdentityProvider file, and its refusals (bad file, missing or non-PEM
//! CA file, nowhere to render). The real API server loading the file is in
//! `identity_login_e2e.rs`.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::{harmony, ok};

const CA: &str = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";

/// An IdentityProvider file in `dir` with `caFile: ca.pem` (written with `ca`).
fn idp(dir: &Path, ca: &str) -> PathBuf {
    std::fs::write(dir.join("ca.pem"), ca).unwrap();
    let path = dir.join("idp.yaml");
    std::fs::write(
        &path,
        "apiVersion: harmony.nationtech.io/v1alpha1\nkind: IdentityProvider\nmetadata: {name: sso}\n\
         spec:\n  issuer: https://sso.example.com/realms/tenants\n  caFile: ca.pem\n",
    )
    .unwrap();
    path
}

#[test]
fn kubernetes_gets_one_authentication_configuration_file_0600() {
    let dir = tempfile::tempdir().unwrap();
    let idp = idp(dir.path(), CA);
    let out = dir.path().join("authn.yaml");
    let printed = ok(&harmony(&[
        "cluster",
        "identity",
        "render",
        "--idp",
        &idp.to_string_lossy(),
        "--out",
        &out.to_string_lossy(),
    ]));
    assert!(printed.contains("AuthenticationConfiguration"), "{printed}");
    assert_eq!(
        std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(!text.starts_with("---"), "one document: {text}");
    let config: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    assert_eq!(config["kind"], "AuthenticationConfiguration");
    let jwt = &config["jwt"][0];
    assert_eq!(
        jwt["issuer"]["url"],
        "https://sso.example.com/realms/tenants"
    );
    assert_eq!(jwt["issuer"]["audiences"], serde_json::json!(["kubectl"]));
    assert_eq!(jwt["issuer"]["certificateAuthority"], CA);
    assert_eq!(
        jwt["claimMappings"]["groups"],
        serde_json::json!({"claim": "groups", "prefix": "oidc:"})
    );
    // The same input gives the same bytes.
    let again = harmony(&[
        "cluster",
        "identity",
        "render",
        "--idp",
        &idp.to_string_lossy(),
        "-o",
        "yaml",
    ]);
    assert_eq!(ok(&again), text);
}

#[test]
fn okd_gets_the_ca_config_map_and_the_oauth_provider_with_a_secret_reference() {
    let dir = tempfile::tempdir().unwrap();
    let idp = idp(dir.path(), CA);
    let out = harmony(&[
        "cluster",
        "identity",
        "render",
        "--idp",
        &idp.to_string_lossy(),
        "--flavor",
        "okd",
        "--okd-client-secret",
        "sso-okd",
        "-o",
        "json",
    ]);
    let list: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items[0]["kind"], "ConfigMap");
    assert_eq!(items[0]["metadata"]["namespace"], "openshift-config");
    assert_eq!(items[0]["data"]["ca.crt"], CA);
    assert_eq!(items[1]["kind"], "OAuth");
    let open_id = &items[1]["spec"]["identityProviders"][0]["openID"];
    assert_eq!(
        open_id["clientSecret"],
        serde_json::json!({"name": "sso-okd"})
    );
    assert_eq!(open_id["ca"], serde_json::json!({"name": "sso-ca"}));
    let notes = String::from_utf8_lossy(&out.stderr);
    assert!(
        notes.contains("oc create secret generic sso-okd -n openshift-config"),
        "{notes}"
    );
}

#[test]
fn refuses_a_bad_file_a_missing_or_non_pem_ca_and_no_destination() {
    let dir = tempfile::tempdir().unwrap();
    let render = |idp: &Path, more: &[&str]| {
        let mut args = vec!["cluster", "identity", "render", "--idp"];
        let idp = idp.to_string_lossy().into_owned();
        args.push(&idp);
        args.extend_from_slice(more);
        let out = harmony(&args);
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let idp = idp(dir.path(), "not a certificate");
    let error = render(&idp, &["-o", "yaml"]);
    assert!(
        error.contains("spec.caFile") && error.contains("holds no PEM certificate"),
        "{error}"
    );
    std::fs::remove_file(dir.path().join("ca.pem")).unwrap();
    let error = render(&idp, &["-o", "yaml"]);
    assert!(
        error.contains("spec.caFile: cannot read") && error.contains("ca.pem"),
        "{error}"
    );
    let error = render(&idp, &[]);
    assert!(error.contains("say where to render"), "{error}");
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "apiVersion: harmony.nationtech.io/v1alpha1\nkind: IdentityProvider\nmetadata: {name: sso}\n\
         spec:\n  issuer: http://sso.example.com/realms/tenants\n",
    )
    .unwrap();
    let error = render(&bad, &["-o", "yaml"]);
    assert!(
        error.contains("bad.yaml:5:11: spec.issuer") && error.contains("not an https URL"),
        "{error}"
    );
    let out = dir.path().join("never.yaml");
    render(&bad, &["--out", &out.to_string_lossy()]);
    assert!(!out.exists(), "bad input writes nothing");
}
