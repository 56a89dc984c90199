//! Policies: rules every resource plan is checked against before anyone may approve it,
//! written in Rego (OPA's language) and kept as a manifest with revisions like the release
//! manifests, edited only by the group that owns it:
//!
//! ```yaml
//! apiVersion: lowops.manifests.v1
//! kind: Policy
//! metadata:
//!   name: eks-node-limits
//! spec:
//!   owner: security                 # the group that edits it
//!   description: Node groups stay within 10 nodes.
//!   appliesTo:                      # optional: templates it checks (all when left out)
//!     templates: [eks-cluster]
//!   override:                       # optional: who may let a denied plan through
//!     group: security
//!     approvals: 2                  # distinct members, never the change's author
//!   rego: |
//!     package slipway.eks
//!     deny contains msg if { ... }
//! ```
//!
//! The Rego sees `input.plan` (the plan's `show -json`) and `input.resource` (`slug`,
//! `template`, `workspace`); each string in its `deny` set blocks approval with that message.
//! Compiling and evaluating the Rego is the server's (`server::policies`); this module reads the
//! manifest.

use super::manifests::{names, safe_name, text, Errors, Fields, Metadata};
use super::yaml::{Node, Pos};
use serde::{Deserialize, Serialize};

/// The longest Rego text a policy holds, in bytes.
pub const MAX_REGO: usize = 64 * 1024;
/// The most members an override may ask for.
pub const MAX_APPROVALS: u32 = 10;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub metadata: Metadata,
    /// The group that owns (edits) it.
    pub owner: String,
    pub description: String,
    /// Template keys it checks; empty: every template.
    pub templates: Vec<String>,
    pub rego: String,
    /// Where the Rego text starts in the manifest: its first line, at its indentation.
    pub rego_pos: Pos,
    /// The group whose members may override a denial, and how many distinct ones must.
    pub override_group: Option<String>,
    pub approvals: u32,
}

impl Policy {
    /// Whether it checks resources of `template`.
    pub fn applies_to(&self, template: &str) -> bool {
        self.templates.is_empty() || self.templates.iter().any(|t| t == template)
    }

    /// The package the Rego declares (`package a.b`), whose `deny` is read.
    pub fn package(&self) -> Option<&str> {
        self.rego.lines().find_map(|line| {
            let line = line.trim();
            let rest = line.strip_prefix("package ")?;
            let name = rest.split('#').next()?.trim();
            (!name.is_empty()).then_some(name)
        })
    }
}

pub(super) fn policy(meta: Metadata, spec: &Node, errors: &mut Errors) -> Option<Policy> {
    if let Some((kind, parent)) = &meta.parent {
        errors.at(
            meta.pos,
            format!("a Policy has no parent (metadata.parent: {kind}/{parent})"),
        );
    }
    let fields = Fields::of(spec, "spec", errors)?;
    fields.only(
        &["owner", "description", "appliesTo", "override", "rego"],
        errors,
    );
    let owner = fields
        .required("owner", "spec", errors)
        .and_then(|n| safe_name(n, "spec.owner", errors));
    let description = fields
        .get("description")
        .and_then(|n| text(n, "spec.description", errors))
        .unwrap_or_default();
    let mut templates = Vec::new();
    if let Some(node) = fields.get("appliesTo") {
        if let Some(applies) = Fields::of(node, "spec.appliesTo", errors) {
            applies.only(&["templates"], errors);
            if let Some(list) = applies.required("templates", "spec.appliesTo", errors) {
                templates = names(list, "spec.appliesTo.templates", errors);
            }
        }
    }
    let (mut override_group, mut approvals) = (None, 0);
    if let Some(node) = fields.get("override") {
        if let Some(settings) = Fields::of(node, "spec.override", errors) {
            settings.only(&["group", "approvals"], errors);
            override_group = settings
                .required("group", "spec.override", errors)
                .and_then(|n| safe_name(n, "spec.override.group", errors));
            approvals = 1;
            if let Some(n) = settings.get("approvals") {
                match text(n, "spec.override.approvals", errors).map(|t| t.parse::<u32>()) {
                    Some(Ok(count)) if (1..=MAX_APPROVALS).contains(&count) => approvals = count,
                    Some(_) => errors.at(
                        n.pos,
                        format!("spec.override.approvals must be a whole number from 1 to {MAX_APPROVALS}"),
                    ),
                    None => {}
                }
            }
        }
    }
    let rego_node = fields.required("rego", "spec", errors);
    let rego = rego_node.and_then(|n| text(n, "spec.rego", errors));
    if let (Some(node), Some(rego)) = (rego_node, &rego) {
        if rego.len() > MAX_REGO {
            errors.at(
                node.pos,
                format!("spec.rego is longer than {} KiB", MAX_REGO / 1024),
            );
        } else if !rego.lines().any(|l| l.trim_start().starts_with("package ")) {
            errors.at(
                node.pos,
                "spec.rego declares no package (start it with `package slipway.<name>`)".into(),
            );
        } else if !rego.contains("deny") {
            errors.at(
                node.pos,
                "spec.rego has no `deny` rule: a policy denies with `deny contains msg if { … }`"
                    .into(),
            );
        }
    }
    Some(Policy {
        metadata: meta,
        owner: owner?,
        description,
        templates,
        rego_pos: rego_node.map(|n| n.pos).unwrap_or_default(),
        rego: rego?,
        override_group,
        approvals,
    })
}

/// What one policy said of one plan, as the plan keeps it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyResult {
    pub policy: String,
    pub revision: i32,
    pub owner: String,
    /// Its `deny` messages (none: the plan passes it).
    pub denials: Vec<String>,
    /// Who may override, and how many distinct members must.
    pub override_group: Option<String>,
    pub approvals: u32,
    /// Who overrode it, with why.
    #[serde(default)]
    pub overrides: Vec<PolicyOverride>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyOverride {
    pub by: String,
    pub reason: String,
    pub at: String,
}

impl PolicyResult {
    /// Whether it blocks approval: it denied and not enough members overrode it.
    pub fn blocks(&self) -> bool {
        !self.denials.is_empty()
            && (self.approvals == 0 || self.overrides.len() < self.approvals as usize)
    }
}

/// The reference example the new-manifest page offers for a Policy.
pub const EXAMPLE_POLICY: &str = r#"apiVersion: lowops.manifests.v1
kind: Policy
metadata:
  name: eks-node-limits
spec:
  owner: security
  description: EKS node groups stay within 10 nodes.
  appliesTo:
    templates: [eks-cluster]
  override:
    group: security
    approvals: 2
  rego: |
    package slipway.eks_node_limits

    deny contains msg if {
      input.change != "destroy"
      some group, settings in input.plan.variables.node_groups.value
      settings.max_size > 10
      msg := sprintf("node group %s may grow to %d nodes; the limit is 10", [group, settings.max_size])
    }
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::manifests::{load, Manifest};

    fn one(text: &str) -> Result<Policy, Vec<String>> {
        match load("policy.yaml", text) {
            Ok(mut list) => match list.remove(0) {
                Manifest::Policy(p) => Ok(p),
                other => panic!("not a policy: {other:?}"),
            },
            Err(errors) => Err(errors.into_iter().map(|e| e.to_string()).collect()),
        }
    }

    #[test]
    fn the_example_reads() {
        let policy = one(EXAMPLE_POLICY).unwrap();
        assert_eq!(policy.owner, "security");
        assert_eq!(policy.templates, ["eks-cluster"]);
        assert_eq!(
            (policy.override_group.as_deref(), policy.approvals),
            (Some("security"), 2)
        );
        assert_eq!(policy.package(), Some("slipway.eks_node_limits"));
        assert!(policy.applies_to("eks-cluster") && !policy.applies_to("vpc"));
        assert_eq!(policy.rego_pos.line, 14, "the Rego's first line");
    }

    #[test]
    fn every_mistake_is_named_with_its_place() {
        let text = "apiVersion: lowops.manifests.v1\nkind: Policy\nmetadata:\n  name: p\nspec:\n  ownr: security\n  override:\n    group: security\n    approvals: 99\n  rego: |\n    deny contains \"x\" if { true }\n";
        let errors = one(text).unwrap_err();
        let all = errors.join("\n");
        assert!(
            all.contains("policy.yaml:6:3: unknown field `ownr`"),
            "{all}"
        );
        assert!(
            all.contains("spec.override.approvals must be a whole number from 1 to 10"),
            "{all}"
        );
        assert!(all.contains("declares no package"), "{all}");
        assert!(
            all.contains("spec: missing field `owner`") || all.contains("owner"),
            "{all}"
        );
    }

    #[test]
    fn an_override_needs_enough_distinct_members() {
        let mut result = PolicyResult {
            denials: vec!["too big".into()],
            override_group: Some("security".into()),
            approvals: 2,
            ..PolicyResult::default()
        };
        assert!(result.blocks());
        result.overrides.push(PolicyOverride {
            by: "sam".into(),
            reason: "ok".into(),
            at: String::new(),
        });
        assert!(result.blocks());
        result.overrides.push(PolicyOverride {
            by: "ada".into(),
            reason: "ok".into(),
            at: String::new(),
        });
        assert!(!result.blocks());
        let passing = PolicyResult::default();
        assert!(!passing.blocks());
        let strict = PolicyResult {
            denials: vec!["no".into()],
            ..PolicyResult::default()
        };
        assert!(
            strict.blocks(),
            "a policy without an override blocks for good"
        );
    }
}
