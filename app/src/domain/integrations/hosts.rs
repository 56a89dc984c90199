//! Where an integration's credentials may go: its provider's hosts only.

use super::*;

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
