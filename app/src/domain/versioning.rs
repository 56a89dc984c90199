//! Automatic versions (seed section 3): the release type a branch has under a strategy
//! (section 1's tables), the base tag, and the next version from the release label.
//!
//! Decisions where the seed's tables disagree with each other or with SemVer: pre-releases are
//! of the *next patch* after the base (base v2.4.12 gives v2.4.13-alpha.N, as the "Version
//! Naming Convention" table shows; a pre-release of v2.4.12 would sort below v2.4.12 itself);
//! alpha and beta count from 0, hotfix from 1; N continues from the highest existing tag of
//! that series for that version.

use super::conventional::Label;
use super::semver::{Identifier, Version};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Strategy {
    GithubFlow,
    GitFlow,
    TrunkBased,
}

impl Strategy {
    pub const ALL: [Strategy; 3] = [
        Strategy::GithubFlow,
        Strategy::GitFlow,
        Strategy::TrunkBased,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::GithubFlow => "GITHUB_FLOW",
            Strategy::GitFlow => "GIT_FLOW",
            Strategy::TrunkBased => "TRUNK_BASED",
        }
    }

    pub fn parse(text: &str) -> Option<Strategy> {
        Strategy::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            Strategy::GithubFlow => "GitHub Flow",
            Strategy::GitFlow => "Git Flow",
            Strategy::TrunkBased => "Trunk-Based",
        }
    }

    /// The release type of `branch`, from the strategy's table (`branching::policies`):
    /// `main` is LATEST everywhere; Git Flow has develop (ALPHA), `release/…` (BETA) and
    /// `hotfix/…` (HOTFIX); Trunk-Based has `release/…` maintenance branches (HOTFIX);
    /// everything else gets no version.
    pub fn release_type(self, branch: &str) -> ReleaseType {
        super::branching::policy_for(self, branch).map_or(ReleaseType::None, |p| p.release)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ReleaseType {
    Latest,
    Alpha,
    Beta,
    Hotfix,
    None,
}

impl ReleaseType {
    pub const ALL: [ReleaseType; 5] = [
        ReleaseType::Latest,
        ReleaseType::Alpha,
        ReleaseType::Beta,
        ReleaseType::Hotfix,
        ReleaseType::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReleaseType::Latest => "LATEST",
            ReleaseType::Alpha => "ALPHA",
            ReleaseType::Beta => "BETA",
            ReleaseType::Hotfix => "HOTFIX",
            ReleaseType::None => "NONE",
        }
    }

    pub fn parse(text: &str) -> Option<ReleaseType> {
        ReleaseType::ALL.into_iter().find(|t| t.as_str() == text)
    }

    /// The pre-release series (`alpha`, `beta`, `hotfix`) and its first number.
    fn series(self) -> Option<(&'static str, u64)> {
        match self {
            ReleaseType::Alpha => Some(("alpha", 0)),
            ReleaseType::Beta => Some(("beta", 0)),
            ReleaseType::Hotfix => Some(("hotfix", 1)),
            ReleaseType::Latest | ReleaseType::None => None,
        }
    }
}

impl fmt::Display for ReleaseType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of release tag a version is (the "Version Naming Convention" table), or `None`
/// for a pre-release of another shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TagKind {
    Latest,
    Alpha,
    Beta,
    Hotfix,
}

impl TagKind {
    pub fn of(version: &Version) -> Option<TagKind> {
        match version.pre.as_slice() {
            [] => Some(TagKind::Latest),
            [Identifier::Alphanumeric(series), Identifier::Numeric(_)] => match series.as_str() {
                "alpha" => Some(TagKind::Alpha),
                "beta" => Some(TagKind::Beta),
                "hotfix" => Some(TagKind::Hotfix),
                _ => None,
            },
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TagKind::Latest => "latest",
            TagKind::Alpha => "alpha",
            TagKind::Beta => "beta",
            TagKind::Hotfix => "hotfix",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bump {
    Major,
    Minor,
    Patch,
}

impl Bump {
    pub fn as_str(self) -> &'static str {
        match self {
            Bump::Major => "major",
            Bump::Minor => "minor",
            Bump::Patch => "patch",
        }
    }

    /// The seed: release/major → major, release/minor → minor, no label → patch.
    pub fn from_label(label: Label) -> Bump {
        match label {
            Label::Major => Bump::Major,
            Label::Minor => Bump::Minor,
            Label::None => Bump::Patch,
        }
    }

    pub fn apply(self, base: &Version) -> Version {
        match self {
            Bump::Major => Version::new(base.major + 1, 0, 0),
            Bump::Minor => Version::new(base.major, base.minor + 1, 0),
            Bump::Patch => Version::new(base.major, base.minor, base.patch + 1),
        }
    }
}

/// The tags a computation looks at.
#[derive(Clone, Debug, Default)]
pub struct TagSet {
    /// Version tags reachable from HEAD.
    pub reachable: Vec<Version>,
    /// Every version tag in the repository (pre-release numbers must not collide).
    pub all: Vec<Version>,
    /// Version tags on the HEAD commit itself.
    pub head: Vec<Version>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Tag this.
    Version(Version),
    /// The commit already carries its version: nothing to do.
    Skip(Version),
    /// The branch gets no version.
    None,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Computation {
    pub outcome: Outcome,
    /// The highest release tag reachable from HEAD (v0.0.0 when there is none).
    pub base: Version,
    pub base_found: bool,
    pub bump: Option<Bump>,
    /// One sentence: how the outcome came about.
    pub reason: String,
}

/// The highest `vMAJOR.MINOR.PATCH` (no pre-release part) by SemVer precedence.
pub fn base_tag(reachable: &[Version]) -> Option<&Version> {
    reachable
        .iter()
        .filter(|v| !v.is_prerelease())
        .max_by(|a, b| a.precedence(b))
}

pub fn compute(release: ReleaseType, tags: &TagSet, label: Label) -> Computation {
    let found = base_tag(&tags.reachable).cloned();
    let base_found = found.is_some();
    let base = found.unwrap_or(Version::ZERO).core();
    let base_text = if base_found {
        base.tag()
    } else {
        "no release tag (v0.0.0)".to_string()
    };
    let done = |outcome, bump, reason: String| Computation {
        outcome,
        base: base.clone(),
        base_found,
        bump,
        reason,
    };
    match release.series() {
        None if release == ReleaseType::None => done(
            Outcome::None,
            None,
            "branches of release type NONE get no version".into(),
        ),
        None => {
            if let Some(tagged) = tags
                .head
                .iter()
                .filter(|v| !v.is_prerelease())
                .max_by(|a, b| a.precedence(b))
            {
                return done(
                    Outcome::Skip(tagged.clone()),
                    None,
                    format!("the commit is already tagged {}", tagged.tag()),
                );
            }
            let bump = Bump::from_label(label);
            let next = bump.apply(&base);
            let why = match label {
                Label::None => "no release label: a patch bump".to_string(),
                label => format!("label {label}: a {} bump", bump.as_str()),
            };
            done(
                Outcome::Version(next),
                Some(bump),
                format!("{why} from {base_text}"),
            )
        }
        Some((series, first)) => {
            let number_of = |v: &Version| match v.pre.as_slice() {
                [Identifier::Alphanumeric(s), Identifier::Numeric(n)] if s == series => Some(*n),
                _ => None,
            };
            if let Some(tagged) = tags
                .head
                .iter()
                .filter(|v| number_of(v).is_some())
                .max_by(|a, b| a.precedence(b))
            {
                return done(
                    Outcome::Skip(tagged.clone()),
                    None,
                    format!("the commit is already tagged {}", tagged.tag()),
                );
            }
            let target = Bump::Patch.apply(&base);
            let n = tags
                .all
                .iter()
                .filter(|v| v.core() == target)
                .filter_map(number_of)
                .max()
                .map_or(first, |n| n.saturating_add(1));
            let mut next = target.clone();
            next.pre = vec![
                Identifier::Alphanumeric(series.to_string()),
                Identifier::Numeric(n),
            ];
            let count = if n == first {
                format!("the first {series} of {}", target.tag())
            } else {
                format!("{series} {n} of {}", target.tag())
            };
            done(
                Outcome::Version(next),
                None,
                format!("{release}: {count}, the patch after {base_text}"),
            )
        }
    }
}

#[cfg(test)]
#[path = "versioning_props.rs"]
mod props;

#[cfg(test)]
mod tests {
    use super::*;

    fn v(tag: &str) -> Version {
        Version::parse_tag(tag).unwrap()
    }

    fn set(reachable: &[&str], all: &[&str], head: &[&str]) -> TagSet {
        TagSet {
            reachable: reachable.iter().map(|t| v(t)).collect(),
            all: all.iter().chain(reachable).map(|t| v(t)).collect(),
            head: head.iter().map(|t| v(t)).collect(),
        }
    }

    fn next(release: ReleaseType, tags: &TagSet, label: Label) -> String {
        match compute(release, tags, label).outcome {
            Outcome::Version(v) => v.tag(),
            Outcome::Skip(v) => format!("skip {}", v.tag()),
            Outcome::None => "none".into(),
        }
    }

    #[test]
    fn the_seeds_release_type_table() {
        // Base v2.4.12, with the series' earlier tags the seed's example numbers imply.
        let tags = set(
            &["v2.4.12", "v2.4.11", "v2.4.13-alpha.1"],
            &["v2.4.13-alpha.2", "v2.4.13-alpha.0", "v9.0.0"],
            &[],
        );
        assert_eq!(next(ReleaseType::Latest, &tags, Label::Minor), "v2.5.0");
        assert_eq!(next(ReleaseType::Latest, &tags, Label::None), "v2.4.13");
        assert_eq!(next(ReleaseType::Latest, &tags, Label::Major), "v3.0.0");
        assert_eq!(
            next(ReleaseType::Alpha, &tags, Label::None),
            "v2.4.13-alpha.3"
        );
        assert_eq!(
            next(ReleaseType::Beta, &tags, Label::None),
            "v2.4.13-beta.0"
        );
        assert_eq!(
            next(ReleaseType::Hotfix, &tags, Label::None),
            "v2.4.13-hotfix.1"
        );
        assert_eq!(next(ReleaseType::None, &tags, Label::Major), "none");
        let c = compute(ReleaseType::Latest, &tags, Label::Minor);
        assert_eq!(c.reason, "label release/minor: a minor bump from v2.4.12");
        assert_eq!((c.base, c.bump), (v("v2.4.12"), Some(Bump::Minor)));
    }

    #[test]
    fn the_seeds_naming_convention_table() {
        for (tag, kind) in [
            ("v2.4.13", Some(TagKind::Latest)),
            ("v2.4.13-alpha.3", Some(TagKind::Alpha)),
            ("v2.4.13-beta.2", Some(TagKind::Beta)),
            ("v2.4.13-hotfix.1", Some(TagKind::Hotfix)),
            ("v2.4.13-rc.1", None),
            ("v2.4.13-alpha", None),
        ] {
            assert_eq!(TagKind::of(&v(tag)), kind, "{tag}");
        }
    }

    #[test]
    fn the_seeds_branch_tables_per_strategy() {
        use ReleaseType as R;
        for (strategy, branch, release) in [
            (Strategy::GithubFlow, "main", R::Latest),
            (Strategy::GithubFlow, "feat/login", R::None),
            (Strategy::GithubFlow, "fix/typo", R::None),
            (Strategy::GithubFlow, "develop", R::None),
            (Strategy::GitFlow, "main", R::Latest),
            (Strategy::GitFlow, "develop", R::Alpha),
            (Strategy::GitFlow, "release/2.4/rc", R::Beta),
            (Strategy::GitFlow, "release/2.4", R::Beta),
            (Strategy::GitFlow, "hotfix/cve-1", R::Hotfix),
            (Strategy::GitFlow, "feat/x", R::None),
            (Strategy::GitFlow, "release/", R::None),
            (Strategy::GitFlow, "mainline", R::None),
            (Strategy::GitFlow, "random", R::None),
            (Strategy::TrunkBased, "main", R::Latest),
            (Strategy::TrunkBased, "release/1.4/maint", R::Hotfix),
            (Strategy::TrunkBased, "develop", R::None),
            (Strategy::TrunkBased, "hotfix/x", R::None),
            (Strategy::TrunkBased, "fix/y", R::None),
        ] {
            assert_eq!(
                strategy.release_type(branch),
                release,
                "{} {branch}",
                strategy.as_str()
            );
        }
        assert_eq!(Strategy::parse("GIT_FLOW"), Some(Strategy::GitFlow));
        assert_eq!(ReleaseType::parse("HOTFIX"), Some(ReleaseType::Hotfix));
        assert_eq!(ReleaseType::parse("hotfix"), None);
    }

    #[test]
    fn base_is_by_precedence_and_ignores_prereleases_and_other_series() {
        let tags = set(&["v1.10.0", "v1.9.0", "v1.2.3", "v2.0.0-beta.1"], &[], &[]);
        assert_eq!(base_tag(&tags.reachable), Some(&v("v1.10.0")));
        assert_eq!(next(ReleaseType::Latest, &tags, Label::None), "v1.10.1");
        let none = set(&[], &[], &[]);
        assert_eq!(next(ReleaseType::Latest, &none, Label::None), "v0.0.1");
        assert_eq!(
            next(ReleaseType::Alpha, &none, Label::None),
            "v0.0.1-alpha.0"
        );
        assert_eq!(
            compute(ReleaseType::Latest, &none, Label::None).reason,
            "no release label: a patch bump from no release tag (v0.0.0)"
        );
        // Numbers continue per series and per version; other versions' tags do not count.
        let tags = set(
            &["v1.0.0"],
            &["v1.0.1-beta.4", "v1.0.2-beta.9", "v1.0.1-alpha.7"],
            &[],
        );
        assert_eq!(next(ReleaseType::Beta, &tags, Label::None), "v1.0.1-beta.5");
        assert_eq!(
            next(ReleaseType::Hotfix, &tags, Label::None),
            "v1.0.1-hotfix.1"
        );
    }

    #[test]
    fn an_already_tagged_commit_is_skipped() {
        let tags = set(&["v1.0.0", "v1.0.1"], &[], &["v1.0.1"]);
        assert_eq!(
            next(ReleaseType::Latest, &tags, Label::Major),
            "skip v1.0.1"
        );
        // A pre-release tag on the commit does not stop a LATEST release, nor the reverse.
        let tags = set(&["v1.0.0"], &["v1.0.1-alpha.0"], &["v1.0.1-alpha.0"]);
        assert_eq!(next(ReleaseType::Latest, &tags, Label::None), "v1.0.1");
        assert_eq!(
            next(ReleaseType::Alpha, &tags, Label::None),
            "skip v1.0.1-alpha.0"
        );
        assert_eq!(next(ReleaseType::Beta, &tags, Label::None), "v1.0.1-beta.0");
    }
}
