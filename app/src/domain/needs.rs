//! "Needs you": what waits for a person now, and why it is theirs. The rules are here, pure;
//! `server::needs` reads the rows they run on.

use super::policies::PolicyResult;
use super::release_manifests::SignOff;
use super::releases::{gate, may_vote, Gate, Vote};
use serde::{Deserialize, Serialize};

/// What kind of thing waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NeedKind {
    /// A release stage one of the person's groups must sign off.
    SignOff,
    /// A resource's pull request, planned, that the person may approve.
    Review,
    /// A governed repository's pull request that the person may approve.
    RepositoryReview,
    /// A plan a policy denies whose override group the person is in.
    PolicyOverride,
    /// Drift found on a resource the person owns, or accepting it proposed for them to approve.
    Drift,
    /// An exception to a freeze asked of a group the person is in.
    FreezeException,
    /// A rollback one of the person's groups must sign off.
    Rollback,
}

impl NeedKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NeedKind::SignOff => "sign_off",
            NeedKind::Review => "review",
            NeedKind::RepositoryReview => "repository_review",
            NeedKind::PolicyOverride => "policy_override",
            NeedKind::Drift => "drift",
            NeedKind::FreezeException => "freeze_exception",
            NeedKind::Rollback => "rollback",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            NeedKind::SignOff => "Sign-off",
            NeedKind::Review => "Review",
            NeedKind::RepositoryReview => "Repository review",
            NeedKind::PolicyOverride => "Policy override",
            NeedKind::Drift => "Drift",
            NeedKind::FreezeException => "Freeze exception",
            NeedKind::Rollback => "Rollback",
        }
    }
}

/// The groups of a stage's sign-off that wait for `user` now: those they are in that are still
/// short of approvals, where an approval of theirs would count (not the starter, no vote yet).
/// Each as (group, approvals so far, approvals needed).
pub fn sign_off_wanted(
    sign_off: &[SignOff],
    votes: &[Vote],
    starter: &str,
    user: &str,
    groups: &[String],
) -> Vec<(String, u32, u32)> {
    match gate(sign_off, votes) {
        Gate::Waiting(missing) => missing
            .into_iter()
            .filter(|(group, _, _)| {
                may_vote(sign_off, votes, starter, user, groups, group, true).is_ok()
            })
            .collect(),
        Gate::Open | Gate::Rejected { .. } => Vec::new(),
    }
}

/// The policies denying a plan whose override waits for `user`: those still blocking whose
/// override group they are in, that they have not overridden, on a change they did not make.
pub fn overrides_wanted<'a>(
    results: &'a [PolicyResult],
    user: &str,
    groups: &[String],
    authors: &[String],
) -> Vec<&'a PolicyResult> {
    if authors.iter().any(|a| a == user) {
        return Vec::new();
    }
    results
        .iter()
        .filter(|r| r.blocks())
        .filter(|r| {
            r.override_group
                .as_ref()
                .is_some_and(|g| groups.iter().any(|mine| mine == g))
        })
        .filter(|r| !r.overrides.iter().any(|o| o.by == user))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::policies::PolicyOverride;

    fn vote(user: &str, group: &str, approve: bool) -> Vote {
        Vote {
            user: user.into(),
            group: group.into(),
            approve,
            comment: String::new(),
        }
    }

    fn groups(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn a_stage_waits_for_its_short_groups_members_who_may_still_approve() {
        let sign_off = vec![
            SignOff {
                group: "product".into(),
                approvals: 2,
            },
            SignOff {
                group: "security".into(),
                approvals: 1,
            },
        ];
        let none: Vec<Vote> = vec![];
        assert_eq!(
            sign_off_wanted(&sign_off, &none, "remy", "pat", &groups(&["product"])),
            vec![("product".to_string(), 0, 2)]
        );
        // In both groups: both are asked of them.
        assert_eq!(
            sign_off_wanted(
                &sign_off,
                &none,
                "remy",
                "sam",
                &groups(&["security", "product"])
            )
            .len(),
            2
        );
        // Not in a group of the stage; or the starter; or voted already: nothing waits.
        assert!(sign_off_wanted(&sign_off, &none, "remy", "quinn", &groups(&["qa"])).is_empty());
        assert!(sign_off_wanted(&sign_off, &none, "pat", "pat", &groups(&["product"])).is_empty());
        let voted = vec![vote("pat", "product", true)];
        assert!(
            sign_off_wanted(&sign_off, &voted, "remy", "pat", &groups(&["product"])).is_empty()
        );
        // Another member's vote leaves one approval missing: still theirs.
        assert_eq!(
            sign_off_wanted(&sign_off, &voted, "remy", "ada", &groups(&["product"])),
            vec![("product".to_string(), 1, 2)]
        );
        // A group that has its approvals waits for no one; a rejected stage for nobody.
        let security_done = vec![vote("sam", "security", true)];
        assert!(sign_off_wanted(
            &sign_off,
            &security_done,
            "remy",
            "sol",
            &groups(&["security"])
        )
        .is_empty());
        let rejected = vec![vote("pat", "product", false)];
        assert!(
            sign_off_wanted(&sign_off, &rejected, "remy", "sam", &groups(&["security"])).is_empty()
        );
    }

    fn denied(group: Option<&str>, approvals: u32, by: &[&str]) -> PolicyResult {
        PolicyResult {
            policy: "eks-node-limits".into(),
            revision: 1,
            owner: "security".into(),
            denials: vec!["too big".into()],
            override_group: group.map(str::to_string),
            approvals,
            overrides: by
                .iter()
                .map(|b| PolicyOverride {
                    by: b.to_string(),
                    at: "now".into(),
                    reason: "ok".into(),
                })
                .collect(),
        }
    }

    #[test]
    fn an_override_waits_for_members_of_its_group_who_did_not_make_the_change() {
        let security = groups(&["security"]);
        let authors = vec!["dev".to_string()];
        let results = vec![denied(Some("security"), 2, &[])];
        assert_eq!(
            overrides_wanted(&results, "sam", &security, &authors).len(),
            1
        );
        assert!(
            overrides_wanted(&results, "dev", &security, &authors).is_empty(),
            "the author"
        );
        assert!(overrides_wanted(&results, "pat", &groups(&["product"]), &authors).is_empty());
        let one = vec![denied(Some("security"), 2, &["sam"])];
        assert!(
            overrides_wanted(&one, "sam", &security, &authors).is_empty(),
            "did already"
        );
        assert_eq!(
            overrides_wanted(&one, "quinn", &security, &authors).len(),
            1
        );
        let done = vec![denied(Some("security"), 2, &["sam", "quinn"])];
        assert!(
            overrides_wanted(&done, "sol", &security, &authors).is_empty(),
            "passes now"
        );
        let fixed = vec![denied(None, 0, &[])];
        assert!(
            overrides_wanted(&fixed, "sam", &security, &authors).is_empty(),
            "no override"
        );
    }
}
