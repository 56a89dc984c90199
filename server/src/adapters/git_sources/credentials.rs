//! How git2 authenticates: the integration's token or key for its own host only, and git errors
//! told without secrets.

use super::*;

/// Credentials for git over HTTPS (token) or SSH (key), per provider. Tried at most twice, so a
/// refused credential fails fast instead of looping.
pub(crate) fn callbacks(
    provider: Provider,
    settings: &Fields,
    secrets: &Fields,
) -> RemoteCallbacks<'static> {
    let known_hosts = settings.get("ssh_known_hosts").cloned();
    let settings = settings.clone();
    let secrets = secrets.clone();
    let mut attempts = 0;
    let mut callbacks = RemoteCallbacks::new();
    callbacks.credentials(move |_url, username_from_url, allowed| {
        attempts += 1;
        if attempts > 2 {
            return Err(git2::Error::from_str(
                "the integration's credentials were refused",
            ));
        }
        if allowed.contains(CredentialType::SSH_KEY) {
            if let Some(key) = secrets.get("ssh_private_key") {
                return git2::Cred::ssh_key_from_memory(
                    username_from_url.unwrap_or("git"),
                    None,
                    key,
                    None,
                );
            }
        }
        if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) {
            let pair = match provider {
                Provider::Github => secrets
                    .get("token")
                    .map(|t| ("x-access-token".to_string(), t)),
                Provider::Bitbucket => settings
                    .get("username")
                    .cloned()
                    .zip(secrets.get("app_password")),
                Provider::AzureDevops => secrets.get("token").map(|t| ("pat".to_string(), t)),
                _ => None,
            };
            if let Some((user, password)) = pair {
                return git2::Cred::userpass_plaintext(&user, password);
            }
        }
        Err(git2::Error::from_str(
            "the repository needs credentials the integration does not hold",
        ))
    });
    if let Some(known) = known_hosts.filter(|k| !k.trim().is_empty()) {
        callbacks.certificate_check(move |cert, host| {
            let Some(ssh) = cert.as_hostkey() else {
                // TLS: the system's certificate checks decide.
                return Ok(git2::CertificateCheckStatus::CertificatePassthrough);
            };
            let offered = ssh.hostkey().zip(ssh.hostkey_type()).map(|(key, kind)| {
                (
                    kind.name().to_string(),
                    base64::engine::general_purpose::STANDARD.encode(key),
                )
            });
            let listed = app::domain::integrations::known_host_keys(&known, host);
            match offered {
                Some(key) if listed.contains(&key) => Ok(git2::CertificateCheckStatus::CertificateOk),
                Some((kind, key)) => {
                    // libgit2 replaces this error's words with its own; the log keeps the key.
                    tracing::warn!(host, kind, key, "SSH host key not among the integration's known hosts");
                    Err(git2::Error::from_str(&format!(
                        "the SSH host key of {host} ({kind}) is not among the integration's known hosts"
                    )))
                }
                None => Err(git2::Error::from_str(&format!(
                    "the SSH host key of {host} cannot be checked"
                ))),
            }
        });
    }
    callbacks
}

/// The SSH host key was refused (by the integration's known hosts or libgit2's own check):
/// final, as trying again cannot change it.
pub(crate) fn untrusted_host(error: &git2::Error) -> bool {
    let message = error.message();
    message.contains("hostkey") || message.contains("host key")
}

/// A git error as a user can act on it; never includes credentials (git2 does not echo them).
pub(crate) fn describe_git_error(error: &git2::Error) -> String {
    use git2::ErrorClass;
    if untrusted_host(error) {
        // libgit2 reports every refused host key with its own words, whatever the check said.
        return "the repository's SSH host key is not trusted: it is not among the integration's \
                known hosts (or, when it lists none, in this server's ~/.ssh/known_hosts); add the \
                host's `ssh-keyscan` line to the integration"
            .into();
    }
    match error.class() {
        ErrorClass::Http | ErrorClass::Net | ErrorClass::Ssh | ErrorClass::Ssl => {
            format!("cannot reach the repository: {}", error.message())
        }
        _ => error.message().to_string(),
    }
}
