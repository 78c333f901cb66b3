//! The `serve-site` binary: writes a site, and serves one until told to quit.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_serve-site");

/// Kills the server if the test fails before telling it to quit, so no process outlives the test.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn writes_the_generated_site() {
    let dir = testkit::scratch_dir();
    let status = Command::new(BIN)
        .args(["--pages", "20", "--links", "3", "--seed", "5", "--write"])
        .arg(dir.path())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let site = testkit::web::SiteSpec { pages: 20, links_per_page: 3, page_bytes: 2048, seed: 5 }.generate();
    assert_eq!(std::fs::read(dir.path().join("index.html")).unwrap(), site.files["/"].0);
}

#[test]
fn serves_until_quit_and_reports_its_counts() {
    let mut child = KillOnDrop(
        Command::new(BIN)
            .args(["--pages", "10", "--serve"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut url = String::new();
    BufReader::new(child.0.stdout.take().unwrap()).read_line(&mut url).unwrap();
    let addr = url.trim().strip_prefix("http://").unwrap().trim_end_matches('/').to_owned();
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.write_all(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    child.0.stdin.take().unwrap().write_all(b"quit\n").unwrap();
    assert!(child.0.wait().unwrap().success());
    let mut stderr = String::new();
    child.0.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(stderr.contains("requests: 1, max in flight: 1"), "{stderr}");
}

#[test]
fn refuses_to_run_without_an_action() {
    let status = Command::new(BIN).args(["--pages", "3"]).stderr(Stdio::null()).status().unwrap();
    assert_eq!(status.code(), Some(2));
}
