//! Writes a sample server config, client config, peer set and nftables ruleset into OUTDIR, from
//! the gateway file GATEWAY (default `examples/vpn-gateway.yaml` of the workspace). Used by
//! `.ci/wg-validate.sh` to check the output with the real `wg` parser.
//!
//! `cargo run -p harmony-vpn --example render-sample -- OUTDIR [GATEWAY]`

use std::io::Write;
use std::path::{Path, PathBuf};

use harmony::Documents;
use harmony::private_file::create_private;
use harmony_vpn::keys::PrivateKey;
use harmony_vpn::{
    KnownMembers, PeerRequest, PresharedKeyChoice, VpnGateway, WireGuardGateway, load_gateway,
};

fn write(path: &Path, text: &str) -> Result<(), Box<dyn std::error::Error>> {
    create_private(path)?.write_all(text.as_bytes())?;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(args.next().ok_or("usage: render-sample OUTDIR [GATEWAY]")?);
    let gateway_path = args.next().map(PathBuf::from).unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/vpn-gateway.yaml")
    });
    let gateway = load_gateway(&Documents::read(&[&gateway_path])?)?;
    let vpn = WireGuardGateway::open(gateway, &out.join("state"))?;
    let known = KnownMembers::from_pairs([("acme", "alice"), ("acme", "bob"), ("acme", "carol")]);
    let request = |member: &str, psk| PeerRequest {
        tenant: "acme".into(),
        member: member.into(),
        public_key: None,
        preshared_key: psk,
        by: "ci".into(),
    };
    let alice = vpn.issue_peer(&known, request("alice", PresharedKeyChoice::Generate))?;
    let mut own = request("bob", PresharedKeyChoice::None);
    own.public_key = Some(PrivateKey::generate().public_key());
    vpn.issue_peer(&known, own)?;
    vpn.issue_peer(&known, request("carol", PresharedKeyChoice::None))?;
    vpn.revoke_peer("acme", "carol", "ci")?;
    write(&out.join("client.conf"), alice.client_config.expose())?;
    write(&out.join("server.conf"), vpn.server_config()?.expose())?;
    write(&out.join("peers.conf"), vpn.peer_set()?.expose())?;
    write(&out.join("vpn.nft"), &vpn.nftables()?)?;
    println!("{}", out.display());
    Ok(())
}
