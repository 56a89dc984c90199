//! What a push to the local forge may change. The ref updates a client sends are checked
//! before any of them is applied: a guarded branch moves only through Slipway's own reviewed
//! merges and deployment commits (which do not come through pushes), a tag once made never
//! moves or goes, and nothing but branches and tags is taken. A refused push changes nothing.

use super::branching::policy_for;
use super::versioning::Strategy;

/// The id git sends for "no object": a ref created (old) or deleted (new).
pub const ZERO: &str = "0000000000000000000000000000000000000000";

/// One ref update of a push: `old` → `new`, as 40 hex digits ([`ZERO`] for none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefUpdate {
    pub old: String,
    pub new: String,
    pub name: String,
}

/// Which branches of a repository people may not push to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Guarded {
    /// These branches by name (a workspace's default branch, the environments' main).
    Branches(Vec<String>),
    /// A governed repository: its default branch and every branch its strategy protects.
    Strategy {
        strategy: Option<Strategy>,
        default: String,
    },
}

impl Guarded {
    pub fn guards(&self, branch: &str) -> bool {
        match self {
            Guarded::Branches(names) => names.iter().any(|n| n == branch),
            Guarded::Strategy { strategy, default } => {
                branch == default
                    || strategy
                        .and_then(|s| policy_for(s, branch))
                        .is_some_and(|p| p.protected)
            }
        }
    }
}

fn is_id(text: &str) -> bool {
    text.len() == 40 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Every refusal for `updates`, as (ref, reason); empty when the push may go ahead.
pub fn refusals(guarded: &Guarded, updates: &[RefUpdate]) -> Vec<(String, String)> {
    updates
        .iter()
        .filter_map(|u| {
            let reason = if !is_id(&u.old) || !is_id(&u.new) {
                "not a ref update git sends".to_string()
            } else if let Some(branch) = u.name.strip_prefix("refs/heads/") {
                if !guarded.guards(branch) {
                    return None;
                }
                format!("{branch} is protected: only Slipway's reviewed merges move it; push another branch and open a pull request")
            } else if u.name.starts_with("refs/tags/") {
                if u.old == ZERO {
                    return None;
                }
                "tags never move or go once made".to_string()
            } else {
                "only branches and tags can be pushed".to_string()
            };
            Some((u.name.clone(), reason))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(old: &str, new: &str, name: &str) -> RefUpdate {
        let id = |c: &str| {
            if c == "0" {
                ZERO.to_string()
            } else {
                c.repeat(40)
            }
        };
        RefUpdate {
            old: id(old),
            new: id(new),
            name: name.into(),
        }
    }

    #[test]
    fn guarded_branches_take_no_push_of_any_kind() {
        let workspace = Guarded::Branches(vec!["main".into()]);
        for (old, new) in [("a", "b"), ("0", "b"), ("a", "0")] {
            let refused = refusals(&workspace, &[update(old, new, "refs/heads/main")]);
            assert_eq!(refused.len(), 1, "{old} → {new}");
            assert!(refused[0].1.contains("main is protected"), "{refused:?}");
        }
        assert!(refusals(&workspace, &[update("a", "b", "refs/heads/update_vpc")]).is_empty());
        // One refused update refuses the push: every refusal is named.
        let mixed = [
            update("a", "b", "refs/heads/feature"),
            update("a", "b", "refs/heads/main"),
            update("a", "b", "refs/tags/v1.0.0"),
            update("0", "b", "refs/notes/commits"),
        ];
        let names: Vec<String> = refusals(&workspace, &mixed)
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(
            names,
            ["refs/heads/main", "refs/tags/v1.0.0", "refs/notes/commits"]
        );
    }

    #[test]
    fn a_strategy_guards_its_protected_branches_and_the_default() {
        let flow = Guarded::Strategy {
            strategy: Some(Strategy::GitFlow),
            default: "main".into(),
        };
        for branch in ["main", "develop", "release/1.2", "hotfix/1.2.1"] {
            assert!(flow.guards(branch), "{branch}");
        }
        for branch in ["feat/login", "fix/typo", "chore/slipway-provision"] {
            assert!(!flow.guards(branch), "{branch}");
        }
        let unapplied = Guarded::Strategy {
            strategy: None,
            default: "main".into(),
        };
        assert!(unapplied.guards("main") && !unapplied.guards("develop"));
    }

    #[test]
    fn tags_are_made_once() {
        let none = Guarded::Branches(Vec::new());
        assert!(refusals(&none, &[update("0", "b", "refs/tags/v1.0.0")]).is_empty());
        assert_eq!(
            refusals(&none, &[update("a", "b", "refs/tags/v1.0.0")]).len(),
            1
        );
        assert_eq!(
            refusals(&none, &[update("a", "0", "refs/tags/v1.0.0")]).len(),
            1
        );
        let bad = RefUpdate {
            old: "xyz".into(),
            new: ZERO.into(),
            name: "refs/heads/x".into(),
        };
        assert_eq!(refusals(&none, &[bad]).len(), 1);
    }
}
