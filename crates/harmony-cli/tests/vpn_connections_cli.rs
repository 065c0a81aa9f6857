//! `harmony vpn connections` and `harmony vpn watch` on dumps given as files: keys mapped to
//! tenants and members, alarms, a session log kept across restarts, and every refusal.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::{root, vpn};
use harmony_vpn::keys::{PrivateKey, PublicKey};

fn key() -> PublicKey {
    PrivateKey::generate().public_key()
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// Issues acme/alice and acme/devs with their own keys, then revokes devs.
fn registry(state: &Path) -> (PublicKey, PublicKey) {
    let (alice, bob) = (key(), key());
    for (member, public) in [("alice", alice), ("devs", bob)] {
        let out = vpn(state)
            .args(["peer", "add", "--tenant", "acme", "--member", member, "-f"])
            .arg(root().join("examples/tenants"))
            .args(["--public-key", &public.to_string()])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    }
    let out = vpn(state)
        .args(["peer", "revoke", "--tenant", "acme", "--member", "devs"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    (alice, bob)
}

/// A dump: the interface line (with a private key nothing may print), then peer lines of
/// (key, endpoint, latest handshake, rx, tx).
fn dump(private: &str, peers: &[(PublicKey, &str, i64, u64, u64)]) -> String {
    let mut text = format!("{private}\t{}\t51820\toff\n", key());
    for (key, endpoint, handshake, rx, tx) in peers {
        text.push_str(&format!(
            "{key}\t(none)\t{endpoint}\t10.8.0.2/32\t{handshake}\t{rx}\t{tx}\t25\n"
        ));
    }
    text
}

#[test]
fn connections_name_members_and_raise_alarms_for_revoked_and_unknown_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let (alice, bob) = registry(&state);
    let stranger = key();
    let private = PrivateKey::generate().expose_base64();
    let file = tmp.path().join("dump.txt");
    fs::write(
        &file,
        dump(
            &private,
            &[
                (alice, "198.51.100.7:40000", now() - 5, 1234, 5678),
                (bob, "198.51.100.8:40000", now() - 500, 1, 2),
                (stranger, "(none)", 0, 0, 0),
            ],
        ),
    )
    .unwrap();

    let out = vpn(&state)
        .args(["connections", "-o", "json", "--dump"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "alarm: {out:?}");
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    let states: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["member"].as_str().unwrap_or("-"),
                r["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [("-", "unknown"), ("devs", "revoked"), ("alice", "active")]
    );
    let alice_row = &rows[2];
    assert_eq!(alice_row["tenant"], "acme");
    assert_eq!(alice_row["connected"], true);
    assert_eq!(alice_row["endpoint"], "198.51.100.7:40000");
    assert_eq!(
        (alice_row["rxBytes"].as_u64(), alice_row["txBytes"].as_u64()),
        (Some(1234), Some(5678))
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("wg syncconf wg0 peers.conf"), "{stderr}");
    for output in [&out.stdout, &out.stderr] {
        assert!(!String::from_utf8_lossy(output).contains(&private));
    }

    // Only alice on the gateway, read from stdin, as text: no alarm.
    let out = vpn(&state)
        .args(["connections", "--dump", "-"])
        .write_stdin(dump(
            &private,
            &[(alice, "198.51.100.7:40000", now() - 5, 1, 2)],
        ))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("acme\talice\t10.99.0.2\t198.51.100.7:40000\t"),
        "{text}"
    );
    assert!(text.contains("\tconnected"), "{text}");
}

#[test]
fn malformed_dump_lines_are_reported_with_their_number_and_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let (alice, _) = registry(&state);
    let text = dump("k", &[(alice, "(none)", 0, 0, 0)]) + "garbage line\n";
    let out = vpn(&state)
        .args(["connections", "--dump", "-"])
        .write_stdin(text)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: dump line 3: 1 tab-separated fields"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("alice"));
}

#[test]
fn watch_logs_sessions_and_takes_them_up_again_after_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let (alice, _) = registry(&state);
    let file = tmp.path().join("dump.txt");
    let log = tmp.path().join("sessions.jsonl");
    let watch = |dump_text: String| {
        fs::write(&file, dump_text).unwrap();
        let out = vpn(&state)
            .args(["watch", "--count", "1", "--interval", "1s", "--log"])
            .arg(&log)
            .arg("--dump")
            .arg(&file)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let begun = now() - 3;
    let stderr = watch(dump("k", &[(alice, "198.51.100.7:40000", begun, 100, 200)]));
    assert!(
        stderr.contains("connected acme/alice from 198.51.100.7:40000"),
        "{stderr}"
    );
    assert_eq!(
        fs::metadata(&log).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // A second run (a restart) sees alice's handshake gone stale: the session ends.
    let stderr = watch(dump("k", &[(alice, "198.51.100.7:40000", begun, 400, 900)]));
    assert!(stderr.contains("1 open session(s) taken up"), "{stderr}");
    // Still fresh: nothing ends yet.
    assert!(!stderr.contains("disconnected"), "{stderr}");
    let stale = now() - 1000;
    let stderr = watch(dump("k", &[(alice, "198.51.100.7:40000", stale, 400, 900)]));
    assert!(
        stderr.contains("disconnected acme/alice")
            && stderr.contains("300 bytes received, 700 sent"),
        "{stderr}"
    );
    let lines: Vec<serde_json::Value> = fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["event"], "connected");
    assert_eq!(lines[0]["tenant"], "acme");
    assert_eq!(lines[0]["member"], "alice");
    assert_eq!(lines[0]["from"], "198.51.100.7:40000");
    assert_eq!(lines[1]["event"], "disconnected");
    assert_eq!(lines[1]["connectedAt"], lines[0]["connectedAt"]);
    assert_eq!(
        (lines[1]["rxBytes"].as_u64(), lines[1]["txBytes"].as_u64()),
        (Some(300), Some(700))
    );
}

#[test]
fn refusals_say_what_to_do_and_change_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty");
    // No registry in the state dir: exit 2, and no server key or folder made.
    let out = vpn(&empty)
        .args(["connections", "--dump", "-"])
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--state") && stderr.contains("no peer registry"),
        "{stderr}"
    );
    assert!(!empty.exists());

    let state = tmp.path().join("state");
    registry(&state);
    let log = tmp.path().join("sessions.jsonl");
    // Flags clap refuses and answers `connections` cannot give exit 2; a refused watch exits 1.
    let refused = |args: &[&str], expect: &str, code: i32| {
        let out = vpn(&state).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(code), "{args:?}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expect), "{args:?}: {stderr}");
        assert!(!log.exists(), "{args:?} wrote the log");
    };
    let log_arg = log.to_str().unwrap();
    refused(
        &["watch", "--log", log_arg, "--interval", "often"],
        "`often` is not a duration; write it like 10s",
        2,
    );
    refused(
        &["watch", "--log", log_arg, "--interval", "500ms"],
        "`500ms` is under a second",
        2,
    );
    refused(&["watch", "--log", log_arg, "--count", "0"], "--count", 2);
    refused(
        &["watch", "--log", log_arg, "--dump", "-"],
        "--dump -: a watch samples again and again",
        1,
    );
    refused(
        &["connections", "--dump", "x", "--interface", "wg0"],
        "cannot be used with",
        2,
    );
    refused(
        &["connections", "--interface", "harmony-nope0"],
        "`wg show harmony-nope0 dump` failed",
        2,
    );

    // A log others can read is refused and left as it was.
    fs::write(&log, "").unwrap();
    fs::set_permissions(&log, fs::Permissions::from_mode(0o644)).unwrap();
    let dump_file = tmp.path().join("dump.txt");
    fs::write(&dump_file, "").unwrap();
    let out = vpn(&state)
        .args(["watch", "--count", "1", "--log", log_arg, "--dump"])
        .arg(&dump_file)
        .output()
        .unwrap();
    assert!(!out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("chmod 600"),
        "{out:?}"
    );
    assert_eq!(
        fs::metadata(&log).unwrap().permissions().mode() & 0o777,
        0o644
    );
    assert_eq!(fs::read(&log).unwrap(), b"");
}
