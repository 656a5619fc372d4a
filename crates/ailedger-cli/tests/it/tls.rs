//! TLS end to end, with certificates made here (a CA and a server certificate for
//! localhost and 127.0.0.1): `serve --tls-cert --tls-key` on loopback and the CLI with
//! `--ca-cert`; the refusals (plain HTTP on a non-loopback address, a client that does
//! not trust the certificate, a signing key others may read); the signing key's default
//! place for PostgreSQL; and PostgreSQL over TLS (`sslmode=verify-full` against a
//! throw-away server started here with `ssl=on`, `sslmode=require` against the test
//! server when it has SSL).

use std::{
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};

use super::{BIN, Db, free_port};

/// A test CA and a server certificate it signed, as PEM files in a directory.
struct Pki {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

fn make_ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

/// Writes `<prefix>ca.pem`, `<prefix>server.pem` and `<prefix>server.key` into `dir`.
fn make_pki(dir: &Path, prefix: &str) -> Pki {
    let ca = make_ca(&format!("ailedger test CA {prefix}"));
    let mut params =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca).unwrap();
    let pki = Pki {
        ca: dir.join(format!("{prefix}ca.pem")),
        cert: dir.join(format!("{prefix}server.pem")),
        key: dir.join(format!("{prefix}server.key")),
    };
    std::fs::write(&pki.ca, ca.pem()).unwrap();
    std::fs::write(&pki.cert, cert.pem()).unwrap();
    std::fs::write(&pki.key, key.serialize_pem()).unwrap();
    set_mode(&pki.key, 0o600);
    pki
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The admin token each test server granted, by port.
static TLS_TOKENS: std::sync::Mutex<Vec<(u16, String)>> = std::sync::Mutex::new(Vec::new());

/// The admin token of the server at `server` (a URL ending in its port).
fn token_for(server: &str) -> String {
    let port: u16 = server.rsplit(':').next().unwrap().parse().unwrap();
    TLS_TOKENS
        .lock()
        .unwrap()
        .iter()
        .find(|(p, _)| *p == port)
        .map(|(_, t)| t.clone())
        .unwrap_or_default()
}

/// `ailedger serve` with `args` on a free loopback port, once it accepts connections
/// and has granted its admin token.
fn serve(args: &[&str], envs: &[(&str, &Path)]) -> Server {
    let port = free_port();
    let token_file =
        std::env::temp_dir().join(format!("ailedger-tls-{}-{port}.token", std::process::id()));
    let _ = std::fs::remove_file(&token_file);
    let mut cmd = Command::new(BIN);
    cmd.arg("serve")
        .args(args)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .arg("--init-admin-token")
        .arg(&token_file)
        .env("AILEDGER_LOG", "warn")
        .env_remove("AILEDGER_LOG_KEY")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("serve {args:?} exited: {status}");
        }
        assert!(Instant::now() < deadline, "serve {args:?} did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let token = loop {
        if let Ok(t) = std::fs::read_to_string(&token_file)
            && t.ends_with('\n')
        {
            let _ = std::fs::remove_file(&token_file);
            break t.trim().to_owned();
        }
        assert!(Instant::now() < deadline, "serve {args:?} granted no token");
        std::thread::sleep(Duration::from_millis(50));
    };
    TLS_TOKENS.lock().unwrap().push((port, token));
    Server { child, port }
}

/// `ailedger serve` that must refuse to start: returns (exit code, its one stderr line).
#[track_caller]
fn serve_refuses(args: &[&str], envs: &[(&str, &Path)], removed: &[&str]) -> (i32, String) {
    let mut cmd = Command::new(BIN);
    cmd.arg("serve").args(args).env("AILEDGER_LOG", "warn");
    for k in removed {
        cmd.env_remove(k);
    }
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    one_line_failure(args, out)
}

#[track_caller]
fn one_line_failure(args: &[&str], out: Output) -> (i32, String) {
    assert!(!out.status.success(), "{args:?} succeeded");
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "{args:?}: not one line: {err}"
    );
    (out.status.code().unwrap(), err.trim_end().to_owned())
}

/// The CLI against `server`, with `state` as its state directory; no CA unless given.
fn cli(server: &str, state: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(["--server", server])
        .args(args)
        .env("AILEDGER_TOKEN", token_for(server))
        .env(
            "AILEDGER_CONFIG_DIR",
            std::env::temp_dir().join("ailedger-e2e-no-config"),
        )
        .env("AILEDGER_STATE", state)
        .env_remove("AILEDGER_URL")
        .env_remove("AILEDGER_CA_CERT")
        .output()
        .unwrap()
}

#[track_caller]
fn ok(server: &str, state: &Path, args: &[&str]) -> String {
    let out = cli(server, state, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn https_end_to_end_with_a_private_ca() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = make_pki(tmp.path(), "");
    let log_key = tmp.path().join("log.key");
    let server = serve(
        &[
            "--db",
            &tmp.path().join("l.db").to_string_lossy(),
            "--tls-cert",
            pki.cert.to_str().unwrap(),
            "--tls-key",
            pki.key.to_str().unwrap(),
            "--log-key",
            log_key.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(mode_of(&log_key), 0o600, "a new signing key is private");
    let state = tmp.path().join("state");
    let ca = pki.ca.to_str().unwrap();
    for url in [
        format!("https://127.0.0.1:{}", server.port),
        format!("https://localhost:{}", server.port),
    ] {
        let url = url.as_str();
        let with_ca = |args: &[&str]| -> String {
            let mut a = vec!["--ca-cert", ca];
            a.extend(args);
            ok(url, &state, &a)
        };
        with_ca(&["register", "package", "pkg:pypi/urllib3@2.2.2"]);
        with_ca(&["register", "package", "pkg:pypi/requests@2.32.3"]);
        with_ca(&[
            "link",
            "pkg:pypi/requests@2.32.3",
            "depends-on",
            "pkg:pypi/urllib3@2.2.2",
        ]);
        let impact: serde_json::Value = serde_json::from_str(&with_ca(&[
            "impact",
            "pkg:pypi/urllib3@2.2.2",
            "--format",
            "json",
        ]))
        .unwrap();
        assert_eq!(
            impact["hits"][0]["id"], "pkg:pypi/requests@2.32.3",
            "{impact}"
        );

        // The checkpoint covering the writes is signed within a second or so; the
        // client fetches and verifies it over HTTPS.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let out = Command::new(BIN)
                .args(["--server", url, "log", "checkpoint", "--format", "json"])
                .env("AILEDGER_CA_CERT", ca)
                .env("AILEDGER_TOKEN", token_for(url))
                .env("AILEDGER_STATE", &state)
                .output()
                .unwrap();
            let size = serde_json::from_slice::<serde_json::Value>(&out.stdout)
                .ok()
                .and_then(|v| v["size"].as_u64());
            if out.status.success() && size >= Some(3) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "no checkpoint over HTTPS: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            std::thread::sleep(Duration::from_millis(200));
        }

        // Without the CA the client refuses, in one line naming the fix.
        let (code, line) = one_line_failure(
            &["impact"],
            cli(url, &state, &["impact", "pkg:pypi/urllib3@2.2.2"]),
        );
        assert_eq!(code, 3, "{line}");
        assert!(
            line.contains("certificate not trusted") && line.contains("--ca-cert"),
            "{line}"
        );
    }

    // Another CA's certificate is not a substitute.
    let other = make_pki(tmp.path(), "other-");
    let url = format!("https://127.0.0.1:{}", server.port);
    let (code, line) = one_line_failure(
        &["--ca-cert"],
        cli(
            &url,
            &state,
            &[
                "--ca-cert",
                other.ca.to_str().unwrap(),
                "show",
                "pkg:pypi/urllib3@2.2.2",
            ],
        ),
    );
    assert_eq!(code, 3, "{line}");
    assert!(line.contains("certificate not trusted"), "{line}");
    // A --ca-cert that is not a certificate is the user's to fix.
    let (code, line) = one_line_failure(
        &["--ca-cert"],
        cli(
            &url,
            &state,
            &[
                "--ca-cert",
                pki.key.to_str().unwrap(),
                "show",
                "pkg:pypi/urllib3@2.2.2",
            ],
        ),
    );
    assert_eq!(code, 2, "{line}");
    assert!(line.contains("--ca-cert"), "{line}");
    // Plain HTTP to the HTTPS port gets no answer.
    let out = cli(
        &format!("http://127.0.0.1:{}", server.port),
        &state,
        &["show", "pkg:pypi/urllib3@2.2.2"],
    );
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn serve_refuses_plain_http_off_loopback_before_opening_anything() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("never.db");
    let key = tmp.path().join("never.key");
    for listen in ["0.0.0.0:0", "[::]:0"] {
        let (code, line) = serve_refuses(
            &[
                "--listen",
                listen,
                "--db",
                db.to_str().unwrap(),
                "--log-key",
                key.to_str().unwrap(),
            ],
            &[],
            &[],
        );
        assert_eq!(code, 2, "{line}");
        assert!(
            line.contains("--insecure-behind-proxy") && line.contains("--tls-cert"),
            "{line}"
        );
    }
    assert!(
        !db.exists() && !key.exists(),
        "nothing was opened or created"
    );
    // The demo has no TLS: loopback only.
    let out = Command::new(BIN)
        .args(["demo", "--exit", "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    let (code, line) = one_line_failure(&["demo"], out);
    assert_eq!(code, 2, "{line}");
    assert!(line.contains("loopback"), "{line}");
    // TLS needs both files (a usage error, from the argument parser).
    let out = Command::new(BIN)
        .args(["serve", "--tls-cert", "x.pem"])
        .env_remove("AILEDGER_TLS_KEY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--tls-key"));
    // A key that is not a key is named.
    let pki = make_pki(tmp.path(), "");
    let (code, line) = serve_refuses(
        &[
            "--db",
            db.to_str().unwrap(),
            "--tls-cert",
            pki.cert.to_str().unwrap(),
            "--tls-key",
            pki.cert.to_str().unwrap(),
        ],
        &[],
        &[],
    );
    assert_eq!(code, 2, "{line}");
    assert!(line.contains("--tls-key"), "{line}");
    assert!(!db.exists());
}

#[test]
fn serve_refuses_a_signing_key_others_may_read() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("l.db");
    let key = tmp.path().join("log.key");
    std::fs::write(&key, "not even a key\n").unwrap();
    for mode in [0o644, 0o640, 0o604] {
        set_mode(&key, mode);
        let (code, line) = serve_refuses(
            &[
                "--listen",
                &format!("127.0.0.1:{}", free_port()),
                "--db",
                db.to_str().unwrap(),
                "--log-key",
                key.to_str().unwrap(),
            ],
            &[],
            &[],
        );
        assert_eq!(code, 2, "{line}");
        assert!(
            line.contains(key.to_str().unwrap()) && line.contains("chmod 600"),
            "{line}"
        );
    }
    assert!(!db.exists(), "refused before opening the database");
}

#[test]
fn postgres_signing_key_defaults_to_the_state_directory() {
    // With no place for it, the server asks for --log-key (checked before connecting).
    let tmp = tempfile::tempdir().unwrap();
    let (code, line) = serve_refuses(
        &["--db", "postgres://nobody@127.0.0.1:1/none"],
        &[],
        &[
            "AILEDGER_LOG_KEY",
            "AILEDGER_STATE",
            "XDG_STATE_HOME",
            "HOME",
        ],
    );
    assert_eq!(code, 2, "{line}");
    assert!(line.contains("--log-key"), "{line}");

    let Some(db) = Db::fresh("postgres", tmp.path(), "the PostgreSQL key-place test") else {
        return;
    };
    let cwd = tmp.path().join("cwd");
    let state = tmp.path().join("state");
    std::fs::create_dir(&cwd).unwrap();
    let mut cmd = Command::new(BIN);
    let port = free_port();
    cmd.current_dir(&cwd)
        .args(["serve", "--db", &db.arg(), "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .env("AILEDGER_LOG", "warn")
        .env("AILEDGER_STATE", &state)
        .env_remove("AILEDGER_LOG_KEY")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let server = Server {
        child: cmd.spawn().unwrap(),
        port,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", server.port)).is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let key = state.join("ailedger-log.key");
    assert!(key.is_file(), "the key is in the state directory");
    assert_eq!(mode_of(&key), 0o600);
    assert_eq!(mode_of(&state), 0o700);
    assert_eq!(
        std::fs::read_dir(&cwd).unwrap().count(),
        0,
        "nothing in the working directory"
    );
}

// ---------------------------------------------------------------- PostgreSQL over TLS

/// Whether the connection `url` opens is encrypted, as the server sees it.
fn pg_connection_is_tls(url: &str) -> Result<bool, String> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = ailedger_store_postgres::PgStore::connect(url, None)
            .await
            .map_err(|e| e.to_string())?;
        let ssl: bool =
            sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
                .fetch_one(store.pool())
                .await
                .map_err(|e| e.to_string())?;
        Ok(ssl)
    })
}

/// A throw-away PostgreSQL server with `ssl=on` and a certificate made here, stopped
/// when dropped. Run as the `postgres` user when the tests run as root (PostgreSQL
/// refuses to run as root).
struct ThrowAwayPg {
    data: PathBuf,
    port: u16,
    as_user: Option<String>,
    bin: PathBuf,
}

impl ThrowAwayPg {
    fn command(&self, tool: &str) -> Command {
        match &self.as_user {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(self.bin.join(tool));
                c
            }
            None => Command::new(self.bin.join(tool)),
        }
    }

    /// Starts one in `dir`, or says why it cannot.
    fn start(dir: &Path, pki: &Pki) -> Result<Self, String> {
        // The server binaries: $AILEDGER_TEST_PG_BIN, else where pg_config says.
        let bin = match std::env::var_os("AILEDGER_TEST_PG_BIN") {
            Some(dir) => PathBuf::from(dir),
            None => {
                let out = Command::new("pg_config")
                    .arg("--bindir")
                    .output()
                    .map_err(|e| format!("pg_config: {e}"))?;
                PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
            }
        };
        if !bin.join("initdb").is_file() || !bin.join("pg_ctl").is_file() {
            return Err(format!(
                "no initdb and pg_ctl in {} (set AILEDGER_TEST_PG_BIN)",
                bin.display()
            ));
        }
        let root = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
            .unwrap_or(false);
        let pg_dir = dir.join("pg");
        std::fs::create_dir(&pg_dir).map_err(|e| e.to_string())?;
        let as_user = if root {
            let id = |flag: &str| -> Result<u32, String> {
                let out = Command::new("id")
                    .args([flag, "postgres"])
                    .output()
                    .map_err(|e| e.to_string())?;
                String::from_utf8_lossy(&out.stdout)
                    .trim()
                    .parse()
                    .map_err(|_| "no postgres user to run it as".to_owned())
            };
            let (uid, gid) = (id("-u")?, id("-g")?);
            set_mode(dir, 0o755);
            std::os::unix::fs::chown(&pg_dir, Some(uid), Some(gid)).map_err(|e| e.to_string())?;
            Some(("postgres".to_owned(), uid, gid))
        } else {
            None
        };
        let mut pg = ThrowAwayPg {
            data: pg_dir.join("data"),
            port: free_port(),
            as_user: as_user.as_ref().map(|(u, ..)| u.clone()),
            bin,
        };
        let out = pg
            .command("initdb")
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
            .arg(&pg.data)
            .output()
            .map_err(|e| format!("initdb: {e}"))?;
        if !out.status.success() {
            return Err(format!("initdb: {}", String::from_utf8_lossy(&out.stderr)));
        }
        for (from, to) in [(&pki.cert, "server.crt"), (&pki.key, "server.key")] {
            let dest = pg.data.join(to);
            std::fs::copy(from, &dest).map_err(|e| e.to_string())?;
            set_mode(&dest, 0o600);
            if let Some((_, uid, gid)) = &as_user {
                std::os::unix::fs::chown(&dest, Some(*uid), Some(*gid))
                    .map_err(|e| e.to_string())?;
            }
        }
        let conf = format!(
            "\nlisten_addresses = '127.0.0.1'\nport = {}\nunix_socket_directories = ''\n\
             ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n\
             fsync = off\n",
            pg.port
        );
        let conf_path = pg.data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf_path).map_err(|e| e.to_string())?;
        text.push_str(&conf);
        std::fs::write(&conf_path, text).map_err(|e| e.to_string())?;
        let out = pg
            .command("pg_ctl")
            .args(["-w", "-t", "60", "-D"])
            .arg(&pg.data)
            .arg("-l")
            .arg(pg.data.join("server.log"))
            .arg("start")
            .output()
            .map_err(|e| format!("pg_ctl: {e}"))?;
        if !out.status.success() {
            let log = std::fs::read_to_string(pg.data.join("server.log")).unwrap_or_default();
            // Nothing to stop.
            pg.as_user = None;
            pg.data = PathBuf::new();
            return Err(format!(
                "pg_ctl start: {}{log}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(pg)
    }
}

impl Drop for ThrowAwayPg {
    fn drop(&mut self) {
        if self.data.as_os_str().is_empty() {
            return;
        }
        let _ = self
            .command("pg_ctl")
            .args(["-m", "immediate", "-D"])
            .arg(&self.data)
            .arg("stop")
            .output();
    }
}

#[test]
fn postgres_over_tls() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = make_pki(tmp.path(), "");
    let mut tested = Vec::new();
    match ThrowAwayPg::start(tmp.path(), &pki) {
        Ok(pg) => {
            let base = format!("postgres://postgres@127.0.0.1:{}/postgres", pg.port);
            let ca = pki.ca.to_str().unwrap();
            let verify_full = format!("{base}?sslmode=verify-full&sslrootcert={ca}");
            assert_eq!(pg_connection_is_tls(&verify_full), Ok(true));
            assert_eq!(
                pg_connection_is_tls(&format!("{base}?sslmode=require")),
                Ok(true)
            );
            // A root that did not sign the server's certificate is refused.
            let other = make_pki(tmp.path(), "other-");
            let wrong = format!(
                "{base}?sslmode=verify-full&sslrootcert={}",
                other.ca.to_str().unwrap()
            );
            let err = pg_connection_is_tls(&wrong).unwrap_err();
            assert!(
                err.to_lowercase().contains("certificate"),
                "not a certificate error: {err}"
            );
            // The whole server on it: serve over verify-full, a write, a read.
            let state = tmp.path().join("state");
            let key = tmp.path().join("pg.key");
            let server = serve(
                &["--db", &verify_full, "--log-key", key.to_str().unwrap()],
                &[],
            );
            let url = format!("http://127.0.0.1:{}", server.port);
            ok(&url, &state, &["register", "package", "pkg:pypi/idna@3.8"]);
            assert_eq!(
                ok(&url, &state, &["resolve", "pkg:pypi/idna@3.8"]).trim(),
                "pkg:pypi/idna@3.8"
            );
            tested.push("verify-full against a throw-away server");
        }
        Err(why) => eprintln!("NOTE: no throw-away PostgreSQL server with ssl=on: {why}"),
    }
    // The test server, on a database of its own (connecting migrates it).
    if let Some(db) = Db::fresh(
        "postgres",
        tmp.path(),
        "sslmode=require against the test server",
    ) {
        let url = db.arg();
        let sep = if url.contains('?') { '&' } else { '?' };
        match pg_connection_is_tls(&format!("{url}{sep}sslmode=require")) {
            Ok(true) => tested.push("sslmode=require against AILEDGER_TEST_POSTGRES_URL"),
            Ok(false) => panic!("sslmode=require gave a plaintext connection"),
            Err(e) if e.contains("TLS") || e.contains("SSL") || e.contains("ssl") => {
                eprintln!("NOTE: the test PostgreSQL server has no SSL ({e})")
            }
            Err(e) => panic!("sslmode=require: {e}"),
        }
    }
    if tested.is_empty() {
        eprintln!(
            "SKIPPED: PostgreSQL over TLS was NOT tested: no throw-away server could be \
             started and AILEDGER_TEST_POSTGRES_URL has no SSL (or is not set)"
        );
    } else {
        eprintln!("PostgreSQL over TLS tested: {}", tested.join("; "));
    }
}
