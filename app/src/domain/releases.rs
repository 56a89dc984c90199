//! Releases, as the reference's section 4 defines them: the tag names (release candidate,
//! production, hotfix), the sign-off gate of a stage, the order a release's stages go in, and
//! the four DORA figures computed from the deployment history.
//!
//! Decisions where the reference is silent:
//! * A bundle (`2026.11`) is letters, digits and single dots, at most 32 characters, so that
//!   `<appSet>-<bundle>-rc.<N>` is always a valid tag and never looks like another tag's suffix.
//! * A stage's sign-off comes before its deployment: QA approving staging lets the bundle deploy
//!   to staging; product and security approving production let it deploy there.
//! * One person's vote counts once, for the group they signed as, even if they are in several
//!   of the stage's groups: multi-party sign-off means different people.
//! * The person who started a release may reject it (stopping their own release), never approve.
//! * A production deployment failed when the next production deployment of that application is a
//!   hotfix or a rollback; the time to restore is the time until that deployment.

use super::release_manifests::SignOff;
use super::semver::{Identifier, Version};

/// A bundle version: letters, digits and single dots, starting and ending with a letter or digit.
pub fn check_bundle(bundle: &str) -> Result<(), String> {
    let ok = !bundle.is_empty()
        && bundle.len() <= 32
        && bundle
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.')
        && !bundle.starts_with('.')
        && !bundle.ends_with('.')
        && !bundle.contains("..");
    if ok {
        Ok(())
    } else {
        Err("a bundle is letters, digits and single dots, as 2026.11 (at most 32)".into())
    }
}

/// The release candidate tag: `<appSet>-<bundle>-rc.<N>`.
pub fn rc_tag(app_set: &str, bundle: &str, increment: u32) -> String {
    format!("{app_set}-{bundle}-rc.{increment}")
}

/// The increment a new release of the bundle takes: one above the highest RC tag there is (RC
/// tags are never moved or reused), 0 for the first.
pub fn next_rc(app_set: &str, bundle: &str, existing: &[String]) -> u32 {
    let prefix = format!("{app_set}-{bundle}-rc.");
    existing
        .iter()
        .filter_map(|t| t.strip_prefix(&prefix)?.parse::<u32>().ok())
        .max()
        .map_or(0, |n| n + 1)
}

/// The production tag of a completed release: `<appSet>-<bundle>`, or, when that exists already
/// (a hotfix of the bundle went out), `<appSet>-<bundle>-hotfix.<N>` with N one above the
/// highest there is.
pub fn production_tag(app_set: &str, bundle: &str, existing: &[String]) -> String {
    let clean = format!("{app_set}-{bundle}");
    if !existing.contains(&clean) {
        return clean;
    }
    let prefix = format!("{clean}-hotfix.");
    let next = existing
        .iter()
        .filter_map(|t| t.strip_prefix(&prefix)?.parse::<u32>().ok())
        .max()
        .map_or(1, |n| n + 1);
    format!("{prefix}{next}")
}

/// What a build's version says about where it may go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum BuildKind {
    /// `vX.Y.Z-hotfix.N`: through the hotfix stages.
    Hotfix,
    /// Anything else: the pre-release stages, and releases.
    Regular,
}

/// The kind of a release tag (`v2.4.13-hotfix.1` is a hotfix), or why it is not one.
pub fn build_kind(tag: &str) -> Result<BuildKind, String> {
    let version = Version::parse_tag(tag)
        .map_err(|e| format!("{tag:?} is not a release tag: {}", e.message))?;
    let hotfix = matches!(
        version.pre.as_slice(),
        [Identifier::Alphanumeric(kind), Identifier::Numeric(n)] if kind == "hotfix" && *n >= 1
    );
    Ok(if hotfix {
        BuildKind::Hotfix
    } else {
        BuildKind::Regular
    })
}

/// A vote cast at a stage and not withdrawn.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Vote {
    pub user: String,
    pub group: String,
    pub approve: bool,
    pub comment: String,
}

/// Where a stage's sign-off stands.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Gate {
    /// Every group has its approvals.
    Open,
    /// (group, approvals so far, approvals needed) of each group still short.
    Waiting(Vec<(String, u32, u32)>),
    /// Someone rejected: the release stops.
    Rejected {
        by: String,
        group: String,
        comment: String,
    },
}

/// The gate of a stage with these votes: rejected by any rejection, open when every group has
/// its number of approvals from distinct people.
pub fn gate(sign_off: &[SignOff], votes: &[Vote]) -> Gate {
    if let Some(no) = votes.iter().find(|v| !v.approve) {
        return Gate::Rejected {
            by: no.user.clone(),
            group: no.group.clone(),
            comment: no.comment.clone(),
        };
    }
    let mut counted: Vec<&str> = Vec::new();
    let mut missing = Vec::new();
    for required in sign_off {
        let mut have = 0;
        for vote in votes.iter().filter(|v| v.group == required.group) {
            if !counted.contains(&vote.user.as_str()) {
                counted.push(&vote.user);
                have += 1;
            }
        }
        if have < required.approvals {
            missing.push((required.group.clone(), have, required.approvals));
        }
    }
    if missing.is_empty() {
        Gate::Open
    } else {
        Gate::Waiting(missing)
    }
}

impl Gate {
    /// What the stage waits for, in a sentence.
    pub fn describe(&self) -> String {
        match self {
            Gate::Open => "Signed off".into(),
            Gate::Rejected { by, group, comment } if comment.is_empty() => {
                format!("Rejected by {by} ({group})")
            }
            Gate::Rejected { by, group, comment } => {
                format!("Rejected by {by} ({group}): {comment}")
            }
            Gate::Waiting(missing) => format!(
                "Waiting for {}",
                missing
                    .iter()
                    .map(|(group, have, need)| format!("{group} {have}/{need}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// Whether `user` (in `groups`) may vote at a stage awaiting sign-off, as `group`; the reason
/// if not.
pub fn may_vote(
    sign_off: &[SignOff],
    votes: &[Vote],
    starter: &str,
    user: &str,
    groups: &[String],
    group: &str,
    approve: bool,
) -> Result<(), String> {
    if !sign_off.iter().any(|s| s.group == group) {
        return Err(format!(
            "this stage is signed off by {}, not {group}",
            sign_off
                .iter()
                .map(|s| s.group.as_str())
                .collect::<Vec<_>>()
                .join(" and ")
        ));
    }
    if !groups.iter().any(|g| g == group) {
        return Err(format!("you are not in the group {group}"));
    }
    if approve && user == starter {
        return Err("you started this release: someone else must approve it".into());
    }
    if let Some(mine) = votes.iter().find(|v| v.user == user) {
        return Err(format!(
            "you have already {} this stage (as {}); withdraw that first",
            if mine.approve { "approved" } else { "rejected" },
            mine.group
        ));
    }
    Ok(())
}

/// A release stage's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum StageState {
    Waiting,
    AwaitingSignOff,
    Approved,
    Deployed,
    Rejected,
}

impl StageState {
    pub fn as_str(self) -> &'static str {
        match self {
            StageState::Waiting => "waiting",
            StageState::AwaitingSignOff => "awaiting_sign_off",
            StageState::Approved => "approved",
            StageState::Deployed => "deployed",
            StageState::Rejected => "rejected",
        }
    }

    pub fn parse(text: &str) -> Option<StageState> {
        [
            StageState::Waiting,
            StageState::AwaitingSignOff,
            StageState::Approved,
            StageState::Deployed,
            StageState::Rejected,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            StageState::Waiting => "Waiting",
            StageState::AwaitingSignOff => "Awaiting sign-off",
            StageState::Approved => "Approved",
            StageState::Deployed => "Deployed",
            StageState::Rejected => "Rejected",
        }
    }
}

impl Gate {
    /// The state a stage awaiting sign-off takes when its gate reads this.
    pub fn stage_state(&self) -> StageState {
        match self {
            Gate::Waiting(_) => StageState::AwaitingSignOff,
            Gate::Open => StageState::Approved,
            Gate::Rejected { .. } => StageState::Rejected,
        }
    }
}

/// The state a stage opens in: awaiting its sign-off, or approved at once when it names none.
pub fn opened(sign_off: &[SignOff]) -> StageState {
    gate(sign_off, &[]).stage_state()
}

/// What put a version into an environment: a build's pre-release deployment, a release (a
/// hotfix is a release of the bundle already in production with fixes), or a rollback to the
/// version before.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentKind {
    Prerelease,
    Release,
    Hotfix,
    Rollback,
}

impl DeploymentKind {
    pub fn parse(value: &str) -> Option<DeploymentKind> {
        match value {
            "prerelease" => Some(DeploymentKind::Prerelease),
            "release" => Some(DeploymentKind::Release),
            "hotfix" => Some(DeploymentKind::Hotfix),
            "rollback" => Some(DeploymentKind::Rollback),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentKind::Prerelease => "prerelease",
            DeploymentKind::Release => "release",
            DeploymentKind::Hotfix => "hotfix",
            DeploymentKind::Rollback => "rollback",
        }
    }
}

/// A release's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ReleaseState {
    /// Its stages are being signed off and deployed.
    Running,
    /// Every stage deployed and the production tag made.
    Completed,
    /// A stage was rejected.
    Rejected,
}

impl ReleaseState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReleaseState::Running => "running",
            ReleaseState::Completed => "completed",
            ReleaseState::Rejected => "rejected",
        }
    }

    pub fn parse(text: &str) -> Option<ReleaseState> {
        [
            ReleaseState::Running,
            ReleaseState::Completed,
            ReleaseState::Rejected,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            ReleaseState::Running => "Running",
            ReleaseState::Completed => "Completed",
            ReleaseState::Rejected => "Rejected",
        }
    }
}

/// What a release does next, from its stages' states in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Stage i waits for its sign-off.
    SignOff(usize),
    /// Stage i is signed off: deploy it.
    Deploy(usize),
    /// Stage i is next: open its sign-off.
    Open(usize),
    /// Every stage is deployed: tag production.
    Complete,
    /// A stage was rejected.
    Stopped,
}

pub fn next_step(stages: &[StageState]) -> Step {
    if stages.contains(&StageState::Rejected) {
        return Step::Stopped;
    }
    match stages.iter().position(|s| *s != StageState::Deployed) {
        None => Step::Complete,
        Some(i) => match stages[i] {
            StageState::Waiting => Step::Open(i),
            StageState::AwaitingSignOff => Step::SignOff(i),
            _ => Step::Deploy(i),
        },
    }
}

/// One deployment of the history, for the DORA figures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeploymentFact {
    pub application: String,
    pub environment: String,
    /// Seconds since the epoch.
    pub at: i64,
    /// A hotfix or a rollback: it restores what the deployment before it broke.
    pub restores: bool,
    /// When the build of the deployed version completed (the build-completed notification).
    pub built_at: Option<i64>,
}

/// The four DORA figures over a window of days ending now.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Dora {
    pub window_days: u32,
    pub production_deployments: u32,
    /// Production deployments per week.
    pub per_week: f64,
    /// Production deployments in each of the window's weeks, oldest first.
    pub weekly: Vec<u32>,
    /// Median seconds from build to production.
    pub lead_time: Option<i64>,
    /// Failed production deployments over all of them (0 to 1).
    pub change_failure_rate: Option<f64>,
    pub failures: u32,
    /// Median seconds from a failed production deployment to the hotfix or rollback that
    /// restored it.
    pub time_to_restore: Option<i64>,
}

fn median(mut values: Vec<i64>) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2
    })
}

/// The windows the DORA figures are offered over, in days.
pub const DORA_WINDOWS: [u32; 4] = [7, 28, 90, 365];

/// DORA over `history` (in the order it happened; any order by time works, ties keep theirs) for
/// the `production` environments, the `days` before `now`. Linear in the history but for its
/// sort: only deployments after the window's start matter (a successor is always later).
pub fn dora(history: &[DeploymentFact], production: &[String], now: i64, days: u32) -> Dora {
    const DAY: i64 = 86_400;
    let from = now - i64::from(days) * DAY;
    let mut prod: Vec<&DeploymentFact> = history
        .iter()
        .filter(|d| production.contains(&d.environment))
        .collect();
    prod.sort_by_key(|d| d.at);
    let inside: Vec<&&DeploymentFact> =
        prod.iter().filter(|d| d.at > from && d.at <= now).collect();
    let weeks = days.div_ceil(7).max(1);
    let mut weekly = vec![0u32; weeks as usize];
    for d in &inside {
        let ago = ((now - d.at) / (7 * DAY)) as usize;
        if ago < weekly.len() {
            let slot = weekly.len() - 1 - ago;
            weekly[slot] += 1;
        }
    }
    let lead_time = median(
        inside
            .iter()
            .filter_map(|d| d.built_at.map(|b| d.at - b))
            .filter(|t| *t >= 0)
            .collect(),
    );
    // Each deployment's successor for the same application, among all production deployments
    // (in the order given where two share a second): one pass from the newest.
    let mut newer: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut successor = vec![None; prod.len()];
    for (i, d) in prod.iter().enumerate().rev() {
        successor[i] = newer.insert(d.application.as_str(), i);
    }
    let mut failures = 0;
    let mut restores = Vec::new();
    for (i, d) in prod.iter().enumerate() {
        if !(d.at > from && d.at <= now) {
            continue;
        }
        if let Some(next) = successor[i].map(|j| prod[j]).filter(|n| n.restores) {
            failures += 1;
            restores.push(next.at - d.at);
        }
    }
    let count = inside.len() as u32;
    Dora {
        window_days: days,
        production_deployments: count,
        per_week: f64::from(count) * 7.0 / f64::from(days.max(1)),
        weekly,
        lead_time,
        change_failure_rate: (count > 0).then(|| f64::from(failures) / f64::from(count)),
        failures,
        time_to_restore: median(restores),
    }
}

/// A build-completed notification, as the generated push workflows send it (JSON:
/// `repository`, `application`, `version`, `commit`, `branch`, `run`, `images: [{name, digest}]`),
/// checked field by field.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BuildNotification {
    /// `owner/name`.
    pub repository: String,
    pub application: String,
    pub version: String,
    pub commit: String,
    pub branch: String,
    pub run: String,
    pub images: Vec<BuiltImage>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BuiltImage {
    pub name: String,
    pub digest: String,
}

impl BuildNotification {
    /// Reads and checks a notification; the error names the field.
    pub fn parse(body: &[u8]) -> Result<BuildNotification, String> {
        use super::manifests::check_name;
        use super::release_manifests::{check_digest, check_version_tag};
        let n: BuildNotification = serde_json::from_slice(body)
            .map_err(|e| format!("the notification is not the expected JSON: {e}"))?;
        let (owner, name) = n
            .repository
            .split_once('/')
            .ok_or_else(|| format!("repository {:?} must be owner/name", n.repository))?;
        for (field, value) in [
            ("repository owner", owner),
            ("repository name", name),
            ("application", n.application.as_str()),
        ] {
            check_name(value).map_err(|why| format!("{field} {value:?} {why}"))?;
        }
        check_version_tag(&n.version).map_err(|why| format!("version {:?} {why}", n.version))?;
        if n.commit.len() != 40 || !n.commit.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(format!("commit {:?} must be 40 hex digits", n.commit));
        }
        if n.branch.len() > 255 || n.run.len() > 500 {
            return Err("branch or run is too long".into());
        }
        for image in &n.images {
            check_name(&image.name).map_err(|why| format!("images.name {:?} {why}", image.name))?;
            check_digest(&image.digest)
                .map_err(|why| format!("images.digest {:?} {why}", image.digest))?;
        }
        Ok(n)
    }

    /// The image of `application` (an image repository, as `registry/team/checkout-api`) by
    /// digest: the built image named like the repository's last part, or the only one built.
    pub fn image_of(&self, image_repository: &str) -> Option<String> {
        let last = image_repository.rsplit('/').next().unwrap_or_default();
        let built = match self.images.as_slice() {
            [only] => Some(only),
            many => many.iter().find(|i| i.name == last),
        }?;
        Some(format!("{image_repository}@{}", built.digest))
    }
}

/// Where a DeploymentConfig lives in the environment configuration repository.
pub fn deployment_path(environment: &str, application: &str) -> String {
    format!("{environment}/{application}.yaml")
}

/// A DeploymentConfig manifest in the reference format, as Slipway commits it; `release`: the
/// release candidate tag of a release or hotfix deployment.
pub fn deployment_config(
    application: &str,
    environment: &str,
    version: &str,
    image: &str,
    release: Option<&str>,
) -> String {
    use super::yaml_out::{print, Yaml};
    let mut spec = Yaml::map()
        .text("environment", environment)
        .text("version", version);
    if !image.is_empty() {
        spec = spec.text("image", image);
    }
    if let Some(release) = release {
        spec = spec.text("release", release);
    }
    print(
        &Yaml::map()
            .text("apiVersion", super::manifests::API_VERSION)
            .text("kind", "DeploymentConfig")
            .with(
                "metadata",
                Yaml::map()
                    .text("name", format!("{application}-{environment}"))
                    .text("parent", format!("Application/{application}"))
                    .build(),
            )
            .with("spec", spec.build())
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(list: &[&str]) -> Vec<String> {
        list.iter().map(|t| t.to_string()).collect()
    }

    #[test]
    fn tags_follow_the_version_naming_table() {
        assert_eq!(
            rc_tag("infrastream-cloud", "2026.11", 0),
            "infrastream-cloud-2026.11-rc.0"
        );
        assert_eq!(next_rc("infrastream-cloud", "2026.11", &[]), 0);
        let existing = tags(&[
            "infrastream-cloud-2026.11-rc.0",
            "infrastream-cloud-2026.11-rc.1",
            "infrastream-cloud-2026.10-rc.7",
            "other-2026.11-rc.9",
        ]);
        assert_eq!(
            next_rc("infrastream-cloud", "2026.11", &existing),
            2,
            "a rejection's next attempt is rc.N+1"
        );
        assert_eq!(
            production_tag("infrastream-cloud", "2026.11", &existing),
            "infrastream-cloud-2026.11"
        );
        let released = tags(&["infrastream-cloud-2026.11"]);
        assert_eq!(
            production_tag("infrastream-cloud", "2026.11", &released),
            "infrastream-cloud-2026.11-hotfix.1"
        );
        let hotfixed = tags(&[
            "infrastream-cloud-2026.11",
            "infrastream-cloud-2026.11-hotfix.1",
        ]);
        assert_eq!(
            production_tag("infrastream-cloud", "2026.11", &hotfixed),
            "infrastream-cloud-2026.11-hotfix.2"
        );
        assert!(check_bundle("2026.11").is_ok());
        for bad in [
            "",
            "2026..11",
            ".2026",
            "2026.11-rc.1",
            "2026/11",
            "a b",
            &"1".repeat(33),
        ] {
            assert!(check_bundle(bad).is_err(), "{bad:?}");
        }
        assert_eq!(build_kind("v2.4.13-hotfix.1"), Ok(BuildKind::Hotfix));
        assert_eq!(build_kind("v2.4.13"), Ok(BuildKind::Regular));
        assert_eq!(build_kind("v2.4.13-alpha.3"), Ok(BuildKind::Regular));
        assert_eq!(
            build_kind("v2.4.13-hotfix.0"),
            Ok(BuildKind::Regular),
            "hotfixes count from 1"
        );
        assert!(build_kind("2.4.13").is_err());
    }

    fn production() -> Vec<SignOff> {
        vec![
            SignOff {
                group: "product".into(),
                approvals: 1,
            },
            SignOff {
                group: "security".into(),
                approvals: 1,
            },
        ]
    }

    fn vote(user: &str, group: &str, approve: bool) -> Vote {
        Vote {
            user: user.into(),
            group: group.into(),
            approve,
            comment: String::new(),
        }
    }

    #[test]
    fn the_gate_opens_only_with_every_group_from_distinct_people() {
        assert_eq!(
            gate(&production(), &[]),
            Gate::Waiting(vec![("product".into(), 0, 1), ("security".into(), 0, 1)])
        );
        let one = [vote("pm", "product", true)];
        assert_eq!(
            gate(&production(), &one),
            Gate::Waiting(vec![("security".into(), 0, 1)])
        );
        assert_eq!(
            gate(&production(), &one).describe(),
            "Waiting for security 0/1"
        );
        assert_eq!(
            gate(
                &production(),
                &[vote("pm", "product", true), vote("sec", "security", true)]
            ),
            Gate::Open
        );
        // The same person as both groups counts once.
        assert!(matches!(
            gate(
                &production(),
                &[vote("pm", "product", true), vote("pm", "security", true)]
            ),
            Gate::Waiting(_)
        ));
        // Two approvals from the same group need two people.
        let two = [SignOff {
            group: "qa".into(),
            approvals: 2,
        }];
        assert!(matches!(
            gate(&two, &[vote("q1", "qa", true)]),
            Gate::Waiting(_)
        ));
        assert_eq!(
            gate(&two, &[vote("q1", "qa", true), vote("q2", "qa", true)]),
            Gate::Open
        );
        // One rejection stops it, whatever else there is.
        let rejected = gate(
            &production(),
            &[
                vote("pm", "product", true),
                Vote {
                    comment: "CVE-2026-1234 open".into(),
                    ..vote("sec", "security", false)
                },
            ],
        );
        assert_eq!(
            rejected.describe(),
            "Rejected by sec (security): CVE-2026-1234 open"
        );
    }

    #[test]
    fn who_may_vote() {
        let groups = |g: &[&str]| g.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let rm = "rm";
        assert_eq!(
            may_vote(
                &production(),
                &[],
                rm,
                "pm",
                &groups(&["product"]),
                "product",
                true
            ),
            Ok(())
        );
        assert_eq!(
            may_vote(
                &production(),
                &[],
                rm,
                "pm",
                &groups(&["product"]),
                "qa",
                true
            ),
            Err("this stage is signed off by product and security, not qa".into())
        );
        assert_eq!(
            may_vote(
                &production(),
                &[],
                rm,
                "dev",
                &groups(&["payments"]),
                "product",
                true
            ),
            Err("you are not in the group product".into())
        );
        assert_eq!(
            may_vote(
                &production(),
                &[],
                rm,
                rm,
                &groups(&["product"]),
                "product",
                true
            ),
            Err("you started this release: someone else must approve it".into())
        );
        assert_eq!(
            may_vote(
                &production(),
                &[],
                rm,
                rm,
                &groups(&["product"]),
                "product",
                false
            ),
            Ok(()),
            "the starter may stop their release"
        );
        let cast = [vote("pm", "product", true)];
        assert_eq!(
            may_vote(
                &production(),
                &cast,
                rm,
                "pm",
                &groups(&["product", "security"]),
                "security",
                true
            ),
            Err("you have already approved this stage (as product); withdraw that first".into())
        );
    }

    #[test]
    fn stages_go_in_order_sign_off_then_deploy() {
        use StageState::*;
        assert_eq!(next_step(&[Waiting, Waiting]), Step::Open(0));
        assert_eq!(next_step(&[AwaitingSignOff, Waiting]), Step::SignOff(0));
        assert_eq!(next_step(&[Approved, Waiting]), Step::Deploy(0));
        assert_eq!(next_step(&[Deployed, Waiting]), Step::Open(1));
        assert_eq!(next_step(&[Deployed, Deployed]), Step::Complete);
        assert_eq!(next_step(&[Deployed, Rejected]), Step::Stopped);
        for state in [Waiting, AwaitingSignOff, Approved, Deployed, Rejected] {
            assert_eq!(StageState::parse(state.as_str()), Some(state));
        }
    }

    #[test]
    fn a_stage_opens_awaiting_its_sign_off_or_approved_when_it_names_none() {
        let qa = SignOff {
            group: "qa".into(),
            approvals: 1,
        };
        assert_eq!(opened(&[qa.clone()]), StageState::AwaitingSignOff);
        assert_eq!(opened(&[]), StageState::Approved);
        let yes = Vote {
            user: "quinn".into(),
            group: "qa".into(),
            approve: true,
            comment: String::new(),
        };
        let no = Vote {
            approve: false,
            ..yes.clone()
        };
        assert_eq!(
            gate(&[qa.clone()], &[yes]).stage_state(),
            StageState::Approved
        );
        assert_eq!(gate(&[qa], &[no]).stage_state(), StageState::Rejected);
        for state in [
            ReleaseState::Running,
            ReleaseState::Completed,
            ReleaseState::Rejected,
        ] {
            assert_eq!(ReleaseState::parse(state.as_str()), Some(state));
        }
        assert_eq!(ReleaseState::parse("done"), None);
    }

    #[test]
    fn dora_figures_come_from_the_production_history() {
        const DAY: i64 = 86_400;
        let now = 100 * DAY;
        let d =
            |app: &str, env: &str, day: i64, restores: bool, built: Option<i64>| DeploymentFact {
                application: app.into(),
                environment: env.into(),
                at: now - day * DAY,
                restores,
                built_at: built.map(|h| now - day * DAY - h * 3600),
            };
        let history = vec![
            d("api", "production", 20, false, Some(48)),
            d("api", "production", 10, false, Some(24)),
            d("api", "production", 9, true, Some(2)), // restores the day-10 release after 1 day
            d("web", "production", 3, false, Some(72)),
            d("web", "staging", 4, false, Some(1)), // not production
            d("web", "production", 40, false, None), // outside a 28-day window
            d("web", "production", 2, false, Some(5)), // web's next after day 3: not a hotfix
            d("api", "production", 1, true, None),  // api's next after day 9: a hotfix of a hotfix
        ];
        let figures = dora(&history, &["production".to_string()], now, 28);
        assert_eq!(figures.production_deployments, 6);
        assert_eq!(figures.weekly, vec![0, 1, 2, 3]);
        assert!((figures.per_week - 1.5).abs() < 1e-9);
        // Lead times 48, 24, 2, 72 and 5 hours: the median is 24 hours.
        assert_eq!(figures.lead_time, Some(24 * 3600));
        // The day-10 release needed the day-9 hotfix (1 day), which needed the day-1 one
        // (8 days); each application's successor is its own, whatever lies between.
        assert_eq!(figures.failures, 2);
        assert_eq!(figures.change_failure_rate, Some(2.0 / 6.0));
        assert_eq!(figures.time_to_restore, Some((DAY + 8 * DAY) / 2));
        // The history in any order gives the same figures; a week's window only its own.
        let mut shuffled = history.clone();
        shuffled.reverse();
        assert_eq!(
            dora(&shuffled, &["production".to_string()], now, 28),
            figures
        );
        let week = dora(&history, &["production".to_string()], now, 7);
        assert_eq!(
            (
                week.production_deployments,
                week.weekly.clone(),
                week.failures
            ),
            (3, vec![3], 0)
        );
        let empty = dora(&[], &["production".to_string()], now, 28);
        assert_eq!(
            (
                empty.production_deployments,
                empty.lead_time,
                empty.change_failure_rate,
                empty.time_to_restore
            ),
            (0, None, None, None)
        );
    }

    #[test]
    fn build_notifications_are_checked_and_become_deployment_configs() {
        let digest = format!("sha256:{}", "ab".repeat(32));
        let body = serde_json::json!({
            "repository": "acme/checkout", "application": "checkout-api", "version": "v2.4.13",
            "commit": "0123456789abcdef0123456789abcdef01234567", "branch": "main",
            "run": "https://github.com/acme/checkout/actions/runs/1",
            "images": [{ "name": "checkout-api", "digest": digest }],
        });
        let n = BuildNotification::parse(body.to_string().as_bytes()).unwrap();
        let image = n
            .image_of("registry.example.com/acme/checkout-api")
            .unwrap();
        assert_eq!(
            image,
            format!("registry.example.com/acme/checkout-api@{digest}")
        );
        let text = deployment_config("checkout-api", "development", "v2.4.13", &image, None);
        // What Slipway writes loads as a DeploymentConfig, unchanged.
        let loaded = crate::domain::manifests::load("c.yaml", &text).unwrap();
        let crate::domain::manifests::Manifest::DeploymentConfig(config) = &loaded[0] else {
            panic!("{text}")
        };
        assert_eq!(
            (
                config.environment.as_str(),
                config.version.as_deref(),
                config.image.as_deref()
            ),
            ("development", Some("v2.4.13"), Some(image.as_str()))
        );
        assert_eq!(
            deployment_path("development", "checkout-api"),
            "development/checkout-api.yaml"
        );
        for (field, value) in [
            ("repository", serde_json::json!("acme")),
            ("application", serde_json::json!("../etc")),
            ("version", serde_json::json!("2.4.13")),
            ("commit", serde_json::json!("HEAD")),
            (
                "images",
                serde_json::json!([{ "name": "x", "digest": "sha256:short" }]),
            ),
        ] {
            let mut bad = body.clone();
            bad[field] = value;
            let error = BuildNotification::parse(bad.to_string().as_bytes()).unwrap_err();
            assert!(
                error.contains(field.trim_end_matches('s')) || error.contains(field),
                "{field}: {error}"
            );
        }
        assert!(BuildNotification::parse(b"{").is_err());
    }
}
