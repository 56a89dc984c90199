//! Commit messages, pull request titles and version tags as arbitrary bytes: the parsers never
//! panic, every error names a position, and whatever parses prints back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code)]
#[path = "../../app/src/domain/conventional.rs"]
mod conventional;
#[allow(dead_code)]
#[path = "../../app/src/domain/semver.rs"]
mod semver;

use conventional::{check_title, Commit};
use semver::Version;

fuzz_target!(|data: &[u8]| {
    match Commit::parse_bytes(data) {
        Ok(commit) => {
            let printed = commit.to_string();
            let again = Commit::parse(&printed)
                .unwrap_or_else(|e| panic!("{printed:?} does not parse again: {e}"));
            assert_eq!(again, commit, "printed as {printed:?}");
        }
        Err(error) => assert!(error.line >= 1 && error.column >= 1 && !error.message.is_empty()),
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(error) = check_title(text) {
            assert!(error.line >= 1 && error.column >= 1);
        }
        if let Ok(version) = Version::parse_tag(text) {
            assert_eq!(version.tag(), text);
            assert_eq!(Version::parse_tag(&version.tag()), Ok(version));
        }
    }
});
