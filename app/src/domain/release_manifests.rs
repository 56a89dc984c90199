//! The release manifests, in the reference format (`apiVersion: lowops.manifests.v1`, `kind`,
//! `metadata`, `spec`), loaded by `manifests::load` beside the repository kinds:
//!
//! * `Application` — owned by its development team (`spec.team`): the image it ships
//!   (`spec.image`, a registry repository without tag or digest) and optionally the
//!   GithubRepository it is built from (`spec.repository`).
//! * `ApplicationSet` — owned by product / release managers: the applications that ship together
//!   (`spec.applications`) and the ReleaseTrack they follow (`spec.releaseTrack`).
//! * `ReleaseTrack` — owned by platform / SRE: `preReleaseStages`, `releaseStages` and
//!   `hotfixStages`, each a list of stages of `environments`, exactly as the reference shows.
//!   Slipway adds to a release or hotfix stage who signs it off: `signOff: [{group, approvals}]`.
//!   Left out, the reference's stakeholder table decides: QA signs off each release stage but the
//!   last, product and security the last (production), incident commanders each hotfix stage;
//!   one approval each.
//! * `DeploymentConfig` — the child of an Application (`metadata.parent: Application/<name>`):
//!   what one environment runs (`spec.environment`, `spec.version`, `spec.image` by digest).
//!   Slipway writes these into the environment configuration repository.

use super::manifests::{names, safe_name, text, Errors, Fields, Manifest, ManifestError, Metadata};
use super::semver::Version;
use super::yaml::{Node, Pos, Value};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Application {
    pub metadata: Metadata,
    /// The development team (a group) that owns it.
    pub team: String,
    /// `registry/path/name`, no tag or digest.
    pub image: String,
    pub repository: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplicationSet {
    pub metadata: Metadata,
    pub applications: Vec<String>,
    pub release_track: String,
}

/// A group whose members sign a stage off, and how many distinct people of it must approve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignOff {
    pub group: String,
    pub approvals: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackStage {
    pub environments: Vec<String>,
    /// Empty for pre-release stages (they deploy automatically).
    pub sign_off: Vec<SignOff>,
    /// `soakTime`: how long the previous stage's deployment must have run before this stage's
    /// gate opens, in minutes (0: no wait).
    pub soak_minutes: i64,
    /// `verify: true`: after it deploys, the next stage opens only once the environment's tests
    /// or monitoring post a signed "passed" (a "failed" stops the release).
    pub verify: bool,
    pub pos: Pos,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReleaseTrack {
    pub metadata: Metadata,
    pub pre_release: Vec<TrackStage>,
    pub release: Vec<TrackStage>,
    pub hotfix: Vec<TrackStage>,
}

impl ReleaseTrack {
    /// Every environment of the track in the order a change travels: pre-release stages, then
    /// release stages (hotfix stages only add environments not seen before).
    pub fn environments(&self) -> Vec<&String> {
        let mut seen: Vec<&String> = Vec::new();
        for stage in self
            .pre_release
            .iter()
            .chain(&self.release)
            .chain(&self.hotfix)
        {
            for env in &stage.environments {
                if !seen.contains(&env) {
                    seen.push(env);
                }
            }
        }
        seen
    }

    /// The environments the last release stage deploys to: production, for the DORA figures.
    pub fn production(&self) -> &[String] {
        self.release
            .last()
            .map(|s| s.environments.as_slice())
            .unwrap_or_default()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeploymentConfig {
    pub metadata: Metadata,
    pub environment: String,
    /// A release tag (`v2.4.13`, `v2.4.13-hotfix.1`).
    pub version: Option<String>,
    /// `registry/path/name@sha256:<64 hex>`.
    pub image: Option<String>,
    /// The release candidate tag it is part of (release and hotfix deployments).
    pub release: Option<String>,
}

/// The most approvals one group can be asked for at one stage.
pub const MAX_APPROVALS: u32 = 10;

/// An image repository: `host[:port]/path`, lower case, no tag, no digest.
pub fn check_image(value: &str) -> Result<(), String> {
    // Each part starts and ends with a letter or digit (the distribution spec's name grammar),
    // so none is `.` or `..`: the name goes into registry API paths as it is.
    let edges = |part: &str| {
        part.starts_with(|c: char| c.is_ascii_alphanumeric())
            && part.ends_with(|c: char| c.is_ascii_alphanumeric())
    };
    let ok = value.len() <= 255
        && value.contains('/')
        && !value.contains('@')
        && value.split('/').all(|part| {
            !part.is_empty()
                && edges(part)
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_' | ':'))
        })
        // A `:` only in the host's port.
        && value.split('/').skip(1).all(|part| !part.contains(':'));
    if ok {
        Ok(())
    } else {
        Err(
            "must be an image repository without tag or digest, as registry.example.com/team/app"
                .into(),
        )
    }
}

/// An image digest: `sha256:` and 64 lower-case hex digits.
pub fn check_digest(value: &str) -> Result<(), String> {
    match value.strip_prefix("sha256:") {
        Some(hex)
            if hex.len() == 64
                && hex
                    .chars()
                    .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)) =>
        {
            Ok(())
        }
        _ => Err("must be sha256: and 64 lower-case hex digits".into()),
    }
}

/// A release tag: `v` and a SemVer 2.0.0 version.
pub fn check_version_tag(value: &str) -> Result<(), String> {
    Version::parse_tag(value)
        .map(|_| ())
        .map_err(|e| format!("is not a release tag (v2.4.13): {}", e.message))
}

fn checked(
    node: &Node,
    what: &str,
    check: fn(&str) -> Result<(), String>,
    errors: &mut Errors,
) -> Option<String> {
    let value = text(node, what, errors)?;
    match check(&value) {
        Ok(()) => Some(value),
        Err(why) => {
            errors.at(node.pos, format!("{what} {value:?} {why}"));
            None
        }
    }
}

fn no_parent(meta: &Metadata, kind: &str, errors: &mut Errors) {
    if let Some((parent_kind, parent)) = &meta.parent {
        errors.at(
            meta.pos,
            format!("an {kind} has no parent (metadata.parent: {parent_kind}/{parent})"),
        );
    }
}

pub(super) fn application(meta: Metadata, spec: &Node, errors: &mut Errors) -> Option<Application> {
    no_parent(&meta, "Application", errors);
    let fields = Fields::of(spec, "spec", errors)?;
    fields.only(&["team", "image", "repository"], errors);
    let team = fields
        .required("team", "spec", errors)
        .and_then(|n| safe_name(n, "spec.team", errors));
    let image = fields
        .required("image", "spec", errors)
        .and_then(|n| checked(n, "spec.image", check_image, errors));
    let repository = fields
        .get("repository")
        .and_then(|n| safe_name(n, "spec.repository", errors));
    Some(Application {
        metadata: meta,
        team: team?,
        image: image?,
        repository,
    })
}

pub(super) fn application_set(
    meta: Metadata,
    spec: &Node,
    errors: &mut Errors,
) -> Option<ApplicationSet> {
    no_parent(&meta, "ApplicationSet", errors);
    let fields = Fields::of(spec, "spec", errors)?;
    fields.only(&["applications", "releaseTrack"], errors);
    let mut applications: Vec<String> = Vec::new();
    if let Some(node) = fields.required("applications", "spec", errors) {
        let listed = names(node, "spec.applications", errors);
        if let Value::Sequence(items) = &node.value {
            if items.is_empty() {
                errors.at(node.pos, "spec.applications lists no application".into());
            }
        }
        for name in listed {
            if applications.contains(&name) {
                errors.at(node.pos, format!("spec.applications lists {name} twice"));
            } else {
                applications.push(name);
            }
        }
    }
    let release_track = fields
        .required("releaseTrack", "spec", errors)
        .and_then(|n| safe_name(n, "spec.releaseTrack", errors));
    Some(ApplicationSet {
        metadata: meta,
        applications,
        release_track: release_track?,
    })
}

/// Which list of a track a stage is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrackKind {
    PreRelease,
    Release,
    Hotfix,
}

impl TrackKind {
    pub fn key(self) -> &'static str {
        match self {
            TrackKind::PreRelease => "preReleaseStages",
            TrackKind::Release => "releaseStages",
            TrackKind::Hotfix => "hotfixStages",
        }
    }
}

/// The reference's stakeholder table, for a stage that names no `signOff`.
fn default_sign_off(kind: TrackKind, last: bool) -> Vec<SignOff> {
    let groups: &[&str] = match (kind, last) {
        (TrackKind::PreRelease, _) => &[],
        (TrackKind::Release, false) => &["qa"],
        (TrackKind::Release, true) => &["product", "security"],
        (TrackKind::Hotfix, _) => &["incident-commanders"],
    };
    groups
        .iter()
        .map(|g| SignOff {
            group: g.to_string(),
            approvals: 1,
        })
        .collect()
}

fn sign_off(node: &Node, errors: &mut Errors) -> Vec<SignOff> {
    let Value::Sequence(items) = &node.value else {
        errors.at(
            node.pos,
            format!("signOff must be a list, not {}", node.kind()),
        );
        return Vec::new();
    };
    let mut found: Vec<SignOff> = Vec::new();
    for item in items {
        let Some(entry) = Fields::of(item, "a signOff entry", errors) else {
            continue;
        };
        entry.only(&["group", "approvals"], errors);
        let group = entry
            .required("group", "a signOff entry", errors)
            .and_then(|n| safe_name(n, "signOff.group", errors));
        let approvals = match entry.get("approvals") {
            None => Some(1),
            Some(n) => {
                match n.as_str().and_then(|t| t.trim().parse::<u32>().ok()) {
                    Some(count) if (1..=MAX_APPROVALS).contains(&count) => Some(count),
                    _ => {
                        errors.at(n.pos, format!("signOff.approvals must be a whole number from 1 to {MAX_APPROVALS}"));
                        None
                    }
                }
            }
        };
        let (Some(group), Some(approvals)) = (group, approvals) else {
            continue;
        };
        if found.iter().any(|s| s.group == group) {
            errors.at(item.pos, format!("signOff names group {group} twice"));
            continue;
        }
        found.push(SignOff { group, approvals });
    }
    if items.is_empty() {
        errors.at(
            node.pos,
            "signOff names no group: leave it out for the default sign-off".into(),
        );
    }
    found
}

fn stages(node: &Node, kind: TrackKind, errors: &mut Errors) -> Vec<TrackStage> {
    let key = kind.key();
    let Value::Sequence(items) = &node.value else {
        errors.at(
            node.pos,
            format!("spec.{key} must be a list, not {}", node.kind()),
        );
        return Vec::new();
    };
    let mut found = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let Some(stage) = Fields::of(item, &format!("a stage of {key}"), errors) else {
            continue;
        };
        stage.only(&["environments", "signOff", "soakTime", "verify"], errors);
        let environments = stage
            .required("environments", &format!("a stage of {key}"), errors)
            .map(|n| {
                let listed = names(n, "environments", errors);
                if listed.is_empty() && matches!(n.value, Value::Sequence(_)) {
                    errors.at(n.pos, "a stage needs at least one environment".into());
                }
                listed
            })
            .unwrap_or_default();
        let sign_off = match (kind, stage.get("signOff")) {
            (TrackKind::PreRelease, Some(n)) => {
                errors.at(n.pos, "pre-release stages deploy automatically: signOff belongs to release and hotfix stages".into());
                Vec::new()
            }
            (_, Some(n)) => sign_off(n, errors),
            (_, None) => default_sign_off(kind, index + 1 == items.len()),
        };
        let soak_minutes = match stage.get("soakTime") {
            None => 0,
            Some(n) if kind == TrackKind::PreRelease => {
                errors.at(n.pos, "pre-release stages deploy automatically: soakTime belongs to release and hotfix stages".into());
                0
            }
            Some(n) if index == 0 => {
                errors.at(
                    n.pos,
                    format!(
                        "soakTime waits for the stage before: the first stage of {key} has none"
                    ),
                );
                0
            }
            Some(n) => {
                match text(n, "soakTime", errors).map(|t| super::freezes::parse_duration(&t)) {
                    Some(Ok(minutes)) => minutes,
                    Some(Err(why)) => {
                        errors.at(n.pos, format!("soakTime {why}"));
                        0
                    }
                    None => 0,
                }
            }
        };
        let verify = match stage.get("verify") {
            None => false,
            Some(n) => match n.as_str() {
                Some("true") if kind == TrackKind::PreRelease => {
                    errors.at(n.pos, "pre-release stages deploy automatically: verify belongs to release and hotfix stages".into());
                    false
                }
                Some("true") if index + 1 == items.len() => {
                    errors.at(n.pos, format!("verify holds the stage after it: the last stage of {key} has none (verify production with monitoring after the release)"));
                    false
                }
                Some("true") => true,
                Some("false") => false,
                _ => {
                    errors.at(
                        n.pos,
                        format!("verify must be true or false, not {}", n.kind()),
                    );
                    false
                }
            },
        };
        found.push(TrackStage {
            environments,
            sign_off,
            soak_minutes,
            verify,
            pos: item.pos,
        });
    }
    found
}

pub(super) fn release_track(
    meta: Metadata,
    spec: &Node,
    errors: &mut Errors,
) -> Option<ReleaseTrack> {
    no_parent(&meta, "ReleaseTrack", errors);
    let fields = Fields::of(spec, "spec", errors)?;
    fields.only(
        &["preReleaseStages", "releaseStages", "hotfixStages"],
        errors,
    );
    let mut lists = [Vec::new(), Vec::new(), Vec::new()];
    for (slot, kind) in
        lists
            .iter_mut()
            .zip([TrackKind::PreRelease, TrackKind::Release, TrackKind::Hotfix])
    {
        let node = if kind == TrackKind::Release {
            fields.required(kind.key(), "spec", errors)
        } else {
            fields.get(kind.key())
        };
        if let Some(node) = node {
            *slot = stages(node, kind, errors);
            if slot.is_empty()
                && kind == TrackKind::Release
                && matches!(node.value, Value::Sequence(_))
            {
                errors.at(
                    node.pos,
                    "spec.releaseStages needs at least one stage".into(),
                );
            }
        }
    }
    let [pre_release, release, hotfix] = lists;
    // An environment is in one stage of a list; pre-release environments are not release ones
    // (an automatic deployment there would break the release's locked versions).
    for (list, kind) in [
        (&pre_release, TrackKind::PreRelease),
        (&release, TrackKind::Release),
        (&hotfix, TrackKind::Hotfix),
    ] {
        let mut seen: Vec<&str> = Vec::new();
        for stage in list {
            for env in &stage.environments {
                if seen.contains(&env.as_str()) {
                    errors.at(
                        stage.pos,
                        format!("environment {env} is in two stages of {}", kind.key()),
                    );
                }
                seen.push(env);
            }
        }
    }
    for stage in &pre_release {
        for env in &stage.environments {
            if release
                .iter()
                .chain(&hotfix)
                .any(|s| s.environments.contains(env))
            {
                errors.at(stage.pos, format!("environment {env} is a pre-release environment and a release one: builds would overwrite released versions there"));
            }
        }
    }
    Some(ReleaseTrack {
        metadata: meta,
        pre_release,
        release,
        hotfix,
    })
}

pub(super) fn deployment_config(
    meta: Metadata,
    spec: &Node,
    errors: &mut Errors,
) -> Option<DeploymentConfig> {
    match &meta.parent {
        Some((kind, _)) if kind == "Application" => {}
        Some((kind, _)) => errors.at(meta.pos, format!("a DeploymentConfig's parent must be an Application, not a {kind}")),
        None => errors.at(meta.pos, "a DeploymentConfig must be the child of an Application: add metadata.parent: Application/<name>".into()),
    }
    let fields = Fields::of(spec, "spec", errors)?;
    fields.only(&["environment", "version", "image", "release"], errors);
    let environment = fields
        .required("environment", "spec", errors)
        .and_then(|n| safe_name(n, "spec.environment", errors));
    let version = fields
        .get("version")
        .and_then(|n| checked(n, "spec.version", check_version_tag, errors));
    let image = fields.get("image").and_then(|n| {
        checked(
            n,
            "spec.image",
            |v| match v.split_once('@') {
                Some((repo, digest)) => check_image(repo).and_then(|_| check_digest(digest)),
                None => {
                    Err("must name the image by digest: registry/team/app@sha256:<64 hex>".into())
                }
            },
            errors,
        )
    });
    let release = fields
        .get("release")
        .and_then(|n| safe_name(n, "spec.release", errors));
    Some(DeploymentConfig {
        metadata: meta,
        environment: environment?,
        version,
        image,
        release,
    })
}

/// Links between release manifests loaded together: an ApplicationSet's applications and
/// track, a DeploymentConfig's Application. `(kind, name)` of everything there is known.
pub fn unknown_links(manifest: &Manifest, known: &[(&str, &str)]) -> Vec<String> {
    let has = |kind: &str, name: &str| known.iter().any(|(k, n)| *k == kind && *n == name);
    let mut missing = Vec::new();
    match manifest {
        Manifest::ApplicationSet(set) => {
            for app in &set.applications {
                if !has("Application", app) {
                    missing.push(format!("Application {app} is not defined"));
                }
            }
            if !has("ReleaseTrack", &set.release_track) {
                missing.push(format!("ReleaseTrack {} is not defined", set.release_track));
            }
        }
        Manifest::DeploymentConfig(config) => {
            if let Some((_, app)) = &config.metadata.parent {
                if !has("Application", app) {
                    missing.push(format!("the parent Application/{app} is not defined"));
                }
            }
        }
        _ => {}
    }
    missing
}

/// The group that owns ApplicationSets: product / release managers decide what ships together.
pub const APPLICATION_SET_OWNERS: &str = "release-managers";
/// The group that owns ReleaseTracks: platform / SRE decide how and where releases deploy.
pub const RELEASE_TRACK_OWNERS: &str = "sre";

/// The kinds the portal keeps (DeploymentConfigs are Slipway's to write, into the environment
/// configuration repository).
pub const PORTAL_KINDS: [&str; 5] = [
    "Application",
    "ApplicationSet",
    "ReleaseTrack",
    "Policy",
    "FreezeWindow",
];

/// The file name a release manifest is reported under in the portal.
pub const RELEASE_SOURCE_FILE: &str = "manifest.yaml";

/// The group whose members may edit a release manifest.
pub fn owner(manifest: &Manifest) -> Option<&str> {
    match manifest {
        Manifest::Application(app) => Some(&app.team),
        Manifest::ApplicationSet(_) => Some(APPLICATION_SET_OWNERS),
        Manifest::ReleaseTrack(_) => Some(RELEASE_TRACK_OWNERS),
        Manifest::Policy(policy) => Some(&policy.owner),
        Manifest::FreezeWindow(_) => Some(super::freezes::FREEZE_OWNERS),
        _ => None,
    }
}

/// Reads one release manifest as the portal keeps it: exactly one document of a kind it keeps.
/// Runs in the browser as it is typed and on the server when it is saved.
pub fn parse_release_source(text: &str) -> Result<Manifest, Vec<ManifestError>> {
    let at = |pos: Pos, message: String| ManifestError {
        file: RELEASE_SOURCE_FILE.into(),
        pos,
        message,
    };
    if text.len() > super::repositories::MAX_SOURCE {
        return Err(vec![at(
            Pos { line: 1, column: 1 },
            format!(
                "the manifest is longer than {} KiB",
                super::repositories::MAX_SOURCE / 1024
            ),
        )]);
    }
    let mut manifests = super::manifests::load(RELEASE_SOURCE_FILE, text)?;
    match manifests.len() {
        0 => Err(vec![at(
            Pos { line: 1, column: 1 },
            "no manifest: start with `kind: Application`, `ApplicationSet`, `ReleaseTrack`, `Policy` or `FreezeWindow`".into(),
        )]),
        1 => {
            let manifest = manifests.remove(0);
            if PORTAL_KINDS.contains(&manifest.kind()) {
                Ok(manifest)
            } else {
                Err(vec![at(
                    manifest.metadata().pos,
                    format!(
                        "a {} is not kept here: {}",
                        manifest.kind(),
                        match manifest.kind() {
                            "DeploymentConfig" => "Slipway writes DeploymentConfigs into the environment configuration repository",
                            _ => "repository manifests belong under Repositories",
                        }
                    ),
                )])
            }
        }
        _ => Err(vec![at(
            manifests[1].metadata().pos,
            "one manifest per text: save each Application, ApplicationSet and ReleaseTrack on its own".into(),
        )]),
    }
}

/// The reference's ReleaseTrack (seed 002), indented as YAML: the new-manifest page starts
/// from it.
pub const EXAMPLE_TRACK: &str = "apiVersion: lowops.manifests.v1
kind: ReleaseTrack
metadata:
  name: my-product-releasetrack
spec:
  preReleaseStages:
  - environments:
    - development
  releaseStages:
  - environments:
    - staging
  - environments:
    - production
  hotfixStages:
  - environments:
    - staging
  - environments:
    - production
";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::manifests::{load, Manifest};

    pub(crate) const TRACK: &str = super::EXAMPLE_TRACK;

    fn one(text: &str) -> Manifest {
        load("m.yaml", text).unwrap().remove(0)
    }

    fn errors(text: &str) -> Vec<String> {
        load("m.yaml", text)
            .unwrap_err()
            .into_iter()
            .map(|e| e.to_string())
            .collect()
    }

    #[test]
    fn the_reference_track_loads_with_the_stakeholder_table_as_sign_off() {
        let Manifest::ReleaseTrack(track) = one(TRACK) else {
            panic!()
        };
        assert_eq!(track.pre_release[0].environments, ["development"]);
        assert!(track.pre_release[0].sign_off.is_empty());
        let groups = |s: &TrackStage| {
            s.sign_off
                .iter()
                .map(|o| (o.group.clone(), o.approvals))
                .collect::<Vec<_>>()
        };
        assert_eq!(groups(&track.release[0]), [("qa".to_string(), 1)]);
        assert_eq!(
            groups(&track.release[1]),
            [("product".to_string(), 1), ("security".to_string(), 1)]
        );
        assert_eq!(
            groups(&track.hotfix[0]),
            [("incident-commanders".to_string(), 1)]
        );
        assert_eq!(
            groups(&track.hotfix[1]),
            [("incident-commanders".to_string(), 1)]
        );
        assert_eq!(track.production(), ["production"]);
        // Pages list environments as a change travels them, not by name.
        assert_eq!(
            track.environments(),
            ["development", "staging", "production"]
        );
    }

    #[test]
    fn a_track_names_its_own_sign_off() {
        let text = TRACK.replace(
            "  - environments:\n    - production\n  hotfixStages:",
            "  - environments:\n    - production\n    signOff:\n    - group: product\n      approvals: 2\n    - group: security\n  hotfixStages:",
        );
        let Manifest::ReleaseTrack(track) = one(&text) else {
            panic!()
        };
        assert_eq!(
            track.release[1].sign_off,
            vec![
                SignOff {
                    group: "product".into(),
                    approvals: 2
                },
                SignOff {
                    group: "security".into(),
                    approvals: 1
                }
            ]
        );
    }

    #[test]
    fn a_stage_may_soak_after_the_one_before() {
        let text = TRACK.replace(
            "  - environments:\n    - production\n  hotfixStages:",
            "  - environments:\n    - production\n    soakTime: 1d12h\n  hotfixStages:",
        );
        let Manifest::ReleaseTrack(track) = one(&text) else {
            panic!()
        };
        assert_eq!(
            (track.release[0].soak_minutes, track.release[1].soak_minutes),
            (0, 36 * 60)
        );
        let first = TRACK.replace(
            "  releaseStages:\n  - environments:\n    - staging\n",
            "  releaseStages:\n  - environments:\n    - staging\n    soakTime: 24h\n",
        );
        assert_eq!(errors(&first), ["m.yaml:12:15: soakTime waits for the stage before: the first stage of releaseStages has none"]);
        let verified = TRACK.replace(
            "  releaseStages:\n  - environments:\n    - staging\n",
            "  releaseStages:\n  - environments:\n    - staging\n    verify: true\n",
        );
        let Manifest::ReleaseTrack(track) = one(&verified) else {
            panic!()
        };
        assert!(track.release[0].verify && !track.release[1].verify);
        let last = TRACK.replace(
            "    - production\n  hotfixStages:",
            "    - production\n    verify: true\n  hotfixStages:",
        );
        assert!(
            errors(&last)[0].contains(
                "verify holds the stage after it: the last stage of releaseStages has none"
            ),
            "{:?}",
            errors(&last)
        );
        let bad = text.replace("1d12h", "a day");
        assert!(
            errors(&bad)[0].contains("soakTime \"a day\" is not a duration"),
            "{:?}",
            errors(&bad)
        );
    }

    #[test]
    fn bad_tracks_are_refused_with_the_place() {
        let pre = TRACK.replace(
            "    - development\n",
            "    - development\n    signOff:\n    - group: qa\n",
        );
        assert_eq!(errors(&pre), ["m.yaml:10:7: pre-release stages deploy automatically: signOff belongs to release and hotfix stages"]);
        let twice = TRACK.replace(
            "    - production\n  hotfixStages:",
            "    - staging\n  hotfixStages:",
        );
        assert_eq!(
            errors(&twice),
            ["m.yaml:12:5: environment staging is in two stages of releaseStages"]
        );
        let shared = TRACK.replace("    - development\n", "    - staging\n");
        assert!(
            errors(&shared)[0]
                .contains("environment staging is a pre-release environment and a release one"),
            "{:?}",
            errors(&shared)
        );
        let count = TRACK.replace(
            "    - production\n  hotfixStages:",
            "    - production\n    signOff:\n    - group: qa\n      approvals: 0\n  hotfixStages:",
        );
        assert_eq!(
            errors(&count),
            ["m.yaml:16:18: signOff.approvals must be a whole number from 1 to 10"]
        );
        let typo = TRACK.replace("releaseStages:", "releaseStage:");
        let found = errors(&typo);
        assert!(
            found
                .iter()
                .any(|e| e.contains("did you mean `releaseStages`")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|e| e.contains("spec needs `releaseStages`")),
            "{found:?}"
        );
        let same_group = TRACK.replace(
            "    - production\n  hotfixStages:",
            "    - production\n    signOff:\n    - group: qa\n    - group: qa\n  hotfixStages:",
        );
        assert!(errors(&same_group)[0].ends_with("signOff names group qa twice"));
    }

    #[test]
    fn applications_sets_and_deployment_configs_load_and_check_their_fields() {
        let app = "apiVersion: lowops.manifests.v1\nkind: Application\nmetadata:\n  name: checkout-api\nspec:\n  team: payments\n  image: registry.example.com/acme/checkout-api\n  repository: checkout\n";
        let Manifest::Application(a) = one(app) else {
            panic!()
        };
        assert_eq!(
            (a.team.as_str(), a.image.as_str(), a.repository.as_deref()),
            (
                "payments",
                "registry.example.com/acme/checkout-api",
                Some("checkout")
            )
        );
        for escaping in [
            "acme/../checkout-api",
            "acme/./checkout-api",
            "acme/-checkout-api",
            "acme/checkout-api.",
        ] {
            assert_eq!(
                errors(&app.replace("acme/checkout-api", escaping)).len(),
                1,
                "{escaping}"
            );
        }
        assert!(check_image("127.0.0.1:5000/acme/checkout-api").is_ok());
        assert_eq!(errors(&app.replace("acme/checkout-api", "acme/checkout-api:latest")), ["m.yaml:7:10: spec.image \"registry.example.com/acme/checkout-api:latest\" must be an image repository without tag or digest, as registry.example.com/team/app"]);
        assert_eq!(
            errors(&app.replace("  team: payments\n", "")),
            ["m.yaml:6:3: spec needs `team`"]
        );
        let set = "apiVersion: lowops.manifests.v1\nkind: ApplicationSet\nmetadata:\n  name: infrastream-cloud\nspec:\n  applications: [checkout-api, web]\n  releaseTrack: my-product-releasetrack\n";
        let Manifest::ApplicationSet(s) = one(set) else {
            panic!()
        };
        assert_eq!(s.applications, ["checkout-api", "web"]);
        assert_eq!(
            errors(&set.replace("[checkout-api, web]", "[web, web]")),
            ["m.yaml:6:17: spec.applications lists web twice"]
        );
        assert_eq!(
            errors(&set.replace("[checkout-api, web]", "[]")),
            ["m.yaml:6:17: spec.applications lists no application"]
        );
        let known = [
            ("Application", "web"),
            ("ReleaseTrack", "my-product-releasetrack"),
        ];
        assert_eq!(
            unknown_links(&Manifest::ApplicationSet(s), &known),
            ["Application checkout-api is not defined"]
        );
        let digest = "a".repeat(64);
        let config = format!("apiVersion: lowops.manifests.v1\nkind: DeploymentConfig\nmetadata:\n  name: checkout-api-staging\n  parent: Application/checkout-api\nspec:\n  environment: staging\n  version: v2.4.13\n  image: registry.example.com/acme/checkout-api@sha256:{digest}\n");
        let Manifest::DeploymentConfig(c) = one(&config) else {
            panic!()
        };
        assert_eq!(
            (c.environment.as_str(), c.version.as_deref()),
            ("staging", Some("v2.4.13"))
        );
        assert_eq!(errors(&config.replace("v2.4.13", "2.4.13")), ["m.yaml:8:12: spec.version \"2.4.13\" is not a release tag (v2.4.13): a release tag starts with 'v'"]);
        assert!(errors(&config.replace(&format!("@sha256:{digest}"), ":v2"))
            .iter()
            .any(|e| e.contains("must name the image by digest")));
        assert_eq!(errors(&config.replace("  parent: Application/checkout-api\n", "")), ["m.yaml:4:3: a DeploymentConfig must be the child of an Application: add metadata.parent: Application/<name>"]);
    }

    #[test]
    fn the_portal_keeps_one_release_manifest_per_text_with_its_owner() {
        let Ok(track) = parse_release_source(TRACK) else {
            panic!()
        };
        assert_eq!(owner(&track), Some(RELEASE_TRACK_OWNERS));
        let two = format!("{TRACK}---\n{TRACK}");
        assert_eq!(parse_release_source(&two).unwrap_err()[0].to_string(), "manifest.yaml:23:3: one manifest per text: save each Application, ApplicationSet and ReleaseTrack on its own");
        let repo = "apiVersion: lowops.manifests.v1\nkind: GithubRepository\nmetadata:\n  name: shop\nspec:\n  strategy: GIT_FLOW\n";
        assert!(parse_release_source(repo).unwrap_err()[0]
            .message
            .contains("belong under Repositories"));
        assert!(parse_release_source("").unwrap_err()[0]
            .message
            .starts_with("no manifest"));
    }
}
