//! A governed pull request: Merge Authorized rule by rule, approvals, commits and the files changed.

use super::*;

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
pub(crate) fn PullView(
    pull: GovernedPull,
    name: String,
    managed: bool,
    approve: ServerAction<ApprovePullRequest>,
    merge: ServerAction<MergePullRequest>,
) -> AnyView {
    let row = pull.row.clone();
    let open = row.state == PullState::Open;
    let merged = row.state == PullState::Merged;
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
                    {pull_badge(row.state)}
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
                    None => view! { <p class="muted">{format!("This pull request is {}: it was not merged.", row.state.as_str())}</p> }.into_any(),
                }}
                {(open && pull.can_review).then(|| view! { <ReviewActions pull=pull.clone() name=name.clone() managed approve merge /> })}
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

/// Approve (not for the author) and merge with a method the target allows, once Merge
/// Authorized passes.
#[component]
fn ReviewActions(
    pull: GovernedPull,
    name: String,
    managed: bool,
    approve: ServerAction<ApprovePullRequest>,
    merge: ServerAction<MergePullRequest>,
) -> AnyView {
    let row = pull.row.clone();
    let allowed = pull.verdict.as_ref().is_none_or(|v| v.allowed());
    let (for_approve, for_merge) = (name.clone(), name);
    let approved_already = !pull.approvals.is_empty();
    let head = pull.head_commit.clone().unwrap_or_default();
    view! {
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
