//! The control plane's certificates and keys, made fresh for every start: one CA that signs the
//! API server's serving certificate, the client certificates and (through the controller
//! manager) the CSRs the tests submit, plus the service-account signing key.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};

use super::ControlPlaneError;

/// A certificate and its private key, both PEM.
#[derive(Clone)]
pub struct Identity {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// Its private key, PEM (PKCS#8).
    pub key_pem: String,
}

/// Every certificate and key one control plane needs.
pub(crate) struct Pki {
    pub ca: Identity,
    pub serving: Identity,
    pub admin: Identity,
    pub controller_manager: Identity,
    /// The service-account token signing key (private, PKCS#8) and its public half.
    pub service_account_key: String,
    pub service_account_pub: String,
}

impl Pki {
    /// A new CA and everything signed by it; `service_ip` is the `kubernetes` Service address.
    pub fn generate(service_ip: &str) -> Result<Self, ControlPlaneError> {
        let (ca_params, ca_key, ca) = new_ca("harmony-test-ca")?;
        let issuer = Issuer::new(ca_params, &ca_key);

        let serving_names = [
            "127.0.0.1",
            "localhost",
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
            "kubernetes.default.svc.cluster.local",
            service_ip,
        ];
        let serving = leaf(
            &issuer,
            CertificateParams::new(serving_names.map(String::from).to_vec())?,
            name("kube-apiserver", None),
            ExtendedKeyUsagePurpose::ServerAuth,
        )?;
        let client = |cn: &str, org: Option<&str>| {
            leaf(
                &issuer,
                CertificateParams::new(Vec::<String>::new())?,
                name(cn, org),
                ExtendedKeyUsagePurpose::ClientAuth,
            )
        };
        let sa = KeyPair::generate()?;
        Ok(Self {
            ca,
            serving,
            admin: client("harmony-test-admin", Some("system:masters"))?,
            controller_manager: client("system:kube-controller-manager", None)?,
            service_account_key: sa.serialize_pem(),
            service_account_pub: sa.public_key_pem(),
        })
    }
}

/// A new self-signed CA named `common_name`: its parameters and key (to sign with) and PEMs.
pub(crate) fn new_ca(
    common_name: &str,
) -> Result<(CertificateParams, KeyPair, Identity), ControlPlaneError> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name = name(common_name, None);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let cert = params.self_signed(&key)?;
    let pem = Identity {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    };
    Ok((params, key, pem))
}

/// A distinguished name of `common_name` (and `organization`).
pub(crate) fn name(common_name: &str, organization: Option<&str>) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, common_name);
    if let Some(org) = organization {
        name.push(DnType::OrganizationName, org);
    }
    name
}

/// A certificate for `subject` with `usage`, signed by `issuer`.
pub(crate) fn leaf(
    issuer: &Issuer<'_, &KeyPair>,
    mut params: CertificateParams,
    subject: DistinguishedName,
    usage: ExtendedKeyUsagePurpose,
) -> Result<Identity, ControlPlaneError> {
    let key = KeyPair::generate()?;
    params.distinguished_name = subject;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![usage];
    let cert = params.signed_by(&key, issuer)?;
    Ok(Identity {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}
