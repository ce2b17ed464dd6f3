//! The six sslmodes against a real PostgreSQL with TLS (issue 15). The test
//! makes a CA, a server certificate for `localhost` and `127.0.0.1`, one for
//! another host name and a second, unrelated CA with rcgen; writes the
//! server's into a directory of the OS user the server runs as (its data
//! directory's owner: `postgres` when the tests run as root), the keys at
//! 0600 as PostgreSQL demands; and switches the server's TLS with `ALTER SYSTEM` and a reload.
//! Every case connects over TCP to the loopback address as a login role of
//! `keyward_app`, with a password the test knows, so it can check that no
//! error shows it. The server's TLS settings are shared by every test on the
//! server: they are all in one test function, and a guard puts them back
//! (`ALTER SYSTEM RESET`) however the test ends.

mod common;

use common::pg::{Scratch, server};
use keyward_core::error::Error;
use keyward_core::store::pg::PgStore;
use keyward_core::store::pg::connect::{Surroundings, Target};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use std::net::{IpAddr, Ipv4Addr};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a reload may take to show in a new session before the test fails.
const RELOAD_PATIENCE: Duration = Duration::from_secs(20);

/// A server certificate and its key, as PEM.
struct ServerCert {
    cert: String,
    key: String,
}

/// A CA: its certificate (written for clients to trust) and what signs with it.
struct Ca {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

fn ca(name: &str) -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let cert = params.self_signed(&key).unwrap();
    Ca {
        pem: cert.pem(),
        issuer: Issuer::new(params, key),
    }
}

/// A server certificate `ca` signs for `names` (DNS names or IP addresses).
fn server_cert(ca: &Ca, names: &[&str]) -> ServerCert {
    let key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::default();
    leaf.distinguished_name.push(DnType::CommonName, names[0]);
    leaf.subject_alt_names = names
        .iter()
        .map(|n| match n.parse::<IpAddr>() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => SanType::DnsName((*n).try_into().unwrap()),
        })
        .collect();
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.use_authority_key_identifier_extension = true;
    let cert = leaf.signed_by(&key, &ca.issuer).unwrap();
    ServerCert {
        cert: cert.pem(),
        key: key.serialize_pem(),
    }
}

/// The test server's TLS, switched by this test as superuser and put back
/// to what its configuration files say when the guard is dropped — after a
/// failed assertion too.
struct ServerTls {
    admin: Target,
    /// Where the server's certificates and keys are: a directory of the
    /// server's OS user's, mode 0700, removed (after the settings are put
    /// back) when the guard goes.
    dir: tempfile::TempDir,
    /// The server's OS user and group: its data directory's.
    owner: (u32, u32),
}

impl ServerTls {
    /// Where the test can write files the server will read, or why not.
    fn new(admin: Target) -> Result<ServerTls, String> {
        let mut c = admin.connect().unwrap();
        let data_dir: String = c
            .query_one("SELECT current_setting('data_directory')", &[])
            .unwrap()
            .get(0);
        let meta = std::fs::metadata(&data_dir).map_err(|e| {
            format!("the test server's data directory {data_dir} is not on this machine ({e})")
        })?;
        let owner = (meta.uid(), meta.gid());
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::chown(dir.path(), Some(owner.0), Some(owner.1)).map_err(|e| {
            format!(
                "cannot give a directory to the server's OS user (uid {}): {e}",
                owner.0
            )
        })?;
        Ok(ServerTls { admin, dir, owner })
    }

    /// Writes `pem` to `name` for the server, as its OS user's file with
    /// `mode` (PostgreSQL refuses a key that others may read).
    fn write(&self, name: &str, pem: &str, mode: u32) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, pem).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        std::os::unix::fs::chown(&path, Some(self.owner.0), Some(self.owner.1)).unwrap();
        path.display().to_string()
    }

    /// Turns the server's TLS on with `cert` and `key` (paths the server
    /// reads), or off, and waits until a new session sees it.
    fn set(&self, tls: Option<(&str, &str)>) {
        let mut c = self.admin.connect().unwrap();
        // ALTER SYSTEM runs alone, outside any transaction block.
        match tls {
            Some((cert, key)) => {
                c.batch_execute("ALTER SYSTEM SET ssl = on").unwrap();
                c.batch_execute(&format!(
                    "ALTER SYSTEM SET ssl_cert_file = '{}'",
                    cert.replace('\'', "''")
                ))
                .unwrap();
                c.batch_execute(&format!(
                    "ALTER SYSTEM SET ssl_key_file = '{}'",
                    key.replace('\'', "''")
                ))
                .unwrap();
            }
            None => c.batch_execute("ALTER SYSTEM SET ssl = off").unwrap(),
        }
        c.batch_execute("SELECT pg_reload_conf()").unwrap();
        let want = match tls {
            Some((cert, _)) => ("on".to_owned(), Some(cert.to_owned())),
            None => ("off".to_owned(), None),
        };
        if let Err(seen) =
            self.wait_for(|ssl, cert| ssl == want.0 && want.1.as_deref().is_none_or(|w| w == cert))
        {
            panic!("the server did not take its new TLS settings {want:?}: {seen}");
        }
    }

    /// Polls new sessions until their `ssl` and `ssl_cert_file` satisfy
    /// `done`: the postmaster reloads its files (and its TLS) before it
    /// starts a session that sees the new settings. (A key or certificate it
    /// cannot use it only logs, serving the old ones: the cases then fail.)
    /// Gives up with what it last saw after `RELOAD_PATIENCE`.
    fn wait_for(&self, done: impl Fn(&str, &str) -> bool) -> Result<(), String> {
        let deadline = Instant::now() + RELOAD_PATIENCE;
        loop {
            let row = self
                .admin
                .connect()
                .and_then(|mut c| {
                    c.query_one(
                        "SELECT current_setting('ssl'), current_setting('ssl_cert_file')",
                        &[],
                    )
                    .map_err(|e| Error::store(e.to_string()))
                })
                .map(|r| (r.get::<_, String>(0), r.get::<_, String>(1)));
            if let Ok((ssl, cert)) = &row
                && done(ssl, cert)
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!("{row:?}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ServerTls {
    fn drop(&mut self) {
        let Ok(mut c) = self.admin.connect() else {
            eprintln!("could not reconnect to put the test server's TLS settings back");
            return;
        };
        for setting in ["ssl", "ssl_cert_file", "ssl_key_file"] {
            let _ = c.batch_execute(&format!("ALTER SYSTEM RESET {setting}"));
        }
        let _ = c.batch_execute("SELECT pg_reload_conf()");
        // Back to the configuration file's certificate before the files go.
        let ours = self.dir.path().display().to_string();
        if let Err(seen) = self.wait_for(|_, cert| !cert.starts_with(&ours)) {
            eprintln!("the test server did not take back its TLS settings: {seen}");
        }
    }
}

/// One way of reaching the scratch store: its URL, with the password in it.
struct Login {
    user: String,
    password: String,
    port: u16,
    db: String,
}

impl Login {
    /// The target `host` and `query` (sslmode, sslrootcert) name, read as
    /// keyward reads `--db`, with nothing from this process's environment.
    fn target(&self, host: &str, query: &str) -> Target {
        let url = format!(
            "postgres://{}:{}@{host}:{}/{}?{query}",
            self.user, self.password, self.port, self.db
        );
        let around = Surroundings {
            socket_dir: PathBuf::from("/nonexistent"),
            ..Surroundings::default()
        };
        Target::parse(&url, &around).unwrap()
    }
}

/// Opens the store at `target` and says whether its session is encrypted.
fn encrypted(target: &Target) -> Result<bool, Error> {
    let mut store = PgStore::open(target)?;
    let row = store
        .client()
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .unwrap();
    Ok(row.get(0))
}

/// Connects, failing the test with the error when it cannot.
#[track_caller]
fn connects(login: &Login, host: &str, query: &str) -> bool {
    let target = login.target(host, query);
    match encrypted(&target) {
        Ok(ssl) => ssl,
        Err(e) => panic!("{host} ?{query} was refused: {e}"),
    }
}

/// The refusal, checked to be one line with exit 6 that names the server
/// and never shows the password.
#[track_caller]
fn refused(login: &Login, host: &str, query: &str) -> String {
    let target = login.target(host, query);
    let err = match encrypted(&target) {
        Ok(ssl) => panic!("{host} ?{query} connected (ssl {ssl}); it should be refused"),
        Err(e) => e,
    };
    let text = err.to_string();
    assert_eq!(err.exit_code(), 6, "{host} ?{query}: {text}");
    assert!(
        !text.contains('\n'),
        "{host} ?{query}: more than a line: {text}"
    );
    assert!(
        text.contains(&target.shown()),
        "{host} ?{query}: the server is not named: {text}"
    );
    assert!(
        !text.contains(&login.password),
        "{host} ?{query}: the password shows: {text}"
    );
    eprintln!("{host} ?{query}: {text}");
    text
}

fn write_pem(dir: &Path, name: &str, pem: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, pem).unwrap();
    path.display().to_string()
}

#[test]
fn each_sslmode_does_what_libpq_does_against_a_real_tls_server() {
    let Some((mut scratch, _store)) = Scratch::store() else {
        return;
    };
    let Some(admin) = server() else {
        return;
    };
    let superuser: bool = admin
        .connect()
        .unwrap()
        .query_one(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user",
            &[],
        )
        .unwrap()
        .get(0);
    if !superuser {
        common::tools::skip(
            file!(),
            "the test server's role is not a superuser, which switching its TLS needs",
            "the test server's role is not a superuser; .ci/test's pg_virtualenv gives one",
        );
        return;
    }

    // A login of keyward_app's with a password this test knows.
    let app = scratch.app_login();
    let password = format!("Tls-Pw-{}-XYZZY", std::process::id());
    scratch
        .owner()
        .batch_execute(&format!("ALTER ROLE {} PASSWORD '{password}'", app.user()))
        .unwrap();
    let port: String = admin
        .connect()
        .unwrap()
        .query_one("SELECT current_setting('port')", &[])
        .unwrap()
        .get(0);
    let login = Login {
        user: app.user().to_owned(),
        password,
        port: port.parse().unwrap(),
        db: scratch.name.clone(),
    };

    // The certificates: ours for localhost and 127.0.0.1, ours for another
    // host, and a CA that signed neither.
    let ours = ca("keyward test CA");
    let theirs = ca("some other CA");
    let here = server_cert(&ours, &["localhost", &Ipv4Addr::LOCALHOST.to_string()]);
    let elsewhere = server_cert(&ours, &["db.elsewhere.example"]);
    let dir = tempfile::tempdir().unwrap();
    let our_ca = write_pem(dir.path(), "ca.pem", &ours.pem);
    let their_ca = write_pem(dir.path(), "other-ca.pem", &theirs.pem);

    let tls = match ServerTls::new(admin) {
        Ok(tls) => tls,
        Err(why) => {
            common::tools::skip(file!(), &why, &why);
            return;
        }
    };
    let here_cert = tls.write("here.crt", &here.cert, 0o644);
    let here_key = tls.write("here.key", &here.key, 0o600);
    let elsewhere_cert = tls.write("elsewhere.crt", &elsewhere.cert, 0o644);
    let elsewhere_key = tls.write("elsewhere.key", &elsewhere.key, 0o600);

    // TLS on, with a certificate for this host.
    tls.set(Some((&here_cert, &here_key)));
    let verify_full = format!("sslmode=verify-full&sslrootcert={our_ca}");
    for host in ["localhost", "127.0.0.1"] {
        assert!(
            connects(&login, host, &verify_full),
            "{host}: not encrypted"
        );
    }
    assert!(connects(
        &login,
        "localhost",
        &format!("sslmode=verify-ca&sslrootcert={our_ca}")
    ));
    // Another CA: not trusted, whatever the mode that checks.
    for mode in ["verify-full", "verify-ca", "require"] {
        let text = refused(
            &login,
            "localhost",
            &format!("sslmode={mode}&sslrootcert={their_ca}"),
        );
        assert!(
            text.contains(&format!("no CA in {their_ca} (sslrootcert) signed it")),
            "{mode}: {text}"
        );
    }
    // Without a CA, require and prefer encrypt without checking, as libpq does.
    assert!(connects(&login, "localhost", "sslmode=require"));
    assert!(connects(&login, "127.0.0.1", "sslmode=prefer"));
    assert!(connects(&login, "localhost", "sslmode=allow"));
    assert!(!connects(&login, "localhost", "sslmode=disable"));
    // verify-full without any CA that signed the server's: the system's
    // roots alone do not trust it.
    let text = refused(&login, "localhost", "sslmode=verify-full");
    assert!(text.contains("no CA this system trusts"), "{text}");

    // A certificate our CA signed, for another host.
    tls.set(Some((&elsewhere_cert, &elsewhere_key)));
    for host in ["localhost", "127.0.0.1"] {
        let text = refused(&login, host, &verify_full);
        assert!(
            text.contains(&format!("it is for db.elsewhere.example, not {host}")),
            "{host}: {text}"
        );
    }
    // verify-ca checks the chain, not the name.
    assert!(connects(
        &login,
        "localhost",
        &format!("sslmode=verify-ca&sslrootcert={our_ca}")
    ));
    assert!(connects(&login, "localhost", "sslmode=require"));

    // TLS off: a mode that needs it is refused, the others connect in clear.
    tls.set(None);
    for query in ["sslmode=require".to_owned(), verify_full.clone()] {
        let text = refused(&login, "localhost", &query);
        assert!(text.contains("TLS refused"), "{query}: {text}");
    }
    assert!(!connects(&login, "localhost", "sslmode=prefer"));
    assert!(!connects(&login, "127.0.0.1", "sslmode=disable"));
    drop(tls);
}
