//! A registry's credentials from Docker's config.json and the authentication its challenge asks for
//! (Basic, or a Bearer token from its realm).

use super::*;

/// How Slipway signs in to one registry host, from Docker's `config.json`. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    Password {
        username: String,
        password: String,
    },
    /// An OAuth2 refresh token (`identitytoken`), exchanged at the token realm.
    IdentityToken(String),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Password { username, .. } => write!(f, "Password({username}, …)"),
            Credential::IdentityToken(_) => f.write_str("IdentityToken(…)"),
        }
    }
}

/// A registry host as images and `config.json` name it: Docker Hub's many spellings are one.
pub(super) fn normalize_host(key: &str) -> String {
    let host = key
        .trim()
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            "docker.io".to_string()
        }
        _ => host,
    }
}

/// A host as `SLIPWAY_REGISTRY_PLAIN_HTTP` lists it: a name or address with an optional port.
pub fn check_host(host: &str) -> Result<(), String> {
    let ok = !host.is_empty()
        && host.len() <= 255
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if ok {
        Ok(())
    } else {
        Err(format!("{host:?} is not a host or host:port"))
    }
}

/// Reads the credentials of Docker's `config.json` (what `docker login` writes). A problem
/// names the file and the host, never the secret.
pub fn read_auth_file(path: &Path) -> Result<BTreeMap<String, Credential>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}:{}:{}: not JSON ({e})",
            path.display(),
            e.line(),
            e.column()
        )
    })?;
    let Some(auths) = value.get("auths").and_then(|a| a.as_object()) else {
        return Err(format!(
            "{}: has no \"auths\" object (the format `docker login` writes)",
            path.display()
        ));
    };
    let mut credentials = BTreeMap::new();
    for (key, entry) in auths {
        let place = format!("{}: auths.{key}", path.display());
        let field = |name: &str| {
            entry
                .get(name)
                .and_then(|v| v.as_str())
                .filter(|v| !v.is_empty())
        };
        let credential = if let Some(token) = field("identitytoken") {
            Credential::IdentityToken(token.to_string())
        } else if let Some(auth) = field("auth") {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(auth.trim())
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| format!("{place}.auth is not base64 of user:password"))?;
            let (username, password) = decoded
                .split_once(':')
                .ok_or_else(|| format!("{place}.auth is not base64 of user:password"))?;
            Credential::Password {
                username: username.to_string(),
                password: password.to_string(),
            }
        } else if let (Some(username), Some(password)) = (field("username"), field("password")) {
            Credential::Password {
                username: username.to_string(),
                password: password.to_string(),
            }
        } else {
            return Err(format!(
                "{place} has none of auth, username and password, or identitytoken"
            ));
        };
        credentials.insert(normalize_host(key), credential);
    }
    Ok(credentials)
}

/// A `WWW-Authenticate` challenge: its scheme and parameters.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Challenge {
    pub(super) scheme: String,
    pub(super) params: BTreeMap<String, String>,
}

/// Parses `Bearer realm="https://auth",service="registry",scope="repository:a/b:pull,push"`:
/// quoted values may hold commas.
pub(super) fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    let mut params = BTreeMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while matches!(chars.peek(), Some(c) if *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.trim().is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            value = chars.by_ref().take_while(|c| *c != ',').collect();
        }
        params.insert(key.trim().to_ascii_lowercase(), value.trim().to_string());
    }
    Some(Challenge {
        scheme: scheme.to_ascii_lowercase(),
        params,
    })
}
