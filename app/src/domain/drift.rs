//! Drift: the real world moving away from what a resource's code and state say. A scheduled (or
//! asked-for) refresh-only plan finds it; a drift record then lives until it is resolved, by a
//! reconcile (the code applied again through a reviewed pull request) or by accepting the
//! world as it is (the refresh-only plan applied, approved by someone else), or until a check no
//! longer finds it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Scheduled checks every this many minutes unless the workspace says otherwise (daily).
pub const DEFAULT_INTERVAL_MINUTES: i32 = 1440;
/// The most often a workspace may be checked on a schedule.
pub const MIN_INTERVAL_MINUTES: i32 = 5;
/// The least often: four weeks.
pub const MAX_INTERVAL_MINUTES: i32 = 40_320;
/// The longest acknowledgement reason, in characters.
pub const MAX_REASON_CHARS: usize = 1000;

macro_rules! words {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal / $label:literal,)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant,)* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }

            pub fn parse(value: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|v| v.as_str() == value)
            }

            /// In words people use.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label,)* }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

words!(
    /// What a plan is for.
    PlanPurpose {
        Change => "change" / "change",
        Drift => "drift" / "drift check",
    }
);

words!(
    /// Where a drift record is in its life.
    DriftStatus {
        Open => "open" / "open",
        Acknowledged => "acknowledged" / "acknowledged",
        Resolved => "resolved" / "resolved",
    }
);

words!(
    /// How a drift ended.
    Resolution {
        Reconciled => "reconciled" / "reconciled: the code applied again",
        Accepted => "accepted" / "accepted: the state now records the world as it is",
        Cleared => "cleared" / "cleared: a later check found no drift",
    }
);

/// A schedule as people read it: "every 30 minutes", "every 6 hours", "daily", "off".
pub fn interval_label(minutes: i32) -> String {
    match minutes {
        m if m <= 0 => "off".into(),
        1440 => "daily".into(),
        10_080 => "weekly".into(),
        m if m % 1440 == 0 => format!("every {} days", m / 1440),
        60 => "hourly".into(),
        m if m % 60 == 0 => format!("every {} hours", m / 60),
        m => format!("every {m} minutes"),
    }
}

/// Reads a schedule as the workspace form gives it (minutes; 0 turns scheduled checks off).
pub fn parse_interval(text: &str) -> Result<i32, String> {
    let minutes: i32 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a whole number of minutes"))?;
    if minutes == 0 || (MIN_INTERVAL_MINUTES..=MAX_INTERVAL_MINUTES).contains(&minutes) {
        Ok(minutes)
    } else {
        Err(format!(
            "checks run every {MIN_INTERVAL_MINUTES} to {MAX_INTERVAL_MINUTES} minutes (or 0: never on a schedule)"
        ))
    }
}

/// An acknowledgement's reason: required, trimmed, at most [`MAX_REASON_CHARS`].
pub fn check_reason(text: &str) -> Result<String, String> {
    let reason = text.trim();
    if reason.is_empty() {
        return Err("say why the drift is left as it is for now".into());
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(format!("at most {MAX_REASON_CHARS} characters"));
    }
    if reason.chars().any(|c| c.is_control() && c != '\n') {
        return Err("no control characters".into());
    }
    Ok(reason.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_read_as_people_say_them() {
        assert_eq!(interval_label(1440), "daily");
        assert_eq!(interval_label(0), "off");
        assert_eq!(interval_label(60), "hourly");
        assert_eq!(interval_label(360), "every 6 hours");
        assert_eq!(interval_label(45), "every 45 minutes");
        assert_eq!(interval_label(10_080), "weekly");
        assert_eq!(interval_label(2880), "every 2 days");
    }

    #[test]
    fn schedules_outside_the_bounds_are_refused() {
        assert_eq!(parse_interval(" 30 "), Ok(30));
        assert_eq!(parse_interval("0"), Ok(0));
        assert!(parse_interval("4").is_err());
        assert!(parse_interval("-5").is_err());
        assert!(parse_interval("40321").is_err());
        assert!(parse_interval("daily").is_err());
    }

    #[test]
    fn reasons_are_required_and_bounded() {
        assert!(check_reason("   ").is_err());
        assert!(check_reason(&"x".repeat(1001)).is_err());
        assert!(check_reason("a\u{7}b").is_err());
        assert_eq!(
            check_reason(" known: vendor hotfix \n").unwrap(),
            "known: vendor hotfix"
        );
    }

    #[test]
    fn words_round_trip() {
        for status in DriftStatus::ALL {
            assert_eq!(DriftStatus::parse(status.as_str()), Some(*status));
        }
        for purpose in PlanPurpose::ALL {
            assert_eq!(PlanPurpose::parse(purpose.as_str()), Some(*purpose));
        }
        assert_eq!(Resolution::parse("nope"), None);
    }
}
