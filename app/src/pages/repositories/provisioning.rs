//! The plan against what is in place, applying it, and its pull requests.

use super::*;

/// What the provisioning card reads and does, made by the page at its top: a resource made
/// inside what a `Suspend` renders is made twice on the server when the data it waits for are
/// there already, and the browser, making it once, would hydrate against another's markup.
#[derive(Clone, Copy)]
pub(crate) struct ProvisioningData {
    pub(crate) apply: ServerAction<ProvisionRepository>,
    pub(crate) open: ServerAction<OpenPullRequest>,
    pub(crate) view_data: Resource<Result<ProvisionView, AppError>>,
}

impl ProvisioningData {
    pub(crate) fn new(name: impl Fn() -> String + Send + Sync + 'static) -> Self {
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
pub(crate) fn Provisioning(name: String, data: ProvisioningData) -> AnyView {
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
pub(crate) fn ProvisioningCard(
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
        .filter(|p| {
            p.state == PullState::Open
                && p.head_branch
                    .starts_with(crate::domain::repositories::PROVISION_BRANCH)
        })
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
    let status = match v.applied_revision {
        None => "Never applied".to_string(),
        Some(r) if r == v.revision => format!("Revision {r} applied"),
        Some(r) => format!("Revision {r} applied; revision {} is not yet", v.revision),
    };
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
                let awaiting = awaiting_review.then_some(awaiting);
                view! { <PlanChanges v=v.clone() name=name.clone() awaiting /> }.into_any()
            }}
            <h3>"Pull requests"</h3>
            <GovernedPullList v=v.clone() name=name.clone() />
            {(v.can_apply && !v.on_github).then(|| view! { <OpenPullForm name=name.clone() open /> })}
        </section>
    }
    .into_any()
}

/// What applying the plan would change: counts, the rulesets, and each differing file's diff.
/// `awaiting`: the plan is applied and its pull requests wait for a reviewer.
#[component]
fn PlanChanges(v: ProvisionView, name: String, awaiting: Option<Vec<String>>) -> AnyView {
    let count = |change: &str| v.files.iter().filter(|f| f.change == change).count();
    let (added, changed, unchanged) = (count("added"), count("changed"), count("unchanged"));
    let on_github = v.on_github;
    let differing: Vec<_> = v
        .files
        .iter()
        .filter(|f| f.change != "unchanged")
        .cloned()
        .collect();
    view! {
        <p class="plan-summary">
            <span class="badge change-added">{format!("{added} to add")}</span>" "
            <span class="badge change-changed">{format!("{changed} to change")}</span>" "
            <span class="badge">{format!("{unchanged} unchanged")}</span>" "
            {(!v.rulesets_changed.is_empty()).then(|| view! { <span class="badge change-changed">{format!("rulesets to apply: {}", v.rulesets_changed.join(", "))}</span> })}
            {(!v.rulesets_removed.is_empty()).then(|| view! { <span class="badge change-removed">{format!("rulesets to remove: {}", v.rulesets_removed.join(", "))}</span> })}
        </p>
        {match awaiting {
            Some(awaiting) => view! { <p class="notice" role="status">{format!("Applied: the rulesets are in force, and the files wait in {} for someone to approve and merge.", awaiting.join(" and "))}</p> }.into_any(),
            None => view! { <p class="muted">"Applying opens a pull request with these files on each repository (from "<code>{crate::domain::repositories::PROVISION_BRANCH}</code>") and applies the rulesets"{on_github.then_some(" through GitHub's API, after the webhook that tells Slipway about pull requests")}"; nothing reaches a branch until someone approves and merges."</p> }.into_any(),
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
    }
    .into_any()
}

/// The repository's pull requests (on GitHub, linked there).
#[component]
fn GovernedPullList(v: ProvisionView, name: String) -> AnyView {
    if v.pulls.is_empty() {
        return view! { <p class="muted">"None yet."</p> }.into_any();
    }
    let managed = v.managed_repository.clone();
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
                        {link}" "{pull_badge(p.state)}
                        <span class="muted">{format!(" {} → {}{by}", p.head_branch, p.base_branch)}</span>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// Opening a pull request on the local forge, with the title checked as it is typed.
#[component]
fn OpenPullForm(name: String, open: ServerAction<OpenPullRequest>) -> AnyView {
    let title = RwSignal::new(String::new());
    let checked = Memo::new(move |_| {
        title.with(|t| {
            (!t.trim().is_empty())
                .then(|| crate::domain::conventional::check_title(t).map(|(_, label)| label))
        })
    });
    view! {
        <details class="open-pull">
            <summary>"Open a pull request"</summary>
            <ActionForm action=open attr:class="stacked-form inline-fields">
                <input type="hidden" name="name" value=name />
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
    }
    .into_any()
}
