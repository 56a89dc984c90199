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
    let save = ServerAction::<SaveRepository>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(row)) = save.value().get() {
            navigate(&format!("/repositories/{}", row.name), Default::default());
        }
    });
    let creating = name.is_empty();
    Editor {
        section: ("/repositories", "Repositories"),
        title: if creating { "New repository".to_string() } else { format!("Edit {name}") },
        subtitle: if creating {
            "One GithubRepository and the BuildDefinitions under it, in the reference format (documents separated by ---).".to_string()
        } else {
            format!("Saving makes revision {}.", revision + 1)
        },
        file: "manifests.yaml",
        back: if creating { "/repositories".to_string() } else { format!("/repositories/{name}") },
        hidden: vec![("name", name), ("revision", revision.to_string())],
        create_label: "Create repository",
        creating,
        text,
        checked: Memo::new(move |_| text.with(|t| parse_source(t))),
        valid: plan_outline,
    }
    .view(save.pending().into(), move |fields| {
        view! {
            <ActionForm action=save attr:class="stacked-form">{fields}</ActionForm>
            <FormError result=save.value().into() />
        }
        .into_any()
    })
}

/// What valid manifests make: the repository, its strategy, the plan's counts and its branches.
fn plan_outline(manifests: &RepositoryManifests) -> AnyView {
    let plan = manifests.plan();
    let workflows = plan
        .files
        .iter()
        .filter(|f| f.path.starts_with(".github/workflows/"))
        .count();
    view! {
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
    }
    .into_any()
}
