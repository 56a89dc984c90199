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
mod forms;
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
    pub fn parse(value: &str) -> Option<IntegrationKind> {
        match value {
            "cloud" => Some(IntegrationKind::Cloud),
            "git" => Some(IntegrationKind::Git),
            "auth" => Some(IntegrationKind::Auth),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            IntegrationKind::Cloud => "cloud",
            IntegrationKind::Git => "git",
            IntegrationKind::Auth => "auth",
        }
    }

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
        use forms::*;
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
