//! Property tests of the versioning rules: printing a parsed commit or version gives it back,
//! a computed version is always above its base, and computing on a commit that carries the
//! result gives `skip`.

use crate::domain::conventional::{Commit, Footer, Label};
use crate::domain::semver::{Identifier, Version};
use crate::domain::versioning::{compute, Outcome, ReleaseType, TagSet};
use proptest::prelude::*;

fn word() -> impl Strategy<Value = String> {
    "[a-z]{1,8}"
}

fn line() -> impl Strategy<Value = String> {
    prop::collection::vec(word(), 1..6).prop_map(|w| w.join(" "))
}

fn paragraph() -> impl Strategy<Value = String> {
    prop::collection::vec(line(), 1..4).prop_map(|l| l.join("\n"))
}

fn footer() -> impl Strategy<Value = Footer> {
    (
        prop_oneof![
            "[A-Z][a-z]{1,8}(-[a-z]{1,5})?".prop_map(String::from),
            Just("BREAKING CHANGE".to_string()),
            Just("BREAKING-CHANGE".to_string()),
        ],
        any::<bool>(),
        "[a-z0-9]{1,10}",
    )
        .prop_map(|(token, hash, value)| Footer {
            hash: hash && !token.starts_with("BREAKING"),
            token,
            value,
        })
}

fn commit() -> impl Strategy<Value = Commit> {
    (
        "[a-zA-Z]{1,10}",
        prop::option::of("[a-z0-9][a-z0-9./-]{0,9}"),
        any::<bool>(),
        "[A-Za-z0-9]([A-Za-z0-9 ,.]{0,40}[A-Za-z0-9.])?",
        prop::option::of(prop::collection::vec(paragraph(), 1..3).prop_map(|p| p.join("\n\n"))),
        prop::collection::vec(footer(), 0..4),
    )
        .prop_map(|(kind, scope, bang, description, body, footers)| Commit {
            kind,
            scope,
            bang,
            description,
            body,
            footers,
        })
}

fn identifier() -> impl Strategy<Value = Identifier> {
    prop_oneof![
        (0u64..1000).prop_map(Identifier::Numeric),
        "[a-zA-Z-][0-9a-zA-Z-]{0,6}".prop_map(Identifier::Alphanumeric),
    ]
}

fn version() -> impl Strategy<Value = Version> {
    (
        0u64..50,
        0u64..50,
        0u64..50,
        prop::collection::vec(identifier(), 0..3),
        prop::collection::vec("[0-9a-zA-Z-]{1,6}", 0..2),
    )
        .prop_map(|(major, minor, patch, pre, build)| Version {
            major,
            minor,
            patch,
            pre,
            build,
        })
}

fn release_type() -> impl Strategy<Value = ReleaseType> {
    prop_oneof![
        Just(ReleaseType::Latest),
        Just(ReleaseType::Alpha),
        Just(ReleaseType::Beta),
        Just(ReleaseType::Hotfix),
    ]
}

fn label() -> impl Strategy<Value = Label> {
    prop_oneof![Just(Label::None), Just(Label::Minor), Just(Label::Major)]
}

proptest! {
    #[test]
    fn commits_print_and_parse_back(c in commit()) {
        let printed = c.to_string();
        prop_assert_eq!(Commit::parse(&printed), Ok(c));
    }

    #[test]
    fn the_parser_never_panics(text in "\\PC{0,300}", bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = Commit::parse(&text);
        let _ = Commit::parse_bytes(&bytes);
        let _ = Version::parse(&text);
    }

    #[test]
    fn versions_print_and_parse_back(v in version()) {
        prop_assert_eq!(Version::parse(&v.to_string()), Ok(v.clone()));
        prop_assert_eq!(Version::parse_tag(&v.tag()), Ok(v));
    }

    #[test]
    fn precedence_is_a_total_order_that_ignores_build(a in version(), b in version(), c in version()) {
        use std::cmp::Ordering;
        prop_assert_eq!(a.precedence(&b), b.precedence(&a).reverse());
        if a.precedence(&b) != Ordering::Greater && b.precedence(&c) != Ordering::Greater {
            prop_assert_ne!(a.precedence(&c), Ordering::Greater);
        }
        let mut stripped = a.clone();
        stripped.build.clear();
        prop_assert_eq!(a.precedence(&stripped), Ordering::Equal);
    }

    #[test]
    fn the_next_version_is_above_the_base_and_a_tagged_commit_is_skipped(
        release in release_type(),
        label in label(),
        reachable in prop::collection::vec(version(), 0..8),
        others in prop::collection::vec(version(), 0..8),
    ) {
        let strip = |v: Vec<Version>| v.into_iter().map(|mut v| { v.build.clear(); v }).collect::<Vec<_>>();
        let reachable = strip(reachable);
        let all: Vec<Version> = reachable.iter().cloned().chain(strip(others)).collect();
        let tags = TagSet { reachable: reachable.clone(), all: all.clone(), head: Vec::new() };
        let first = compute(release, &tags, label);
        let Outcome::Version(next) = first.outcome.clone() else {
            return Err(TestCaseError::fail(format!("{release} gave {:?}", first.outcome)));
        };
        prop_assert!(next > first.base, "{} is not above {}", next, first.base);
        if release != ReleaseType::Latest {
            prop_assert!(!all.contains(&next), "{} already exists", next);
        }
        // Tag the commit with it and compute again: skip, with the same version.
        let mut tagged = tags.clone();
        tagged.reachable.push(next.clone());
        tagged.all.push(next.clone());
        tagged.head.push(next.clone());
        prop_assert_eq!(compute(release, &tagged, label).outcome, Outcome::Skip(next));
    }
}
