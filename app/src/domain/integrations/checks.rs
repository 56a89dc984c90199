//! Checking an integration's settings and secrets, every problem at once.

use super::*;

/// One known_hosts line: (host patterns, key type, base64 key), or why it cannot be used.
pub(crate) fn known_host_line(line: &str) -> Result<(Vec<&str>, &str, &str), String> {
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

/// A field that failed validation, named as the form names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

pub(crate) fn fail(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_string(),
        message: message.into(),
    }
}

pub(crate) fn check_value(check: Check, value: &str) -> Result<(), String> {
    let printable = |v: &str| v.chars().all(|c| c.is_ascii_graphic());
    match check {
        Check::Any => {
            if value.chars().any(|c| c.is_control()) {
                return Err("must not hold control characters".into());
            }
        }
        Check::AwsAccessKey => aws_access_key(value)?,
        Check::AwsRegion => aws_region(value)?,
        Check::Uuid => uuid(value)?,
        Check::GcpProject => gcp_project(value)?,
        Check::GcpServiceAccountJson => gcp_service_account_json(value)?,
        Check::Hex(n) => {
            if value.len() != n || !value.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(format!("must be {n} hexadecimal characters"));
            }
        }
        Check::HttpUrl => http_url(value)?,
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
        Check::KnownHosts => known_hosts(value)?,
        Check::Token(min) => {
            if value.len() < min || !printable(value) {
                return Err(format!("must be at least {min} characters with no spaces"));
            }
        }
        Check::Lowercase { min, max, extra } => lowercase(value, min, max, extra)?,
    }
    Ok(())
}

/// An AWS access key id: AKIA (long-lived) or ASIA (temporary) and 16 more.
fn aws_access_key(value: &str) -> Result<(), String> {
    let ok = value.len() == 20
        && (value.starts_with("AKIA") || value.starts_with("ASIA"))
        && value
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if !ok {
        return Err("must be 20 characters of A–Z and 0–9 starting AKIA or ASIA".into());
    }
    Ok(())
}

/// An AWS region name: lowercase words and a number, `eu-west-1`.
fn aws_region(value: &str) -> Result<(), String> {
    let parts: Vec<&str> = value.split('-').collect();
    let ok = parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].parse::<u8>().is_ok();
    if !ok {
        return Err("must be a region name such as eu-west-1".into());
    }
    Ok(())
}

/// A UUID in its 8-4-4-4-12 hexadecimal form.
fn uuid(value: &str) -> Result<(), String> {
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
    Ok(())
}

/// A Google Cloud project id.
fn gcp_project(value: &str) -> Result<(), String> {
    let ok = (6..=30).contains(&value.len())
        && value.starts_with(|c: char| c.is_ascii_lowercase())
        && !value.ends_with('-')
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !ok {
        return Err("must be 6–30 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen".into());
    }
    Ok(())
}

/// A Google Cloud service account key file.
fn gcp_service_account_json(value: &str) -> Result<(), String> {
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
    Ok(())
}

/// An http(s) URL with a host and no credentials, query or fragment.
fn http_url(value: &str) -> Result<(), String> {
    let printable = |v: &str| v.chars().all(|c| c.is_ascii_graphic());
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
    Ok(())
}

/// An OpenSSH known_hosts file: at least one line, each read.
fn known_hosts(value: &str) -> Result<(), String> {
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
    Ok(())
}

/// Lowercase letters and digits (and `extra` characters inside), `min` to `max` long.
fn lowercase(value: &str, min: usize, max: usize, extra: &str) -> Result<(), String> {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
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

/// Settings that only make sense together: a lock table needs a bucket, Azure's three state
/// fields come as a set.
pub(crate) fn check_state_settings(
    provider: Provider,
    settings: &Fields,
) -> Result<(), (String, String)> {
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
