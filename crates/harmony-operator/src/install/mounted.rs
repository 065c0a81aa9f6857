//! The files `operator install` mounts into the operator's pods: each validated, rendered as a
//! ConfigMap in [`NAMESPACE`] mounted read-only, and named to `operator run` by its flag.

use std::marker::PhantomData;
use std::path::Path;

use harmony::{Documents, Problem, Problems};
use serde_json::json;

use super::{InstallObject, NAMESPACE, labels, object};

/// A kind of file the operator's pods mount: how it is checked and where it goes.
pub trait MountedKind {
    /// The flag of `operator install` and `operator run` that names the file.
    const FLAG: &'static str;
    /// What to give instead of a file that cannot be read.
    const WHAT: &'static str;
    /// The ConfigMap holding the file.
    const CONFIG_MAP: &'static str;
    /// The pods' volume of the ConfigMap.
    const VOLUME: &'static str;
    /// Where the pods mount the volume.
    const DIR: &'static str;
    /// The file's key in the ConfigMap, and its name in [`MountedKind::DIR`].
    const KEY: &'static str;

    /// Whether `documents` hold one valid file of this kind.
    fn check(documents: &Documents) -> Result<(), Problems>;
}

/// The VPN gateway whose peers the operator revokes (of deleted tenants and removed members).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VpnGatewayMount {}

impl MountedKind for VpnGatewayMount {
    const FLAG: &'static str = "--vpn-gateway";
    const WHAT: &'static str = "the VpnGateway file (such as examples/vpn-gateway.yaml)";
    const CONFIG_MAP: &'static str = "harmony-vpn-gateway";
    const VOLUME: &'static str = "vpn-gateway";
    const DIR: &'static str = "/etc/harmony/vpn";
    const KEY: &'static str = "vpn-gateway.yaml";

    fn check(documents: &Documents) -> Result<(), Problems> {
        harmony_tenant::vpn::load_gateway(documents).map(drop)
    }
}

/// The identity provider of the Tenants' `oidc` members: the operator names them as the API
/// server does. The file holds no secret, and the operator never contacts the provider, so its
/// `caFile` is not needed in the pods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityProviderMount {}

impl MountedKind for IdentityProviderMount {
    const FLAG: &'static str = "--idp";
    const WHAT: &'static str = "the IdentityProvider file (such as examples/identity/idp.yaml)";
    const CONFIG_MAP: &'static str = "harmony-identity-provider";
    const VOLUME: &'static str = "identity-provider";
    const DIR: &'static str = "/etc/harmony/idp";
    const KEY: &'static str = "idp.yaml";

    fn check(documents: &Documents) -> Result<(), Problems> {
        harmony_identity::load_identity_provider(documents).map(drop)
    }
}

/// A file of kind `K`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountedFile<K> {
    text: String,
    kind: PhantomData<K>,
}

/// A VpnGateway file, validated.
pub type VpnGatewayFile = MountedFile<VpnGatewayMount>;
/// An IdentityProvider file, validated.
pub type IdentityProviderFile = MountedFile<IdentityProviderMount>;

impl<K: MountedKind> MountedFile<K> {
    /// `text` (named `source` in problems) when it holds one valid file of kind `K`.
    pub fn parse(source: &str, text: &str) -> Result<Self, Problems> {
        K::check(&Documents::parse(source, text)?)?;
        Ok(Self {
            text: text.into(),
            kind: PhantomData,
        })
    }

    /// The file at `path` when it holds one valid file of kind `K`; an unreadable path is named
    /// with the flag.
    pub fn read(path: &Path) -> Result<Self, Problems> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Problem::in_source(
                format!("{} {}", K::FLAG, path.display()),
                format!("cannot read it ({e}); give {}", K::WHAT),
            )
        })?;
        Self::parse(&path.display().to_string(), &text)
    }

    /// Where the file goes.
    fn mounted(&self) -> Mounted<'_> {
        Mounted {
            config_map: K::CONFIG_MAP,
            volume: K::VOLUME,
            flag: K::FLAG,
            dir: K::DIR,
            key: K::KEY,
            text: &self.text,
        }
    }

    #[cfg(test)]
    pub(super) fn text(&self) -> &str {
        &self.text
    }
}

/// The files `operator install` mounts into the operator's pods, each from a ConfigMap.
#[derive(Debug, Clone, Default)]
pub struct InstallFiles {
    /// The VPN gateway whose peers the operator revokes.
    pub vpn_gateway: Option<VpnGatewayFile>,
    /// The identity provider of the Tenants' `oidc` members.
    pub identity_provider: Option<IdentityProviderFile>,
}

impl InstallFiles {
    /// The mounted files, in a fixed order.
    pub(super) fn mounted(&self) -> Vec<Mounted<'_>> {
        let vpn = self.vpn_gateway.as_ref().map(MountedFile::mounted);
        let idp = self.identity_provider.as_ref().map(MountedFile::mounted);
        vpn.into_iter().chain(idp).collect()
    }
}

/// One file in the pods: its ConfigMap, volume, flag, folder, key and text.
pub(super) struct Mounted<'a> {
    pub(super) config_map: &'static str,
    pub(super) volume: &'static str,
    pub(super) flag: &'static str,
    pub(super) dir: &'static str,
    key: &'static str,
    text: &'a str,
}

impl Mounted<'_> {
    /// Its path in the pods.
    pub(super) fn path(&self) -> String {
        format!("{}/{}", self.dir, self.key)
    }

    /// Its ConfigMap.
    pub(super) fn config_map(&self) -> InstallObject {
        object(
            25,
            json!({
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": self.config_map, "namespace": NAMESPACE, "labels": labels()},
                "data": {self.key: self.text},
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(path: &str) -> String {
        let path = format!("{}/../../examples/{path}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(path).unwrap()
    }

    /// Why `text` is not a valid `K`, as shown.
    fn refused<K: MountedKind>(source: &str, text: &str) -> String {
        let refusal = MountedFile::<K>::parse(source, text).err();
        refusal.expect("refused").to_string()
    }

    #[test]
    fn an_invalid_file_is_refused_naming_the_field_and_a_wrong_kind_naming_the_kind() {
        let idp = example("identity/idp.yaml").replace(
            "https://sso.example.com/realms/tenants",
            "http://sso.example.com/realms/tenants",
        );
        let gateway = example("vpn-gateway.yaml").replace(
            "endpoint: vpn.example.com:51820",
            "endpoint: vpn.example.com",
        );
        let refusals = [
            (
                refused::<IdentityProviderMount>("idp.yaml", &idp),
                "idp.yaml:",
                "spec.issuer",
            ),
            (
                refused::<VpnGatewayMount>("gw.yaml", &gateway),
                "gw.yaml:",
                "spec.endpoint: `vpn.example.com`",
            ),
            (
                refused::<IdentityProviderMount>("idp.yaml", "kind: Tenant\n"),
                "idp.yaml:",
                "not an IdentityProvider file",
            ),
            (
                refused::<VpnGatewayMount>("gw.yaml", "kind: Tenant\n"),
                "gw.yaml:",
                "not a VpnGateway file",
            ),
        ];
        for (refusal, source, field) in refusals {
            assert!(refusal.starts_with(source), "{refusal}");
            assert!(refusal.contains(field), "{field}: {refusal}");
        }
    }

    #[test]
    fn a_file_is_read_and_checked_and_one_that_cannot_be_read_is_named_by_its_flag() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.yaml");
        let refused = VpnGatewayFile::read(&missing).unwrap_err().to_string();
        assert!(
            refused.starts_with(&format!(
                "--vpn-gateway {}: cannot read it (",
                missing.display()
            )),
            "{refused}"
        );
        assert!(refused.contains("give the VpnGateway file"), "{refused}");
        let refused = IdentityProviderFile::read(&missing)
            .unwrap_err()
            .to_string();
        assert!(refused.starts_with("--idp "), "{refused}");

        let file = dir.path().join("gw.yaml");
        std::fs::write(&file, example("vpn-gateway.yaml")).unwrap();
        assert_eq!(
            VpnGatewayFile::read(&file).unwrap().text(),
            example("vpn-gateway.yaml")
        );
        let refused = IdentityProviderFile::read(&file).unwrap_err().to_string();
        assert!(refused.contains("IdentityProvider"), "{refused}");
    }
}
