//! A workspace repository's versioning: a live pull request title check with the version each
//! branch would get (computed in the browser by the domain code the CLI runs), the branches
//! with their base tags, and the version tags as a timeline by kind.

use crate::api::versioning::{
    get_versioning, BranchPreview, KnownPull, RepositoryVersioning, TimelineTag, TIMELINE_LIMIT,
};
#[allow(unused_imports)]
use crate::components::badges::*;
use crate::components::common::{EmptyState, ErrorPanel, Loading};
use crate::domain::conventional::{check_title, Commit, CommitError, Label, MAX_HEADER};
use crate::domain::versioning::{Outcome, Strategy};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn VersioningPage() -> AnyView {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let data = Resource::new(slug, get_versioning);
    view! {
        <Title text="Versioning" />
        <Transition fallback=|| view! { <Loading label="Reading the repository's tags…" /> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(versioning) => view! {
                        <div class="page-header">
                            <div>
                                <p class="eyebrow">
                                    <a href="/workspaces">"Workspaces"</a>" / "
                                    <a href=format!("/workspaces/{}", versioning.workspace)>{versioning.workspace.clone()}</a>
                                </p>
                                <h1>"Versioning"</h1>
                                <p class="subtitle">
                                    <code>{versioning.repository.clone()}</code>
                                    {format!(" · {} version tags · versions from Conventional Commit pull request titles", versioning.tag_count)}
                                </p>
                            </div>
                        </div>
                        <TitlePreview versioning=versioning.clone() />
                        <Timeline versioning />
                    }
                    .into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

fn outcome_view(row: &BranchPreview) -> AnyView {
    match &row.computation.outcome {
        Outcome::Version(v) => view! { <code class="next-version">{v.tag()}</code> }.into_any(),
        Outcome::Skip(v) => {
            view! { <span class="muted nowrap">"skip · already "<code>{v.tag()}</code></span> }
                .into_any()
        }
        Outcome::None => view! { <span class="muted">"no version"</span> }.into_any(),
    }
    .into_any()
}

/// The title field and, as it is typed, its check and the version on every branch.
#[component]
fn TitlePreview(versioning: RepositoryVersioning) -> AnyView {
    let strategy = RwSignal::new(Strategy::GithubFlow);
    let title = RwSignal::new(String::new());
    let checked =
        Memo::new(move |_| title.with(|t| (!t.trim().is_empty()).then(|| check_title(t))));
    view! {
        <section class="card title-preview">
            <h2>"Preview a pull request title"</h2>
            <p class="muted">
                "The title of a pull request is its squash commit's message: "
                <code>"type(scope)!: description"</code>
                ". A breaking change ("<code>"!"</code>") derives "<code>"release/major"</code>
                ", "<code>"feat"</code>" derives "<code>"release/minor"</code>", any other type none — a patch."
            </p>
            <label class="title-field">
                <span>"Pull request title"</span>
                <input
                    type="text"
                    name="title"
                    autocomplete="off"
                    spellcheck="false"
                    placeholder="feat(api): add tag filters"
                    prop:value=move || title.get()
                    on:input=move |ev| title.set(event_target_value(&ev))
                />
            </label>
            <TitleCheck title checked />
            <StrategyPicker strategy />
            <PreviewTable versioning strategy checked />
        </section>
    }
    .into_any()
}

type CheckedTitle = Memo<Option<Result<(Commit, Label), CommitError>>>;

/// What the title check says, as it is typed: valid with its label, or where it breaks.
#[component]
fn TitleCheck(title: RwSignal<String>, checked: CheckedTitle) -> AnyView {
    view! {
        <div class="title-check" aria-live="polite">
            {move || checked.with(|c| match c {
                None => view! { <p class="muted">{format!("Type a title (at most {MAX_HEADER} characters) to check it.")}</p> }.into_any(),
                Some(Ok((commit, label))) => view! {
                    <p class="check-ok" role="status">
                        <span class="check-mark" aria-hidden="true">"✓"</span>
                        " Valid · type "<code>{commit.kind.clone()}</code>
                        {commit.scope.clone().map(|s| view! { " · scope "<code>{s}</code> })}
                        {commit.breaking().then(|| view! { " · " <strong>"breaking change"</strong> })}
                        " · label "<span class=format!("badge label-{}", label.as_str().replace('/', "-"))>{label.as_str()}</span>
                    </p>
                }.into_any(),
                Some(Err(error)) => {
                    let shown: String = title.with_untracked(|t| t.chars().take(120).collect());
                    let caret = if error.line == 1 && error.column <= shown.chars().count() + 1 {
                        Some(format!("{}^", " ".repeat(error.column.saturating_sub(1))))
                    } else {
                        None
                    };
                    view! {
                        <div class="check-error" role="alert">
                            <p><strong>{format!("Not a Conventional Commit — line {}, column {}: ", error.line, error.column)}</strong>{error.message.clone()}</p>
                            {caret.map(|caret| view! { <pre class="caret-line">{shown}"\n"{caret}</pre> })}
                        </div>
                    }.into_any()
                }
            })}
        </div>
    }
    .into_any()
}

#[component]
fn StrategyPicker(strategy: RwSignal<Strategy>) -> AnyView {
    view! {
        <div class="strategy-picker" role="group" aria-label="Branching strategy">
            <span class="muted">"Branching strategy"</span>
            {Strategy::ALL.into_iter().map(|s| view! {
                <button
                    type="button"
                    class="chip"
                    aria-pressed=move || (strategy.get() == s).to_string()
                    on:click=move |_| strategy.set(s)
                >{s.label()}</button>
            }).collect_view()}
        </div>
    }
    .into_any()
}

/// The version each branch would get if a pull request with the checked title merged now.
#[component]
fn PreviewTable(
    versioning: RepositoryVersioning,
    strategy: RwSignal<Strategy>,
    checked: CheckedTitle,
) -> AnyView {
    let label = move || checked.with(|c| c.as_ref().and_then(|r| r.as_ref().ok().map(|(_, l)| *l)));
    let versioning = StoredValue::new(versioning);
    let rows = move || versioning.with_value(|v| v.preview(strategy.get(), label()));
    let branches = StoredValue::new(versioning.with_value(|v| v.branches.clone()));
    view! {
        <p class="preview-caption muted">{move || match checked.with(|c| c.as_ref().map(Result::is_ok)) {
            Some(true) => "If a pull request with this title merged now, each branch would get:",
            Some(false) => "The title cannot merge until it is fixed. Each branch's head as it is now:",
            None => "Each branch's head as it is now (labelled by the pull request that merged it, when Slipway knows it):",
        }}</p>
        <div class="table-wrap flat">
            <table class="table preview-table">
                <thead><tr>
                    <th scope="col">"Branch"</th><th scope="col">"Release type"</th><th scope="col">"Base tag"</th>
                    <th scope="col">"Next version"</th><th scope="col">"Why"</th>
                </tr></thead>
                <tbody>
                    {move || rows().into_iter().map(|row| {
                        let known = branches.with_value(|b| b.iter().find(|b| b.name == row.branch && row.exists).and_then(|b| b.merged_pull.clone()));
                        let known = known.filter(|_| label().is_none());
                        view! { <PreviewRow row known /> }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn PreviewRow(row: BranchPreview, known: Option<KnownPull>) -> AnyView {
    view! {
        <tr class:new-branch=!row.exists>
            <td>
                <code>{row.branch.clone()}</code>
                {(!row.exists).then(|| view! { <span class="muted">" new, from the default branch"</span> })}
                {known.map(|p| view! {
                    <div class="hint">"merged "<a href=p.url.clone()>{format!("#{}", p.number)}</a>{format!(" “{}” · {}", p.title, p.label)}</div>
                })}
            </td>
            <td>{release_badge(row.release)}</td>
            <td>{if row.computation.base_found { view! { <code>{row.computation.base.tag()}</code> }.into_any() } else { view! { <span class="muted">"none (v0.0.0)"</span> }.into_any() }}</td>
            <td>{outcome_view(&row)}</td>
            <td class="muted">{row.computation.reason.clone()}</td>
        </tr>
    }
    .into_any()
}

fn not_versions(ignored: usize) -> String {
    match ignored {
        1 => "1 more tag is not v + SemVer, so not a version.".to_string(),
        n => format!("{n} more tags are not v + SemVer, so not versions."),
    }
}

fn short(commit: &str) -> String {
    commit.chars().take(10).collect()
}

/// The version tags, newest first, on a line with a dot coloured by kind.
#[component]
fn Timeline(versioning: RepositoryVersioning) -> AnyView {
    let counts = ["latest", "alpha", "beta", "hotfix", "other"].map(|kind| {
        (
            kind,
            versioning
                .timeline
                .iter()
                .filter(|t| t.kind == kind)
                .count(),
        )
    });
    let more = versioning
        .tag_count
        .saturating_sub(versioning.timeline.len());
    view! {
        <section class="card">
            <div class="timeline-head">
                <h2>"Version tags"</h2>
                <ul class="legend" aria-label="Tag kinds">
                    {counts.into_iter().filter(|(_, n)| *n > 0).map(|(kind, n)| view! {
                        <li><span class=format!("dot kind-{kind}") aria-hidden="true"></span>{format!("{kind} {n}")}</li>
                    }).collect_view()}
                </ul>
            </div>
            {if versioning.timeline.is_empty() {
                view! {
                    <EmptyState title="No version tags yet">
                        <p>"The first merge to the default branch is tagged "<code>"v0.0.1"</code>" — or "<code>"v0.1.0"</code>" with a "<code>"feat"</code>" title, "<code>"v1.0.0"</code>" with a breaking one."</p>
                        {(versioning.ignored > 0).then(|| view! { <p class="muted">{not_versions(versioning.ignored)}</p> })}
                    </EmptyState>
                }.into_any()
            } else {
                view! {
                    <ol class="tag-timeline">
                        {versioning.timeline.iter().map(|t: &TimelineTag| view! {
                            <li class=format!("kind-{}", t.kind)>
                                <span class=format!("dot kind-{}", t.kind) aria-hidden="true"></span>
                                <div class="tag-body">
                                    <div class="tag-line">
                                        <code class="tag-name">{t.name.clone()}</code>
                                        <span class=format!("release release-{}", t.kind)>{t.kind.clone()}</span>
                                        <span class="hash">{short(&t.commit)}</span>
                                        <span class="tag-at">{t.at.clone()}</span>
                                        {(!t.annotated).then(|| view! { <span class="hint">"lightweight"</span> })}
                                    </div>
                                    {(!t.message.is_empty()).then(|| view! { <p class="tag-message">{t.message.clone()}</p> })}
                                </div>
                            </li>
                        }).collect_view()}
                    </ol>
                    {(more > 0).then(|| view! { <p class="muted">{format!("The newest {TIMELINE_LIMIT} of {} tags are shown.", versioning.tag_count)}</p> })}
                    {(versioning.ignored > 0).then(|| view! { <p class="muted">{not_versions(versioning.ignored)}</p> })}
                }.into_any()
            }}
        </section>
    }
    .into_any()
}
