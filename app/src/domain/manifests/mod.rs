//! Manifests (seed 002, sections 1 and 2): the build types with the stages each allows and the
//! registry it publishes to, and the errors manifests are refused with — `file:line:column:
//! message`, with a "did you mean" for a name that is nearly right.

use super::yaml::{Node, Pos, Value};

use std::fmt;

#[cfg(test)]
pub(crate) mod tests;

pub const API_VERSION: &str = "lowops.manifests.v1";

use super::release_manifests::{application, application_set, deployment_config, release_track};

mod build;
mod errors;
mod fields;
pub use build::*;
#[allow(unused_imports)]
pub(crate) use build::*;
pub use errors::*;
#[allow(unused_imports)]
pub(crate) use errors::*;
pub use fields::*;
#[allow(unused_imports)]
pub(crate) use fields::*;

pub use super::release_manifests::{
    Application, ApplicationSet, DeploymentConfig, ReleaseTrack, SignOff, TrackStage,
};

/// Who a permission or code owner entry names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Principals {
    pub groups: Vec<String>,
    pub users: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metadata {
    pub name: String,
    /// `Kind/name` of the parent manifest.
    pub parent: Option<(String, String)>,
    pub github_connection: Option<String>,
    pub pos: Pos,
}

/// `codeOwners`: a path pattern and who owns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeOwner {
    pub path: String,
    pub owners: Principals,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GithubRepository {
    pub metadata: Metadata,
    pub strategy: super::versioning::Strategy,
    pub administrators: Principals,
    pub contributors: Principals,
    pub code_owners: Vec<CodeOwner>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Containerize {
    pub name: String,
    pub registries: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildDefinition {
    pub metadata: Metadata,
    pub build_type: BuildType,
    pub stages: Vec<Stage>,
    /// The type's own settings (`golang: {versions, buildType, target}`, …): each key with its
    /// value or values.
    pub settings: Vec<(String, Vec<String>)>,
    pub containerize: Vec<Containerize>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Manifest {
    GithubRepository(GithubRepository),
    BuildDefinition(BuildDefinition),
    Application(Application),
    ApplicationSet(ApplicationSet),
    ReleaseTrack(ReleaseTrack),
    DeploymentConfig(DeploymentConfig),
    Policy(super::policies::Policy),
    FreezeWindow(super::freezes::FreezeWindow),
}

impl Manifest {
    pub fn kind(&self) -> &'static str {
        match self {
            Manifest::GithubRepository(_) => "GithubRepository",
            Manifest::BuildDefinition(_) => "BuildDefinition",
            Manifest::Application(_) => "Application",
            Manifest::ApplicationSet(_) => "ApplicationSet",
            Manifest::ReleaseTrack(_) => "ReleaseTrack",
            Manifest::DeploymentConfig(_) => "DeploymentConfig",
            Manifest::Policy(_) => "Policy",
            Manifest::FreezeWindow(_) => "FreezeWindow",
        }
    }

    pub fn metadata(&self) -> &Metadata {
        match self {
            Manifest::GithubRepository(m) => &m.metadata,
            Manifest::BuildDefinition(m) => &m.metadata,
            Manifest::Application(m) => &m.metadata,
            Manifest::ApplicationSet(m) => &m.metadata,
            Manifest::ReleaseTrack(m) => &m.metadata,
            Manifest::DeploymentConfig(m) => &m.metadata,
            Manifest::Policy(m) => &m.metadata,
            Manifest::FreezeWindow(m) => &m.metadata,
        }
    }
}

pub(crate) const KINDS: [&str; 8] = [
    "GithubRepository",
    "BuildDefinition",
    "Application",
    "ApplicationSet",
    "ReleaseTrack",
    "DeploymentConfig",
    "Policy",
    "FreezeWindow",
];

/// Every manifest of one file (documents separated by `---`), or every error in it.
pub fn load(file: &str, source: &str) -> Result<Vec<Manifest>, Vec<ManifestError>> {
    let mut errors = Errors {
        file,
        list: Vec::new(),
    };
    let documents = match super::yaml::documents(source) {
        Ok(documents) => documents,
        Err(e) => {
            errors.at(e.pos, e.message);
            return Err(errors.list);
        }
    };
    let mut manifests = Vec::new();
    for document in &documents {
        let Some(fields) = Fields::of(document, "a manifest", &mut errors) else {
            continue;
        };
        fields.only(&["apiVersion", "kind", "metadata", "spec"], &mut errors);
        if let Some(node) = fields.required("apiVersion", "a manifest", &mut errors) {
            if node.as_str() != Some(API_VERSION) {
                errors.at(node.pos, format!("apiVersion must be {API_VERSION}"));
            }
        }
        let kind = fields
            .required("kind", "a manifest", &mut errors)
            .and_then(|n| {
                let value = text(n, "kind", &mut errors)?;
                if KINDS.contains(&value.as_str()) {
                    Some(value)
                } else {
                    errors.at(n.pos, unknown("kind", &value, &KINDS));
                    None
                }
            });
        let meta = fields
            .required("metadata", "a manifest", &mut errors)
            .and_then(|n| metadata(n, &mut errors));
        let spec = fields.required("spec", "a manifest", &mut errors);
        let (Some(kind), Some(meta), Some(spec)) = (kind, meta, spec) else {
            continue;
        };
        let manifest = match kind.as_str() {
            "GithubRepository" => {
                github_repository(meta, spec, &mut errors).map(Manifest::GithubRepository)
            }
            "BuildDefinition" => {
                build_definition(meta, spec, &mut errors).map(Manifest::BuildDefinition)
            }
            "Application" => application(meta, spec, &mut errors).map(Manifest::Application),
            "ApplicationSet" => {
                application_set(meta, spec, &mut errors).map(Manifest::ApplicationSet)
            }
            "ReleaseTrack" => release_track(meta, spec, &mut errors).map(Manifest::ReleaseTrack),
            "Policy" => super::policies::policy(meta, spec, &mut errors).map(Manifest::Policy),
            "FreezeWindow" => {
                super::freezes::freeze_window(meta, spec, &mut errors).map(Manifest::FreezeWindow)
            }
            _ => deployment_config(meta, spec, &mut errors).map(Manifest::DeploymentConfig),
        };
        manifests.extend(manifest);
    }
    if errors.list.is_empty() {
        Ok(manifests)
    } else {
        Err(errors.list)
    }
}

/// Checks the links between manifests (of any number of files, as `(file, manifest)`): names
/// are unique per kind, and every BuildDefinition is the child of a GithubRepository that is
/// there.
pub fn check_links(manifests: &[(String, Manifest)]) -> Vec<ManifestError> {
    let mut errors = Vec::new();
    let mut seen: Vec<(&str, &str, &str, Pos)> = Vec::new();
    for (file, manifest) in manifests {
        let meta = manifest.metadata();
        if let Some((_, first_file, _, first)) = seen
            .iter()
            .find(|(kind, _, name, _)| *kind == manifest.kind() && *name == meta.name)
        {
            errors.push(ManifestError {
                file: file.clone(),
                pos: meta.pos,
                message: format!(
                    "{} {} is defined twice (first at {first_file}:{first})",
                    manifest.kind(),
                    meta.name
                ),
            });
        } else {
            seen.push((manifest.kind(), file, &meta.name, meta.pos));
        }
    }
    for (file, manifest) in manifests {
        let Manifest::BuildDefinition(build) = manifest else {
            continue;
        };
        let message = match &build.metadata.parent {
            None => Some("a BuildDefinition must be the child of a GithubRepository: add metadata.parent: GithubRepository/<name>".to_string()),
            Some((kind, _)) if kind != "GithubRepository" => Some(format!("a BuildDefinition's parent must be a GithubRepository, not a {kind}")),
            Some((_, parent)) if !seen.iter().any(|(k, _, n, _)| *k == "GithubRepository" && n == parent) => {
                Some(format!("the parent GithubRepository/{parent} is not among the manifests"))
            }
            _ => None,
        };
        if let Some(message) = message {
            errors.push(ManifestError {
                file: file.clone(),
                pos: build.metadata.pos,
                message,
            });
        }
    }
    errors
}
