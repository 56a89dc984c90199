//! Integrations: the providers Slipway connects to, the typed settings each one takes, how those
//! settings are validated, and how a provider's credentials reach an OpenTofu process (the
//! provider's standard environment variables) and its generated code (a `provider` block).
//!
//! Settings are split in two: plain settings (shown, stored as JSON) and secrets (write-only,
//! sealed at rest by the server). The field tables below are the single description both the
//! form and the validation use.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A provider's settings or secrets, by field name.
pub type Fields = BTreeMap<String, String>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntegrationKind {
    Cloud,
    Git,
    Auth,
}

impl IntegrationKind {
    pub fn label(self) -> &'static str {
        match self {
            IntegrationKind::Cloud => "Cloud provider",
            IntegrationKind::Git => "Git provider",
            IntegrationKind::Auth => "Auth provider",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    Aws,
    Azure,
    GoogleCloud,
    MongodbAtlas,
    Datadog,
    LocalGit,
    Github,
    Bitbucket,
    AzureDevops,
    GithubOauth,
    MicrosoftOauth,
    ServiceAccount,
}

/// How a field is entered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    Text,
    /// Several lines (a key or a JSON document).
    Multiline,
    /// One of a fixed list.
    Choice(&'static [&'static str]),
}

/// One field of a provider's settings form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub help: &'static str,
    /// Secrets are write-only: sealed at rest, never sent back.
    pub secret: bool,
    pub required: bool,
    pub input: Input,
    /// A value used when the field is left empty.
    pub default: Option<&'static str>,
    check: Check,
}

/// What a field's value must look like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Check {
    Any,
    /// ASCII letters and digits of exactly this length, with an allowed prefix set.
    AwsAccessKey,
    AwsRegion,
    Uuid,
    GcpProject,
    GcpServiceAccountJson,
    Hex(usize),
    /// http(s) URL without user info, query or fragment.
    HttpUrl,
    /// A name of letters, digits, '-', '_' and '.' (organisations, workspaces, logins).
    Name,
    PrivateKey,
    /// OpenSSH known_hosts lines (see `known_host_keys`).
    KnownHosts,
    /// At least this many printable characters, no whitespace.
    Token(usize),
    /// Cloud storage names: `min..=max` lowercase letters and digits, plus the `extra`
    /// characters inside (never first or last).
    Lowercase {
        min: usize,
        max: usize,
        extra: &'static str,
    },
}

/// S3 bucket names (AWS "Bucket naming rules").
const S3_BUCKET: Check = Check::Lowercase {
    min: 3,
    max: 63,
    extra: "-.",
};
/// Cloud Storage bucket names (without dots' domain verification).
const GCS_BUCKET: Check = Check::Lowercase {
    min: 3,
    max: 63,
    extra: "-_.",
};
const STATE_KEY_HELP: &str =
    "Each resource keeps its state under <template>/<resource>/ here; leave empty for local state.";

const AWS_REGIONS_HELP: &str = "The default region, e.g. eu-west-1.";
const DATADOG_SITES: &[&str] = &[
    "datadoghq.com",
    "us3.datadoghq.com",
    "us5.datadoghq.com",
    "datadoghq.eu",
    "ap1.datadoghq.com",
    "ddog-gov.com",
];

const fn field(name: &'static str, label: &'static str, help: &'static str, check: Check) -> Field {
    Field {
        name,
        label,
        help,
        secret: false,
        required: true,
        input: Input::Text,
        default: None,
        check,
    }
}

const fn secret(
    name: &'static str,
    label: &'static str,
    help: &'static str,
    check: Check,
) -> Field {
    Field {
        secret: true,
        ..field(name, label, help, check)
    }
}

const fn optional(f: Field) -> Field {
    Field {
        required: false,
        ..f
    }
}

const fn multiline(f: Field) -> Field {
    Field {
        input: Input::Multiline,
        ..f
    }
}

const fn with_default(f: Field, default: &'static str) -> Field {
    Field {
        required: false,
        default: Some(default),
        ..f
    }
}

const SSH_KEY: Field = optional(multiline(secret(
    "ssh_private_key",
    "SSH private key",
    "Used when a repository URL is ssh:// or git@…; an OpenSSH or PEM private key.",
    Check::PrivateKey,
)));

const SSH_KNOWN_HOSTS: Field = optional(multiline(field(
    "ssh_known_hosts",
    "SSH known hosts",
    "The SSH host's keys as known_hosts lines (from `ssh-keyscan HOST`); Slipway pushes over SSH only to a host whose key is listed here. Empty: the server's ~/.ssh/known_hosts decides.",
    Check::KnownHosts,
)));

/// SSH host key types a known_hosts line may name.
const HOST_KEY_TYPES: &[&str] = &[
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
];

/// One known_hosts line: (host patterns, key type, base64 key), or why it cannot be used.
fn known_host_line(line: &str) -> Result<(Vec<&str>, &str, &str), String> {
    let mut words = line.split_whitespace();
    let (Some(hosts), Some(kind), Some(key)) = (words.next(), words.next(), words.next()) else {
        return Err("needs three fields: host, key type and key".into());
    };
    if hosts.starts_with('@') {
        return Err(format!("markers such as {hosts} are not supported"));
    }
    if hosts.starts_with('|') {
        return Err(
            "hashed host names (|1|…) are not supported; run ssh-keyscan without -H".into(),
        );
    }
    if hosts.contains(['*', '?', '!']) {
        return Err("host patterns with *, ? or ! are not supported; name each host".into());
    }
    if !HOST_KEY_TYPES.contains(&kind) {
        return Err(format!(
            "{kind:?} is not a host key type ({})",
            HOST_KEY_TYPES.join(", ")
        ));
    }
    let base64 = |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=');
    if key.len() < 16 || !key.chars().all(base64) {
        return Err("the key is not base64".into());
    }
    Ok((hosts.split(',').collect(), kind, key))
}

/// The keys (type, base64) `text` (known_hosts lines) lists for `host`: entries naming the host
/// itself or `[host]:port`. Lines that cannot be used are skipped (the form refuses them).
pub fn known_host_keys(text: &str, host: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| known_host_line(l).ok())
        .filter(|(hosts, ..)| {
            hosts.iter().any(|h| {
                h.eq_ignore_ascii_case(host)
                    || h.strip_prefix('[')
                        .and_then(|h| h.split_once("]:"))
                        .is_some_and(|(name, port)| {
                            name.eq_ignore_ascii_case(host)
                                && !port.is_empty()
                                && port.bytes().all(|b| b.is_ascii_digit())
                        })
            })
        })
        .map(|(_, kind, key)| (kind.to_string(), key.to_string()))
        .collect()
}

impl Provider {
    pub const ALL: [Provider; 12] = [
        Provider::Aws,
        Provider::Azure,
        Provider::GoogleCloud,
        Provider::MongodbAtlas,
        Provider::Datadog,
        Provider::LocalGit,
        Provider::Github,
        Provider::Bitbucket,
        Provider::AzureDevops,
        Provider::GithubOauth,
        Provider::MicrosoftOauth,
        Provider::ServiceAccount,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Aws => "aws",
            Provider::Azure => "azure",
            Provider::GoogleCloud => "google_cloud",
            Provider::MongodbAtlas => "mongodb_atlas",
            Provider::Datadog => "datadog",
            Provider::LocalGit => "local_git",
            Provider::Github => "github",
            Provider::Bitbucket => "bitbucket",
            Provider::AzureDevops => "azure_devops",
            Provider::GithubOauth => "github_oauth",
            Provider::MicrosoftOauth => "microsoft_oauth",
            Provider::ServiceAccount => "service_account",
        }
    }

    pub fn parse(value: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            Provider::Aws => "AWS",
            Provider::Azure => "Azure",
            Provider::GoogleCloud => "Google Cloud",
            Provider::MongodbAtlas => "MongoDB Atlas",
            Provider::Datadog => "Datadog",
            Provider::LocalGit => "Local Git (this server)",
            Provider::Github => "GitHub",
            Provider::Bitbucket => "Bitbucket Cloud",
            Provider::AzureDevops => "Azure DevOps",
            Provider::GithubOauth => "GitHub OAuth",
            Provider::MicrosoftOauth => "Microsoft OAuth",
            Provider::ServiceAccount => "Service account",
        }
    }

    pub fn kind(self) -> IntegrationKind {
        match self {
            Provider::Aws
            | Provider::Azure
            | Provider::GoogleCloud
            | Provider::MongodbAtlas
            | Provider::Datadog => IntegrationKind::Cloud,
            Provider::LocalGit | Provider::Github | Provider::Bitbucket | Provider::AzureDevops => {
                IntegrationKind::Git
            }
            Provider::GithubOauth | Provider::MicrosoftOauth | Provider::ServiceAccount => {
                IntegrationKind::Auth
            }
        }
    }

    /// The provider's form, in order.
    pub fn fields(self) -> &'static [Field] {
        const AWS: &[Field] = &[
            field(
                "access_key_id",
                "Access key ID",
                "An IAM access key, AKIA… or ASIA… (20 characters).",
                Check::AwsAccessKey,
            ),
            secret(
                "secret_access_key",
                "Secret access key",
                "The key's 40-character secret.",
                Check::Token(40),
            ),
            optional(secret(
                "session_token",
                "Session token",
                "Only for temporary (ASIA…) credentials.",
                Check::Token(16),
            )),
            with_default(
                field("region", "Region", AWS_REGIONS_HELP, Check::AwsRegion),
                "us-east-1",
            ),
            optional(field(
                "state_bucket",
                "State bucket (S3)",
                STATE_KEY_HELP,
                S3_BUCKET,
            )),
            optional(field(
                "state_lock_table",
                "State lock table (DynamoDB)",
                "Locks the state while a run holds it; needs a state bucket.",
                Check::Name,
            )),
        ];
        const AZURE: &[Field] = &[
            field(
                "tenant_id",
                "Tenant ID",
                "The Entra ID directory (a UUID).",
                Check::Uuid,
            ),
            field(
                "subscription_id",
                "Subscription ID",
                "The subscription resources go into (a UUID).",
                Check::Uuid,
            ),
            field(
                "client_id",
                "Client ID",
                "The service principal's application ID (a UUID).",
                Check::Uuid,
            ),
            secret(
                "client_secret",
                "Client secret",
                "The service principal's secret.",
                Check::Token(8),
            ),
            optional(field(
                "state_resource_group",
                "State resource group",
                "The resource group of the state storage account.",
                Check::Name,
            )),
            optional(field(
                "state_storage_account",
                "State storage account",
                STATE_KEY_HELP,
                Check::Lowercase {
                    min: 3,
                    max: 24,
                    extra: "",
                },
            )),
            optional(field(
                "state_container",
                "State container",
                "The blob container in that account.",
                Check::Lowercase {
                    min: 3,
                    max: 63,
                    extra: "-",
                },
            )),
        ];
        const GOOGLE: &[Field] = &[
            field(
                "project_id",
                "Project ID",
                "6–30 lowercase letters, digits and hyphens, starting with a letter.",
                Check::GcpProject,
            ),
            with_default(
                field(
                    "region",
                    "Region",
                    "The default region, e.g. europe-west1.",
                    Check::Name,
                ),
                "us-central1",
            ),
            multiline(secret(
                "credentials_json",
                "Service account key (JSON)",
                "The JSON key file of a service account (\"type\": \"service_account\").",
                Check::GcpServiceAccountJson,
            )),
            optional(field(
                "state_bucket",
                "State bucket (Cloud Storage)",
                STATE_KEY_HELP,
                GCS_BUCKET,
            )),
        ];
        const ATLAS: &[Field] = &[
            field(
                "organization_id",
                "Organization ID",
                "24 hexadecimal characters.",
                Check::Hex(24),
            ),
            field(
                "public_key",
                "Public API key",
                "The programmatic API key's public part.",
                Check::Name,
            ),
            secret(
                "private_key",
                "Private API key",
                "The programmatic API key's private part.",
                Check::Token(16),
            ),
        ];
        const DATADOG: &[Field] = &[
            Field {
                input: Input::Choice(DATADOG_SITES),
                ..with_default(
                    field(
                        "site",
                        "Site",
                        "The Datadog site your organisation is on.",
                        Check::Any,
                    ),
                    "datadoghq.com",
                )
            },
            secret(
                "api_key",
                "API key",
                "32 hexadecimal characters.",
                Check::Hex(32),
            ),
            secret(
                "app_key",
                "Application key",
                "40 hexadecimal characters.",
                Check::Hex(40),
            ),
        ];
        const LOCAL_GIT: &[Field] = &[];
        const GITHUB: &[Field] = &[
            with_default(
                field(
                    "api_url",
                    "API URL",
                    "https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server.",
                    Check::HttpUrl,
                ),
                "https://api.github.com",
            ),
            field(
                "organization",
                "Organization",
                "The organization or user that owns the repositories.",
                Check::Name,
            ),
            secret(
                "token",
                "Access token",
                "A fine-grained or classic token with repository read and write.",
                Check::Token(20),
            ),
            optional(secret(
                "webhook_secret",
                "Webhook secret",
                "The secret of the organization's webhook to /hooks/github (pull_request and pull_request_review events): Slipway then posts the Merge Authorized status on governed repositories' pull requests.",
                Check::Token(16),
            )),
            SSH_KEY,
            SSH_KNOWN_HOSTS,
        ];
        const BITBUCKET: &[Field] = &[
            with_default(
                field(
                    "api_url",
                    "API URL",
                    "https://api.bitbucket.org/2.0",
                    Check::HttpUrl,
                ),
                "https://api.bitbucket.org/2.0",
            ),
            field(
                "workspace",
                "Workspace",
                "The Bitbucket workspace ID.",
                Check::Name,
            ),
            field(
                "username",
                "Username",
                "The Bitbucket username the app password belongs to.",
                Check::Name,
            ),
            secret(
                "app_password",
                "App password",
                "An app password with repository and pull request scopes.",
                Check::Token(16),
            ),
            SSH_KEY,
            SSH_KNOWN_HOSTS,
        ];
        const AZURE_DEVOPS: &[Field] = &[
            field(
                "organization_url",
                "Organization URL",
                "https://dev.azure.com/ORGANIZATION",
                Check::HttpUrl,
            ),
            field(
                "project",
                "Project",
                "The project that holds the repositories.",
                Check::Name,
            ),
            secret(
                "token",
                "Personal access token",
                "A PAT with Code (read and write) scope.",
                Check::Token(20),
            ),
            SSH_KEY,
            SSH_KNOWN_HOSTS,
        ];
        const GITHUB_OAUTH: &[Field] = &[
            with_default(
                field(
                    "web_url",
                    "Web URL",
                    "https://github.com, or your GitHub Enterprise Server.",
                    Check::HttpUrl,
                ),
                "https://github.com",
            ),
            field(
                "client_id",
                "Client ID",
                "The OAuth app's client ID.",
                Check::Name,
            ),
            secret(
                "client_secret",
                "Client secret",
                "The OAuth app's client secret.",
                Check::Token(20),
            ),
        ];
        const MICROSOFT_OAUTH: &[Field] = &[
            field(
                "tenant_id",
                "Tenant ID",
                "The Entra ID directory (a UUID), or organizations / common.",
                Check::Any,
            ),
            field(
                "client_id",
                "Client ID",
                "The app registration's application ID (a UUID).",
                Check::Uuid,
            ),
            secret(
                "client_secret",
                "Client secret",
                "The app registration's client secret.",
                Check::Token(8),
            ),
        ];
        const SERVICE_ACCOUNT: &[Field] = &[
            field(
                "login",
                "Login",
                "The name the account acts under in the audit log.",
                Check::Name,
            ),
            secret(
                "token",
                "Token",
                "At least 32 characters; callers send it as a bearer token.",
                Check::Token(32),
            ),
        ];
        match self {
            Provider::Aws => AWS,
            Provider::Azure => AZURE,
            Provider::GoogleCloud => GOOGLE,
            Provider::MongodbAtlas => ATLAS,
            Provider::Datadog => DATADOG,
            Provider::LocalGit => LOCAL_GIT,
            Provider::Github => GITHUB,
            Provider::Bitbucket => BITBUCKET,
            Provider::AzureDevops => AZURE_DEVOPS,
            Provider::GithubOauth => GITHUB_OAUTH,
            Provider::MicrosoftOauth => MICROSOFT_OAUTH,
            Provider::ServiceAccount => SERVICE_ACCOUNT,
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A field that failed validation, named as the form names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

fn fail(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_string(),
        message: message.into(),
    }
}

fn check_value(check: Check, value: &str) -> Result<(), String> {
    let printable = |v: &str| v.chars().all(|c| c.is_ascii_graphic());
    match check {
        Check::Any => {
            if value.chars().any(|c| c.is_control()) {
                return Err("must not hold control characters".into());
            }
        }
        Check::AwsAccessKey => {
            let ok = value.len() == 20
                && (value.starts_with("AKIA") || value.starts_with("ASIA"))
                && value
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
            if !ok {
                return Err("must be 20 characters of A–Z and 0–9 starting AKIA or ASIA".into());
            }
        }
        Check::AwsRegion => {
            let parts: Vec<&str> = value.split('-').collect();
            let ok = parts.len() >= 3
                && parts[..parts.len() - 1]
                    .iter()
                    .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
                && parts[parts.len() - 1].parse::<u8>().is_ok();
            if !ok {
                return Err("must be a region name such as eu-west-1".into());
            }
        }
        Check::Uuid => {
            let groups: Vec<&str> = value.split('-').collect();
            let lengths = [8, 4, 4, 4, 12];
            let ok = groups.len() == 5
                && groups
                    .iter()
                    .zip(lengths)
                    .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()));
            if !ok {
                return Err("must be a UUID such as 00000000-0000-0000-0000-000000000000".into());
            }
        }
        Check::GcpProject => {
            let ok = (6..=30).contains(&value.len())
                && value.starts_with(|c: char| c.is_ascii_lowercase())
                && !value.ends_with('-')
                && value
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !ok {
                return Err("must be 6–30 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen".into());
            }
        }
        Check::GcpServiceAccountJson => {
            let parsed: serde_json::Value = serde_json::from_str(value).map_err(|e| {
                format!(
                    "is not JSON: {e} (line {}, column {})",
                    e.line(),
                    e.column()
                )
            })?;
            if parsed.get("type").and_then(|t| t.as_str()) != Some("service_account") {
                return Err("must be a service account key (\"type\": \"service_account\")".into());
            }
            for key in ["client_email", "private_key"] {
                if parsed.get(key).and_then(|v| v.as_str()).is_none() {
                    return Err(format!("has no {key:?}"));
                }
            }
        }
        Check::Hex(n) => {
            if value.len() != n || !value.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(format!("must be {n} hexadecimal characters"));
            }
        }
        Check::HttpUrl => {
            let rest = value
                .strip_prefix("https://")
                .or_else(|| value.strip_prefix("http://"))
                .ok_or("must start with https:// (or http://)")?;
            let host = rest.split('/').next().unwrap_or("");
            if host.is_empty() || !printable(value) {
                return Err("must be a URL with a host".into());
            }
            if host.contains('@') {
                return Err(
                    "must not hold a user name or password; enter those in their own fields".into(),
                );
            }
            if value.contains(['?', '#']) {
                return Err("must not hold a query or fragment".into());
            }
        }
        Check::Name => {
            if value.len() > 100
                || !value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                || value.starts_with('.')
            {
                return Err(
                    "may only hold letters, digits, '-', '_' and '.', at most 100 characters"
                        .into(),
                );
            }
        }
        Check::PrivateKey => {
            let trimmed = value.trim();
            if !(trimmed.starts_with("-----BEGIN ") && trimmed.contains("PRIVATE KEY-----")) {
                return Err(
                    "must be a PEM or OpenSSH private key (-----BEGIN … PRIVATE KEY-----)".into(),
                );
            }
        }
        Check::KnownHosts => {
            let mut any = false;
            for (number, line) in value.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                known_host_line(line).map_err(|e| format!("line {}: {e}", number + 1))?;
                any = true;
            }
            if !any {
                return Err("holds no known_hosts line".into());
            }
        }
        Check::Token(min) => {
            if value.len() < min || !printable(value) {
                return Err(format!("must be at least {min} characters with no spaces"));
            }
        }
        Check::Lowercase { min, max, extra } => {
            let edge =
                |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
            let ok = (min..=max).contains(&value.len())
                && value
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || extra.contains(c))
                && edge(value.chars().next())
                && edge(value.chars().last());
            if !ok {
                let extra: Vec<String> = extra.chars().map(|c| format!("'{c}'")).collect();
                let also = if extra.is_empty() {
                    String::new()
                } else {
                    format!(" and {} inside", extra.join(", "))
                };
                return Err(format!(
                    "must be {min}–{max} lowercase letters and digits{also}"
                ));
            }
        }
    }
    Ok(())
}

/// The settings of an integration once validated: defaults applied, blank optional fields
/// dropped, unknown fields refused.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckedFields {
    pub settings: Fields,
    /// Secrets typed this time. A secret left blank on an edit is absent here and keeps its
    /// stored value.
    pub secrets: Fields,
}

/// Validates a form. `stored_secrets` names the secrets already stored (on an edit), so a
/// required secret may be left blank to keep it.
pub fn check_fields(
    provider: Provider,
    settings: &Fields,
    secrets: &Fields,
    stored_secrets: &[String],
) -> Result<CheckedFields, Vec<FieldError>> {
    let fields = provider.fields();
    let mut problems = Vec::new();
    for name in settings.keys().chain(secrets.keys()) {
        if !fields.iter().any(|f| f.name == name) {
            problems.push(fail(
                name,
                format!("{} integrations have no setting {name:?}", provider.label()),
            ));
        }
    }
    let mut checked = CheckedFields::default();
    for f in fields {
        let typed = if f.secret {
            secrets.get(f.name)
        } else {
            settings.get(f.name)
        };
        let typed = typed.map(|v| v.trim().to_string());
        let value = match typed.filter(|v| !v.is_empty()) {
            Some(v) => v,
            None => {
                if let Some(default) = f.default {
                    default.to_string()
                } else if f.secret && stored_secrets.iter().any(|s| s == f.name) {
                    continue;
                } else if f.required {
                    problems.push(fail(f.name, format!("{} is required", f.label)));
                    continue;
                } else {
                    continue;
                }
            }
        };
        if value.len() > 16 * 1024 {
            problems.push(fail(f.name, "must be at most 16 KiB"));
            continue;
        }
        if let Input::Choice(options) = f.input {
            if !options.contains(&value.as_str()) {
                problems.push(fail(
                    f.name,
                    format!("must be one of {}", options.join(", ")),
                ));
                continue;
            }
        }
        if let Err(message) = check_value(f.check, &value) {
            problems.push(fail(f.name, message));
            continue;
        }
        if f.secret {
            checked.secrets.insert(f.name.to_string(), value);
        } else {
            checked.settings.insert(f.name.to_string(), value);
        }
    }
    if problems.is_empty() {
        if let Err((field, message)) = check_state_settings(provider, &checked.settings) {
            problems.push(fail(&field, message));
        }
    }
    if problems.is_empty() {
        Ok(checked)
    } else {
        Err(problems)
    }
}

/// The environment variables that hand a cloud or git integration's credentials to an OpenTofu
/// process, as each provider's Terraform provider documents them.
pub fn environment(
    provider: Provider,
    settings: &Fields,
    secrets: &Fields,
) -> Vec<(String, String)> {
    let pick =
        |map: &Fields, field: &str, var: &str| map.get(field).map(|v| (var.to_string(), v.clone()));
    let vars: Vec<Option<(String, String)>> = match provider {
        Provider::Aws => vec![
            pick(settings, "access_key_id", "AWS_ACCESS_KEY_ID"),
            pick(secrets, "secret_access_key", "AWS_SECRET_ACCESS_KEY"),
            pick(secrets, "session_token", "AWS_SESSION_TOKEN"),
            pick(settings, "region", "AWS_REGION"),
            pick(settings, "region", "AWS_DEFAULT_REGION"),
        ],
        Provider::Azure => vec![
            pick(settings, "tenant_id", "ARM_TENANT_ID"),
            pick(settings, "subscription_id", "ARM_SUBSCRIPTION_ID"),
            pick(settings, "client_id", "ARM_CLIENT_ID"),
            pick(secrets, "client_secret", "ARM_CLIENT_SECRET"),
        ],
        Provider::GoogleCloud => vec![
            pick(secrets, "credentials_json", "GOOGLE_CREDENTIALS"),
            pick(settings, "project_id", "GOOGLE_PROJECT"),
            pick(settings, "region", "GOOGLE_REGION"),
        ],
        Provider::MongodbAtlas => vec![
            pick(settings, "public_key", "MONGODB_ATLAS_PUBLIC_KEY"),
            pick(secrets, "private_key", "MONGODB_ATLAS_PRIVATE_KEY"),
        ],
        Provider::Datadog => vec![
            pick(secrets, "api_key", "DD_API_KEY"),
            pick(secrets, "app_key", "DD_APP_KEY"),
            settings
                .get("site")
                .map(|s| ("DD_HOST".to_string(), format!("https://api.{s}"))),
        ],
        Provider::Github => vec![
            pick(secrets, "token", "GITHUB_TOKEN"),
            pick(settings, "organization", "GITHUB_OWNER"),
            settings
                .get("api_url")
                .filter(|u| u.as_str() != "https://api.github.com")
                .map(|u| ("GITHUB_BASE_URL".to_string(), u.clone())),
        ],
        Provider::Bitbucket => vec![
            pick(settings, "username", "BITBUCKET_USERNAME"),
            pick(secrets, "app_password", "BITBUCKET_PASSWORD"),
        ],
        Provider::AzureDevops => vec![
            pick(settings, "organization_url", "AZDO_ORG_SERVICE_URL"),
            pick(secrets, "token", "AZDO_PERSONAL_ACCESS_TOKEN"),
        ],
        Provider::LocalGit
        | Provider::GithubOauth
        | Provider::MicrosoftOauth
        | Provider::ServiceAccount => vec![],
    };
    vars.into_iter().flatten().collect()
}

/// The Terraform provider a cloud integration configures: (local name, registry source, the
/// non-secret arguments of its `provider` block). Credentials never appear here; they reach the
/// process as environment variables.
pub fn terraform_provider(
    provider: Provider,
    settings: &Fields,
) -> Option<(&'static str, &'static str, Vec<(&'static str, String)>)> {
    let arg = |name: &'static str, field: &str| settings.get(field).map(|v| (name, v.clone()));
    match provider {
        Provider::Aws => Some((
            "aws",
            "hashicorp/aws",
            arg("region", "region").into_iter().collect(),
        )),
        Provider::Azure => Some((
            "azurerm",
            "hashicorp/azurerm",
            arg("subscription_id", "subscription_id")
                .into_iter()
                .chain(arg("tenant_id", "tenant_id"))
                .collect(),
        )),
        Provider::GoogleCloud => Some((
            "google",
            "hashicorp/google",
            arg("project", "project_id")
                .into_iter()
                .chain(arg("region", "region"))
                .collect(),
        )),
        Provider::MongodbAtlas => Some(("mongodbatlas", "mongodb/mongodbatlas", vec![])),
        Provider::Datadog => Some((
            "datadog",
            "DataDog/datadog",
            settings
                .get("site")
                .map(|s| ("api_url", format!("https://api.{s}/")))
                .into_iter()
                .collect(),
        )),
        _ => None,
    }
}

/// The `backend` a cloud integration's state settings call for: (backend type, arguments), the
/// resource's state kept under `state_key` (`<template>/<resource>`). `None` when the
/// integration keeps no remote state. Credentials reach the backend through the same
/// environment variables as the provider.
pub fn terraform_backend(
    provider: Provider,
    settings: &Fields,
    state_key: &str,
) -> Option<(&'static str, Vec<(&'static str, serde_json::Value)>)> {
    use serde_json::Value;
    let text = |field: &str| settings.get(field).filter(|v| !v.is_empty()).cloned();
    let key = Value::String(format!("{state_key}/terraform.tfstate"));
    match provider {
        Provider::Aws => {
            let bucket = text("state_bucket")?;
            let mut arguments = vec![("bucket", Value::String(bucket)), ("key", key)];
            if let Some(region) = text("region") {
                arguments.push(("region", Value::String(region)));
            }
            if let Some(table) = text("state_lock_table") {
                arguments.push(("dynamodb_table", Value::String(table)));
            }
            arguments.push(("encrypt", Value::Bool(true)));
            Some(("s3", arguments))
        }
        Provider::Azure => Some((
            "azurerm",
            vec![
                (
                    "resource_group_name",
                    Value::String(text("state_resource_group")?),
                ),
                (
                    "storage_account_name",
                    Value::String(text("state_storage_account")?),
                ),
                ("container_name", Value::String(text("state_container")?)),
                ("key", key),
            ],
        )),
        Provider::GoogleCloud => Some((
            "gcs",
            vec![
                ("bucket", Value::String(text("state_bucket")?)),
                ("prefix", Value::String(state_key.to_string())),
            ],
        )),
        _ => None,
    }
}

/// Settings that only make sense together: a lock table needs a bucket, Azure's three state
/// fields come as a set.
fn check_state_settings(provider: Provider, settings: &Fields) -> Result<(), (String, String)> {
    let set = |f: &str| settings.get(f).is_some_and(|v| !v.is_empty());
    match provider {
        Provider::Aws if set("state_lock_table") && !set("state_bucket") => Err((
            "state_bucket".into(),
            "is required when a state lock table is given".into(),
        )),
        Provider::Azure => {
            let fields = [
                "state_resource_group",
                "state_storage_account",
                "state_container",
            ];
            let given = fields.iter().filter(|f| set(f)).count();
            match fields.iter().find(|f| !set(f)) {
                Some(missing) if given > 0 => Err((
                    missing.to_string(),
                    "is required with the other state fields (all three, or none)".into(),
                )),
                _ => Ok(()),
            }
        }
        _ => Ok(()),
    }
}

/// The host of a git remote URL, lower case: `https://host[:port]/…`, `http://…`,
/// `ssh://[user@]host[:port]/…` or scp-like `user@host:path`. None when it names none.
pub fn git_url_host(url: &str) -> Option<String> {
    let authority = if let Some(rest) = ["https://", "http://", "ssh://", "git://"]
        .iter()
        .find_map(|s| url.strip_prefix(s))
    {
        rest.split('/').next()?
    } else if !url.contains("://") {
        // user@host:path
        url.split_once(':')?.0
    } else {
        return None;
    };
    let host = authority.rsplit('@').next()?;
    let host = if let Some(bracketed) = host.strip_prefix('[') {
        bracketed.split(']').next()?
    } else {
        host.split(':').next()?
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// The hosts a git integration's credentials may go to: its provider's, as its settings name
/// them (github.com or the GitHub Enterprise host, bitbucket.org, dev.azure.com or the
/// organization's visualstudio.com host).
pub fn credential_hosts(provider: Provider, settings: &Fields) -> Vec<String> {
    let host_of = |key: &str| settings.get(key).and_then(|u| git_url_host(u));
    match provider {
        Provider::Github => match host_of("api_url").as_deref() {
            None | Some("api.github.com") => vec!["github.com".into()],
            Some(enterprise) => vec![enterprise.to_string()],
        },
        Provider::Bitbucket => match host_of("api_url").as_deref() {
            None | Some("api.bitbucket.org") => vec!["bitbucket.org".into()],
            Some(other) => vec![other.to_string()],
        },
        Provider::AzureDevops => match host_of("organization_url") {
            Some(host) if host == "dev.azure.com" => {
                vec![host, "ssh.dev.azure.com".into()]
            }
            Some(host) if host.ends_with(".visualstudio.com") => {
                vec![host, "vs-ssh.visualstudio.com".into()]
            }
            Some(host) => vec![host],
            None => Vec::new(),
        },
        _ => Vec::new(),
    }
}

/// A repository URL as people read it: the local forge's `file://…/git/ORG/NAME.git` (a path
/// on the server, which says nothing to them) as `ORG/NAME (local forge)`; others as they are.
pub fn shown_repository_url(url: &str) -> String {
    match url
        .strip_prefix("file://")
        .and_then(|path| path.rsplit_once("/git/"))
    {
        Some((_, name)) => format!("{} (local forge)", name.trim_end_matches(".git")),
        None => url.to_string(),
    }
}

/// Refuses a repository URL whose host is not one `provider`'s credentials may go to.
pub fn check_credential_host(
    provider: Provider,
    settings: &Fields,
    url: &str,
) -> Result<(), String> {
    let hosts = credential_hosts(provider, settings);
    let host = git_url_host(url).ok_or("must name a host")?;
    if hosts.iter().any(|h| *h == host) {
        Ok(())
    } else if hosts.is_empty() {
        Err(format!(
            "{} integrations fetch no git repositories",
            provider.label()
        ))
    } else {
        Err(format!(
            "{host} is not a {} host: this integration's credentials go only to {}",
            provider.label(),
            hosts.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn local_repositories_are_shown_by_name_not_server_path() {
        assert_eq!(
            shown_repository_url("file:///srv/slipway/data/git/platform/terraform-modules.git"),
            "platform/terraform-modules (local forge)"
        );
        assert_eq!(
            shown_repository_url("https://github.com/acme/modules.git"),
            "https://github.com/acme/modules.git"
        );
    }

    #[test]
    fn known_hosts_lines_are_checked_line_by_line_and_match_host_or_bracketed_port() {
        let ed = "AAAAC3NzaC1lZDI1NTE5AAAAIB9Xy3Jq1Bq0d8mD0f4nYy1m1xJ0k7hJvZ6cQ2z5w3pE";
        let text = format!(
            "# github\ngithub.example.com,10.0.0.7 ssh-ed25519 {ed} comment\n[127.0.0.1]:2222 ecdsa-sha2-nistp256 {ed}\n"
        );
        assert_eq!(check_value(Check::KnownHosts, &text), Ok(()));
        let ed25519 = ("ssh-ed25519".to_string(), ed.to_string());
        assert_eq!(
            known_host_keys(&text, "github.example.com"),
            vec![ed25519.clone()]
        );
        assert_eq!(known_host_keys(&text, "10.0.0.7"), vec![ed25519]);
        assert_eq!(
            known_host_keys(&text, "127.0.0.1"),
            vec![("ecdsa-sha2-nistp256".to_string(), ed.to_string())]
        );
        assert!(known_host_keys(&text, "github.example").is_empty());
        assert!(known_host_keys(&text, "evil.example.com").is_empty());
        for (bad, message) in [
            ("# only a comment", "holds no known_hosts line"),
            ("host ssh-ed25519", "line 1: needs three fields: host, key type and key"),
            (&format!("ok ssh-ed25519 {ed}\nhost ssh-dss {ed}") as &str, "line 2: \"ssh-dss\" is not a host key type (ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, ecdsa-sha2-nistp521)"),
            (&format!("|1|abc=|def= ssh-ed25519 {ed}"), "line 1: hashed host names (|1|…) are not supported; run ssh-keyscan without -H"),
            (&format!("*.example.com ssh-ed25519 {ed}"), "line 1: host patterns with *, ? or ! are not supported; name each host"),
            (&format!("@revoked host ssh-ed25519 {ed}"), "line 1: markers such as @revoked are not supported"),
            ("host ssh-ed25519 not;base64;at;all", "line 1: the key is not base64"),
        ] {
            assert_eq!(check_value(Check::KnownHosts, bad), Err(message.to_string()), "{bad}");
        }
    }

    #[test]
    fn every_provider_has_a_kind_and_unique_fields() {
        for provider in Provider::ALL {
            assert_eq!(Provider::parse(provider.as_str()), Some(provider));
            let names: Vec<&str> = provider.fields().iter().map(|f| f.name).collect();
            let mut unique = names.clone();
            unique.sort();
            unique.dedup();
            assert_eq!(names.len(), unique.len(), "{provider:?}");
        }
    }

    #[test]
    fn aws_settings_are_checked_and_defaulted() {
        let ok = check_fields(
            Provider::Aws,
            &fields(&[("access_key_id", "AKIAIOSFODNN7EXAMPLE")]),
            &fields(&[(
                "secret_access_key",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            )]),
            &[],
        )
        .unwrap();
        assert_eq!(ok.settings["region"], "us-east-1");
        assert!(!ok.settings.contains_key("secret_access_key"));

        let bad = check_fields(
            Provider::Aws,
            &fields(&[("access_key_id", "nope"), ("region", "eu-west-1")]),
            &fields(&[("secret_access_key", "x".repeat(40).as_str())]),
            &[],
        )
        .unwrap_err()
        .remove(0);
        assert_eq!(bad.field, "access_key_id");

        let missing = check_fields(
            Provider::Aws,
            &fields(&[("access_key_id", "AKIAIOSFODNN7EXAMPLE")]),
            &Fields::new(),
            &[],
        )
        .unwrap_err()
        .remove(0);
        assert_eq!(missing.field, "secret_access_key");
        assert!(missing.message.contains("required"));

        // On an edit, a stored secret may be left blank and is kept.
        let kept = check_fields(
            Provider::Aws,
            &fields(&[("access_key_id", "AKIAIOSFODNN7EXAMPLE")]),
            &fields(&[("secret_access_key", "  ")]),
            &["secret_access_key".to_string()],
        )
        .unwrap();
        assert!(kept.secrets.is_empty());
    }

    #[test]
    fn every_problem_comes_at_once() {
        let problems = check_fields(
            Provider::Aws,
            &fields(&[("access_key_id", "nope"), ("color", "red")]),
            &Fields::new(),
            &[],
        )
        .unwrap_err();
        let named: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            named,
            ["color", "access_key_id", "secret_access_key"],
            "{problems:?}"
        );
    }

    #[test]
    fn unknown_fields_and_bad_choices_are_refused() {
        let unknown = check_fields(
            Provider::LocalGit,
            &fields(&[("password", "x")]),
            &Fields::new(),
            &[],
        )
        .unwrap_err()
        .remove(0);
        assert_eq!(unknown.field, "password");
        let site = check_fields(
            Provider::Datadog,
            &fields(&[("site", "example.com")]),
            &fields(&[("api_key", &"a".repeat(32)), ("app_key", &"b".repeat(40))]),
            &[],
        )
        .unwrap_err()
        .remove(0);
        assert_eq!(site.field, "site");
    }

    #[test]
    fn urls_may_not_carry_credentials() {
        let err = check_fields(
            Provider::Github,
            &fields(&[
                ("api_url", "https://user:pw@github.example.com/api/v3"),
                ("organization", "acme"),
            ]),
            &fields(&[("token", "ghp_0123456789abcdefghij")]),
            &[],
        )
        .unwrap_err()
        .remove(0);
        assert_eq!(err.field, "api_url");
    }

    #[test]
    fn google_key_must_be_a_service_account() {
        let err = check_fields(
            Provider::GoogleCloud,
            &fields(&[("project_id", "acme-prod")]),
            &fields(&[("credentials_json", "{\"type\": \"authorized_user\"}")]),
            &[],
        )
        .unwrap_err()
        .remove(0);
        assert_eq!(err.field, "credentials_json");
        let err = check_fields(
            Provider::GoogleCloud,
            &fields(&[("project_id", "acme-prod")]),
            &fields(&[("credentials_json", "{")]),
            &[],
        )
        .unwrap_err()
        .remove(0);
        assert!(err.message.contains("line 1"), "{}", err.message);
    }

    #[test]
    fn credentials_become_the_providers_environment() {
        let env = environment(
            Provider::Aws,
            &fields(&[
                ("access_key_id", "AKIAIOSFODNN7EXAMPLE"),
                ("region", "eu-west-1"),
            ]),
            &fields(&[("secret_access_key", "s3cr3t")]),
        );
        assert!(env.contains(&("AWS_SECRET_ACCESS_KEY".into(), "s3cr3t".into())));
        assert!(env.contains(&("AWS_REGION".into(), "eu-west-1".into())));
        let (name, source, args) =
            terraform_provider(Provider::Aws, &fields(&[("region", "eu-west-1")])).unwrap();
        assert_eq!((name, source), ("aws", "hashicorp/aws"));
        assert_eq!(args, vec![("region", "eu-west-1".to_string())]);
    }

    #[test]
    fn state_settings_become_one_backend_and_are_checked_together() {
        let aws = |settings: &[(&str, &str)]| {
            check_fields(
                Provider::Aws,
                &fields(
                    &[
                        [("access_key_id", "AKIAIOSFODNN7EXAMPLE")].as_slice(),
                        settings,
                    ]
                    .concat(),
                ),
                &fields(&[("secret_access_key", &"k".repeat(40))]),
                &[],
            )
        };
        let err = aws(&[("state_bucket", "Acme_State")])
            .unwrap_err()
            .remove(0);
        assert_eq!(err.field, "state_bucket");
        assert!(err.message.contains("lowercase"), "{}", err.message);
        let err = aws(&[("state_lock_table", "locks")]).unwrap_err().remove(0);
        assert_eq!(err.field, "state_bucket");
        let checked = aws(&[
            ("state_bucket", "acme-state"),
            ("state_lock_table", "locks"),
        ])
        .unwrap();
        let (kind, args) = terraform_backend(Provider::Aws, &checked.settings, "vpc/prod").unwrap();
        assert_eq!(kind, "s3");
        assert_eq!(
            args,
            vec![
                ("bucket", serde_json::json!("acme-state")),
                ("key", serde_json::json!("vpc/prod/terraform.tfstate")),
                ("region", serde_json::json!("us-east-1")),
                ("dynamodb_table", serde_json::json!("locks")),
                ("encrypt", serde_json::json!(true)),
            ]
        );
        // No bucket: local state, no backend block.
        assert!(
            terraform_backend(Provider::Aws, &aws(&[]).unwrap().settings, "vpc/prod").is_none()
        );

        let azure = |settings: &[(&str, &str)]| {
            let uuid = "0f8fad5b-d9cb-469f-a165-70867728950e";
            check_fields(
                Provider::Azure,
                &fields(
                    &[
                        [
                            ("tenant_id", uuid),
                            ("subscription_id", uuid),
                            ("client_id", uuid),
                        ]
                        .as_slice(),
                        settings,
                    ]
                    .concat(),
                ),
                &fields(&[("client_secret", "secret-value")]),
                &[],
            )
        };
        let err = azure(&[("state_storage_account", "acmestate")])
            .unwrap_err()
            .remove(0);
        assert_eq!(err.field, "state_resource_group");
        let err = azure(&[
            ("state_resource_group", "tfstate"),
            ("state_storage_account", "acme-state"),
            ("state_container", "tfstate"),
        ])
        .unwrap_err()
        .remove(0);
        assert_eq!(err.field, "state_storage_account");
        let checked = azure(&[
            ("state_resource_group", "tfstate"),
            ("state_storage_account", "acmestate"),
            ("state_container", "tfstate"),
        ])
        .unwrap();
        let (kind, _) = terraform_backend(Provider::Azure, &checked.settings, "vpc/prod").unwrap();
        assert_eq!(kind, "azurerm");
        let (kind, args) = terraform_backend(
            Provider::GoogleCloud,
            &fields(&[("project_id", "acme-prod"), ("state_bucket", "acme_state")]),
            "vpc/prod",
        )
        .unwrap();
        assert_eq!(kind, "gcs");
        assert_eq!(args[1], ("prefix", serde_json::json!("vpc/prod")));
    }

    #[test]
    fn credentials_go_only_to_their_provider_s_hosts() {
        let fields = |pairs: &[(&str, &str)]| -> Fields {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let github = fields(&[("api_url", "https://api.github.com")]);
        for url in [
            "https://github.com/acme/x.git",
            "git@github.com:acme/x.git",
            "ssh://git@GitHub.com/acme/x.git",
        ] {
            assert_eq!(
                check_credential_host(Provider::Github, &github, url),
                Ok(()),
                "{url}"
            );
        }
        for url in [
            "https://evil.example/acme/x.git",
            "https://github.com.evil.example/x.git",
            "https://github.com@evil.example/x.git",
            "http://169.254.169.254/latest/meta-data",
            "git@evil.example:acme/x.git",
        ] {
            let refused = check_credential_host(Provider::Github, &github, url).unwrap_err();
            assert!(
                refused.contains("credentials go only to github.com"),
                "{url}: {refused}"
            );
        }
        let enterprise = fields(&[("api_url", "https://git.acme.internal/api/v3")]);
        assert!(check_credential_host(
            Provider::Github,
            &enterprise,
            "https://git.acme.internal/a/b.git"
        )
        .is_ok());
        assert!(
            check_credential_host(Provider::Github, &enterprise, "https://github.com/a/b.git")
                .is_err()
        );
        let bitbucket = fields(&[("api_url", "https://api.bitbucket.org/2.0")]);
        assert!(check_credential_host(
            Provider::Bitbucket,
            &bitbucket,
            "https://bitbucket.org/acme/x.git"
        )
        .is_ok());
        assert!(check_credential_host(
            Provider::Bitbucket,
            &bitbucket,
            "https://api.bitbucket.org.evil/x.git"
        )
        .is_err());
        let azure = fields(&[("organization_url", "https://dev.azure.com/acme")]);
        assert!(check_credential_host(
            Provider::AzureDevops,
            &azure,
            "https://dev.azure.com/acme/p/_git/x"
        )
        .is_ok());
        assert!(check_credential_host(
            Provider::AzureDevops,
            &azure,
            "git@ssh.dev.azure.com:v3/acme/p/x"
        )
        .is_ok());
        assert!(check_credential_host(
            Provider::AzureDevops,
            &azure,
            "https://acme.visualstudio.com/p/_git/x"
        )
        .is_err());
        assert!(
            check_credential_host(Provider::Aws, &Fields::new(), "https://github.com/a/b.git")
                .is_err()
        );
        assert_eq!(
            git_url_host("https://[::1]:8443/x.git").as_deref(),
            Some("::1")
        );
        assert_eq!(git_url_host("file:///srv/x.git"), None);
    }
}
