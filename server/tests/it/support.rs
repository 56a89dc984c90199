//! Test support: a fresh database per test on SQLite and on PostgreSQL, the real server on a
//! free port, and the external processes tests talk to. Nothing is left behind, even when a
//! test panics.

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use server::config::{Config, Sources};
use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestDb {
    pub conn: DatabaseConnection,
    pub url: String,
    pub dir: PathBuf,
    pg_name: Option<String>,
}

/// Each database test runs twice: `sqlite` and `postgres`.
#[macro_export]
macro_rules! db_test {
    ($(#[$meta:meta])* async fn $name:ident($db:ident: TestDb) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $(#[$meta])*
            async fn body($db: $crate::support::TestDb) $body
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::support::run_on($crate::support::Backend::Sqlite, body).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::support::run_on($crate::support::Backend::Postgres, body).await;
            }
        }
    };
}

fn unique(prefix: &str) -> String {
    format!("{prefix}{:016x}", rand::random::<u64>())
}

/// The server-level PostgreSQL URL tests create their databases from.
pub fn postgres_admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Without CI a missing dependency skips the test with a note; under CI it fails it.
pub fn unavailable(what: &str) {
    if ci() {
        panic!("{what} is not available, and CI=true makes that a failure");
    }
    eprintln!("skipped: {what} is not available");
}

fn with_database(url: &str, name: &str) -> String {
    let mut parsed = url::Url::parse(url).expect("TEST_DATABASE_URL is a URL");
    parsed.set_path(&format!("/{name}"));
    parsed.to_string()
}

impl TestDb {
    pub async fn create(backend: Backend) -> Option<TestDb> {
        let dir = std::env::temp_dir().join(unique("slipway-test-"));
        std::fs::create_dir_all(&dir).unwrap();
        let (url, pg_name) = match backend {
            Backend::Sqlite => (format!("sqlite://{}/slipway.db", dir.display()), None),
            Backend::Postgres => {
                let admin = match Database::connect(postgres_admin_url()).await {
                    Ok(admin) => admin,
                    Err(error) => {
                        unavailable(&format!("PostgreSQL at {} ({error})", postgres_admin_url()));
                        return None;
                    }
                };
                let name = unique("slipway_test_");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("CREATE DATABASE");
                admin.close().await.ok();
                (with_database(&postgres_admin_url(), &name), Some(name))
            }
        };
        let conn = server::db::connect(&url)
            .await
            .expect("connect to the test database");
        server::db::migrate(&conn).await.expect("migrations apply");
        Some(TestDb {
            conn,
            url,
            dir,
            pg_name,
        })
    }

    async fn destroy(dir: PathBuf, pg_name: Option<String>) {
        if let Some(name) = pg_name {
            if let Ok(admin) = Database::connect(postgres_admin_url()).await {
                let _ = admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await;
                admin.close().await.ok();
            }
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Runs one test body on a fresh database of the backend, then drops the database whatever
/// the outcome, re-raising the test's panic.
pub async fn run_on<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let (dir, pg_name) = (db.dir.clone(), db.pg_name.clone());
    let outcome = tokio::spawn(test(db)).await;
    TestDb::destroy(dir, pg_name).await;
    if let Err(error) = outcome {
        if error.is_panic() {
            std::panic::resume_unwind(error.into_panic());
        }
        panic!("test task failed: {error}");
    }
}

/// The real router on a free port of 127.0.0.1.
pub struct TestServer {
    pub base: String,
    /// SLIPWAY_DATA_DIR: git mirrors, the local provider's repositories.
    pub data_dir: PathBuf,
    /// The context the server's requests see, for calling services directly.
    pub ctx: app::server::AppCtx,
    pub config: Config,
}

pub struct ServerOptions {
    pub demo: bool,
    /// With `demo`: seed the demo's whole estate (workspace, repositories, releases), as
    /// `slipway serve --demo` does; off, only the catalog, for tests that build their own.
    pub estate: bool,
    pub settings: Vec<(&'static str, String)>,
    /// Run a job worker beside the server.
    pub worker: bool,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            demo: true,
            estate: false,
            settings: Vec::new(),
            worker: false,
        }
    }
}

impl TestServer {
    pub async fn start(db: &TestDb, options: ServerOptions) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let base = format!("http://{addr}");
        let mut values: BTreeMap<String, String> = BTreeMap::new();
        values.insert("DATABASE_URL".into(), db.url.clone());
        values.insert("SLIPWAY_DATA_DIR".into(), db.dir.display().to_string());
        values.insert("SLIPWAY_PUBLIC_URL".into(), base.clone());
        // The fake providers listen on 127.0.0.1, which outbound requests refuse unless listed.
        values.insert(
            "SLIPWAY_ALLOWED_HOSTS".into(),
            "127.0.0.1, localhost".into(),
        );
        // The demo cloud's provider, as scripts/env.sh points the tests at it.
        if let Ok(mirror) = std::env::var("SLIPWAY_PROVIDER_MIRROR") {
            values.insert("SLIPWAY_PROVIDER_MIRROR".into(), mirror);
        }
        for (key, value) in options.settings {
            values.insert(key.into(), value);
        }
        let config =
            Config::from_sources(&Sources::from_map(values)).expect("test configuration is valid");
        let leptos = leptos::prelude::LeptosOptions::builder()
            .output_name("slipway")
            .site_root(db.dir.display().to_string())
            .site_addr(addr)
            .build();
        let state = server::router::state(&config, db.conn.clone(), options.demo, leptos).unwrap();
        if options.demo {
            server::demo::seed(
                &state.ctx,
                &config,
                if options.estate {
                    server::demo::Estate::Both
                } else {
                    server::demo::Estate::CatalogOnly
                },
            )
            .await
            .expect("demo seed");
        }
        let ctx = state.ctx.clone();
        if options.worker {
            let worker = server::jobs::Worker::new(ctx.clone(), &config);
            match options.demo {
                true => worker.with_demo_cloud(format!("{base}/demo-cloud")),
                false => worker,
            }
            .spawn();
        }
        let app = server::router::router(state);
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        TestServer {
            base,
            data_dir: db.dir.clone(),
            ctx,
            config,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// Something serving Slipway's routes: the in-process server or a `slipway serve` process.
pub trait Endpoint {
    fn url(&self, path: &str) -> String;
}

impl Endpoint for TestServer {
    fn url(&self, path: &str) -> String {
        TestServer::url(self, path)
    }
}

/// `slipway serve --demo` as its own process (its job worker included) on a fixed port of
/// 127.0.0.1, over the test's database and data directory; killed with SIGKILL when dropped.
pub struct ServerProcess {
    pub base: String,
    addr: std::net::SocketAddr,
    env: Vec<(String, String)>,
    log: PathBuf,
    child: Option<tokio::process::Child>,
}

impl ServerProcess {
    /// Starts the binary and waits until /healthz answers.
    pub async fn start(db: &TestDb, env: &[(&str, &str)]) -> ServerProcess {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let base = format!("http://{addr}");
        let mut all = vec![
            ("DATABASE_URL".to_string(), db.url.clone()),
            ("SLIPWAY_DATA_DIR".to_string(), db.dir.display().to_string()),
            ("SLIPWAY_PUBLIC_URL".to_string(), base.clone()),
            ("RUST_LOG".to_string(), "info".to_string()),
            (
                "SLIPWAY_ALLOWED_HOSTS".to_string(),
                "127.0.0.1, localhost".to_string(),
            ),
        ];
        all.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let log = db.dir.join(format!("server-{}.log", addr.port()));
        let mut process = ServerProcess {
            base,
            addr,
            env: all,
            log,
            child: None,
        };
        process.restart().await;
        process
    }

    /// Starts the process again (after `kill`), on the same address.
    pub async fn restart(&mut self) {
        assert!(self.child.is_none(), "the server is still running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_slipway"));
        command
            .args(["serve", "--demo", "--addr", &self.addr.to_string()])
            .env_remove("SLIPWAY_CONFIG")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .kill_on_drop(true);
        self.child = Some(command.spawn().expect("the slipway binary starts"));
        let http = reqwest::Client::new();
        for _ in 0..600 {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("slipway serve exited ({status}):\n{}", self.output());
            }
            if http
                .get(self.url("/healthz"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("slipway serve did not answer in 60 s:\n{}", self.output());
    }

    /// SIGKILL: no shutdown, no cleanup, whatever it was doing.
    pub async fn kill(&mut self) {
        let mut child = self.child.take().expect("the server is running");
        child.kill().await.expect("SIGKILL");
    }

    /// What the process printed so far (to explain a failure).
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Endpoint for ServerProcess {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// A browser-like client: keeps cookies, follows no redirects (tests look at each hop).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Calls a server function the way the browser does (form-encoded POST, JSON answer).
pub async fn call(
    client: &reqwest::Client,
    server: &impl Endpoint,
    endpoint: &str,
    form: &[(&str, &str)],
) -> (u16, String) {
    let response = client
        .post(server.url(&format!("/api/{endpoint}")))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// Signs a demo user in on `client`.
pub async fn demo_sign_in(client: &reqwest::Client, server: &impl Endpoint, login: &str) {
    let response = client
        .post(server.url(&format!("/auth/demo/{login}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 303, "demo sign-in of {login}");
}

/// The repository's root (for the project's .venv tools).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A bare repository at `path` holding `files` in one commit on `main`, tagged v1.0.0, made with
/// the git command line (independently of the git2 code under test).
pub fn module_repository(path: &std::path::Path, files: &[(&str, &str)]) {
    let work = tempfile_dir(path);
    let git = |dir: &std::path::Path, args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_NAME", "Test")
            .env("GIT_AUTHOR_EMAIL", "test@example.com")
            .env("GIT_COMMITTER_NAME", "Test")
            .env("GIT_COMMITTER_EMAIL", "test@example.com")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(&work, &["init", "-q", "-b", "main"]);
    for (name, text) in files {
        let file = work.join(name);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
    git(&work, &["add", "."]);
    git(&work, &["commit", "-q", "-m", "modules"]);
    git(&work, &["tag", "v1.0.0"]);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    git(
        &work,
        &["clone", "-q", "--bare", ".", path.to_str().unwrap()],
    );
}

/// A fresh work folder beside `path`.
fn tempfile_dir(path: &std::path::Path) -> PathBuf {
    let dir = path.with_extension("work");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the git CLI in `dir` (never prompting) and returns its output; panics on failure.
pub fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let output = git_output(dir, args);
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// Runs the git CLI in `dir` (never prompting), whatever its outcome.
pub fn git_output(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .output()
        .unwrap()
}

/// `git_output` on a blocking thread: a git client talking to the test's own server must not
/// hold one of the runtime's two workers while the server needs it.
pub async fn git_async(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    let (dir, args): (std::path::PathBuf, Vec<String>) = (
        dir.to_path_buf(),
        args.iter().map(|a| a.to_string()).collect(),
    );
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        git_output(&dir, &args)
    })
    .await
    .unwrap()
}

/// `git_async` that must succeed; returns its output.
pub async fn git_ok(dir: &std::path::Path, args: &[&str]) -> String {
    let output = git_async(dir, args).await;
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// A real OpenSSH server on 127.0.0.1 (its own host key, config and log) that lets one client
/// key in as the current user; git runs through it as over any SSH forge. Killed when dropped.
pub struct SshServer {
    pub port: u16,
    pub user: String,
    /// The client's private key (OpenSSH format), as an integration holds it.
    pub client_key: String,
    /// `ssh-keyscan`'s line for the server: `[127.0.0.1]:PORT TYPE KEY`.
    pub known_host: String,
    log: PathBuf,
    child: std::process::Child,
}

impl SshServer {
    /// None (after `unavailable`) when this machine has no sshd.
    pub fn start(dir: &std::path::Path) -> Option<SshServer> {
        let sshd = std::path::Path::new("/usr/sbin/sshd");
        if !sshd.exists() {
            unavailable("sshd (/usr/sbin/sshd, Debian package openssh-server)");
            return None;
        }
        let dir = dir.join("sshd");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::create_dir_all("/run/sshd").ok();
        for name in ["host_key", "client_key"] {
            let status = std::process::Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
                .arg(dir.join(name))
                .status()
                .expect("ssh-keygen runs");
            assert!(status.success(), "ssh-keygen {name}");
        }
        std::fs::copy(dir.join("client_key.pub"), dir.join("authorized_keys")).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = dir.join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "ListenAddress 127.0.0.1\nPort {port}\nHostKey {d}/host_key\nAuthorizedKeysFile {d}/authorized_keys\n\
                 PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n\
                 PermitRootLogin prohibit-password\nPidFile {d}/sshd.pid\nLogLevel VERBOSE\n",
                d = dir.display()
            ),
        )
        .unwrap();
        let log = dir.join("sshd.log");
        let child = std::process::Command::new(sshd)
            .arg("-D")
            .arg("-f")
            .arg(&config)
            .arg("-E")
            .arg(&log)
            .spawn()
            .expect("sshd starts");
        let mut up = false;
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                up = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let host_key = std::fs::read_to_string(dir.join("host_key.pub")).unwrap();
        let mut words = host_key.split_whitespace();
        let known_host = format!(
            "[127.0.0.1]:{port} {} {}",
            words.next().unwrap(),
            words.next().unwrap()
        );
        let server = SshServer {
            port,
            user: String::from_utf8(
                std::process::Command::new("id")
                    .arg("-un")
                    .output()
                    .expect("id runs")
                    .stdout,
            )
            .unwrap()
            .trim()
            .to_string(),
            client_key: std::fs::read_to_string(dir.join("client_key")).unwrap(),
            known_host,
            log,
            child,
        };
        assert!(up, "sshd did not listen: {}", server.log());
        Some(server)
    }

    /// `ssh://USER@127.0.0.1:PORT/ABSOLUTE/PATH`.
    pub fn url(&self, path: &std::path::Path) -> String {
        format!(
            "ssh://{}@127.0.0.1:{}{}",
            self.user,
            self.port,
            path.display()
        )
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for SshServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The head commit of the resource's open pull request, as its page shows it ("" when none).
pub async fn open_pull_head(
    client: &reqwest::Client,
    server: &impl Endpoint,
    slug: &str,
) -> String {
    let (status, body) = call(
        client,
        server,
        "get_resource_workspace",
        &[("slug", slug), ("after", "0")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let view: serde_json::Value = serde_json::from_str(&body).unwrap();
    view["open_pull"]["head_commit"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Waits (up to two minutes) until the resource's last job has ended: a pull request's plan is
/// shown (or failed) before a reviewer can approve it.
pub async fn plan_shown(client: &reqwest::Client, server: &impl Endpoint, slug: &str) {
    for _ in 0..1200 {
        let (status, body) = call(
            client,
            server,
            "get_resource_workspace",
            &[("slug", slug), ("after", "0")],
        )
        .await;
        let view: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        if status != 200 || view.is_null() || view["done"] == true {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the last job of {slug} did not end within two minutes");
}

/// Approves (merges) or rejects (closes) the resource's open pull request as its page does:
/// approving names the head commit the page showed.
pub async fn review(
    client: &reqwest::Client,
    server: &impl Endpoint,
    slug: &str,
    approve: bool,
) -> (u16, String) {
    if approve {
        plan_shown(client, server, slug).await;
    }
    let head = open_pull_head(client, server, slug).await;
    call(
        client,
        server,
        "review_resource",
        &[
            ("slug", slug),
            ("approve", if approve { "true" } else { "false" }),
            ("commit", &head),
        ],
    )
    .await
}

/// Approves a governed repository's local pull request as its page does: the head commit shown.
pub async fn approve_governed(
    client: &reqwest::Client,
    server: &impl Endpoint,
    name: &str,
    number: &str,
    managed: bool,
) -> (u16, String) {
    let managed = if managed { "true" } else { "false" };
    let (status, body) = call(
        client,
        server,
        "get_governed_pull",
        &[("name", name), ("number", number), ("managed", managed)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let pull: serde_json::Value = serde_json::from_str(&body).unwrap();
    let head = pull["head_commit"].as_str().unwrap_or_default().to_string();
    call(
        client,
        server,
        "approve_pull_request",
        &[
            ("name", name),
            ("number", number),
            ("managed", managed),
            ("commit", &head),
        ],
    )
    .await
}
