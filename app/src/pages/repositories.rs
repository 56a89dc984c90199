//! The Repositories area: governed repositories with their strategy drawn as a branch diagram,
//! the branch table, rulesets, CODEOWNERS and workflows Slipway computes; and the manifests
//! editor, which checks the text as it is typed with the same code the CLI and the server run.

use super::resources::DiffLines;
use super::versioning::release_badge;
use crate::api::repositories::{
    get_generated_file, get_governed_pull, get_planned_diff, get_provisioning, get_repositories,
    get_repository, ApprovePullRequest, FileSummary, GovernedPull, MergePullRequest,
    OpenPullRequest, ProvisionRepository, ProvisionView, RepositoryDetail, RepositoryRow,
    RotateBuildSecret, SaveRepository,
};
use crate::components::common::{EmptyState, ErrorPanel, FormError, Loading, PageHeader};
use crate::domain::branching::{BranchPolicy, BranchRole, SourceClass};
use crate::domain::manifests::ManifestError;
use crate::domain::repositories::{parse_source, RepositoryPlan, MANAGED_REPOSITORY};
use crate::error::AppError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

fn strategy_chip(strategy: crate::domain::versioning::Strategy) -> AnyView {
    view! { <span class="badge strategy">{strategy.label()}</span> }.into_any()
}

#[component]
pub fn RepositoriesPage() -> AnyView {
    let listed = Resource::new(|| (), |_| get_repositories());
    view! {
        <Title text="Repositories" />
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match listed.await {
                    Ok(data) => view! {
                        <PageHeader title="Repositories" subtitle="Repositories governed by a branching strategy: Slipway compiles each one's manifests into branch rules, CODEOWNERS and CI workflows.">
                            {data.can_create.then(|| view! { <a class="button primary" href="/repositories/new">"New repository"</a> })}
                        </PageHeader>
                        {if data.repositories.is_empty() {
                            view! {
                                <EmptyState title="No repositories are governed yet">
                                    <p>"A GithubRepository manifest names the strategy — GitHub Flow, Git Flow or Trunk-Based — and its BuildDefinitions the stages CI runs. Write them in the editor, or check files with "<code>"slipway manifests validate"</code>"."</p>
                                </EmptyState>
                            }.into_any()
                        } else {
                            view! { <RepositoryTable rows=data.repositories /> }.into_any()
                        }}
                    }
                    .into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

#[component]
fn RepositoryTable(rows: Vec<RepositoryRow>) -> AnyView {
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead><tr><th>"Repository"</th><th>"Strategy"</th><th>"Builds"</th><th>"Revision"</th><th>"Applied"</th><th>"Changed"</th></tr></thead>
                <tbody>
                    {rows.into_iter().map(|r| view! {
                        <tr>
                            <td><a href=format!("/repositories/{}", r.name)><strong>{r.name.clone()}</strong></a></td>
                            <td>{strategy_chip(r.strategy)}</td>
                            <td>{if r.builds.is_empty() {
                                view! { <span class="muted">"none"</span> }.into_any()
                            } else {
                                r.builds.iter().map(|(name, kind)| view! { <span class="badge">{format!("{name} · {kind}")}</span>" " }).collect_view().into_any()
                            }}</td>
                            <td>{r.revision}</td>
                            <td>{match r.applied_revision {
                                None => view! { <span class="badge">"not yet"</span> }.into_any(),
                                Some(a) if a == r.revision => view! { <span class="badge change-added">{format!("revision {a}")}</span> }.into_any(),
                                Some(a) => view! { <span class="badge change-changed">{format!("revision {a}, behind")}</span> }.into_any(),
                            }}</td>
                            <td class="muted">{format!("{} by {}", r.updated_at, r.updated_by)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
pub fn RepositoryPage() -> AnyView {
    let params = use_params_map();
    let name = move || params.read().get("name").unwrap_or_default();
    let detail = Resource::new(name, get_repository);
    // Made here, not in the card: see `ProvisioningData`.
    let provisioning = ProvisioningData::new(name);
    view! {
        <Title text="Repository" />
        <Transition fallback=|| view! { <Loading label="Computing the plan…" /> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(detail) => view! { <RepositoryView detail provisioning /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

#[component]
fn RepositoryView(detail: RepositoryDetail, provisioning: ProvisioningData) -> AnyView {
    let row = detail.row.clone();
    let plan = detail.plan.clone();
    view! {
        <div class="page-header">
            <div>
                <p class="eyebrow"><a href="/repositories">"Repositories"</a></p>
                <h1>{row.name.clone()}</h1>
                <p class="subtitle">
                    {strategy_chip(row.strategy)}
                    {format!(
                        " · {} · revision {} · changed {} by {}",
                        if plan.org == "local" { "local forge".to_string() } else { format!("organisation {}", plan.org) },
                        row.revision,
                        row.updated_at,
                        row.updated_by
                    )}
                </p>
            </div>
            <div class="page-actions">
                {detail.can_edit.then(|| view! { <a class="button" href=format!("/repositories/{}/edit", row.name)>"Edit manifests"</a> })}
            </div>
        </div>
        <Provisioning name=row.name.clone() data=provisioning />
        <BuildNotifications name=row.name.clone() has_secret=detail.has_build_secret can_edit=detail.can_edit />
        <PlanView plan=plan.clone() workflows=detail.workflows.clone() name=row.name.clone() />
        <RevisionList revisions=detail.revisions.clone() />
    }
    .into_any()
}

/// How the repository's CI tells Slipway a build completed: a secret it signs with, shown once
/// when made.
#[component]
fn BuildNotifications(name: String, has_secret: bool, can_edit: bool) -> AnyView {
    let rotate = ServerAction::<RotateBuildSecret>::new();
    view! {
        <section class="card">
            <div class="card-head">
                <div>
                    <h2>"Build notifications"</h2>
                    <p class="muted">"The push workflows tell Slipway each build they complete ("<code>"/hooks/build-completed"</code>"), signed with this repository's build secret; Slipway then deploys the application to its pre-release environments."</p>
                </div>
                {can_edit.then(|| view! {
                    <ActionForm action=rotate>
                        <input type="hidden" name="name" value=name.clone() />
                        <button type="submit" class="button" disabled=move || rotate.pending().get()>
                            {if has_secret { "Replace the build secret" } else { "Make a build secret" }}
                        </button>
                    </ActionForm>
                })}
            </div>
            {move || match rotate.value().get() {
                Some(Ok(secret)) => view! {
                    <div class="notice" role="status">
                        <p><strong>"Copy it now: it is not shown again."</strong>" Store it as the repository's Actions secret "<code>"SLIPWAY_WEBHOOK_SECRET"</code>"; notifications signed with an earlier secret are refused from now on."</p>
                        <pre class="code-block"><code>{secret}</code></pre>
                    </div>
                }.into_any(),
                Some(Err(error)) => view! { <ErrorPanel error /> }.into_any(),
                None => view! {
                    <p>{if has_secret { "A build secret is set." } else { "No build secret yet: notifications from this repository are refused." }}</p>
                }.into_any(),
            }}
        </section>
    }
    .into_any()
}

/// A manifest's revisions, newest first, the newest few with what they changed.
#[component]
pub(crate) fn RevisionList(revisions: Vec<crate::api::repositories::RevisionRow>) -> impl IntoView {
    view! {
        <section class="card">
            <h2>"Revisions"</h2>
            <ol class="revision-list">
                {revisions.iter().map(|r| {
                    let changed = r.changes.iter().filter(|l| !matches!(l, crate::domain::resources::DiffLine::Same(_))).count();
                    view! {
                        <li>
                            <strong>{format!("Revision {}", r.revision)}</strong><span class="muted">{format!(" · {} by {}", r.created_at, r.author)}</span>
                            {(changed > 0).then(|| view! {
                                <details class="code-file revision-changes">
                                    <summary><span>{format!("{changed} line{} changed", if changed == 1 { "" } else { "s" })}</span></summary>
                                    <DiffLines lines=r.changes.clone() />
                                </details>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ol>
        </section>
    }
}

/// Everything a plan holds: the diagram, the branch table, rulesets, CODEOWNERS and workflows.
#[component]
fn PlanView(plan: RepositoryPlan, workflows: Vec<FileSummary>, name: String) -> AnyView {
    let codeowners = plan
        .files
        .iter()
        .find(|f| f.repository == plan.repository && f.path == ".github/CODEOWNERS")
        .map(|f| f.contents.clone())
        .unwrap_or_default();
    let (callers, managed): (Vec<_>, Vec<_>) = workflows
        .into_iter()
        .partition(|f| f.repository == plan.repository);
    view! {
        <section class="card">
            <h2>"Branches"</h2>
            <p class="muted">"Arrows are the merges the strategy allows, labelled with their merge methods; Slipway's "<strong>"Merge Authorized"</strong>" check refuses any other."</p>
            <BranchDiagram branches=plan.branches.clone() />
            <div class="table-wrap flat">
                <table class="table branch-table">
                    <thead><tr><th>"Branch"</th><th>"Purpose"</th><th>"Merge policy"</th><th>"Accepts"</th><th>"Approvals"</th><th>"Version"</th></tr></thead>
                    <tbody>
                        {plan.branches.iter().map(|b| view! {
                            <tr>
                                <td><code>{b.role.shown()}</code></td>
                                <td>{b.purpose.clone()}</td>
                                <td>{b.merge_policy.clone()}<div class="hint">{b.methods.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", ")}</div></td>
                                <td class="accepts">{b.sources_rule()}</td>
                                <td>{b.approvals}</td>
                                <td>{release_badge(b.release)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
        <section class="card">
            <h2>{format!("Rulesets ({})", plan.rulesets.len())}</h2>
            <p class="muted">"Applied through the forge's rulesets API (on the local forge, enforced by Slipway when it merges)."</p>
            {plan.rulesets.iter().map(|r| view! {
                <details class="code-file">
                    <summary><code>{format!("rulesets/{}.json", r.name)}</code><span class="muted">{r.role.shown()}</span></summary>
                    <pre><code>{r.json.clone()}</code></pre>
                </details>
            }).collect_view()}
        </section>
        <section class="card">
            <h2>"CODEOWNERS"</h2>
            <div class="code-file">
                <header><code>".github/CODEOWNERS"</code></header>
                <pre><code>{codeowners}</code></pre>
            </div>
        </section>
        <section class="card">
            <h2>{format!("Workflows ({} callers, {} managed)", callers.len(), managed.len())}</h2>
            {if callers.is_empty() {
                view! { <p class="muted">"No BuildDefinition: no CI workflows. Add one under this repository to get a pipeline per branch."</p> }.into_any()
            } else {
                view! {
                    <h3>{format!("In {}", plan.repository)}</h3>
                    <FileList name=name.clone() files=callers />
                    <h3>{format!("In {MANAGED_REPOSITORY}")}</h3>
                    <FileList name=name.clone() files=managed />
                }.into_any()
            }}
        </section>
    }
    .into_any()
}

#[component]
fn FileList(name: String, files: Vec<FileSummary>) -> AnyView {
    files
        .into_iter()
        .map(|f| {
            let label = view! { <code>{f.path.clone()}</code><span class="muted">{format!("{} lines", f.lines)}</span> }.into_any();
            view! { <FetchedWhenOpened name=name.clone() repository=f.repository path=f.path label diff=false /> }
        })
        .collect_view()
        .into_any()
}

/// What a folded file box shows once opened.
#[derive(Clone)]
enum Fetched {
    Text(String),
    Diff(Vec<crate::domain::resources::DiffLine>),
}

/// A folded file whose text (or, with `diff`, its diff against what is in place) is fetched
/// the first time it is opened: a page with many generated files stays small.
#[component]
fn FetchedWhenOpened(
    name: String,
    repository: String,
    path: String,
    label: AnyView,
    diff: bool,
) -> AnyView {
    let body: RwSignal<Option<Result<Fetched, AppError>>> = RwSignal::new(None);
    let asked = StoredValue::new(false);
    let toggled = move |ev: leptos::web_sys::Event| {
        use leptos::wasm_bindgen::JsCast;
        let open = ev
            .target()
            .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
            .is_some_and(|d| d.has_attribute("open"));
        if !open || asked.get_value() {
            return;
        }
        asked.set_value(true);
        let (name, repository, path) = (name.clone(), repository.clone(), path.clone());
        leptos::task::spawn_local(async move {
            let fetched = if diff {
                get_planned_diff(name, repository, path)
                    .await
                    .map(Fetched::Diff)
            } else {
                get_generated_file(name, repository, path)
                    .await
                    .map(Fetched::Text)
            };
            body.set(Some(fetched));
        });
    };
    view! {
        <details class="code-file" on:toggle=toggled>
            <summary>{label}</summary>
            {move || match body.get() {
                None => view! { <p class="muted fetching" role="status">"Loading…"</p> }.into_any(),
                Some(Ok(Fetched::Text(text))) => view! { <pre><code>{text}</code></pre> }.into_any(),
                Some(Ok(Fetched::Diff(lines))) => view! { <DiffLines lines /> }.into_any(),
                Some(Err(error)) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
            }}
        </details>
    }
    .into_any()
}

const LANE_GAP: f64 = 64.0;
const LANE_LEFT: f64 = 200.0;
const ARROW_STEP: f64 = 118.0;

/// A merge policy's methods, short enough to label an arrow.
fn methods_label(methods: &[crate::domain::branching::MergeMethod]) -> String {
    if methods.len() == crate::domain::branching::MergeMethod::ALL.len() {
        "any method".into()
    } else {
        methods
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>()
            .join(" + ")
    }
}

/// The strategy as a picture: one lane per kind of branch with its version type, and an arrow
/// for every merge the strategy allows, labelled with its merge methods.
#[component]
fn BranchDiagram(branches: Vec<BranchPolicy>) -> AnyView {
    let lanes: Vec<BranchRole> = branches.iter().map(|b| b.role).collect();
    let y = |role: BranchRole| {
        30.0 + LANE_GAP * lanes.iter().position(|r| *r == role).unwrap_or(0) as f64
    };
    let lane_of = |source: SourceClass| match source {
        SourceClass::Conventional | SourceClass::Bugfix => BranchRole::Feature,
        SourceClass::Release => BranchRole::Release,
        SourceClass::Hotfix => BranchRole::Hotfix,
    };
    let mut arrows = Vec::new();
    for target in &branches {
        if target.role == BranchRole::Feature {
            continue;
        }
        let mut sources: Vec<(BranchRole, String)> = Vec::new();
        if target.sources.is_empty() {
            sources.push((BranchRole::Feature, "any branch".into()));
        }
        for source in &target.sources {
            let lane = lane_of(*source);
            let note = match source {
                SourceClass::Bugfix => "bugfix/ fix/ only".to_string(),
                SourceClass::Conventional => "feat/ fix/ docs/ …".to_string(),
                _ => String::new(),
            };
            if !sources.iter().any(|(l, _)| *l == lane) {
                sources.push((lane, note));
            }
        }
        for (source, note) in sources {
            if lanes.contains(&source) {
                arrows.push((source, target.role, methods_label(&target.methods), note));
            }
        }
    }
    let height = 30.0 + LANE_GAP * (lanes.len() as f64 - 1.0) + 40.0;
    let lane_right = LANE_LEFT + 40.0 + ARROW_STEP * arrows.len().max(2) as f64;
    let width = lane_right + 90.0;
    let description = arrows
        .iter()
        .map(|(s, t, m, _)| format!("{} merges into {} ({m})", s.shown(), t.shown()))
        .collect::<Vec<_>>()
        .join("; ");
    view! {
        <figure class="branch-diagram">
            <svg viewBox=format!("0 0 {width} {height}") style=format!("max-width: {width}px") role="img" aria-label=format!("Branch diagram: {description}")>
                <defs>
                    <marker id="merge-head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                        <path d="M 0 0 L 10 5 L 0 10 z" class="merge-head" />
                    </marker>
                </defs>
                {branches.iter().map(|b| {
                    let ly = y(b.role);
                    view! {
                        <g class=format!("lane lane-{}", b.role.slug())>
                            <text x="12" y=ly + 5.0 class="lane-label">{if b.role == BranchRole::Feature { "feat/*, fix/*, …" } else { b.role.shown() }}</text>
                            <line x1=LANE_LEFT y1=ly x2=lane_right y2=ly class="lane-line" />
                            <circle cx=LANE_LEFT cy=ly r="5" class="lane-dot" />
                            <circle cx=lane_right cy=ly r="5" class="lane-dot" />
                            <text x=lane_right + 14.0 y=ly + 5.0 class=format!("lane-version version-{}", b.release.as_str().to_lowercase())>{b.release.as_str()}</text>
                        </g>
                    }
                }).collect_view()}
                {arrows.iter().enumerate().map(|(i, (source, target, methods, note))| {
                    let x = LANE_LEFT + 40.0 + ARROW_STEP * i as f64;
                    let (y1, y2) = (y(*source), y(*target));
                    let down = y2 > y1;
                    let (from, to) = if down { (y1 + 6.0, y2 - 7.0) } else { (y1 - 6.0, y2 + 7.0) };
                    let mid = if down { y1 + 18.0 } else { y1 - 22.0 };
                    view! {
                        <g class="merge">
                            <circle cx=x cy=y1 r="4" class="merge-dot" />
                            <line x1=x y1=from x2=x y2=to class="merge-line" marker-end="url(#merge-head)" />
                            <text x=x + 6.0 y=mid class="merge-label">{methods.clone()}</text>
                            {(!note.is_empty()).then(|| view! { <text x=x + 6.0 y=mid + 13.0 class="merge-note">{note.clone()}</text> })}
                        </g>
                    }
                }).collect_view()}
            </svg>
        </figure>
    }
    .into_any()
}

/// The starting text of a new repository's manifests: the seed's examples.
const STARTER: &str = "apiVersion: lowops.manifests.v1
kind: GithubRepository
metadata:
  name: my-service
spec:
  strategy: GITHUB_FLOW # or GIT_FLOW, TRUNK_BASED
  permissions:
    administrators:
      groups: [platform-team]
    contributors:
      groups: [backend-engineers]
---
apiVersion: lowops.manifests.v1
kind: BuildDefinition
metadata:
  name: my-service
  parent: GithubRepository/my-service
spec:
  type: GOLANG
  stages: [analysis, security-scan, test, build, containerize]
  golang:
    versions: [\"stable\"]
    buildType: bin
    target: ./cmd/server
  containerize:
    - name: my-service
      registries: [core-registry]
";

#[component]
pub fn NewRepositoryPage() -> AnyView {
    view! {
        <Title text="New repository" />
        <ManifestEditor name=String::new() revision=0 source=STARTER.to_string() />
    }
    .into_any()
}

#[component]
pub fn EditRepositoryPage() -> AnyView {
    let params = use_params_map();
    let name = move || params.read().get("name").unwrap_or_default();
    let detail = Resource::new(name, get_repository);
    view! {
        <Title text="Edit manifests" />
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) if d.can_edit => view! { <ManifestEditor name=d.row.name.clone() revision=d.row.revision source=d.source.clone() /> }.into_any(),
                    Ok(d) => view! { <ErrorPanel error=crate::error::AppError::Forbidden(format!("You need the member role on repository {} to edit its manifests.", d.row.name)) /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

/// One error under the editor: where, why, and the line with a caret.
/// The editor's errors: how many, then each where it is.
pub(crate) fn error_list(errors: &[ManifestError], text: RwSignal<String>) -> impl IntoView {
    view! {
        <h2 class="check-bad">{format!("{} error{}", errors.len(), if errors.len() == 1 { "" } else { "s" })}</h2>
        <ul class="manifest-errors">
            {text.with_untracked(|t| errors.iter().map(|e| error_view(e, t)).collect_view())}
        </ul>
    }
}

fn error_view(error: &ManifestError, text: &str) -> AnyView {
    let line: String = text
        .lines()
        .nth(error.pos.line.saturating_sub(1))
        .unwrap_or_default()
        .chars()
        .take(160)
        .collect();
    let caret = (error.pos.column <= line.chars().count() + 1)
        .then(|| format!("{}^", " ".repeat(error.pos.column.saturating_sub(1))));
    let (at_line, at_column) = (error.pos.line, error.pos.column);
    view! {
        <li class="manifest-error">
            <p>
                <button type="button" class="link-button" title="Show it in the text"
                    on:click=move |_| go_to(at_line, at_column)>
                    {format!("Line {at_line}, column {at_column}")}
                </button>
                ": "{error.message.clone()}
            </p>
            {(!line.is_empty()).then(|| view! { <pre class="error-excerpt"><code>{line.clone()}{caret.map(|c| format!("\n{c}"))}</code></pre> })}
        </li>
    }
    .into_any()
}

/// Puts the editor's cursor at `line`:`column` (1-based, in characters), selecting the word
/// there, and scrolls it into view. Browser only (a click handler).
fn go_to(line: usize, column: usize) {
    use leptos::wasm_bindgen::JsCast;
    let Some(area) = document()
        .get_element_by_id(EDITOR_ID)
        .and_then(|e| e.dyn_into::<leptos::web_sys::HtmlTextAreaElement>().ok())
    else {
        return;
    };
    let text = area.value();
    let lines: Vec<&str> = text.split('\n').collect();
    let Some(target) = lines.get(line.saturating_sub(1)) else {
        return;
    };
    // The selection is counted in UTF-16 code units, as the DOM counts.
    let utf16 = |s: &str| s.encode_utf16().count() as u32;
    let start: u32 = lines[..line - 1].iter().map(|l| utf16(l) + 1).sum();
    let column_chars = column.saturating_sub(1);
    let column: u32 = target
        .chars()
        .take(column_chars)
        .map(|c| c.len_utf16() as u32)
        .sum();
    // The word there: up to the next blank or the line's end.
    let word: u32 = target
        .chars()
        .skip(column_chars)
        .take_while(|c| !c.is_whitespace())
        .map(|c| c.len_utf16() as u32)
        .sum();
    let _ = area.focus();
    let _ = area.set_selection_range(start + column, start + column + word);
    let per_line = area.scroll_height() / lines.len().max(1) as i32;
    area.set_scroll_top((line as i32 - 4).max(0) * per_line);
}

/// The id of the manifest editor's text area (one editor per page).
const EDITOR_ID: &str = "manifest-source";

/// The text area of a manifest editor, with its file name, line count and line numbers (the
/// check's errors name lines); `invalid` while the in-browser check finds errors (shown in
/// `#manifest-check`). Leaving or reloading the page with unsaved edits asks first.
#[component]
pub(crate) fn ManifestText(
    text: RwSignal<String>,
    file: &'static str,
    invalid: Signal<bool>,
) -> AnyView {
    let lines = move || text.with(|t| t.split('\n').count().max(1));
    let initial = text.get_untracked();
    let unsaved = window_event_listener(leptos::ev::beforeunload, move |ev| {
        if text.with_untracked(|t| *t != initial) {
            ev.prevent_default();
        }
    });
    on_cleanup(move || unsaved.remove());
    let gutter = NodeRef::<leptos::html::Pre>::new();
    view! {
        <label class="editor-field">
            <span>{move || format!("{file} · {} lines", lines())}</span>
            <div class="editor-lines">
                <pre class="line-numbers" aria-hidden="true" node_ref=gutter>
                    {move || (1..=lines()).map(|n| n.to_string()).collect::<Vec<_>>().join("\n")}
                </pre>
                <textarea
                    id=EDITOR_ID
                    name="source"
                    class="manifest-editor"
                    spellcheck="false"
                    autocomplete="off"
                    wrap="off"
                    rows="28"
                    aria-invalid=move || invalid.get().to_string()
                    aria-describedby="manifest-check"
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))
                    on:scroll=move |ev| {
                        use leptos::wasm_bindgen::JsCast;
                        let top = ev
                            .target()
                            .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
                            .map_or(0, |t| t.scroll_top());
                        if let Some(gutter) = gutter.get() {
                            gutter.set_scroll_top(top);
                        }
                    }
                ></textarea>
            </div>
        </label>
    }
    .into_any()
}

/// The manifests text, checked in the browser on every change (the wasm build of the parser
/// the server and the CLI run), with the plan's outline while it is valid.
#[component]
fn ManifestEditor(name: String, revision: i32, source: String) -> AnyView {
    let text = RwSignal::new(source);
    let checked = Memo::new(move |_| text.with(|t| parse_source(t)));
    let save = ServerAction::<SaveRepository>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(row)) = save.value().get() {
            navigate(&format!("/repositories/{}", row.name), Default::default());
        }
    });
    let creating = name.is_empty();
    let title = if creating {
        "New repository".to_string()
    } else {
        format!("Edit {name}")
    };
    let back = if creating {
        "/repositories".to_string()
    } else {
        format!("/repositories/{name}")
    };
    view! {
        <div class="page-header">
            <div>
                <p class="eyebrow"><a href="/repositories">"Repositories"</a></p>
                <h1>{title}</h1>
                <p class="subtitle">{if creating { "One GithubRepository and the BuildDefinitions under it, in the reference format (documents separated by ---).".to_string() } else { format!("Saving makes revision {}.", revision + 1) }}</p>
            </div>
        </div>
        <div class="editor-layout">
            <section class="card editor-card">
                <ActionForm action=save attr:class="stacked-form">
                    <input type="hidden" name="name" value=name.clone() />
                    <input type="hidden" name="revision" value=revision />
                    <ManifestText text file="manifests.yaml" invalid=Signal::derive(move || checked.with(|c| c.is_err())) />
                    <div class="form-actions">
                        <button type="submit" class="button primary" disabled=move || checked.with(|c| c.is_err()) || save.pending().get()>
                            {move || if save.pending().get() { "Saving…" } else if creating { "Create repository" } else { "Save revision" }}
                        </button>
                        <a class="button" href=back.clone()>"Cancel"</a>
                    </div>
                </ActionForm>
                <FormError result=save.value().into() />
            </section>
            <aside class="card editor-check" id="manifest-check" aria-live="polite">
                {move || checked.with(|c| match c {
                    Err(errors) => error_list(errors, text).into_any(),
                    Ok(manifests) => {
                        let plan = manifests.plan();
                        let workflows = plan.files.iter().filter(|f| f.path.starts_with(".github/workflows/")).count();
                        view! {
                            <h2 class="check-ok"><span class="check-mark" aria-hidden="true">"✓"</span>" Valid"</h2>
                            <p>
                                <strong>{manifests.repository.metadata.name.clone()}</strong>" · "{strategy_chip(manifests.repository.strategy)}
                            </p>
                            <p class="muted">{format!(
                                "{} branch kinds, {} ruleset{}, CODEOWNERS, {workflows} workflow{} ({} build definition{}).",
                                plan.branches.len(),
                                plan.rulesets.len(),
                                if plan.rulesets.len() == 1 { "" } else { "s" },
                                if workflows == 1 { "" } else { "s" },
                                manifests.builds.len(),
                                if manifests.builds.len() == 1 { "" } else { "s" },
                            )}</p>
                            <BranchDiagram branches=plan.branches.clone() />
                        }.into_any()
                    }
                })}
            </aside>
        </div>
    }
    .into_any()
}

fn pull_href(name: &str, repository: &str, number: i64, managed_repository: &str) -> String {
    let managed = repository == managed_repository;
    format!(
        "/repositories/{name}/pulls/{number}{}",
        if managed { "?managed=true" } else { "" }
    )
}

fn state_badge(state: &str) -> AnyView {
    view! { <span class=format!("badge pull-{state}")>{state.to_string()}</span> }.into_any()
}

/// What the provisioning card reads and does, made by the page at its top: a resource made
/// inside what a `Suspend` renders is made twice on the server when the data it waits for are
/// there already, and the browser, making it once, would hydrate against another's markup.
#[derive(Clone, Copy)]
struct ProvisioningData {
    apply: ServerAction<ProvisionRepository>,
    open: ServerAction<OpenPullRequest>,
    view_data: Resource<Result<ProvisionView, AppError>>,
}

impl ProvisioningData {
    fn new(name: impl Fn() -> String + Send + Sync + 'static) -> Self {
        let apply = ServerAction::<ProvisionRepository>::new();
        let open = ServerAction::<OpenPullRequest>::new();
        let view_data = Resource::new(
            move || (name(), apply.version().get(), open.version().get()),
            |(name, _, _)| get_provisioning(name),
        );
        ProvisioningData {
            apply,
            open,
            view_data,
        }
    }
}

/// The plan against what the local forge holds, the Apply button, the pull requests, and a
/// form to open one.
#[component]
fn Provisioning(name: String, data: ProvisioningData) -> AnyView {
    let ProvisioningData {
        apply,
        open,
        view_data,
    } = data;
    let name = StoredValue::new(name);
    view! {
        <Transition fallback=|| view! { <section class="card"><Loading label="Comparing the plan with the repository…" /></section> }>
            {move || Suspend::new(async move {
                match view_data.await {
                    Ok(v) => view! { <ProvisioningCard v name=name.get_value() apply open /> }.into_any(),
                    // Where Slipway cannot provision yet (a GitHub repository it cannot read, no
                    // webhook secret), the card says why and the rest of the page stands.
                    Err(crate::error::AppError::Conflict(message)) => view! {
                        <section class="card provisioning"><h2>"Provisioning"</h2><p class="notice" role="status">{message}</p></section>
                    }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

#[component]
fn ProvisioningCard(
    v: ProvisionView,
    name: String,
    apply: ServerAction<ProvisionRepository>,
    open: ServerAction<OpenPullRequest>,
) -> AnyView {
    let up_to_date = v.up_to_date();
    // Applied, and its pull requests wait for a reviewer: applying again would change nothing.
    let mut provisioning_pulls: Vec<_> = v
        .pulls
        .iter()
        // Slipway's branch in the repository, and this repository's in the managed one.
        .filter(|p| p.state == "open" && p.head_branch.starts_with("chore/slipway-provision"))
        .collect();
    provisioning_pulls.sort_by_key(|p| p.repository != v.forge_repository);
    let awaiting: Vec<String> = provisioning_pulls
        .iter()
        .map(|p| format!("{}#{}", p.repository, p.number))
        .collect();
    let awaiting_review = !up_to_date
        && v.applied_revision == Some(v.revision)
        && v.rulesets_changed.is_empty()
        && v.rulesets_removed.is_empty()
        && !awaiting.is_empty();
    let count = |change: &str| v.files.iter().filter(|f| f.change == change).count();
    let (added, changed, unchanged) = (count("added"), count("changed"), count("unchanged"));
    let status = match v.applied_revision {
        None => "Never applied".to_string(),
        Some(r) if r == v.revision => format!("Revision {r} applied"),
        Some(r) => format!("Revision {r} applied; revision {} is not yet", v.revision),
    };
    let differing: Vec<_> = v
        .files
        .iter()
        .filter(|f| f.change != "unchanged")
        .cloned()
        .collect();
    let title = RwSignal::new(String::new());
    let checked = Memo::new(move |_| {
        title.with(|t| {
            (!t.trim().is_empty())
                .then(|| crate::domain::conventional::check_title(t).map(|(_, label)| label))
        })
    });
    let managed = v.managed_repository.clone();
    let on_github = v.on_github;
    view! {
        <section class="card provisioning">
            <div class="card-head">
                <div>
                    <h2>"Provisioning"</h2>
                    <p class="muted">
                        <code>{v.forge_repository.clone()}</code>" and "<code>{v.managed_repository.clone()}</code>
                        {format!(" on {} · ", v.forge)}<strong>{status}</strong>
                    </p>
                </div>
                {v.can_apply.then({
                    let name = name.clone();
                    move || view! {
                    <ActionForm action=apply>
                        <input type="hidden" name="name" value=name.clone() />
                        <button type="submit" class="button primary" disabled=move || apply.pending().get() || up_to_date || awaiting_review>
                            {move || if apply.pending().get() { "Applying…" } else if up_to_date { "Up to date" } else if awaiting_review { "Awaiting review" } else { "Apply plan" }}
                        </button>
                    </ActionForm>
                }})}
            </div>
            <FormError result=apply.value().into() />
            {if up_to_date {
                view! { <p class="form-ok" role="status">"Everything is in place: the files match the plan and the rulesets are applied."</p> }.into_any()
            } else {
                view! {
                    <p class="plan-summary">
                        <span class="badge change-added">{format!("{added} to add")}</span>" "
                        <span class="badge change-changed">{format!("{changed} to change")}</span>" "
                        <span class="badge">{format!("{unchanged} unchanged")}</span>" "
                        {(!v.rulesets_changed.is_empty()).then(|| view! { <span class="badge change-changed">{format!("rulesets to apply: {}", v.rulesets_changed.join(", "))}</span> })}
                        {(!v.rulesets_removed.is_empty()).then(|| view! { <span class="badge change-removed">{format!("rulesets to remove: {}", v.rulesets_removed.join(", "))}</span> })}
                    </p>
                    {if awaiting_review {
                        view! { <p class="notice" role="status">{format!("Applied: the rulesets are in force, and the files wait in {} for someone to approve and merge.", awaiting.join(" and "))}</p> }.into_any()
                    } else {
                        view! { <p class="muted">"Applying opens a pull request with these files on each repository (from "<code>"chore/slipway-provision"</code>") and applies the rulesets"{on_github.then_some(" through GitHub's API, after the webhook that tells Slipway about pull requests")}"; nothing reaches a branch until someone approves and merges."</p> }.into_any()
                    }}
                    {differing.into_iter().map(|f| {
                        let label = view! { <code>{format!("{} · {}", f.repository, f.path)}</code><span class=format!("badge change-{}", f.change)>{f.change.clone()}</span> }.into_any();
                        if f.folded > 0 {
                            view! { <FetchedWhenOpened name=name.clone() repository=f.repository.clone() path=f.path.clone() label diff=true /> }.into_any()
                        } else {
                            view! {
                                <details class="code-file">
                                    <summary>{label}</summary>
                                    <DiffLines lines=f.lines.clone() />
                                </details>
                            }.into_any()
                        }
                    }).collect_view()}
                }.into_any()
            }}
            <h3>"Pull requests"</h3>
            {if v.pulls.is_empty() {
                view! { <p class="muted">"None yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="pull-list">
                        {v.pulls.iter().map(|p| {
                            let label = view! { {format!("{}#{} ", p.repository, p.number)}<strong>{p.title.clone()}</strong> };
                            let link = match &p.url {
                                Some(url) => view! { <a href=url.clone() rel="noopener" target="_blank">{label}" ↗"</a> }.into_any(),
                                None => view! { <a href=pull_href(&name, &p.repository, p.number, &managed)>{label}</a> }.into_any(),
                            };
                            let by = [p.author.as_str(), p.created_at.as_str()]
                                .into_iter()
                                .filter(|s| !s.is_empty())
                                .fold(String::new(), |acc, s| format!("{acc} · {s}"));
                            view! {
                                <li>
                                    {link}" "{state_badge(&p.state)}
                                    <span class="muted">{format!(" {} → {}{by}", p.head_branch, p.base_branch)}</span>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            {(v.can_apply && !v.on_github).then(|| view! {
                <details class="open-pull">
                    <summary>"Open a pull request"</summary>
                    <ActionForm action=open attr:class="stacked-form inline-fields">
                        <input type="hidden" name="name" value=name.clone() />
                        <label><span>"From branch"</span><input type="text" name="head" required placeholder="feat/checkout" /></label>
                        <label><span>"Into"</span><input type="text" name="base" required placeholder="develop" /></label>
                        <label class="wide"><span>"Title"</span><input type="text" name="title" required placeholder="feat(checkout): one-page checkout"
                            prop:value=move || title.get() on:input=move |ev| title.set(event_target_value(&ev)) /></label>
                        <p class="hint" aria-live="polite">{move || checked.with(|c| match c {
                            None => "The title must be a Conventional Commit; it labels the release.".to_string(),
                            Some(Ok(label)) => format!("✓ Conventional Commit · label {}", label.as_str()),
                            Some(Err(e)) => format!("✗ line {}, column {}: {}", e.line, e.column, e.message),
                        })}</p>
                        <button type="submit" class="button">"Open pull request"</button>
                    </ActionForm>
                    <FormError result=open.value().into() />
                </details>
            })}
        </section>
    }
    .into_any()
}

#[component]
pub fn GovernedPullPage() -> AnyView {
    let params = use_params_map();
    let query = use_query_map();
    let name = move || params.read().get("name").unwrap_or_default();
    let number = move || {
        params
            .read()
            .get("number")
            .and_then(|n| n.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let managed = move || query.read().get("managed").as_deref() == Some("true");
    let approve = ServerAction::<ApprovePullRequest>::new();
    let merge = ServerAction::<MergePullRequest>::new();
    let data = Resource::new(
        move || {
            (
                name(),
                number(),
                managed(),
                approve.version().get(),
                merge.version().get(),
            )
        },
        |(name, number, managed, _, _)| get_governed_pull(name, number, managed),
    );
    // Others approve and merge meanwhile.
    crate::components::live::follow(
        move || vec![format!("repository:{}", name())],
        move || data.refetch(),
    );
    view! {
        <Title text="Pull request" />
        <Transition fallback=|| view! { <Loading label="Checking the pull request…" /> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(pull) => view! { <PullView pull name=name() managed=managed() approve merge /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

#[component]
fn PullView(
    pull: GovernedPull,
    name: String,
    managed: bool,
    approve: ServerAction<ApprovePullRequest>,
    merge: ServerAction<MergePullRequest>,
) -> AnyView {
    let row = pull.row.clone();
    let open = row.state == "open";
    let allowed = pull.verdict.as_ref().is_none_or(|v| v.allowed());
    let merged = row.state == "merged";
    let merged_line = merged.then(|| {
        let who = pull.merged_by.clone().unwrap_or_else(|| "someone".into());
        let when = pull.merged_at.clone().map(|w| format!(" · {w}")).unwrap_or_default();
        let how = pull.merge_method.clone().map(|m| format!(" · {m}")).unwrap_or_default();
        view! {
            <p class="merge-record">
                {format!("Merged by {who}{when}{how}")}
                {pull.merge_commit.clone().map(|c| view! { " as "<code>{c.chars().take(10).collect::<String>()}</code> })}
            </p>
        }
    });
    let files = pull.files.clone();
    view! {
        <div class="page-header">
            <div>
                <p class="eyebrow"><a href="/repositories">"Repositories"</a>" / "<a href=format!("/repositories/{name}")>{name.clone()}</a></p>
                <h1>{row.title.clone()}</h1>
                <p class="subtitle">
                    {state_badge(&row.state)}
                    {format!(" {}#{} · ", row.repository, row.number)}
                    <code>{row.head_branch.clone()}</code>" → "<code>{row.base_branch.clone()}</code>
                    {format!(" · opened by {} · {}", row.author, row.created_at)}
                </p>
            </div>
        </div>
        <div class="grid two">
            <section class="card merge-check">
                <h2>
                    {match (&pull.verdict, open) {
                        (Some(v), false) if v.allowed() && merged => view! { <span class="check-ok">"✓ Merge Authorized at merge"</span> }.into_any(),
                        (_, false) => view! { <span>"Merge Authorized"</span> }.into_any(),
                        (None, true) => view! { <span>"Merge Authorized · not governed"</span> }.into_any(),
                        (Some(v), true) if v.allowed() => view! { <span class="check-ok">"✓ Merge Authorized"</span> }.into_any(),
                        (Some(_), true) => view! { <span class="check-bad">"✗ Merge Authorized: refused"</span> }.into_any(),
                    }}
                </h2>
                {merged_line}
                {pull.strategy.filter(|_| open).map(|s| view! { <p class="muted">{format!("The rules of {} as applied to this repository.", s.label())}</p> })}
                {match &pull.verdict {
                    Some(verdict) => view! {
                        <ul class="rule-list">
                            {verdict.checks.iter().map(|c| view! {
                                <li class=if c.passed { "rule pass" } else { "rule fail" }>
                                    <span class="rule-mark" aria-hidden="true">{if c.passed { "✓" } else { "✗" }}</span>
                                    <div><strong>{c.rule.as_str()}</strong><p>{c.detail.clone()}</p></div>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    None if open => view! { <p class="muted">"This repository has no strategy applied: any approved pull request may merge."</p> }.into_any(),
                    None if merged => view! { <p class="muted">"No strategy was applied to this repository when it merged: no rule was checked."</p> }.into_any(),
                    None => view! { <p class="muted">{format!("This pull request is {}: it was not merged.", row.state)}</p> }.into_any(),
                }}
                {(open && pull.can_review).then({
                    let (for_approve, for_merge) = (name.clone(), name.clone());
                    let approved_already = !pull.approvals.is_empty();
                    let head = pull.head_commit.clone().unwrap_or_default();
                    move || view! {
                    <div class="review-actions">
                        {if pull.is_author {
                            view! { <p class="hint">"You opened this pull request: someone else approves it."</p> }.into_any()
                        } else {
                            view! {
                                <ActionForm action=approve>
                                    <input type="hidden" name="name" value=for_approve.clone() />
                                    <input type="hidden" name="number" value=row.number />
                                    <input type="hidden" name="managed" value=managed.to_string() />
                                    <input type="hidden" name="commit" value=head.clone() />
                                    <button type="submit" class="button" title="Approves this commit; a later commit needs a new approval">{if approved_already { "Approve too" } else { "Approve" }}</button>
                                </ActionForm>
                            }.into_any()
                        }}
                        <ActionForm action=merge attr:class="merge-form">
                            <input type="hidden" name="name" value=for_merge.clone() />
                            <input type="hidden" name="number" value=row.number />
                            <input type="hidden" name="managed" value=managed.to_string() />
                            <select name="method" aria-label="Merge method">
                                {pull.methods.iter().map(|m| view! { <option value=m.as_str()>{m.as_str()}</option> }).collect_view()}
                            </select>
                            <button type="submit" class="button primary" disabled=!allowed>"Merge"</button>
                        </ActionForm>
                    </div>
                    <FormError result=approve.value().into() />
                    <FormError result=merge.value().into() />
                }})}
            </section>
            <section class="card">
                <h2>{format!("Approvals ({})", pull.approvals.len())}</h2>
                {pull.head_commit.clone().filter(|_| open).map(|c| view! {
                    <p class="muted">"Approvals count for the head commit "<code>{c.chars().take(10).collect::<String>()}</code>" only: a new commit needs new approvals."</p>
                })}
                {if pull.approvals.is_empty() {
                    view! { <p class="muted">"No approval yet. The author cannot approve their own pull request."</p> }.into_any()
                } else {
                    view! { <ul>{pull.approvals.iter().map(|a| view! { <li>{a.clone()}</li> }).collect_view()}</ul> }.into_any()
                }}
                <h2>{format!("Commits ({})", pull.commits.len())}</h2>
                <ul class="commit-list">
                    {pull.commits.iter().map(|(id, summary)| view! { <li><code>{id.clone()}</code>" "{summary.clone()}</li> }).collect_view()}
                </ul>
            </section>
        </div>
        <ChangedFiles changes=files />
    }
    .into_any()
}

/// The files a pull request changes, each with its diff: unchanged stretches between the
/// changes are left out (counted), and large files start folded.
#[component]
pub(crate) fn ChangedFiles(changes: crate::domain::resources::FileChanges) -> AnyView {
    use crate::domain::resources::DiffLine;
    let added: usize = changes.files.iter().map(|f| f.added).sum();
    let removed: usize = changes.files.iter().map(|f| f.removed).sum();
    let count = changes.files.len() + changes.omitted;
    view! {
        <section class="card changed-files">
            <h2>
                {crate::domain::names::counted(count as u64, "file changed", "files changed")}
                " "<span class="diffstat"><span class="added">{format!("+{added}")}</span>" "<span class="removed">{format!("−{removed}")}</span></span>
            </h2>
            {changes.files.is_empty().then(|| view! { <p class="muted">"No file differs from the base."</p> })}
            {changes.files.into_iter().map(|file| {
                let folded = file.is_large();
                let mut next_new = 1u32;
                let hunks = file.hunks.into_iter().map(|hunk| {
                    let start = hunk.new_start;
                    let skipped = start.saturating_sub(next_new);
                    next_new = start
                        + hunk.lines.iter().filter(|l| !matches!(l, DiffLine::Removed(_))).count() as u32;
                    let gap = (skipped > 0).then(|| view! {
                        <p class="hunk-gap">{format!("⋯ {} unchanged · line {start}", crate::domain::names::counted(skipped, "line", "lines"))}</p>
                    });
                    view! { {gap} <DiffLines lines=hunk.lines /> }
                }).collect_view();
                view! {
                    <details class="changed-file" open=!folded>
                        <summary>
                            <code>{match &file.old_path { Some(old) => format!("{old} → {}", file.path), None => file.path.clone() }}</code>
                            " "<span class=format!("change-kind {}", file.change)>{file.change.clone()}</span>
                            " "<span class="diffstat"><span class="added">{format!("+{}", file.added)}</span>" "<span class="removed">{format!("−{}", file.removed)}</span></span>
                        </summary>
                        {file.folded.clone().map(|why| view! { <p class="muted">{format!("Not shown: {why}.")}</p> })}
                        {hunks}
                    </details>
                }
            }).collect_view()}
            {(changes.omitted > 0).then(|| view! {
                <p class="muted">{format!("{} more not listed: a page lists {} at most.", crate::domain::names::counted(changes.omitted as u64, "file", "files"), count - changes.omitted)}</p>
            })}
        </section>
    }
    .into_any()
}
