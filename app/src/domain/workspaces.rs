//! Workspaces: the Git repositories that hold resources' generated code, reviewed through pull
//! requests (seed 000). Pure rules: folder and branch names, the repository configuration every
//! forge is normalised into, statuses, and the commit message.

use serde::{Deserialize, Serialize};

/// The longest folder slug; longer names are refused rather than cut (a cut could collide).
pub const MAX_FOLDER_SLUG: usize = 100;

/// A workspace's (and a resource's workspace work's) processing state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkspaceStatus {
    InProgress,
    Done,
    Error,
}

impl WorkspaceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkspaceStatus::InProgress => "in_progress",
            WorkspaceStatus::Done => "done",
            WorkspaceStatus::Error => "error",
        }
    }

    pub fn parse(value: &str) -> Option<WorkspaceStatus> {
        match value {
            "in_progress" => Some(WorkspaceStatus::InProgress),
            "done" => Some(WorkspaceStatus::Done),
            "error" => Some(WorkspaceStatus::Error),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            WorkspaceStatus::InProgress => "In progress",
            WorkspaceStatus::Done => "Done",
            WorkspaceStatus::Error => "Error",
        }
    }
}

/// A repository's metadata, normalised from whichever forge holds it (seed "Workspace
/// Properties": Configuration.*). Immutable once a workspace is registered.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoConfig {
    pub name: String,
    /// The repository's page in a browser.
    pub url: String,
    pub ssh_url: String,
    /// The HTTPS clone URL, with any user name stripped.
    pub https_url: String,
    pub default_branch: String,
    /// The owning organisation, workspace or project.
    pub organization: String,
}

/// `https://user:pw@host/path` → `https://host/path`: clone URLs are stored without credentials.
pub fn strip_user_info(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    format!("{scheme}://{host}{path}")
}

/// The folder slug of a resource name, as the seed gives it: lowercased, spaces to underscores;
/// every other character outside `[a-z0-9_-]` becomes `_` too, runs of `_` collapse, and `_`/`-`
/// are trimmed from both ends. So nothing a name holds — `/`, `..`, a leading `.` — can leave the
/// folder or make an invalid ref. An empty result or one over [`MAX_FOLDER_SLUG`] is refused.
pub fn folder_slug(name: &str) -> Result<String, String> {
    let mut slug = String::with_capacity(name.len());
    for c in name.trim().chars().flat_map(char::to_lowercase) {
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' {
            c
        } else {
            '_'
        };
        if c == '_' && slug.ends_with('_') {
            continue;
        }
        slug.push(c);
    }
    let slug = slug.trim_matches(|c| c == '_' || c == '-').to_string();
    if slug.is_empty() {
        return Err("has no letters or digits to name its folder with".into());
    }
    if slug.len() > MAX_FOLDER_SLUG {
        return Err(format!(
            "makes a folder name of {} characters; at most {MAX_FOLDER_SLUG} are allowed",
            slug.len()
        ));
    }
    Ok(slug)
}

/// The repository a user names for a provider: `org/name`, or `org/project/name` on Azure
/// DevOps; each part letters, digits, `-`, `_`, `.` (not leading), at most 100 characters. A
/// trailing `.git` is dropped.
pub fn validate_repository(
    provider: super::integrations::Provider,
    text: &str,
) -> Result<String, String> {
    let text = text.trim().trim_matches('/');
    let text = text.strip_suffix(".git").unwrap_or(text);
    let parts: Vec<&str> = text.split('/').collect();
    let expected = match provider {
        super::integrations::Provider::AzureDevops => 3,
        _ => 2,
    };
    let shape = if expected == 3 {
        "ORGANIZATION/PROJECT/REPOSITORY"
    } else {
        "ORGANIZATION/REPOSITORY"
    };
    if text.is_empty() {
        return Err(format!("is required: {shape}"));
    }
    if parts.len() != expected {
        return Err(format!("must be {shape}, not {text:?}"));
    }
    for part in &parts {
        if part.is_empty()
            || part.len() > 100
            || part.starts_with('.')
            || !part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(format!(
                "{part:?} is not a valid name: letters, digits, '-', '_' and '.', not starting with '.'"
            ));
        }
    }
    Ok(parts.join("/"))
}

/// A workspace's slug from its organisation and repository name: lowercase letters and digits
/// joined by single hyphens.
pub fn workspace_slug(organization: &str, name: &str) -> String {
    let mut slug = String::new();
    for c in format!("{organization}-{name}")
        .chars()
        .flat_map(char::to_lowercase)
    {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    let slug: String = slug.chars().take(80).collect();
    if slug.is_empty() {
        "workspace".into()
    } else {
        slug.trim_end_matches('-').to_string()
    }
}

/// `<template_key>/<resource_slug>`: where a resource's code lives in the repository.
pub fn resource_folder(template_key: &str, slug: &str) -> Result<String, String> {
    for part in [template_key, slug] {
        if part.is_empty()
            || part.len() > MAX_FOLDER_SLUG
            || !part
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
            || part.starts_with(['-', '_'])
        {
            return Err(format!("{part:?} cannot name a folder"));
        }
    }
    Ok(format!("{template_key}/{slug}"))
}

/// A pull request's state on the forge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PullState {
    Open,
    Merged,
    Closed,
}

impl PullState {
    pub fn as_str(self) -> &'static str {
        match self {
            PullState::Open => "open",
            PullState::Merged => "merged",
            PullState::Closed => "closed",
        }
    }

    pub fn parse(value: &str) -> Option<PullState> {
        match value {
            "open" => Some(PullState::Open),
            "merged" => Some(PullState::Merged),
            "closed" => Some(PullState::Closed),
            _ => None,
        }
    }
}

impl std::fmt::Display for PullState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a workspace job does to a resource's folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncKind {
    /// Provision or update: write the folder.
    Update,
    /// Destroy: remove the folder.
    Delete,
}

impl SyncKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncKind::Update => "update",
            SyncKind::Delete => "delete",
        }
    }

    pub fn parse(value: &str) -> Option<SyncKind> {
        match value {
            "update" => Some(SyncKind::Update),
            "delete" => Some(SyncKind::Delete),
            _ => None,
        }
    }
}

/// `update_<slug>` or `delete_<slug>` (seed "Branch Naming Convention").
pub fn branch_name(kind: SyncKind, slug: &str) -> String {
    format!("{}_{slug}", kind.as_str())
}

/// The branch a drift's reconcile is reviewed on.
pub fn reconcile_branch(slug: &str) -> String {
    format!("reconcile_{slug}")
}

/// A reconcile's commit: it changes no file; it brings the code as it is to review and apply
/// again, undoing what changed outside it.
pub fn reconcile_commit_message(
    template_key: &str,
    slug: &str,
    revision: i32,
    initiator: &Initiator,
) -> String {
    format!(
        "fix({template_key}): reconcile drift of {slug}\n\n\
         Changes no file: applies {template_key}/{slug}/ (revision {revision}) again, undoing what \
         changed outside its code.\n\n\
         Slipway-Resource: {slug}\nSlipway-Revision: {revision}\nSlipway-Reconcile: drift\n\
         Slipway-Initiator: {} <{}>\n",
        initiator.login, initiator.email
    )
}

/// A reconcile's pull request title and body.
pub fn reconcile_pull_request_text(
    template_key: &str,
    slug: &str,
    initiator: &Initiator,
) -> (String, String) {
    (
        format!("Reconcile drift of {template_key}/{slug}"),
        format!(
            "Opened by Slipway for {} (@{}): `{template_key}/{slug}/` drifted from its code. This \
             pull request changes no file; its plan shows what applying the code again undoes. \
             Approve it in Slipway to apply that plan, or reject it to leave the drift open.",
            initiator.name, initiator.login
        ),
    )
}

/// Who asked for a change, for the commit message and the pull request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Initiator {
    pub login: String,
    pub name: String,
    pub email: String,
}

/// The structured commit message: a Conventional Commits subject naming the resource, then the
/// facts a reviewer needs, then trailers naming the initiating user.
pub fn commit_message(
    kind: SyncKind,
    template_key: &str,
    slug: &str,
    revision: i32,
    initiator: &Initiator,
) -> String {
    let (subject, verb) = match kind {
        SyncKind::Update => (
            format!("feat({template_key}): sync {slug} at revision {revision}"),
            "Writes",
        ),
        SyncKind::Delete => (format!("chore({template_key}): delete {slug}"), "Removes"),
    };
    format!(
        "{subject}\n\n{verb} {template_key}/{slug}/ for resource {slug}.\n\n\
         Slipway-Resource: {slug}\nSlipway-Revision: {revision}\n\
         Slipway-Initiator: {} <{}>\n",
        initiator.login, initiator.email
    )
}

/// The pull request's title and body.
pub fn pull_request_text(
    kind: SyncKind,
    template_key: &str,
    slug: &str,
    revision: i32,
    initiator: &Initiator,
) -> (String, String) {
    let title = match kind {
        SyncKind::Update => format!("Sync {template_key}/{slug} (revision {revision})"),
        SyncKind::Delete => format!("Delete {template_key}/{slug}"),
    };
    let body = format!(
        "Opened by Slipway for {} (@{}).\n\nApprove this pull request in Slipway to {} \
         `{template_key}/{slug}/` on the default branch, or reject it to leave the branch as it is.",
        initiator.name,
        initiator.login,
        match kind {
            SyncKind::Update => "write",
            SyncKind::Delete => "remove",
        }
    );
    (title, body)
}

/// Labels: free-form, but trimmed, de-duplicated, at most 20 of at most 40 characters each and
/// no control characters or commas (the form separates them by commas).
pub fn parse_labels(text: &str) -> Result<Vec<String>, String> {
    let mut labels: Vec<String> = Vec::new();
    for label in text.split(',').map(str::trim).filter(|l| !l.is_empty()) {
        if label.chars().count() > 40 {
            return Err(format!("{label:?} is longer than 40 characters"));
        }
        if label.chars().any(char::is_control) {
            return Err("labels must not hold control characters".into());
        }
        if !labels.iter().any(|l| l == label) {
            labels.push(label.to_string());
        }
    }
    if labels.len() > 20 {
        return Err("at most 20 labels".into());
    }
    Ok(labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_slugs_follow_the_seed_and_cannot_escape() {
        assert_eq!(folder_slug("Prod Network VPC").unwrap(), "prod_network_vpc");
        assert_eq!(
            folder_slug("analytics-namespace").unwrap(),
            "analytics-namespace"
        );
        assert_eq!(
            folder_slug("../../.github/workflows/x").unwrap(),
            "github_workflows_x"
        );
        assert_eq!(folder_slug("a/b").unwrap(), "a_b");
        assert_eq!(folder_slug("Ünïcode Näme").unwrap(), "n_code_n_me");
        assert!(folder_slug(".git").unwrap() == "git");
        assert!(folder_slug("").is_err());
        assert!(folder_slug("../..").is_err());
        assert!(folder_slug(&"x".repeat(300)).unwrap_err().contains("300"));
        for name in [
            "../../.github/workflows/x",
            ".git",
            "a/b",
            "x y\nz",
            "$(rm -rf /)",
        ] {
            let slug = folder_slug(name).unwrap();
            assert!(
                slug.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-'),
                "{name} → {slug}"
            );
            assert!(!slug.starts_with(['-', '_', '.']));
            assert!(resource_folder("vpc", &slug).is_ok());
        }
        assert!(resource_folder("vpc", "..").is_err());
        assert!(resource_folder("../x", "a").is_err());
        assert_eq!(
            branch_name(SyncKind::Delete, "prod_network_vpc"),
            "delete_prod_network_vpc"
        );
    }

    #[test]
    fn repositories_are_named_per_provider() {
        use crate::domain::integrations::Provider;
        assert_eq!(
            validate_repository(Provider::Github, " acme/live.git ").unwrap(),
            "acme/live"
        );
        assert!(validate_repository(Provider::Github, "acme/../x").is_err());
        assert!(validate_repository(Provider::LocalGit, "acme").is_err());
        assert!(validate_repository(Provider::AzureDevops, "acme/live").is_err());
        assert!(validate_repository(Provider::AzureDevops, "acme/infra/live").is_ok());
        assert_eq!(workspace_slug("Acme", "Infra.Live"), "acme-infra-live");
    }

    #[test]
    fn clone_urls_lose_their_user_info() {
        assert_eq!(
            strip_user_info("https://acme@dev.azure.com/acme/infra/_git/live"),
            "https://dev.azure.com/acme/infra/_git/live"
        );
        assert_eq!(
            strip_user_info("https://x:y@bitbucket.org/acme/live.git"),
            "https://bitbucket.org/acme/live.git"
        );
        assert_eq!(
            strip_user_info("https://github.com/acme/live.git"),
            "https://github.com/acme/live.git"
        );
    }

    #[test]
    fn messages_name_the_initiator_and_labels_are_bounded() {
        let ada = Initiator {
            login: "ada".into(),
            name: "Ada Lovelace".into(),
            email: "ada@example.com".into(),
        };
        let message = commit_message(SyncKind::Update, "vpc", "prod_vpc", 3, &ada);
        assert!(message.starts_with("feat(vpc): sync prod_vpc at revision 3\n\n"));
        assert!(message.contains("Slipway-Initiator: ada <ada@example.com>"));
        assert_eq!(
            parse_labels(" prod, network ,prod,, ").unwrap(),
            vec!["prod", "network"]
        );
        assert!(parse_labels(&"x".repeat(41)).is_err());
    }
}
