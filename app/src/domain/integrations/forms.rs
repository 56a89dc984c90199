//! Each provider's form: its fields in order, what each holds and how it is checked.

use super::*;

pub(super) const AWS: &[Field] = &[
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
pub(super) const AZURE: &[Field] = &[
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
pub(super) const GOOGLE: &[Field] = &[
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
pub(super) const ATLAS: &[Field] = &[
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
pub(super) const DATADOG: &[Field] = &[
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
pub(super) const LOCAL_GIT: &[Field] = &[];
pub(super) const GITHUB: &[Field] = &[
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
pub(super) const BITBUCKET: &[Field] = &[
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
pub(super) const AZURE_DEVOPS: &[Field] = &[
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
pub(super) const GITHUB_OAUTH: &[Field] = &[
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
pub(super) const MICROSOFT_OAUTH: &[Field] = &[
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
pub(super) const SERVICE_ACCOUNT: &[Field] = &[
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
