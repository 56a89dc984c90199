//! Resources: their lifecycle (state and status), the rule that ties parent resources to the
//! template hierarchy, and the line diff the revisions page shows.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a resource is in its life: `provision → provisioned → destroy → destroyed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceState {
    /// Created or changed, waiting to be applied.
    Provision,
    Provisioned,
    /// Marked for destruction, waiting to be applied.
    Destroy,
    Destroyed,
}

/// How the work for the current state is going.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceStatus {
    /// Nothing running; the state's work has not started.
    Ready,
    InProgress,
    Done,
    Error,
}

/// What a person asks of a resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceAction {
    /// Change variables, version, parents or integrations (a new revision).
    Edit,
    /// Ask for the resource to be destroyed.
    Destroy,
    /// Withdraw a destroy request that has not run.
    CancelDestroy,
    /// Remove the record: only for a resource never provisioned, or already destroyed.
    Delete,
}

impl ResourceState {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceState::Provision => "provision",
            ResourceState::Provisioned => "provisioned",
            ResourceState::Destroy => "destroy",
            ResourceState::Destroyed => "destroyed",
        }
    }

    pub fn parse(value: &str) -> Option<ResourceState> {
        [
            ResourceState::Provision,
            ResourceState::Provisioned,
            ResourceState::Destroy,
            ResourceState::Destroyed,
        ]
        .into_iter()
        .find(|s| s.as_str() == value)
    }
}

impl ResourceState {
    /// What the state means, in words people use: what the resource is headed for.
    pub fn label(self) -> &'static str {
        match self {
            ResourceState::Provision => "to provision",
            ResourceState::Provisioned => "provisioned",
            ResourceState::Destroy => "to destroy",
            ResourceState::Destroyed => "destroyed",
        }
    }
}

impl ResourceStatus {
    /// Where the work of the state stands.
    pub fn label(self) -> &'static str {
        match self {
            ResourceStatus::Ready => "waiting",
            ResourceStatus::InProgress => "in progress",
            ResourceStatus::Done => "done",
            ResourceStatus::Error => "failed",
        }
    }

    /// A sentence for the pair, shown on hover.
    pub fn explain(self, state: ResourceState) -> String {
        let goal = match state {
            ResourceState::Provision => "Its code is to be applied",
            ResourceState::Provisioned => "It is provisioned",
            ResourceState::Destroy => "It is to be destroyed",
            ResourceState::Destroyed => "It was destroyed",
        };
        let stand = match self {
            ResourceStatus::Ready => "waiting for a review or a workspace",
            ResourceStatus::InProgress => "a job is working on it now",
            ResourceStatus::Done => "nothing is left to do",
            ResourceStatus::Error => "the last job failed (its log says why)",
        };
        format!("{goal}; {stand}.")
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ResourceStatus::Ready => "ready",
            ResourceStatus::InProgress => "in_progress",
            ResourceStatus::Done => "done",
            ResourceStatus::Error => "error",
        }
    }

    pub fn parse(value: &str) -> Option<ResourceStatus> {
        [
            ResourceStatus::Ready,
            ResourceStatus::InProgress,
            ResourceStatus::Done,
            ResourceStatus::Error,
        ]
        .into_iter()
        .find(|s| s.as_str() == value)
    }
}

impl fmt::Display for ResourceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for ResourceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ResourceStatus::InProgress => "in progress",
            other => other.as_str(),
        })
    }
}

/// The state and status after `action`, or why it is not allowed now. Work in progress blocks
/// every action: it would race the run.
pub fn transition(
    state: ResourceState,
    status: ResourceStatus,
    action: ResourceAction,
) -> Result<(ResourceState, ResourceStatus), String> {
    use ResourceAction as A;
    use ResourceState as S;
    if status == ResourceStatus::InProgress {
        return Err("work on this resource is in progress; wait for it to finish".into());
    }
    match (state, action) {
        (S::Provision | S::Provisioned, A::Edit) => Ok((S::Provision, ResourceStatus::Ready)),
        (S::Provisioned, A::Destroy) => Ok((S::Destroy, ResourceStatus::Ready)),
        (S::Destroy, A::CancelDestroy) => Ok((S::Provisioned, ResourceStatus::Done)),
        (S::Provision, A::Delete) if status != ResourceStatus::Done => {
            Ok((S::Destroyed, ResourceStatus::Done))
        }
        (S::Destroyed, A::Delete) => Ok((S::Destroyed, ResourceStatus::Done)),
        (S::Destroy | S::Destroyed, A::Edit) => {
            Err(format!("a resource in state {state} cannot be edited"))
        }
        (S::Provision, A::Destroy) => {
            Err("the resource was never provisioned; delete it instead".into())
        }
        (_, A::Delete) => Err(format!(
            "a resource in state {state} may hold real infrastructure; destroy it first"
        )),
        (_, action) => Err(format!("{action:?} does not apply in state {state}")),
    }
}

/// Parent resources must be instances of the template's parents; when any of the template's
/// parents is concrete, at least one parent resource is required. `parents` are the chosen
/// parent resources' template keys.
pub fn check_parents(
    template_parents: &[(String, bool)],
    parents: &[(String, String)],
) -> Result<(), String> {
    for (resource, template) in parents {
        if !template_parents.iter().any(|(key, _)| key == template) {
            let allowed: Vec<&str> = template_parents.iter().map(|(k, _)| k.as_str()).collect();
            return Err(if allowed.is_empty() {
                "this template has no parents, so its resources have none".into()
            } else {
                format!(
                    "{resource} is a {template}; parents must be instances of {}",
                    allowed.join(" or ")
                )
            });
        }
    }
    let concrete: Vec<&str> = template_parents
        .iter()
        .filter(|(_, is_abstract)| !is_abstract)
        .map(|(k, _)| k.as_str())
        .collect();
    if parents.is_empty() && !concrete.is_empty() {
        return Err(format!(
            "choose the parent resource: an instance of {}",
            concrete.join(" or ")
        ));
    }
    Ok(())
}

/// One line of a diff.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DiffLine {
    Same(String),
    Removed(String),
    Added(String),
}

/// A stretch of a file's diff: changed lines with up to three unchanged lines around them;
/// what lies between two hunks did not change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hunk {
    /// The first line of the stretch in the old and the new file (1-based).
    pub old_start: u32,
    pub new_start: u32,
    pub lines: Vec<DiffLine>,
}

/// A file a change brings, as a reviewer reads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangedFile {
    pub path: String,
    /// The path before, when the file was renamed.
    pub old_path: Option<String>,
    /// added | modified | deleted | renamed
    pub change: String,
    pub added: usize,
    pub removed: usize,
    pub hunks: Vec<Hunk>,
    /// Why the lines are not shown (a binary file, too many lines); None when `hunks` holds
    /// the whole change.
    pub folded: Option<String>,
}

impl ChangedFile {
    /// Large enough that a page shows it folded until opened.
    pub fn is_large(&self) -> bool {
        self.folded.is_some() || self.added + self.removed > LARGE_FILE_LINES
    }
}

/// A file with more changed lines than this shows folded.
pub const LARGE_FILE_LINES: usize = 200;

/// The files a change brings; `omitted` more were left out (past the most a page lists).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileChanges {
    pub files: Vec<ChangedFile>,
    pub omitted: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use ResourceAction as A;
    use ResourceState as S;
    use ResourceStatus as T;

    #[test]
    fn lifecycle_follows_provision_provisioned_destroy_destroyed() {
        assert_eq!(
            transition(S::Provision, T::Ready, A::Edit),
            Ok((S::Provision, T::Ready))
        );
        assert_eq!(
            transition(S::Provisioned, T::Done, A::Edit),
            Ok((S::Provision, T::Ready))
        );
        assert_eq!(
            transition(S::Provisioned, T::Done, A::Destroy),
            Ok((S::Destroy, T::Ready))
        );
        assert_eq!(
            transition(S::Destroy, T::Ready, A::CancelDestroy),
            Ok((S::Provisioned, T::Done))
        );
        assert!(transition(S::Provision, T::Ready, A::Delete).is_ok());
        assert!(transition(S::Destroyed, T::Done, A::Delete).is_ok());
        assert!(transition(S::Provisioned, T::Done, A::Delete)
            .unwrap_err()
            .contains("destroy it first"));
        assert!(transition(S::Destroyed, T::Done, A::Edit).is_err());
        assert!(transition(S::Provision, T::InProgress, A::Edit)
            .unwrap_err()
            .contains("in progress"));
        for s in [S::Provision, S::Provisioned, S::Destroy, S::Destroyed] {
            assert_eq!(ResourceState::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn parents_must_come_from_the_template_hierarchy() {
        let vpc_parents = [("aws-region".to_string(), true)];
        assert!(check_parents(&vpc_parents, &[]).is_ok());
        let eks_parents = [("vpc".to_string(), false)];
        assert!(check_parents(&eks_parents, &[])
            .unwrap_err()
            .contains("instance of vpc"));
        assert!(check_parents(&eks_parents, &[("prod".into(), "vpc".into())]).is_ok());
        let wrong = check_parents(&eks_parents, &[("logs".into(), "s3-bucket".into())]);
        assert_eq!(
            wrong.unwrap_err(),
            "logs is a s3-bucket; parents must be instances of vpc"
        );
    }
}
