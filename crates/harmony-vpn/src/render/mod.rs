//! What the registry becomes: client and server `wg-quick` configs, a `wg syncconf` peer set and
//! an nftables ruleset. Output is deterministic (no timestamps), so diffs show only real change.

mod client;
mod nft;
mod server;

use std::fmt;

pub use client::client_config;
pub use nft::nftables;
pub use server::{peer_set, server_config};

/// Config text that may hold a secret key. `Debug` is redacted; write it with
/// [`harmony::private_file::create_private`] or [`harmony::private_file::replace_private`], never
/// to a log.
#[derive(Clone, PartialEq, Eq)]
pub struct ConfigText(String);

impl ConfigText {
    /// The text, for writing to a 0600 file (or to stdout when the operator asks).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ConfigText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ConfigText(<{} bytes, may hold keys>)", self.0.len())
    }
}

/// `a, b, c`.
fn joined<T: fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    items
        .into_iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
