//! The operator's cluster CA reaches member kubeconfigs unchanged.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use harmony_credentials::connect;
use harmony_kube::Access;

#[tokio::test]
async fn the_cluster_ca_of_the_operators_context_is_kept_as_pem() {
    let ca = rcgen::generate_simple_self_signed(vec!["api.example.com".into()]).unwrap();
    let pem = ca.cert.pem();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("admin.kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://api.example.com:6443\n    \
             certificate-authority-data: {}\ncontexts:\n- name: c\n  context: {{ cluster: c, user: u }}\n\
             current-context: c\nusers:\n- name: u\n  user: {{ token: not-used }}\n",
            STANDARD.encode(&pem)
        ),
    )
    .unwrap();
    let connection = connect(&Access {
        kubeconfig: Some(kubeconfig),
        context: None,
    })
    .await
    .unwrap();
    assert_eq!(connection.server, "https://api.example.com:6443");
    let kept = connection.certificate_authority.expect("the CA is kept");
    let der = |text: &str| -> Vec<u8> {
        let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
        STANDARD.decode(body).unwrap()
    };
    assert_eq!(der(&kept), der(&pem));
}
