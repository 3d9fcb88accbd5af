//! The `aileron` CLI against a real enclave: escrow put (secret on stdin), request, status, rm.

mod common;

use std::process::{Command, Output, Stdio};

use aileron_testkit::{Upstream, workspace_binary};
use common::*;

fn aileron(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(workspace_binary("aileron-sdk", "aileron"))
        .args(args)
        .env_remove("AILERON_ENCLAVE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write as _;
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            // The CLI may refuse its flags before reading stdin: a closed pipe is fine.
            let _ = input.write_all(text.as_bytes());
        }
    }
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn escrow_request_status_and_rm_through_the_cli() {
    let upstream = Upstream::start().await;
    let enclave = spawn_local();
    let dir = enclave.dir.path();
    let policy = dir.join("policy.toml");
    std::fs::write(&policy, local_policy().to_toml()).unwrap();
    let root = dir.join("ca/root.pem");
    let file = dir.join("escrow.json");
    let ticket_file = dir.join("ticket");
    std::fs::write(&ticket_file, ticket()).unwrap();
    let conn = [
        "--enclave",
        &enclave.url,
        "--policy",
        policy.to_str().unwrap(),
        "--root",
        root.to_str().unwrap(),
    ];
    let allow = format!("GET,POST {}/", upstream.url());

    let mut put = vec!["escrow", "put"];
    put.extend(conn);
    put.extend([
        "--allow",
        &allow,
        "--inject",
        "Authorization: Bearer {secret}",
        "--ttl",
        "1h",
        "--max-uses",
        "5",
        "--out",
        file.to_str().unwrap(),
        "--ticket",
        ticket_file.to_str().unwrap(),
    ]);
    let out = tokio::task::spawn_blocking({
        let put: Vec<String> = put.iter().map(|s| s.to_string()).collect();
        move || {
            aileron(
                &put.iter().map(String::as_str).collect::<Vec<_>>(),
                Some(&format!("{SECRET}\n")),
            )
        }
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains(SECRET));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o077,
            0
        );
    }

    let run = |args: Vec<String>| {
        tokio::task::spawn_blocking(move || {
            aileron(&args.iter().map(String::as_str).collect::<Vec<_>>(), None)
        })
    };
    let with_conn = |head: &[&str], tail: &[&str]| -> Vec<String> {
        head.iter()
            .chain(conn.iter())
            .chain(tail.iter())
            .map(|s| s.to_string())
            .collect()
    };
    let echo = format!("{}/echo", upstream.url());
    let out = run(with_conn(
        &["request", "GET", &echo],
        &["--escrow", file.to_str().unwrap()],
    ))
    .await
    .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("[REDACTED]"));
    assert!(!text(&out.stdout).contains(SECRET) && !text(&out.stderr).contains(SECRET));
    assert!(
        upstream.requests()[0]
            .headers
            .iter()
            .any(|(k, v)| k == "authorization" && v.ends_with(SECRET))
    );

    let out = run(with_conn(
        &["request", "GET", "https://evil.example/"],
        &["--escrow", file.to_str().unwrap()],
    ))
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).starts_with("error: scope_violation"),
        "{}",
        text(&out.stdout)
    );

    let out = run(with_conn(
        &["escrow", "status"],
        &["--escrow", file.to_str().unwrap()],
    ))
    .await
    .unwrap();
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["uses"], 1);
    assert_eq!(status["max_uses"], 5);

    let copy = dir.join("copy.json");
    std::fs::copy(&file, &copy).unwrap();
    let out = run(with_conn(
        &["escrow", "rm"],
        &["--escrow", file.to_str().unwrap()],
    ))
    .await
    .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!file.exists());
    let out = run(with_conn(
        &["request", "GET", &echo],
        &["--escrow", copy.to_str().unwrap()],
    ))
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).starts_with("error: escrow_not_found"));
}

#[test]
fn escrow_put_refuses_an_empty_secret_and_malformed_flags() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("p.toml");
    std::fs::write(&policy, local_policy().to_toml()).unwrap();
    let ticket_file = dir.path().join("ticket");
    std::fs::write(&ticket_file, ticket()).unwrap();
    let base = [
        "escrow",
        "put",
        "--enclave",
        "https://127.0.0.1:9",
        "--policy",
        policy.to_str().unwrap(),
        "--root",
        "google",
        "--ticket",
        ticket_file.to_str().unwrap(),
    ];
    fn with<'a>(base: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
        base.iter().chain(extra).copied().collect()
    }
    assert_eq!(
        aileron(
            &with(&base, &["--allow", "GET https://a.example/"]),
            Some("")
        )
        .status
        .code(),
        Some(2)
    );
    assert_eq!(
        aileron(&with(&base, &["--allow", "nospace"]), Some("s"))
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        aileron(
            &with(
                &base,
                &["--allow", "GET https://a.example/", "--inject", "no colon"]
            ),
            Some("s")
        )
        .status
        .code(),
        Some(2)
    );
    assert_eq!(
        aileron(
            &with(
                &base,
                &["--allow", "GET https://a.example/", "--ttl", "soon"]
            ),
            Some("s")
        )
        .status
        .code(),
        Some(2)
    );
}
