//! The settings of each outside service: the image registry, GitHub, Microsoft and generic OIDC
//! sign-in, each checked when read.

use super::*;

/// `SLIPWAY_REGISTRY`: `embedded` (the default) or `oci`, with the credentials of
/// `SLIPWAY_REGISTRY_AUTH_FILE` (Docker's `config.json`) and the hosts of
/// `SLIPWAY_REGISTRY_PLAIN_HTTP` spoken to without TLS.
pub(super) fn registry_settings(
    sources: &Sources,
) -> Result<Option<crate::adapters::oci_registry::OciSettings>, ConfigError> {
    use crate::adapters::oci_registry::{check_host, read_auth_file, OciSettings};
    let oci = match sources.get("SLIPWAY_REGISTRY").unwrap_or("embedded") {
        "embedded" => false,
        "oci" => true,
        other => {
            return Err(problem(
                "SLIPWAY_REGISTRY",
                format!("{other:?} is neither embedded nor oci"),
            ))
        }
    };
    let auth_file = sources.get("SLIPWAY_REGISTRY_AUTH_FILE");
    let plain = sources.get("SLIPWAY_REGISTRY_PLAIN_HTTP");
    if !oci {
        for (key, value) in [
            ("SLIPWAY_REGISTRY_AUTH_FILE", auth_file),
            ("SLIPWAY_REGISTRY_PLAIN_HTTP", plain),
        ] {
            if value.is_some() {
                return Err(problem(key, "is set while SLIPWAY_REGISTRY is not oci"));
            }
        }
        return Ok(None);
    }
    let credentials = match auth_file {
        Some(path) => read_auth_file(Path::new(path))
            .map_err(|message| problem("SLIPWAY_REGISTRY_AUTH_FILE", message))?,
        None => BTreeMap::new(),
    };
    let mut plain_http = std::collections::BTreeSet::new();
    for host in plain.unwrap_or_default().split(',').map(str::trim) {
        if host.is_empty() {
            continue;
        }
        check_host(host).map_err(|message| problem("SLIPWAY_REGISTRY_PLAIN_HTTP", message))?;
        plain_http.insert(host.to_ascii_lowercase());
    }
    Ok(Some(OciSettings {
        credentials,
        plain_http,
    }))
}

/// Both or neither: a client id without its secret (or the reverse) is a mistake worth naming.
pub(super) fn client_pair(
    sources: &Sources,
    id_key: &str,
    secret_key: &str,
) -> Result<Option<(String, Option<SecretKey>)>, ConfigError> {
    match (sources.get(id_key), sources.get(secret_key)) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err(problem(
            id_key,
            format!("is missing while {secret_key} is set"),
        )),
        (Some(id), secret) => Ok(Some((
            id.to_string(),
            secret.map(|s| SecretKey(s.to_string())),
        ))),
    }
}

pub(super) fn github_settings(sources: &Sources) -> Result<Option<GitHubSettings>, ConfigError> {
    let Some((client_id, secret)) = client_pair(
        sources,
        "SLIPWAY_GITHUB_CLIENT_ID",
        "SLIPWAY_GITHUB_CLIENT_SECRET",
    )?
    else {
        return Ok(None);
    };
    let client_secret = secret.ok_or_else(|| {
        problem(
            "SLIPWAY_GITHUB_CLIENT_SECRET",
            "is missing while SLIPWAY_GITHUB_CLIENT_ID is set",
        )
    })?;
    let web_url = parse_url(
        "SLIPWAY_GITHUB_URL",
        sources
            .get("SLIPWAY_GITHUB_URL")
            .unwrap_or("https://github.com"),
    )?;
    let default_api = if web_url.host_str() == Some("github.com") {
        "https://api.github.com".to_string()
    } else {
        format!("{}/api/v3", web_url.as_str().trim_end_matches('/'))
    };
    let api_url = parse_url(
        "SLIPWAY_GITHUB_API_URL",
        sources
            .get("SLIPWAY_GITHUB_API_URL")
            .unwrap_or(&default_api),
    )?;
    Ok(Some(GitHubSettings {
        client_id,
        client_secret,
        web_url,
        api_url,
    }))
}

pub(super) fn microsoft_settings(sources: &Sources) -> Result<Option<OidcSettings>, ConfigError> {
    let Some((client_id, client_secret)) = client_pair(
        sources,
        "SLIPWAY_MICROSOFT_CLIENT_ID",
        "SLIPWAY_MICROSOFT_CLIENT_SECRET",
    )?
    else {
        return Ok(None);
    };
    let tenant = sources
        .get("SLIPWAY_MICROSOFT_TENANT")
        .unwrap_or("organizations");
    if !tenant
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    {
        return Err(problem(
            "SLIPWAY_MICROSOFT_TENANT",
            "must be a tenant id, a domain, common or organizations",
        ));
    }
    let multi_tenant = matches!(tenant, "common" | "organizations" | "consumers");
    // Who may sign in is said, never implied: a multi-tenant endpoint admits every Entra
    // tenant in the world, so it needs the list of those that may.
    let listed: Vec<String> = sources
        .get("SLIPWAY_MICROSOFT_ALLOWED_TENANTS")
        .unwrap_or_default()
        .split(',')
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect();
    if let Some(bad) = listed.iter().find(|t| !is_uuid(t)) {
        return Err(problem(
            "SLIPWAY_MICROSOFT_ALLOWED_TENANTS",
            &format!("{bad:?} is not a tenant id (a UUID, as Entra's tid claim)"),
        ));
    }
    let allowed_tenants = if !listed.is_empty() {
        listed
    } else if multi_tenant {
        return Err(problem(
            "SLIPWAY_MICROSOFT_ALLOWED_TENANTS",
            &format!("SLIPWAY_MICROSOFT_TENANT is {tenant}, which admits people of any Entra tenant: list the tenant ids that may sign in (comma-separated), or set SLIPWAY_MICROSOFT_TENANT to your tenant's id"),
        ));
    } else if is_uuid(tenant) {
        vec![tenant.to_ascii_lowercase()]
    } else {
        // A domain names one tenant: its issuer is that tenant's alone.
        Vec::new()
    };
    // SLIPWAY_MICROSOFT_ISSUER points at another Entra-compatible issuer (sovereign clouds, tests).
    let issuer = match sources.get("SLIPWAY_MICROSOFT_ISSUER") {
        Some(issuer) => parse_url("SLIPWAY_MICROSOFT_ISSUER", issuer)?,
        None => parse_url(
            "SLIPWAY_MICROSOFT_TENANT",
            &format!("https://login.microsoftonline.com/{tenant}/v2.0"),
        )?,
    };
    Ok(Some(OidcSettings {
        id: "microsoft",
        label: "Microsoft".into(),
        issuer,
        issuer_is_template: multi_tenant && sources.get("SLIPWAY_MICROSOFT_ISSUER").is_none(),
        client_id,
        client_secret,
        scopes: vec!["openid".into(), "profile".into(), "email".into()],
        allowed_tenants: (!allowed_tenants.is_empty()).then_some(allowed_tenants),
    }))
}

pub(super) fn is_uuid(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && parts
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
}

pub(super) fn oidc_settings(sources: &Sources) -> Result<Option<OidcSettings>, ConfigError> {
    let Some((client_id, client_secret)) = client_pair(
        sources,
        "SLIPWAY_OIDC_CLIENT_ID",
        "SLIPWAY_OIDC_CLIENT_SECRET",
    )?
    else {
        return Ok(None);
    };
    let issuer = sources.get("SLIPWAY_OIDC_ISSUER").ok_or_else(|| {
        problem(
            "SLIPWAY_OIDC_ISSUER",
            "is missing while SLIPWAY_OIDC_CLIENT_ID is set",
        )
    })?;
    let issuer = parse_url(
        "SLIPWAY_OIDC_ISSUER",
        issuer.trim_end_matches("/.well-known/openid-configuration"),
    )?;
    let label = sources
        .get("SLIPWAY_OIDC_LABEL")
        .unwrap_or("single sign-on")
        .to_string();
    let scopes = sources
        .get("SLIPWAY_OIDC_SCOPES")
        .unwrap_or("openid profile email")
        .split_whitespace()
        .map(str::to_string)
        .collect::<Vec<_>>();
    if !scopes.iter().any(|s| s == "openid") {
        return Err(problem("SLIPWAY_OIDC_SCOPES", "must include openid"));
    }
    Ok(Some(OidcSettings {
        id: "oidc",
        label,
        issuer,
        issuer_is_template: false,
        client_id,
        client_secret,
        scopes,
        allowed_tenants: None,
    }))
}
