//! Semantic Versioning 2.0.0 (https://semver.org): parsing with the specification's rules
//! (no leading zeros, non-empty identifiers of `[0-9A-Za-z-]`) and precedence (section 11).
//! Release tags are the version with a `v` in front: `v2.4.13`, `v2.4.13-beta.2`.

use std::cmp::Ordering;
use std::fmt;

/// A pre-release identifier: numeric identifiers compare numerically and below alphanumeric
/// ones, which compare in ASCII order.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Identifier {
    Numeric(u64),
    Alphanumeric(String),
}

impl Ord for Identifier {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Identifier::Numeric(a), Identifier::Numeric(b)) => a.cmp(b),
            (Identifier::Numeric(_), Identifier::Alphanumeric(_)) => Ordering::Less,
            (Identifier::Alphanumeric(_), Identifier::Numeric(_)) => Ordering::Greater,
            (Identifier::Alphanumeric(a), Identifier::Alphanumeric(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for Identifier {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Identifier::Numeric(n) => write!(f, "{n}"),
            Identifier::Alphanumeric(s) => f.write_str(s),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
    pub pre: Vec<Identifier>,
    /// Build metadata: kept and printed, ignored by precedence.
    pub build: Vec<String>,
}

/// Why a text is not a version, and where (0-based character offset).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionError {
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for VersionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.offset + 1, self.message)
    }
}

impl std::error::Error for VersionError {}

fn fail<T>(offset: usize, message: impl Into<String>) -> Result<T, VersionError> {
    Err(VersionError {
        offset,
        message: message.into(),
    })
}

fn identifier_chars(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn number(part: &str, offset: usize, what: &str) -> Result<u64, VersionError> {
    if part.is_empty() {
        return fail(offset, format!("the {what} version is missing"));
    }
    if !part.bytes().all(|b| b.is_ascii_digit()) {
        return fail(
            offset,
            format!("the {what} version {part:?} is not a number"),
        );
    }
    if part.len() > 1 && part.starts_with('0') {
        return fail(
            offset,
            format!("the {what} version {part:?} has a leading zero"),
        );
    }
    part.parse()
        .or_else(|_| fail(offset, format!("the {what} version {part} is too large")))
}

impl Version {
    pub const ZERO: Version = Version {
        major: 0,
        minor: 0,
        patch: 0,
        pre: Vec::new(),
        build: Vec::new(),
    };

    pub fn new(major: u64, minor: u64, patch: u64) -> Version {
        Version {
            major,
            minor,
            patch,
            pre: Vec::new(),
            build: Vec::new(),
        }
    }

    /// `MAJOR.MINOR.PATCH[-PRE][+BUILD]`, exactly as SemVer 2.0.0 defines it.
    pub fn parse(text: &str) -> Result<Version, VersionError> {
        if text.is_empty() {
            return fail(0, "the version is empty");
        }
        if let Some(bad) = text.char_indices().find(|(_, c)| !c.is_ascii_graphic()) {
            return fail(
                text[..bad.0].chars().count(),
                format!("{:?} cannot appear in a version", bad.1),
            );
        }
        let (rest, build) = match text.split_once('+') {
            Some((rest, build)) => (rest, Some((rest.len() + 1, build))),
            None => (text, None),
        };
        let (core, pre) = match rest.split_once('-') {
            Some((core, pre)) => (core, Some((core.len() + 1, pre))),
            None => (rest, None),
        };
        let mut parts = core.split('.');
        let mut offset = 0;
        let mut next = |what: &str| -> Result<u64, VersionError> {
            let part = parts.next().unwrap_or("");
            let n = number(part, offset, what)?;
            offset += part.len() + 1;
            Ok(n)
        };
        let major = next("major")?;
        let minor = next("minor")?;
        let patch = next("patch")?;
        if let Some((extra, _)) = core.match_indices('.').nth(2) {
            return fail(extra, "a version has three numbers, MAJOR.MINOR.PATCH");
        }
        let mut version = Version::new(major, minor, patch);
        if let Some((start, pre)) = pre {
            let mut at = start;
            for part in pre.split('.') {
                if !identifier_chars(part) {
                    return fail(
                        at,
                        format!(
                            "the pre-release identifier {part:?} must be letters, digits and '-'"
                        ),
                    );
                }
                if part.bytes().all(|b| b.is_ascii_digit()) {
                    if part.len() > 1 && part.starts_with('0') {
                        return fail(
                            at,
                            format!(
                                "the numeric pre-release identifier {part:?} has a leading zero"
                            ),
                        );
                    }
                    let n = part.parse().or_else(|_| {
                        fail(at, format!("the pre-release number {part} is too large"))
                    })?;
                    version.pre.push(Identifier::Numeric(n));
                } else {
                    version.pre.push(Identifier::Alphanumeric(part.to_string()));
                }
                at += part.len() + 1;
            }
        }
        if let Some((start, build)) = build {
            let mut at = start;
            for part in build.split('.') {
                if !identifier_chars(part) {
                    return fail(
                        at,
                        format!("the build identifier {part:?} must be letters, digits and '-'"),
                    );
                }
                version.build.push(part.to_string());
                at += part.len() + 1;
            }
        }
        Ok(version)
    }

    /// A release tag: `v` and a version (`v2.4.13`, `v2.4.13-alpha.3`).
    pub fn parse_tag(tag: &str) -> Result<Version, VersionError> {
        match tag.strip_prefix('v') {
            Some(rest) => Version::parse(rest).map_err(|e| VersionError {
                offset: e.offset + 1,
                ..e
            }),
            None => fail(0, "a release tag starts with 'v'"),
        }
    }

    pub fn tag(&self) -> String {
        format!("v{self}")
    }

    pub fn is_prerelease(&self) -> bool {
        !self.pre.is_empty()
    }

    /// SemVer precedence (section 11): build metadata does not count.
    pub fn precedence(&self, other: &Version) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => self.pre.cmp(&other.pre),
            })
    }

    /// The same MAJOR.MINOR.PATCH with no pre-release or build.
    pub fn core(&self) -> Version {
        Version::new(self.major, self.minor, self.patch)
    }
}

/// Precedence first; versions of equal precedence are ordered by their build metadata so the
/// order is total and agrees with `Eq`.
impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.precedence(other)
            .then_with(|| self.build.cmp(&other.build))
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        for (i, id) in self.pre.iter().enumerate() {
            f.write_str(if i == 0 { "-" } else { "." })?;
            write!(f, "{id}")?;
        }
        for (i, id) in self.build.iter().enumerate() {
            f.write_str(if i == 0 { "+" } else { "." })?;
            f.write_str(id)?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Version {
    type Err = VersionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Version::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn semver_org_section_11_precedence_examples() {
        // 11.2
        assert!(v("1.0.0") < v("2.0.0") && v("2.0.0") < v("2.1.0") && v("2.1.0") < v("2.1.1"));
        // 11.3
        assert!(v("1.0.0-alpha") < v("1.0.0"));
        // 11.4
        let chain = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
        ];
        for pair in chain.windows(2) {
            assert_eq!(
                v(pair[0]).precedence(&v(pair[1])),
                Ordering::Less,
                "{} < {}",
                pair[0],
                pair[1]
            );
            assert_eq!(v(pair[1]).precedence(&v(pair[0])), Ordering::Greater);
        }
    }

    #[test]
    fn prerelease_comparisons_and_build_metadata() {
        assert!(v("2.4.13-alpha.3") > v("2.4.12"));
        assert!(
            v("2.4.13-alpha.10") > v("2.4.13-alpha.9"),
            "numerically, not as text"
        );
        assert!(v("2.4.13-beta.0") > v("2.4.13-alpha.99"));
        assert!(v("2.4.13-hotfix.1") > v("2.4.13-beta.2"));
        assert!(v("2.4.13-hotfix.1") < v("2.4.13"));
        assert!(v("1.0.0-1") < v("1.0.0-a"), "numeric below alphanumeric");
        assert_eq!(
            v("1.0.0+build.1").precedence(&v("1.0.0+build.2")),
            Ordering::Equal
        );
        assert_ne!(v("1.0.0+build.1"), v("1.0.0+build.2"));
        assert_eq!(
            v("1.0.0-x.7.z.92+exp.sha.5114f85").to_string(),
            "1.0.0-x.7.z.92+exp.sha.5114f85"
        );
    }

    #[test]
    fn invalid_versions_say_what_and_where() {
        for (text, offset, message) in [
            ("", 0, "the version is empty"),
            ("1.2", 4, "the patch version is missing"),
            (
                "1.2.3.4",
                5,
                "a version has three numbers, MAJOR.MINOR.PATCH",
            ),
            ("01.2.3", 0, "the major version \"01\" has a leading zero"),
            ("1.x.3", 2, "the minor version \"x\" is not a number"),
            (
                "1.2.3-",
                6,
                "the pre-release identifier \"\" must be letters, digits and '-'",
            ),
            (
                "1.2.3-alpha..1",
                12,
                "the pre-release identifier \"\" must be letters, digits and '-'",
            ),
            (
                "1.2.3-01",
                6,
                "the numeric pre-release identifier \"01\" has a leading zero",
            ),
            (
                "1.2.3+",
                6,
                "the build identifier \"\" must be letters, digits and '-'",
            ),
            (
                "1.2.3-a_b",
                6,
                "the pre-release identifier \"a_b\" must be letters, digits and '-'",
            ),
            ("1.2.3 ", 5, "' ' cannot appear in a version"),
            (
                "99999999999999999999.0.0",
                0,
                "the major version 99999999999999999999 is too large",
            ),
        ] {
            assert_eq!(
                Version::parse(text),
                Err(VersionError {
                    offset,
                    message: message.into()
                }),
                "{text:?}"
            );
        }
        assert_eq!(
            Version::parse_tag("2.4.13").unwrap_err().message,
            "a release tag starts with 'v'"
        );
        assert_eq!(Version::parse_tag("v2.4").unwrap_err().offset, 5);
        assert_eq!(
            Version::parse_tag("v2.4.13-beta.2").unwrap().tag(),
            "v2.4.13-beta.2"
        );
        assert_eq!(
            v("1.0.0-0A.is.legal").pre[0],
            Identifier::Alphanumeric("0A".into())
        );
    }
}
