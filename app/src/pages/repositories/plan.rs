//! The computed plan: the branch diagram, the branch table, rulesets, CODEOWNERS and the workflows (fetched when opened).

use super::*;

/// Everything a plan holds: the diagram, the branch table, rulesets, CODEOWNERS and workflows.
#[component]
pub(crate) fn PlanView(plan: RepositoryPlan, workflows: Vec<FileSummary>, name: String) -> AnyView {
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
pub(crate) fn FileList(name: String, files: Vec<FileSummary>) -> AnyView {
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
pub(crate) enum Fetched {
    Text(String),
    Diff(Vec<crate::domain::resources::DiffLine>),
}

/// A folded file whose text (or, with `diff`, its diff against what is in place) is fetched
/// the first time it is opened: a page with many generated files stays small.
#[component]
pub(crate) fn FetchedWhenOpened(
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

pub(crate) const LANE_GAP: f64 = 64.0;

pub(crate) const LANE_LEFT: f64 = 200.0;

pub(crate) const ARROW_STEP: f64 = 118.0;

/// A merge policy's methods, short enough to label an arrow.
pub(crate) fn methods_label(methods: &[crate::domain::branching::MergeMethod]) -> String {
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
pub(crate) fn BranchDiagram(branches: Vec<BranchPolicy>) -> AnyView {
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
