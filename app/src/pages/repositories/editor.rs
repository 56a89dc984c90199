//! The manifests editor: checked as you type, saved as a revision.

use super::*;

/// The starting text of a new repository's manifests: the seed's examples.
pub(crate) const STARTER: &str = "apiVersion: lowops.manifests.v1
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

/// The manifests text, checked in the browser on every change (the wasm build of the parser
/// the server and the CLI run), with the plan's outline while it is valid.
#[component]
pub(crate) fn ManifestEditor(name: String, revision: i32, source: String) -> AnyView {
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
