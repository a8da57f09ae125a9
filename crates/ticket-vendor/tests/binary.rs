//! The `ticket-vendor` binary: starts, creates its key privately, serves discovery, and stops
//! cleanly on SIGTERM.

#![cfg(unix)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Command, Stdio};

/// A bare HTTP/1.0 GET, so the test needs no HTTP client.
fn http_get(addr: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("the vendor accepts connections");
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").expect("the request is sent");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("the response is read");
    response
}

#[test]
fn the_binary_serves_discovery_keeps_its_key_private_and_stops_on_sigterm() {
    let data = tempfile::tempdir().expect("a temporary directory");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ticket-vendor"))
        .args(["--addr", "127.0.0.1:0", "--issuer", "http://vendor.test"])
        .arg("--data-dir")
        .arg(data.path())
        .env("RUST_LOG", "ticket_vendor=info")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the binary starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout is piped")).lines();

    let listening = lines
        .by_ref()
        .map(|line| line.expect("a log line"))
        .find(|line| line.contains("ticket vendor listening"))
        .expect("a startup line");
    let addr = listening
        .split("url=http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the listening URL")
        .to_owned();

    let response = http_get(&addr, "/.well-known/openid-configuration");
    assert!(response.starts_with("HTTP/1.0 200 OK") || response.starts_with("HTTP/1.1 200 OK"));
    assert!(response.contains(r#""issuer":"http://vendor.test""#));

    let key_file = data.path().join("vendor-signing-key");
    let key = std::fs::read_to_string(&key_file).expect("the key file exists");
    assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"));
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&key_file)
            .expect("the key file exists")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let exit = child.wait().expect("the vendor exits");
    assert!(exit.success(), "a clean exit on SIGTERM, got {exit}");
    let rest: Vec<String> = lines.map(|line| line.expect("a log line")).collect();
    assert!(
        rest.iter()
            .any(|line| line.contains("ticket vendor stopped"))
    );
}
