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

mod checks;
mod hosts;
mod terraform;
pub use checks::*;
#[allow(unused_imports)]
pub(crate) use checks::*;
pub use hosts::*;
#[allow(unused_imports)]
pub(crate) use hosts::*;
pub use terraform::*;
#[allow(unused_imports)]
pub(crate) use terraform::*;

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
    pub(crate) check: Check,
}

/// What a field's value must look like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Check {
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
pub(crate) const S3_BUCKET: Check = Check::Lowercase {
    min: 3,
    max: 63,
    extra: "-.",
};

/// Cloud Storage bucket names (without dots' domain verification).
pub(crate) const GCS_BUCKET: Check = Check::Lowercase {
    min: 3,
    max: 63,
    extra: "-_.",
};

pub(crate) const STATE_KEY_HELP: &str =
    "Each resource keeps its state under <template>/<resource>/ here; leave empty for local state.";

pub(crate) const AWS_REGIONS_HELP: &str = "The default region, e.g. eu-west-1.";

pub(crate) const DATADOG_SITES: &[&str] = &[
    "datadoghq.com",
    "us3.datadoghq.com",
    "us5.datadoghq.com",
    "datadoghq.eu",
    "ap1.datadoghq.com",
    "ddog-gov.com",
];

pub(crate) const fn field(
    name: &'static str,
    label: &'static str,
    help: &'static str,
    check: Check,
) -> Field {
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

pub(crate) const fn secret(
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

pub(crate) const fn optional(f: Field) -> Field {
    Field {
        required: false,
        ..f
    }
}

pub(crate) const fn multiline(f: Field) -> Field {
    Field {
        input: Input::Multiline,
        ..f
    }
}

pub(crate) const fn with_default(f: Field, default: &'static str) -> Field {
    Field {
        required: false,
        default: Some(default),
        ..f
    }
}

pub(crate) const SSH_KEY: Field = optional(multiline(secret(
    "ssh_private_key",
    "SSH private key",
    "Used when a repository URL is ssh:// or git@…; an OpenSSH or PEM private key.",
    Check::PrivateKey,
)));

pub(crate) const SSH_KNOWN_HOSTS: Field = optional(multiline(field(
    "ssh_known_hosts",
    "SSH known hosts",
    "The SSH host's keys as known_hosts lines (from `ssh-keyscan HOST`); Slipway pushes over SSH only to a host whose key is listed here. Empty: the server's ~/.ssh/known_hosts decides.",
    Check::KnownHosts,
)));

/// SSH host key types a known_hosts line may name.
pub(crate) const HOST_KEY_TYPES: &[&str] = &[
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
];

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

#[cfg(test)]
mod tests;
