//! The real binary: it starts on a free port, says where it listens, answers, and stops cleanly
//! on SIGTERM; without a signing key outside demo mode it refuses to start with a clear message.
#![cfg(unix)]
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long the binary may take to start or stop before the test gives up (a deadline, not a
/// wait: the test goes on as soon as the binary is ready).
const DEADLINE: Duration = Duration::from_secs(60);

fn festival(data_dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_festival-app"));
    command
        .arg("--addr")
        .arg("127.0.0.1:0")
        .arg("--data-dir")
        .arg(data_dir)
        .env_clear()
        .env("RUST_LOG", "festival_app=info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Reads the child's log lines on a thread; returns the receiver of every line.
fn lines(child: &mut Child) -> mpsc::Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    let stdout = child.stdout.take().expect("piped stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}

fn get(addr: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("connects");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn the_binary_serves_the_demo_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = festival(dir.path()).arg("--demo").spawn().expect("starts");
    let log = lines(&mut child);

    let mut seen = Vec::new();
    let addr = loop {
        let line = log.recv_timeout(DEADLINE).expect("a startup line");
        seen.push(line.clone());
        if let Some(rest) = line.split("festival open at http://").nth(1) {
            break rest.split('/').next().unwrap().to_owned();
        }
    };
    let startup = seen.join("\n");
    assert!(startup.contains("database ready"), "{startup}");
    assert!(startup.contains("festival.db"), "{startup}");

    let demo_logins: Vec<String> = (0..2)
        .map(|_| log.recv_timeout(DEADLINE).expect("a demo login line"))
        .collect();
    assert!(demo_logins[0].contains("alice / green-wristband-demo"));
    assert!(demo_logins[1].contains("bob / gold-wristband-demo"));

    let health = get(&addr, "/health");
    assert!(health.starts_with("HTTP/1.1 200 OK"), "{health}");
    let lineup = get(&addr, "/");
    assert!(lineup.starts_with("HTTP/1.1 200 OK"), "{lineup}");
    let request_line = log.recv_timeout(DEADLINE).expect("a request log line");
    assert!(request_line.contains("method=GET"), "{request_line}");
    assert!(request_line.contains("status=200"), "{request_line}");

    let signalled = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .expect("kill runs");
    assert!(signalled.success());
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait());
    });
    let status = finished
        .recv_timeout(DEADLINE)
        .expect("the binary stops")
        .expect("exit status");
    assert!(status.success(), "{status}");
    let rest: Vec<String> = log.iter().collect();
    assert!(
        rest.iter().any(|line| line.contains("festival closed")),
        "{rest:?}"
    );
    assert!(dir.path().join("signing-key.pem").exists());
}

#[test]
fn without_a_signing_key_outside_demo_mode_the_binary_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = festival(dir.path())
        .arg("--insecure-cookies")
        .spawn()
        .expect("starts");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success());
    assert!(stderr.contains("could not start"), "{stderr}");
    assert!(stderr.contains("FESTIVAL_SIGNING_KEY_FILE"), "{stderr}");
}
