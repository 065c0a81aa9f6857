//! The gateway's own key: generated once by Harmony into `server.key` (0600) in the state dir, or
//! given as a public key in the gateway file (the private key then stays on the gateway host).

use std::path::Path;

use harmony::private_file::{FileError, publish_private};

use crate::VpnError;
use crate::gateway::Gateway;
use crate::keys::{PrivateKey, PublicKey};

/// The server key file in a state dir.
pub const SERVER_KEY_FILE: &str = "server.key";

/// The gateway's key as Harmony knows it.
#[derive(Debug, Clone)]
pub enum ServerKey {
    /// Harmony holds the private key (in `server.key`).
    Managed(PrivateKey),
    /// Only the public key is known (from the gateway file).
    External(PublicKey),
}

impl ServerKey {
    /// The server's public key.
    pub fn public_key(&self) -> PublicKey {
        match self {
            Self::Managed(key) => key.public_key(),
            Self::External(key) => *key,
        }
    }

    /// Reads `server.key` from `state_dir`, or, when the gateway file names no server key,
    /// generates it once. A file key that differs from `server.key` is refused.
    pub fn load_or_create(gateway: &Gateway, state_dir: &Path) -> Result<Self, VpnError> {
        let path = state_dir.join(SERVER_KEY_FILE);
        let stored = read_key(&path)?;
        match (gateway.server_public_key, stored) {
            (Some(in_file), Some(key)) if key.public_key() != in_file => {
                Err(VpnError::ServerKeyMismatch {
                    in_file,
                    generated: key.public_key(),
                    state_key: path,
                })
            }
            (_, Some(key)) => Ok(Self::Managed(key)),
            (Some(in_file), None) => Ok(Self::External(in_file)),
            (None, None) => create_key(&path, state_dir),
        }
    }
}

fn read_key(path: &Path) -> Result<Option<PrivateKey>, VpnError> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            PrivateKey::from_base64(&text)
                .map(Some)
                .map_err(|reason| VpnError::InvalidKey {
                    field: path.display().to_string(),
                    reason,
                })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(FileError::at(path)(e).into()),
    }
}

fn create_key(path: &Path, state_dir: &Path) -> Result<ServerKey, VpnError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(state_dir)
        .map_err(FileError::at(state_dir))?;
    let key = PrivateKey::generate();
    if publish_private(path, format!("{}\n", key.expose_base64()).as_bytes())? {
        return Ok(ServerKey::Managed(key));
    }
    // Another harmony created it a moment ago: use that one.
    read_key(path)?.map(ServerKey::Managed).ok_or_else(|| {
        FileError::at(path)(std::io::Error::other("server key vanished while reading")).into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::VpnGatewayConfig;

    const GATEWAY: &str = "apiVersion: harmony.nationtech.io/v1alpha1\nkind: VpnGateway\n\
        metadata: {name: prod}\nspec:\n  endpoint: 127.0.0.1:51820\n  addressPool: {ipv4: 10.99.0.0/24}\n  reachable: [{address: 192.0.2.10}]\n";

    #[test]
    fn concurrent_first_opens_all_read_the_one_key_written_whole() {
        let gateway = VpnGatewayConfig::parse("g.yaml", GATEWAY).unwrap();
        for _ in 0..50 {
            let dir = tempfile::tempdir().unwrap();
            let keys: Vec<PublicKey> = std::thread::scope(|s| {
                let opens: Vec<_> = (0..8)
                    .map(|_| s.spawn(|| ServerKey::load_or_create(&gateway, dir.path())))
                    .collect();
                opens
                    .into_iter()
                    .map(|o| o.join().unwrap().unwrap().public_key())
                    .collect()
            });
            assert!(keys.iter().all(|k| *k == keys[0]));
            let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
            assert_eq!(leftovers, 1, "only server.key remains");
        }
    }
}
