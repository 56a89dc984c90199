//! Configuration from the environment and an optional `slipway.toml` whose keys are the
//! environment variables' names (the environment wins). Every problem is one line naming the
//! setting.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use url::Url;

mod providers;
#[allow(unused_imports)]
use providers::*;

#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: String,
    pub data_dir: PathBuf,
    pub public_url: Url,
    pub secret_key: SecretKey,
    pub admins: Vec<String>,
    pub site_root: PathBuf,
    /// The OpenTofu and Terraform programs executor runs use (default: `tofu` and `terraform`
    /// looked up on PATH when a run starts).
    pub tofu_bin: Option<PathBuf>,
    pub terraform_bin: Option<PathBuf>,
    /// A Terraform provider filesystem mirror (`SLIPWAY_PROVIDER_MIRROR`): runs install the
    /// providers it holds from it (shown read-only in the sandbox), and every other provider as
    /// usual. scripts/setup makes one holding the demo cloud's provider.
    pub provider_mirror: Option<PathBuf>,
    /// How long a worker's claim on a job lasts without a heartbeat: after a replica stops
    /// (crash, kill, lost host), its running jobs are resumed elsewhere once this has passed.
    pub job_lease: std::time::Duration,
    pub github: Option<GitHubSettings>,
    pub microsoft: Option<OidcSettings>,
    pub oidc: Option<OidcSettings>,
    /// Where release tags go: `None` is the embedded registry (tags in the database); `Some`
    /// is a real registry spoken to through the OCI distribution API.
    pub registry: Option<crate::adapters::oci_registry::OciSettings>,
    /// The workspace whose repository holds the environments' DeploymentConfigs; `None`: the
    /// local forge's `local/environments`.
    pub environments_workspace: Option<String>,
    /// Hosts and ranges beyond the public internet that outbound requests may reach
    /// (`SLIPWAY_ALLOWED_HOSTS`): loopback, private and link-local addresses are refused
    /// otherwise.
    pub egress: std::sync::Arc<crate::adapters::egress::Egress>,
    /// Limits on the local forge's smart HTTP: bytes in one push, how long one request may
    /// take, how many run at once on this replica.
    pub git_limits: GitLimits,
    /// Where e-mail notifications go out (`SLIPWAY_SMTP_URL`, `SLIPWAY_SMTP_FROM`); `None`:
    /// no e-mail, the other channels still work.
    pub smtp: Option<SmtpSettings>,
}

#[derive(Clone, Debug)]
pub struct SmtpSettings {
    /// `smtp://host:port` (STARTTLS when the server offers it), `smtps://host:465` (TLS), with
    /// `user:password@` when it asks for them. Kept as a secret: it may hold a password.
    pub url: SecretKey,
    /// The sender, `Name <address>`.
    pub from: String,
}

#[derive(Clone, Debug)]
pub struct GitLimits {
    pub max_push_bytes: u64,
    pub timeout: std::time::Duration,
    pub concurrency: usize,
}

/// The server's secret, from which keys for encryption at rest are derived. Never printed.
#[derive(Clone)]
pub struct SecretKey(String);

impl SecretKey {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

#[derive(Clone, Debug)]
pub struct GitHubSettings {
    pub client_id: String,
    pub client_secret: SecretKey,
    /// `https://github.com`, or a GitHub Enterprise Server's address.
    pub web_url: Url,
    /// `https://api.github.com`, or `https://HOST/api/v3` for GitHub Enterprise Server.
    pub api_url: Url,
}

#[derive(Clone, Debug)]
pub struct OidcSettings {
    /// `microsoft` or `oidc`.
    pub id: &'static str,
    pub label: String,
    pub issuer: Url,
    /// For Entra ID's multi-tenant endpoints (`common`, `organizations`): the issuer holds
    /// `{tenantid}`, replaced by the token's `tid` claim before comparing.
    pub issuer_is_template: bool,
    pub client_id: String,
    pub client_secret: Option<SecretKey>,
    pub scopes: Vec<String>,
    /// Entra ID: the tenants (`tid`) whose people may sign in; `None` for other issuers.
    pub allowed_tenants: Option<Vec<String>>,
}

/// A configuration problem: the one line start-up prints before it stops.
#[derive(Debug, thiserror::Error)]
#[error("{setting}: {message}")]
pub struct ConfigError {
    pub setting: String,
    pub message: String,
}

fn problem(setting: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        setting: setting.to_string(),
        message: message.into(),
    }
}

/// Where settings come from: the environment over the file.
pub struct Sources {
    values: BTreeMap<String, String>,
}

impl Sources {
    /// Reads `SLIPWAY_CONFIG` (default `./slipway.toml`, optional) and the environment.
    pub fn load() -> Result<Sources, ConfigError> {
        let explicit = std::env::var("SLIPWAY_CONFIG").ok();
        let path = PathBuf::from(explicit.clone().unwrap_or_else(|| "slipway.toml".into()));
        let mut values = BTreeMap::new();
        if path.exists() {
            values = read_toml(&path)?;
        } else if explicit.is_some() {
            return Err(problem(
                "SLIPWAY_CONFIG",
                format!("{} does not exist", path.display()),
            ));
        }
        for (key, value) in std::env::vars() {
            if key == "DATABASE_URL" || key.starts_with("SLIPWAY_") {
                values.insert(key, value);
            }
        }
        Ok(Sources { values })
    }

    pub fn from_map(values: BTreeMap<String, String>) -> Sources {
        Sources { values }
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.values
            .get(key)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }
}

fn read_toml(path: &Path) -> Result<BTreeMap<String, String>, ConfigError> {
    let setting = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| problem(&setting, e.to_string()))?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let message = e.message().to_string();
        let position = e
            .span()
            .map(|span| {
                let line = text[..span.start].matches('\n').count() + 1;
                let column =
                    span.start - text[..span.start].rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
                format!(":{line}:{column}")
            })
            .unwrap_or_default();
        problem(&format!("{setting}{position}"), message)
    })?;
    let mut values = BTreeMap::new();
    for (key, value) in table {
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Array(items) => items
                .into_iter()
                .map(|item| {
                    item.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| item.to_string())
                })
                .collect::<Vec<_>>()
                .join(","),
            _ => {
                return Err(problem(
                    &format!("{setting}: {key}"),
                    "must be a string, number, boolean or list",
                ))
            }
        };
        if key != "DATABASE_URL" && !key.starts_with("SLIPWAY_") {
            return Err(problem(&format!("{setting}: {key}"), "unknown setting (keys are the environment variables' names, e.g. SLIPWAY_PUBLIC_URL)"));
        }
        values.insert(key, text);
    }
    Ok(values)
}

/// A path setting resolved against the working directory at start-up (symlinks kept).
fn absolute(setting: &str, value: &str) -> Result<PathBuf, ConfigError> {
    if value.is_empty() {
        return Err(problem(setting, "is empty"));
    }
    std::path::absolute(value)
        .map_err(|e| problem(setting, format!("{value:?} cannot be made absolute ({e})")))
}

fn parse_url(setting: &str, value: &str) -> Result<Url, ConfigError> {
    let url =
        Url::parse(value).map_err(|e| problem(setting, format!("{value:?} is not a URL ({e})")))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(problem(
            setting,
            format!("{value:?} must start with http:// or https://"),
        ));
    }
    Ok(url)
}

/// `DATABASE_URL`, or the SQLite file in the data directory.
fn database_url(sources: &Sources, data_dir: &Path) -> Result<String, ConfigError> {
    match sources.get("DATABASE_URL") {
        Some(url) => {
            if !(url.starts_with("sqlite:")
                || url.starts_with("postgres://")
                || url.starts_with("postgresql://"))
            {
                return Err(problem(
                    "DATABASE_URL",
                    "must start with sqlite:, postgres:// or postgresql://",
                ));
            }
            Ok(url.to_string())
        }
        None => Ok(format!(
            "sqlite://{}",
            data_dir.join("slipway.db").display()
        )),
    }
}

/// `SLIPWAY_SECRET_KEY`: required behind https; on one machine, made once in the data
/// directory.
fn secret_key(sources: &Sources, https: bool, data_dir: &Path) -> Result<SecretKey, ConfigError> {
    match sources.get("SLIPWAY_SECRET_KEY") {
        Some(key) if key.len() < 32 => Err(problem(
            "SLIPWAY_SECRET_KEY",
            "must be at least 32 characters (e.g. `openssl rand -base64 32`)",
        )),
        Some(key) => Ok(SecretKey(key.to_string())),
        None if https => Err(problem(
            "SLIPWAY_SECRET_KEY",
            "is required when SLIPWAY_PUBLIC_URL is https",
        )),
        None => embedded_secret_key(data_dir),
    }
}

/// An absolute path to a program, if the setting is given.
fn program(sources: &Sources, key: &str) -> Result<Option<PathBuf>, ConfigError> {
    match sources.get(key) {
        None => Ok(None),
        Some(value) => {
            let path = PathBuf::from(value);
            if path.is_absolute() {
                Ok(Some(path))
            } else {
                Err(problem(key, "must be an absolute path to the program"))
            }
        }
    }
}

fn provider_mirror(sources: &Sources) -> Result<Option<PathBuf>, ConfigError> {
    let key = "SLIPWAY_PROVIDER_MIRROR";
    let Some(value) = sources.get(key).filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    let path = absolute(key, value)?;
    if !path.is_dir() {
        return Err(problem(
            key,
            format!(
                "{} is not a folder (run scripts/setup to make the demo's)",
                path.display()
            ),
        ));
    }
    Ok(Some(path))
}

/// A whole number of `unit` within `range`, or `default` when the setting is not given.
fn number(
    sources: &Sources,
    key: &str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
    unit: &str,
) -> Result<u64, ConfigError> {
    match sources.get(key) {
        None => Ok(default),
        Some(value) => match value.trim().parse::<u64>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(problem(
                key,
                format!(
                    "{value:?} is not a whole number of {unit} from {} to {}",
                    range.start(),
                    range.end()
                ),
            )),
        },
    }
}

/// What one replica's git server allows: push size, time per request, requests at once.
fn git_limits(sources: &Sources) -> Result<GitLimits, ConfigError> {
    Ok(GitLimits {
        max_push_bytes: number(
            sources,
            "SLIPWAY_GIT_MAX_PUSH_MB",
            1024,
            1..=1 << 20,
            "megabytes",
        )? << 20,
        timeout: std::time::Duration::from_secs(number(
            sources,
            "SLIPWAY_GIT_TIMEOUT_SECONDS",
            900,
            1..=86_400,
            "seconds",
        )?),
        concurrency: number(sources, "SLIPWAY_GIT_CONCURRENCY", 16, 1..=4096, "requests")? as usize,
    })
}

/// The workspace that holds the release environments' files, if one is named.
fn environments_workspace(sources: &Sources) -> Result<Option<String>, ConfigError> {
    match sources.get("SLIPWAY_ENVIRONMENTS_WORKSPACE") {
        None => Ok(None),
        Some(slug) if app::domain::names::validate_slug(slug).is_ok() => Ok(Some(slug.to_string())),
        Some(slug) => Err(problem(
            "SLIPWAY_ENVIRONMENTS_WORKSPACE",
            format!("{slug:?} is not a workspace slug"),
        )),
    }
}

/// `SLIPWAY_SMTP_URL` and `SLIPWAY_SMTP_FROM`, each checked as the mailer will read it.
fn smtp_settings(sources: &Sources, public_url: &Url) -> Result<Option<SmtpSettings>, ConfigError> {
    let Some(url) = sources
        .get("SLIPWAY_SMTP_URL")
        .filter(|u| !u.trim().is_empty())
    else {
        if sources.get("SLIPWAY_SMTP_FROM").is_some() {
            return Err(problem(
                "SLIPWAY_SMTP_FROM",
                "is set but SLIPWAY_SMTP_URL is not: e-mail needs both",
            ));
        }
        return Ok(None);
    };
    lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url.trim()).map_err(|e| {
        problem(
            "SLIPWAY_SMTP_URL",
            format!("{e} (expected smtp://host:port or smtps://user:password@host:465)"),
        )
    })?;
    let from = match sources.get("SLIPWAY_SMTP_FROM") {
        Some(from) => from.trim().to_string(),
        None => {
            // An address's domain is a name: a portal reached by IP sends as localhost.
            let host = public_url
                .host()
                .and_then(|h| match h {
                    url::Host::Domain(name) => Some(name.to_string()),
                    _ => None,
                })
                .unwrap_or_else(|| "localhost".into());
            format!("Slipway <slipway@{host}>")
        }
    };
    from.parse::<lettre::message::Mailbox>().map_err(|e| {
        problem(
            "SLIPWAY_SMTP_FROM",
            format!("{from:?} is not an address ({e}); e.g. \"Slipway <slipway@example.com>\""),
        )
    })?;
    Ok(Some(SmtpSettings {
        url: SecretKey(url.trim().to_string()),
        from,
    }))
}

impl Config {
    pub fn from_sources(sources: &Sources) -> Result<Config, ConfigError> {
        // Made absolute once, here: every path derived from it (the SQLite file, the local
        // forge's `file://` remotes, run folders, mirrors) must mean the same place whatever
        // directory a later step, a child process or libgit2 resolves it from.
        let data_dir = absolute(
            "SLIPWAY_DATA_DIR",
            sources.get("SLIPWAY_DATA_DIR").unwrap_or("./data"),
        )?;
        let public_url = parse_url(
            "SLIPWAY_PUBLIC_URL",
            sources
                .get("SLIPWAY_PUBLIC_URL")
                .unwrap_or("http://127.0.0.1:3000"),
        )?;
        let https = public_url.scheme() == "https";
        let admins = sources
            .get("SLIPWAY_ADMINS")
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_lowercase())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let site_root = absolute(
            "SLIPWAY_SITE_ROOT",
            &sources
                .get("SLIPWAY_SITE_ROOT")
                .or(sources.get("LEPTOS_SITE_ROOT"))
                .map(str::to_string)
                .or_else(|| std::env::var("LEPTOS_SITE_ROOT").ok())
                .unwrap_or_else(|| "target/site".into()),
        )?;
        let egress = crate::adapters::egress::Egress::parse(
            sources.get("SLIPWAY_ALLOWED_HOSTS").unwrap_or_default(),
        )
        .map_err(|why| problem("SLIPWAY_ALLOWED_HOSTS", why))?;
        Ok(Config {
            smtp: smtp_settings(sources, &public_url)?,
            egress: std::sync::Arc::new(egress),
            git_limits: git_limits(sources)?,
            job_lease: std::time::Duration::from_secs(number(
                sources,
                "SLIPWAY_JOB_LEASE_SECONDS",
                60,
                3..=3600,
                "seconds",
            )?),
            tofu_bin: program(sources, "SLIPWAY_TOFU_BIN")?,
            terraform_bin: program(sources, "SLIPWAY_TERRAFORM_BIN")?,
            provider_mirror: provider_mirror(sources)?,
            github: github_settings(sources)?,
            microsoft: microsoft_settings(sources)?,
            oidc: oidc_settings(sources)?,
            registry: registry_settings(sources)?,
            environments_workspace: environments_workspace(sources)?,
            database_url: database_url(sources, &data_dir)?,
            secret_key: secret_key(sources, https, &data_dir)?,
            data_dir,
            public_url,
            admins,
            site_root,
        })
    }

    pub fn is_https(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// The address a provider sends the browser back to.
    pub fn callback_url(&self, provider: &str) -> Url {
        let mut url = self.public_url.clone();
        url.set_path(&format!("/auth/{provider}/callback"));
        url.set_query(None);
        url
    }
}

/// In embedded mode the key is generated once and kept in the data directory (mode 0600).
fn embedded_secret_key(data_dir: &Path) -> Result<SecretKey, ConfigError> {
    use base64::Engine;
    use rand::RngCore;
    let path = data_dir.join("secret_key");
    let setting = "SLIPWAY_SECRET_KEY";
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let key = existing.trim().to_string();
        if key.len() >= 32 {
            return Ok(SecretKey(key));
        }
        return Err(problem(
            setting,
            format!("{} holds a key shorter than 32 characters", path.display()),
        ));
    }
    std::fs::create_dir_all(data_dir).map_err(|e| {
        problem(
            "SLIPWAY_DATA_DIR",
            format!("cannot create {}: {e}", data_dir.display()),
        )
    })?;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let key = base64::engine::general_purpose::STANDARD.encode(bytes);
    write_private(&path, &key)
        .map_err(|e| problem(setting, format!("cannot write {}: {e}", path.display())))?;
    Ok(SecretKey(key))
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let dir = std::env::temp_dir().join(format!("slipway-config-{}", rand::random::<u64>()));
        let mut values: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        values
            .entry("SLIPWAY_DATA_DIR".into())
            .or_insert(dir.display().to_string());
        Config::from_sources(&Sources::from_map(values))
    }

    #[test]
    fn embedded_defaults_generate_a_key_once() {
        let dir = std::env::temp_dir().join(format!("slipway-config-{}", rand::random::<u64>()));
        let dir_text = dir.display().to_string();
        let first = config(&[("SLIPWAY_DATA_DIR", &dir_text)]).unwrap();
        let second = config(&[("SLIPWAY_DATA_DIR", &dir_text)]).unwrap();
        assert_eq!(first.secret_key.expose(), second.secret_key.expose());
        assert_eq!(
            first.database_url,
            format!("sqlite://{}/slipway.db", dir_text)
        );
        assert!(first.github.is_none() && first.microsoft.is_none() && first.oidc.is_none());
        assert_eq!(format!("{:?}", first.secret_key), "SecretKey(…)");
        assert_eq!(first.job_lease, std::time::Duration::from_secs(60));
        assert!(first.registry.is_none(), "the embedded registry by default");
    }

    #[test]
    fn a_relative_data_dir_is_made_absolute_once() {
        // The README's default is the relative `./data`; every path derived from it (the
        // database, the local forge's `file://` remotes) must be absolute, or libgit2 and child
        // processes resolve it against whatever directory they run in.
        let name = format!("slipway-config-rel-{}", rand::random::<u64>());
        let config = config(&[("SLIPWAY_DATA_DIR", &format!("./{name}"))]).unwrap();
        let expected = std::env::current_dir().unwrap().join(&name);
        assert_eq!(config.data_dir, expected);
        assert!(config.site_root.is_absolute());
        assert_eq!(
            config.database_url,
            format!("sqlite://{}/slipway.db", expected.display())
        );
        std::fs::remove_dir_all(&expected).unwrap();
    }

    #[test]
    fn each_bad_setting_is_named_in_one_line() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("SLIPWAY_PUBLIC_URL", "https://slipway.example.com")], "SLIPWAY_SECRET_KEY: is required when SLIPWAY_PUBLIC_URL is https"),
            (&[("SLIPWAY_PUBLIC_URL", "ftp://x")], "SLIPWAY_PUBLIC_URL: \"ftp://x\" must start with http:// or https://"),
            (&[("SLIPWAY_SECRET_KEY", "short")], "SLIPWAY_SECRET_KEY: must be at least 32 characters (e.g. `openssl rand -base64 32`)"),
            (&[("DATABASE_URL", "mysql://x")], "DATABASE_URL: must start with sqlite:, postgres:// or postgresql://"),
            (&[("SLIPWAY_GITHUB_CLIENT_ID", "abc")], "SLIPWAY_GITHUB_CLIENT_SECRET: is missing while SLIPWAY_GITHUB_CLIENT_ID is set"),
            (&[("SLIPWAY_OIDC_CLIENT_SECRET", "abc")], "SLIPWAY_OIDC_CLIENT_ID: is missing while SLIPWAY_OIDC_CLIENT_SECRET is set"),
            (&[("SLIPWAY_OIDC_CLIENT_ID", "abc")], "SLIPWAY_OIDC_ISSUER: is missing while SLIPWAY_OIDC_CLIENT_ID is set"),
            (&[("SLIPWAY_MICROSOFT_CLIENT_ID", "abc"), ("SLIPWAY_MICROSOFT_TENANT", "../x")], "SLIPWAY_MICROSOFT_TENANT: must be a tenant id, a domain, common or organizations"),
            (&[("SLIPWAY_JOB_LEASE_SECONDS", "1")], "SLIPWAY_JOB_LEASE_SECONDS: \"1\" is not a whole number of seconds from 3 to 3600"),
            (&[("SLIPWAY_JOB_LEASE_SECONDS", "1m")], "SLIPWAY_JOB_LEASE_SECONDS: \"1m\" is not a whole number of seconds from 3 to 3600"),
            (&[("SLIPWAY_ENVIRONMENTS_WORKSPACE", "../x")], "SLIPWAY_ENVIRONMENTS_WORKSPACE: \"../x\" is not a workspace slug"),
            (&[("SLIPWAY_REGISTRY", "harbor")], "SLIPWAY_REGISTRY: \"harbor\" is neither embedded nor oci"),
            (&[("SLIPWAY_REGISTRY_PLAIN_HTTP", "127.0.0.1:5000")], "SLIPWAY_REGISTRY_PLAIN_HTTP: is set while SLIPWAY_REGISTRY is not oci"),
            (&[("SLIPWAY_REGISTRY", "oci"), ("SLIPWAY_REGISTRY_PLAIN_HTTP", "a/b")], "SLIPWAY_REGISTRY_PLAIN_HTTP: \"a/b\" is not a host or host:port"),
            (&[("SLIPWAY_REGISTRY", "oci"), ("SLIPWAY_REGISTRY_AUTH_FILE", "/nonexistent/config.json")], "SLIPWAY_REGISTRY_AUTH_FILE: /nonexistent/config.json: No such file or directory (os error 2)"),
        ];
        for (pairs, expected) in cases {
            let error = config(pairs).unwrap_err().to_string();
            assert_eq!(&error, expected);
            assert!(!error.contains('\n'));
        }
    }

    #[test]
    fn github_enterprise_gets_its_api_under_api_v3_and_entra_multi_tenant_issuers_are_templates() {
        let c = config(&[
            ("SLIPWAY_GITHUB_CLIENT_ID", "id"),
            ("SLIPWAY_GITHUB_CLIENT_SECRET", "secret"),
            ("SLIPWAY_GITHUB_URL", "https://ghe.example.com"),
            ("SLIPWAY_MICROSOFT_CLIENT_ID", "ms"),
            ("SLIPWAY_MICROSOFT_TENANT", "common"),
            (
                "SLIPWAY_MICROSOFT_ALLOWED_TENANTS",
                "11111111-2222-3333-4444-555555555555",
            ),
        ])
        .unwrap();
        assert_eq!(
            c.github.unwrap().api_url.as_str(),
            "https://ghe.example.com/api/v3"
        );
        let ms = c.microsoft.unwrap();
        assert_eq!(
            ms.issuer.as_str(),
            "https://login.microsoftonline.com/common/v2.0"
        );
        assert!(ms.issuer_is_template);
        assert_eq!(
            ms.allowed_tenants,
            Some(vec!["11111111-2222-3333-4444-555555555555".to_string()])
        );
        // Any tenant at all is never the default.
        let open = config(&[("SLIPWAY_MICROSOFT_CLIENT_ID", "ms")]).unwrap_err();
        assert_eq!(open.setting, "SLIPWAY_MICROSOFT_ALLOWED_TENANTS");
        assert!(
            open.message.contains("admits people of any Entra tenant"),
            "{open}"
        );
        let one = config(&[
            ("SLIPWAY_MICROSOFT_CLIENT_ID", "ms"),
            (
                "SLIPWAY_MICROSOFT_TENANT",
                "AAAAAAAA-2222-3333-4444-555555555555",
            ),
        ])
        .unwrap();
        assert_eq!(
            one.microsoft.unwrap().allowed_tenants,
            Some(vec!["aaaaaaaa-2222-3333-4444-555555555555".to_string()])
        );
    }

    #[test]
    fn toml_errors_name_file_line_and_column_and_unknown_keys() {
        let dir = std::env::temp_dir().join(format!("slipway-toml-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("bad.toml");
        std::fs::write(&bad, "DATABASE_URL = \"sqlite://x\"\nSLIPWAY_ADMINS = [\n").unwrap();
        let error = read_toml(&bad).unwrap_err().to_string();
        assert!(error.starts_with(&format!("{}:", bad.display())), "{error}");
        assert!(error.contains(":3:1:") || error.contains(":2:"), "{error}");
        let unknown = dir.join("unknown.toml");
        std::fs::write(&unknown, "PUBLIC_URL = \"x\"\n").unwrap();
        assert!(read_toml(&unknown)
            .unwrap_err()
            .to_string()
            .contains("PUBLIC_URL: unknown setting"));
        let good = dir.join("good.toml");
        std::fs::write(&good, "SLIPWAY_ADMINS = [\"ada\", \"bo@example.com\"]\n").unwrap();
        assert_eq!(
            read_toml(&good).unwrap()["SLIPWAY_ADMINS"],
            "ada,bo@example.com"
        );
    }
}
