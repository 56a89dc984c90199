//! Small widgets pages share: state badges, diffs, release kinds, run states.

use crate::domain::resources::{DiffLine, ResourceState, ResourceStatus};
use crate::domain::versioning::ReleaseType;
use crate::domain::workspaces::WorkspaceStatus;
use leptos::prelude::*;

/// State and status as two pills.
#[component]
pub fn StateBadges(state: ResourceState, status: ResourceStatus) -> AnyView {
    view! {
        <span class=format!("state state-{}", state.as_str()) title=status.explain(state)>{state.label()}</span>
        <span class=format!("status status-{}", status.as_str()) title=status.explain(state)>{status.label()}</span>
    }
    .into_any()
}

/// A line diff, as the revision and pull request pages show it.
#[component]
pub fn DiffLines(lines: Vec<DiffLine>) -> AnyView {
    view! {
        <pre class="diff-lines">
            {lines.into_iter().map(|line| match line {
                DiffLine::Same(text) => view! { <span class="line same">{format!("  {text}\n")}</span> },
                DiffLine::Removed(text) => view! { <span class="line removed">{format!("- {text}\n")}</span> },
                DiffLine::Added(text) => view! { <span class="line added">{format!("+ {text}\n")}</span> },
            }).collect_view()}
        </pre>
    }
    .into_any()
}

pub fn release_badge(release: ReleaseType) -> impl IntoView {
    let kind = match release {
        ReleaseType::Latest => "latest",
        ReleaseType::Alpha => "alpha",
        ReleaseType::Beta => "beta",
        ReleaseType::Hotfix => "hotfix",
        ReleaseType::None => "none",
    };
    view! { <span class=format!("release release-{kind}")>{release.as_str()}</span> }
}

/// A pull request's state, in the colour every list of pull requests uses.
pub fn pull_badge(state: crate::domain::workspaces::PullState) -> AnyView {
    view! { <span class=format!("pull pull-{}", state.as_str())>{state.as_str()}</span> }.into_any()
}

pub fn run_badge(status: crate::domain::jobs::JobStatus) -> AnyView {
    view! { <span class=format!("run-status run-{status}")>{status.as_str()}</span> }.into_any()
}

/// A module's validation rule as help: the condition, its message, and whether the plan checks
/// it rather than the save. (Its own `AnyView` keeps the table's view type shallow enough for
/// the release build.)
pub fn rule_view(
    prefix: &'static str,
    rule: &crate::domain::modules::VariableValidation,
) -> AnyView {
    view! {
        <p class="hint rule">{prefix}<code>{rule.condition.clone()}</code>" — "{rule.error_message.clone()}</p>
        {rule.unchecked.clone().map(|why| view! { <p class="hint rule unchecked">"Checked by the plan, not on save: "{why}"."</p> })}
    }
    .into_any()
}

pub fn status_badge(status: WorkspaceStatus) -> AnyView {
    view! { <span class=format!("status status-{}", status.as_str())>{status.label()}</span> }
        .into_any()
}
