//! What a run gets from its integrations: environment variables, provider and backend blocks.

use super::*;

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
