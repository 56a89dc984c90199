//! Releases: the list, one release's stages, sign-off and timeline.

use super::*;

/// `registry/team/app@sha256:0123456789ab…`: the digest cut to its first 12 hex digits.
pub(crate) fn short_image(image: &str) -> String {
    match image.split_once("@sha256:") {
        Some((repository, hex)) => format!("{repository}@sha256:{}…", &hex[..hex.len().min(12)]),
        None => image.to_string(),
    }
}

/// What the start form holds, kept above the list: a live update re-renders the list (another
/// person's vote, a deployment finishing), and the form must come back as the user left it.
#[derive(Clone, Copy)]
pub(crate) struct StartFields {
    pub(crate) app_set: RwSignal<String>,
    pub(crate) bundle: RwSignal<String>,
    pub(crate) hotfix: RwSignal<bool>,
    pub(crate) same_build: RwSignal<bool>,
}

impl StartFields {
    pub(crate) fn new() -> StartFields {
        StartFields {
            app_set: RwSignal::new(String::new()),
            bundle: RwSignal::new(String::new()),
            hotfix: RwSignal::new(false),
            same_build: RwSignal::new(false),
        }
    }
}

/// What a stage's sign-off forms hold, by stage, kept above the stages for the same reason as
/// [`StartFields`]: another person's vote re-renders them while someone is typing a comment.
#[derive(Clone, Copy)]
pub(crate) struct VoteDrafts {
    drafts: RwSignal<std::collections::BTreeMap<i32, VoteDraft>>,
}

#[derive(Clone, Default)]
struct VoteDraft {
    group: String,
    comment: String,
    reason: String,
    rejecting: bool,
}

impl VoteDrafts {
    pub(crate) fn new() -> VoteDrafts {
        VoteDrafts {
            drafts: RwSignal::new(Default::default()),
        }
    }

    fn read<T>(self, stage: i32, field: impl Fn(&VoteDraft) -> T) -> T {
        self.drafts
            .with(|d| field(d.get(&stage).unwrap_or(&VoteDraft::default())))
    }

    fn write(self, stage: i32, change: impl FnOnce(&mut VoteDraft)) {
        self.drafts.update(|d| change(d.entry(stage).or_default()));
    }
}

/// The releases, newest first, and the form that starts one.
#[component]
pub(crate) fn ReleaseList(
    start: ServerAction<StartRelease>,
    listed: Resource<Result<ReleasesView, AppError>>,
    form: StartFields,
) -> AnyView {
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(id)) = start.value().get() {
            navigate(&format!("/releases/{id}"), Default::default());
        }
    });
    view! {
        <section class="card">
            <h2>"Releases"</h2>
            <Transition fallback=|| view! { <Loading /> }>
                {move || Suspend::new(async move {
                    match listed.await {
                        Ok(data) => view! {
                            {(data.can_start && !data.app_sets.is_empty()).then(|| view! {
                                <ActionForm action=start attr:class="stacked-form inline-fields start-release">
                                    <label><span>"Application set"</span>
                                        <select name="app_set" on:change=move |ev| form.app_set.set(event_target_value(&ev))>
                                            {data.app_sets.iter().map(|s| {
                                                let this = s.clone();
                                                view! { <option value=s.clone() selected=move || form.app_set.with(|chosen| *chosen == this)>{s.clone()}</option> }
                                            }).collect_view()}
                                        </select>
                                    </label>
                                    <label><span>"Bundle"</span><input type="text" name="bundle" required placeholder="2026.11" prop:value=move || form.bundle.get() on:input=move |ev| form.bundle.set(event_target_value(&ev)) /></label>
                                    <label class="checkbox"><input type="checkbox" name="hotfix" value="true" prop:checked=move || form.hotfix.get() on:change=move |ev| form.hotfix.set(event_target_checked(&ev)) /><span>"Hotfix of the released bundle"</span></label>
                                    {move || start.value().get().is_some_and(|r| matches!(&r, Err(AppError::Conflict(m)) if m.contains("the very images"))).then(|| view! {
                                        <label class="checkbox confirm-again"><input type="checkbox" name="same_build" value="true" required prop:checked=move || form.same_build.get() on:change=move |ev| form.same_build.set(event_target_checked(&ev)) /><span>"Release the same build again"</span></label>
                                    })}
                                    <button type="submit" class="button primary" disabled=move || start.pending().get()>"Start release"</button>
                                </ActionForm>
                                <FormError result=start.value().into() />
                            })}
                            {if data.releases.is_empty() {
                                view! { <p class="muted">"No release yet. A release manager starts one for an application set's bundle: every application's latest pre-release build, tagged with a release candidate tag, promoted stage by stage."</p> }.into_any()
                            } else {
                                view! { <ReleaseTable rows=data.releases.clone() /> }.into_any()
                            }}
                        }.into_any(),
                        Err(error) => view! { <ErrorPanel error /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
    .into_any()
}

#[component]
pub(crate) fn ReleaseTable(rows: Vec<ReleaseRow>) -> AnyView {
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead><tr><th>"Release candidate"</th><th>"State"</th><th>"Production tag"</th><th>"Started"</th></tr></thead>
                <tbody>
                    {rows.into_iter().map(|r| view! {
                        <tr>
                            <td><a href=format!("/releases/{}", r.id)><strong>{r.rc_tag.clone()}</strong></a>{(r.kind == DeploymentKind::Hotfix).then(|| view! { " "<span class="badge">"hotfix"</span> })}</td>
                            <td>{state_badge(r.state)}</td>
                            <td>{match &r.production_tag { Some(t) => view! { <code>{t.clone()}</code> }.into_any(), None => view! { <span class="muted">"—"</span> }.into_any() }}</td>
                            <td class="muted">{format!("{} by {}", r.created_at, r.starter)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
pub fn ReleasePage() -> AnyView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|i| i.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let vote = ServerAction::<VoteRelease>::new();
    let withdraw = ServerAction::<WithdrawVote>::new();
    let drafts = VoteDrafts::new();
    let view_data = Resource::new(
        move || (id(), vote.version().get(), withdraw.version().get()),
        |(id, _, _)| get_release(id),
    );
    // Stages move on without this page: others vote, a deployment ends.
    crate::components::live::follow(|| vec!["release".into()], move || view_data.refetch());
    view! {
        <Title text="Release" />
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match view_data.await {
                    Ok(release) => view! { <ReleaseDetail release vote withdraw drafts /> }.into_any(),
                    Err(error) => view! { <ErrorPanel error /> }.into_any(),
                }
            })}
        </Transition>
    }
    .into_any()
}

#[component]
pub(crate) fn ReleaseDetail(
    release: ReleaseView,
    vote: ServerAction<VoteRelease>,
    withdraw: ServerAction<WithdrawVote>,
    drafts: VoteDrafts,
) -> AnyView {
    let row = release.row.clone();
    let timeline = release.timeline.clone();
    view! {
        <div class="page-header">
            <div>
                <p class="eyebrow"><a href="/releases">"Releases"</a></p>
                <h1>{row.rc_tag.clone()}</h1>
                <p class="subtitle">{state_badge(row.state)}{format!(" · {}{} bundle {} · started {} by {}", if row.kind == DeploymentKind::Hotfix { "hotfix of " } else { "" }, row.app_set, row.bundle, row.created_at, row.starter)}
                    {row.production_tag.clone().map(|t| view! { " · production tag "<code>{t}</code> })}
                </p>
            </div>
        </div>
        <section class="card">
            <h2>"Stages"</h2>
            <ol class="pipeline release-stages">
                {release.stages.iter().map(|stage| view! { <StageCard stage=stage.clone() release=release.clone() vote withdraw drafts /> }).collect_view()}
            </ol>
            <FormError result=vote.value().into() />
            <FormError result=withdraw.value().into() />
        </section>
        <section class="card">
            <h2>"Bundle"</h2>
            <div class="table-wrap">
                <table class="table">
                    <thead><tr><th>"Application"</th><th>"Version"</th><th>"Image"</th></tr></thead>
                    <tbody>
                        {release.items.iter().map(|(app, version, image)| view! {
                            <tr><td>{app.clone()}</td><td><span class="badge">{version.clone()}</span></td><td><code class="image-ref" title=image.clone()>{short_image(image)}</code></td></tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
        <section class="card">
            <h2>"Timeline"</h2>
            <ol class="timeline">
                {timeline.into_iter().map(|(at, what)| view! { <li><span class="muted">{at}</span>" "{what}</li> }).collect_view()}
            </ol>
        </section>
    }
    .into_any()
}

/// Approve (refused to the release's starter, and said so before the click) and reject (with
/// a reason) for someone in one of the stage's sign-off groups.
#[component]
fn SignOffForm(
    id: i64,
    position: i32,
    groups: Vec<String>,
    started_it: bool,
    vote: ServerAction<VoteRelease>,
    drafts: VoteDrafts,
) -> AnyView {
    let my_groups = groups.clone();
    view! {
            <ActionForm action=vote attr:class="stacked-form sign-off-form">
                <input type="hidden" name="id" value=id />
                <input type="hidden" name="stage" value=position />
                <input type="hidden" name="approve" value="true" />
                <label><span>"Sign off as"</span>
                    <select name="group" on:change=move |ev| drafts.write(position, |d| d.group = event_target_value(&ev))>
                        {groups.iter().map(|g| {
                            let this = g.clone();
                            view! { <option value=g.clone() selected=move || drafts.read(position, |d| d.group == this)>{g.clone()}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <label><span>"Comment"</span><textarea name="comment" rows="2"
                    prop:value=move || drafts.read(position, |d| d.comment.clone())
                    on:input=move |ev| drafts.write(position, |d| d.comment = event_target_value(&ev))
                ></textarea></label>
                {started_it.then(|| view! {
                    <p class="hint" id=format!("starter-{position}")>"You started this release: someone else in these groups approves it. You may still reject it."</p>
                })}
                <button
                    type="submit"
                    class="button primary"
                    disabled=started_it
                    aria-describedby=started_it.then(|| format!("starter-{position}"))
                >
                    "Approve"
                </button>
            </ActionForm>
            <details class="reject"
                prop:open=move || drafts.read(position, |d| d.rejecting)
                on:toggle=move |ev| {
                    let open = event_target::<leptos::web_sys::HtmlDetailsElement>(&ev).open();
                    drafts.write(position, |d| d.rejecting = open);
                }
            >
                <summary>"Reject…"</summary>
                <ActionForm action=vote attr:class="stacked-form">
                    <input type="hidden" name="id" value=id />
                    <input type="hidden" name="stage" value=position />
                    <input type="hidden" name="approve" value="false" />
                    <input type="hidden" name="group" value=my_groups[0].clone() />
                    <label><span>"Why"</span><textarea name="comment" rows="2" required
                        prop:value=move || drafts.read(position, |d| d.reason.clone())
                        on:input=move |ev| drafts.write(position, |d| d.reason = event_target_value(&ev))
                    ></textarea></label>
                    <button type="submit" class="button danger">"Reject release"</button>
                </ActionForm>
            </details>}
    .into_any()
}

/// One stage: its environments, state, gate, the votes, and the sign-off form for its groups.
#[component]
pub(crate) fn StageCard(
    stage: StageView,
    release: ReleaseView,
    vote: ServerAction<VoteRelease>,
    withdraw: ServerAction<WithdrawVote>,
    drafts: VoteDrafts,
) -> AnyView {
    let class = format!(
        "stage stage-{}{}",
        stage.state.as_str(),
        if stage.frozen.is_some() {
            " frozen"
        } else {
            ""
        }
    );
    // A stage still soaking takes no votes: its gate says when it opens.
    let open = stage.state == StageState::AwaitingSignOff
        && release.row.state == ReleaseState::Running
        && stage.soak.is_none();
    let my_groups: Vec<String> = stage
        .sign_off
        .iter()
        .map(|(g, _)| g.clone())
        .filter(|g| release.my_groups.contains(g))
        .collect();
    let mine = stage
        .votes
        .iter()
        .any(|v| v.voter == release.me && v.withdrawn_at.is_none());
    let (id, position) = (release.row.id, stage.position);
    // The starter may reject their release but not approve it: the form says so before the click.
    let started_it = release.row.starter == release.me;
    view! {
        <li class=class>
            <div class="stage-envs">{stage.environments.iter().map(|e| view! { <span class="env">{e.clone()}</span> }).collect_view()}</div>
            <p class="stage-state"><strong>{if stage.frozen.is_some() && stage.state == StageState::Approved { "Approved · frozen" } else { stage.state.label() }}</strong></p>
            <p class=if stage.soak.is_some() { "muted soak-note" } else { "muted" }>{stage.gate.clone()}</p>
            <div class="stage-signoff">
                {stage.sign_off.iter().map(|(g, n)| view! { <span class="badge signoff">{format!("{g} ×{n}")}</span> }).collect_view()}
            </div>
            {stage.verification.clone().map(|v| view! { <p class="verification">{v}</p> })}
            {stage.frozen.clone().map(|note| view! { <crate::components::freeze::FrozenPanel note /> })}
            <ul class="votes">
                {stage.votes.iter().filter(|v| v.withdrawn_at.is_none()).map(|v| view! {
                    <li class=if v.approve { "vote approve" } else { "vote reject" }>
                        {if v.approve { "✓ " } else { "✗ " }}<strong>{v.voter.clone()}</strong>{format!(" ({})", v.group)}
                    </li>
                }).collect_view()}
            </ul>
            {(open && !my_groups.is_empty() && !mine).then(|| view! { <SignOffForm id position groups=my_groups.clone() started_it vote drafts /> })}
            {(open && mine).then(|| view! {
                <ActionForm action=withdraw>
                    <input type="hidden" name="id" value=id />
                    <input type="hidden" name="stage" value=position />
                    <button type="submit" class="button">"Withdraw my vote"</button>
                </ActionForm>
            })}
        </li>
    }
    .into_any()
}
