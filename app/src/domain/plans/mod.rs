//! Reading a Terraform or OpenTofu plan (`terraform show -json <planfile>`) as a person reads it:
//! what each resource and output becomes, secrets hidden, and the pull request comment saying so;
//! the error blocks of a failed run's output; and the states a plan goes through.
//!
//! Secrets: a value is hidden where the plan marks it sensitive (`before_sensitive`,
//! `after_sensitive`, an output's flag). Terraform does not always carry the mark along (a
//! `terraform_data` resource's `output` copies a sensitive `input` unmarked once in state), so
//! any string that the plan marks sensitive anywhere (or a root variable declared sensitive) is
//! hidden wherever else it appears whole, too.

mod attributes;
mod errors;
mod markdown;

pub use errors::error_lines;

use attributes::{attribute_changes, output_sides, secrets_of};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;

/// The longest rendering of one value, in characters; longer ones are cut and end in "…".
pub const MAX_VALUE_CHARS: usize = 512;
/// The most attributes listed per resource; the rest are counted in `more_attributes`.
pub const MAX_ATTRIBUTES: usize = 200;
/// The longest pull request comment body, in characters (GitHub's limit is 65,536).
pub const MAX_COMMENT_CHARS: usize = 60_000;

/// What a plan does to a resource or output, as Terraform's `change.actions` says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeAction {
    Create,
    Update,
    /// Destroy and create again (either order).
    Replace,
    Delete,
    /// A data source read during apply.
    Read,
    NoOp,
}

impl ChangeAction {
    const ALL: [ChangeAction; 6] = [
        ChangeAction::Create,
        ChangeAction::Update,
        ChangeAction::Replace,
        ChangeAction::Delete,
        ChangeAction::Read,
        ChangeAction::NoOp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChangeAction::Create => "create",
            ChangeAction::Update => "update",
            ChangeAction::Replace => "replace",
            ChangeAction::Delete => "delete",
            ChangeAction::Read => "read",
            ChangeAction::NoOp => "no-op",
        }
    }

    pub fn parse(value: &str) -> Option<ChangeAction> {
        Self::ALL.into_iter().find(|a| a.as_str() == value)
    }

    /// The words Terraform's own plan uses.
    pub fn label(self) -> &'static str {
        match self {
            ChangeAction::Create => "create",
            ChangeAction::Update => "update in place",
            ChangeAction::Replace => "replace",
            ChangeAction::Delete => "destroy",
            ChangeAction::Read => "read",
            ChangeAction::NoOp => "no change",
        }
    }

    /// The mark Terraform puts before the resource in its plan.
    pub fn symbol(self) -> &'static str {
        match self {
            ChangeAction::Create => "+",
            ChangeAction::Update => "~",
            ChangeAction::Replace => "-/+",
            ChangeAction::Delete => "-",
            ChangeAction::Read => "<=",
            ChangeAction::NoOp => " ",
        }
    }

    /// The action of a `change.actions` list; `None` for one Slipway does not show (`forget`).
    fn from_actions(actions: &[String]) -> Option<ChangeAction> {
        let names: Vec<&str> = actions.iter().map(String::as_str).collect();
        match names.as_slice() {
            ["delete", "create"] | ["create", "delete"] => Some(ChangeAction::Replace),
            [one] if *one != "replace" => ChangeAction::parse(one),
            _ => None,
        }
    }
}

impl fmt::Display for ChangeAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One side of a change as it may be shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shown {
    /// The value rendered compactly: strings quoted, lists and maps as compact JSON, at most
    /// `MAX_VALUE_CHARS` characters (then "…").
    Value(String),
    Sensitive,
    Unknown,
    /// Not there (or null) on this side.
    Absent,
}

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Shown::Value(value) => value,
            Shown::Sensitive => "(sensitive)",
            Shown::Unknown => "(known after apply)",
            Shown::Absent => "null",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeChange {
    /// `tags.Name`, `subnets[0]`, `tags["kubernetes.io/role"]`.
    pub path: String,
    pub before: Shown,
    pub after: Shown,
    pub forces_replacement: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceChange {
    pub address: String,
    pub action: ChangeAction,
    /// The attributes that change, in path order (list indexes by number).
    pub attributes: Vec<AttributeChange>,
    /// Changed attributes beyond `MAX_ATTRIBUTES`, not listed.
    pub more_attributes: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputChange {
    pub name: String,
    pub action: ChangeAction,
    pub before: Shown,
    pub after: Shown,
}

/// Terraform's "Plan: X to add, Y to change, Z to destroy".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub add: u32,
    pub change: u32,
    pub destroy: u32,
}

impl Counts {
    /// `+2 ~1 -0`.
    pub fn label(&self) -> String {
        format!("+{} ~{} -{}", self.add, self.change, self.destroy)
    }

    fn count(&mut self, action: ChangeAction) {
        let (add, change, destroy) = match action {
            ChangeAction::Create => (1, 0, 0),
            ChangeAction::Update => (0, 1, 0),
            ChangeAction::Replace => (1, 0, 1),
            ChangeAction::Delete => (0, 0, 1),
            ChangeAction::Read | ChangeAction::NoOp => (0, 0, 0),
        };
        self.add = self.add.saturating_add(add);
        self.change = self.change.saturating_add(change);
        self.destroy = self.destroy.saturating_add(destroy);
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSummary {
    /// In the plan's order (Terraform sorts by address); no-op entries left out.
    pub changes: Vec<ResourceChange>,
    /// By name; no-op entries left out.
    pub outputs: Vec<OutputChange>,
    pub counts: Counts,
    /// What changed outside the code since the last run (`resource_drift`): the whole finding
    /// of a drift check, and what a change's plan will also undo.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<ResourceChange>,
    /// `terraform_version` of the plan (OpenTofu writes its own version there).
    pub runtime_version: String,
}

impl PlanSummary {
    /// Whether applying would change nothing: no resource change other than reads, no output
    /// change.
    pub fn is_empty(&self) -> bool {
        self.changes
            .iter()
            .all(|c| matches!(c.action, ChangeAction::NoOp | ChangeAction::Read))
            && self.outputs.iter().all(|o| o.action == ChangeAction::NoOp)
    }
}

/// The summary of `terraform show -json` output, or why it cannot be read (never a value from
/// the plan, which may be secret).
pub fn summarize(show_json: &str) -> Result<PlanSummary, String> {
    let plan: RawPlan = serde_json::from_str(show_json).map_err(|e| read_error(&e))?;
    match plan.format_version.as_deref() {
        // 0.2 (Terraform 1.0–1.1) has the same shape as 1.x (1.2 on).
        Some(version) if matches!(version.split('.').next(), Some("0" | "1")) => {}
        Some(version) => {
            return Err(format!(
                "plan JSON format {version} is not supported (0.x and 1.x are)"
            ))
        }
        None => return Err("not the JSON of a plan: it has no format_version".into()),
    }
    let secrets = secrets_of(&plan);
    let mut counts = Counts::default();
    let changes = resource_changes(plan.resource_changes.as_deref(), &secrets);
    for change in &changes {
        counts.count(change.action);
    }
    let drift = resource_changes(plan.resource_drift.as_deref(), &secrets);
    let outputs = plan
        .output_changes
        .iter()
        .flatten()
        .filter_map(|(name, change)| {
            let action = ChangeAction::from_actions(change.actions.as_deref().unwrap_or(&[]))?;
            if action == ChangeAction::NoOp {
                return None;
            }
            let (before, after) = output_sides(change, &secrets);
            Some(OutputChange {
                name: name.clone(),
                action,
                before,
                after,
            })
        })
        .collect();
    Ok(PlanSummary {
        changes,
        outputs,
        counts,
        drift,
        runtime_version: plan.terraform_version.unwrap_or_default(),
    })
}

/// The entries of `resource_changes` or `resource_drift` that do something, as a person reads
/// them.
fn resource_changes(
    raw: Option<&[RawResourceChange]>,
    secrets: &std::collections::HashSet<&str>,
) -> Vec<ResourceChange> {
    let mut changes = Vec::new();
    for raw in raw.into_iter().flatten() {
        let Some(action) = ChangeAction::from_actions(raw.change.actions.as_deref().unwrap_or(&[]))
        else {
            continue;
        };
        if action == ChangeAction::NoOp {
            continue;
        }
        let (attributes, more_attributes) = attribute_changes(&raw.change, secrets);
        changes.push(ResourceChange {
            address: raw.address.clone(),
            action,
            attributes,
            more_attributes,
        });
    }
    changes
}

/// serde_json's message may quote a value from the input; say only where and what kind.
fn read_error(error: &serde_json::Error) -> String {
    let at = format!("line {}, column {}", error.line(), error.column());
    if error.to_string().starts_with("recursion limit exceeded") {
        return format!("the plan JSON nests too deeply ({at})");
    }
    match error.classify() {
        serde_json::error::Category::Data => {
            format!("the JSON is not a plan of the expected shape ({at})")
        }
        serde_json::error::Category::Eof => format!("the plan JSON ends early ({at})"),
        _ => format!("the plan is not valid JSON ({at})"),
    }
}

// ---- Reading the plan JSON: only the fields used; the rest is skipped unparsed.

#[derive(Deserialize)]
struct RawPlan {
    format_version: Option<String>,
    terraform_version: Option<String>,
    resource_changes: Option<Vec<RawResourceChange>>,
    resource_drift: Option<Vec<RawResourceChange>>,
    output_changes: Option<BTreeMap<String, RawChange>>,
    variables: Option<BTreeMap<String, RawVariable>>,
    configuration: Option<RawConfiguration>,
}

#[derive(Deserialize)]
struct RawResourceChange {
    address: String,
    change: RawChange,
}

#[derive(Deserialize)]
struct RawChange {
    actions: Option<Vec<String>>,
    #[serde(default)]
    before: Value,
    #[serde(default)]
    after: Value,
    #[serde(default)]
    after_unknown: Value,
    #[serde(default)]
    before_sensitive: Value,
    #[serde(default)]
    after_sensitive: Value,
    replace_paths: Option<Vec<Vec<Value>>>,
}

#[derive(Deserialize)]
struct RawVariable {
    #[serde(default)]
    value: Value,
}

#[derive(Deserialize)]
struct RawConfiguration {
    root_module: Option<RawModule>,
}

#[derive(Deserialize)]
struct RawModule {
    variables: Option<BTreeMap<String, RawVariableConfig>>,
}

#[derive(Deserialize)]
struct RawVariableConfig {
    sensitive: Option<bool>,
}

// ---- The states of a plan in Slipway.

/// Where a plan run is: planned, reviewed, applied, or overtaken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    Queued,
    Planning,
    /// Planned; waiting for review and apply.
    Ready,
    Failed,
    /// A newer plan of the same workspace replaced it.
    Superseded,
    Applying,
    Applied,
    ApplyFailed,
    /// The state moved since it was planned; it can no longer be applied.
    Stale,
}

impl PlanStatus {
    const ALL: [PlanStatus; 9] = [
        PlanStatus::Queued,
        PlanStatus::Planning,
        PlanStatus::Ready,
        PlanStatus::Failed,
        PlanStatus::Superseded,
        PlanStatus::Applying,
        PlanStatus::Applied,
        PlanStatus::ApplyFailed,
        PlanStatus::Stale,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PlanStatus::Queued => "queued",
            PlanStatus::Planning => "planning",
            PlanStatus::Ready => "ready",
            PlanStatus::Failed => "failed",
            PlanStatus::Superseded => "superseded",
            PlanStatus::Applying => "applying",
            PlanStatus::Applied => "applied",
            PlanStatus::ApplyFailed => "apply_failed",
            PlanStatus::Stale => "stale",
        }
    }

    pub fn parse(value: &str) -> Option<PlanStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// The state in words people use.
    pub fn label(self) -> &'static str {
        match self {
            PlanStatus::Queued => "waiting to plan",
            PlanStatus::Planning => "planning",
            PlanStatus::Ready => "ready for review",
            PlanStatus::Failed => "plan failed",
            PlanStatus::Superseded => "superseded",
            PlanStatus::Applying => "applying",
            PlanStatus::Applied => "applied",
            PlanStatus::ApplyFailed => "apply failed",
            PlanStatus::Stale => "stale: state moved",
        }
    }

    /// Whether a job is working on it (or about to).
    pub fn is_running(self) -> bool {
        matches!(
            self,
            PlanStatus::Queued | PlanStatus::Planning | PlanStatus::Applying
        )
    }
}

impl fmt::Display for PlanStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests;
