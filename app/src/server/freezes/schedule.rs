//! When a freeze holds: its cron expression read on its time zone's wall clock (`croner`,
//! `chrono-tz`). Server-only: the time zone database stays out of the browser's bundle.

use crate::domain::freezes::{FreezeWindow, When, Window};
use crate::domain::yaml::Pos;
use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use croner::parser::{CronParser, Seconds, Year};
use croner::Cron;

/// How many windows that overlap or touch are joined into one before the search stops (a cron
/// that fires every minute for a day would otherwise be followed for ever).
const MAX_JOINED: usize = 2000;

fn parser() -> CronParser {
    CronParser::builder()
        .seconds(Seconds::Disallowed)
        .year(Year::Disallowed)
        .build()
}

/// Reads a five-field cron expression (minute hour day-of-month month day-of-week).
pub fn parse_cron(text: &str) -> Result<Cron, String> {
    parser().parse(text).map_err(|e| {
        format!("{text:?} is not a cron expression (minute hour day month weekday): {e}")
    })
}

/// Reads an IANA time zone name (`Europe/Amsterdam`, `UTC`).
pub fn parse_zone(text: &str) -> Result<Tz, String> {
    text.parse::<Tz>().map_err(|_| {
        format!("{text:?} is not an IANA time zone name, as Europe/Amsterdam or America/New_York")
    })
}

/// The UTC time of a wall-clock time in `tz`: in the hour the clocks repeat, the later one (a
/// freeze ends no earlier than written); in the hour they skip, the first time after it.
fn utc_of(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local).latest() {
        Some(t) => t.with_timezone(&Utc),
        None => utc_of(tz, local + Duration::minutes(30)),
    }
}

struct Recurring {
    cron: Cron,
    tz: Tz,
    minutes: i64,
}

impl Recurring {
    /// Where the window that starts at `start` ends: `minutes` later on the wall clock.
    fn end_of(&self, start: DateTime<Utc>) -> DateTime<Utc> {
        let local = start.with_timezone(&self.tz).naive_local();
        utc_of(self.tz, local + Duration::minutes(self.minutes))
    }

    fn next(&self, after: DateTime<Utc>, inclusive: bool) -> Option<DateTime<Utc>> {
        self.cron
            .find_next_occurrence(&after.with_timezone(&self.tz), inclusive)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    fn previous(&self, before: DateTime<Utc>, inclusive: bool) -> Option<DateTime<Utc>> {
        self.cron
            .find_previous_occurrence(&before.with_timezone(&self.tz), inclusive)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    /// The window from `start`, joined with every later one that begins before it ends.
    fn joined(&self, start: DateTime<Utc>, mut end: DateTime<Utc>) -> Window {
        let mut from = start;
        for _ in 0..MAX_JOINED {
            match self.next(from, false) {
                Some(next) if next <= end => {
                    end = end.max(self.end_of(next));
                    from = next;
                }
                _ => break,
            }
        }
        Window {
            start,
            end: Some(end),
        }
    }

    fn at(&self, at: DateTime<Utc>) -> Option<Window> {
        // The starts at or before `at` that could still hold: a window is never longer than
        // its duration plus the hour a clock change adds.
        let earliest = at - Duration::minutes(self.minutes) - Duration::hours(1);
        let mut covering: Option<(DateTime<Utc>, DateTime<Utc>)> = None;
        let mut cursor = self.previous(at, true);
        for _ in 0..MAX_JOINED {
            let Some(start) = cursor else { break };
            if start < earliest {
                break;
            }
            let end = self.end_of(start);
            if end > at {
                covering = Some(match covering {
                    Some((_, e)) => (start, e.max(end)),
                    None => (start, end),
                });
            }
            cursor = self.previous(start, false);
        }
        let (start, end) = covering?;
        Some(self.joined(start, end))
    }
}

fn recurring(freeze: &FreezeWindow) -> Option<Recurring> {
    match &freeze.when {
        When::Recurring {
            cron,
            minutes,
            time_zone,
            ..
        } => Some(Recurring {
            cron: parse_cron(cron).ok()?,
            tz: parse_zone(time_zone).ok()?,
            minutes: *minutes,
        }),
        When::Period { .. } => None,
    }
}

/// What only the server can check: the cron expression and the time zone, each at its
/// place in the manifest.
pub fn schedule_errors(freeze: &FreezeWindow) -> Vec<(Pos, String)> {
    let mut errors = Vec::new();
    if let When::Recurring {
        cron,
        cron_pos,
        time_zone,
        zone_pos,
        ..
    } = &freeze.when
    {
        if let Err(why) = parse_cron(cron) {
            errors.push((*cron_pos, format!("spec.schedule.cron {why}")));
        }
        if let Err(why) = parse_zone(time_zone) {
            errors.push((*zone_pos, format!("spec.schedule.timeZone {why}")));
        }
    }
    errors
}

/// The window holding at `at`, if one does.
pub fn window_at(freeze: &FreezeWindow, at: DateTime<Utc>) -> Option<Window> {
    match &freeze.when {
        When::Period { start, end } => {
            (*start <= at && end.is_none_or(|end| at < end)).then_some(Window {
                start: *start,
                end: *end,
            })
        }
        When::Recurring { .. } => recurring(freeze)?.at(at),
    }
}

/// The first window that starts after `after`.
pub fn next_window(freeze: &FreezeWindow, after: DateTime<Utc>) -> Option<Window> {
    match &freeze.when {
        When::Period { start, end } => (*start > after).then_some(Window {
            start: *start,
            end: *end,
        }),
        When::Recurring { .. } => {
            let recurring = recurring(freeze)?;
            let start = recurring.next(after, false)?;
            Some(recurring.joined(start, recurring.end_of(start)))
        }
    }
}

/// The cron expression in words (`At 18:00, on Friday`), for a recurring window.
pub fn describe_schedule(freeze: &FreezeWindow) -> Option<String> {
    recurring(freeze).map(|r| r.cron.describe().trim_end_matches('.').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::freezes::EXAMPLE_FREEZE;
    use crate::domain::manifests::Manifest;
    use crate::domain::release_manifests::parse_release_source;

    fn load(text: &str) -> Result<FreezeWindow, ()> {
        match parse_release_source(text) {
            Ok(Manifest::FreezeWindow(f)) => Ok(f),
            other => panic!("{other:?}"),
        }
    }

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn a_weekend_window_ends_at_the_same_wall_clock_time_when_the_clocks_change() {
        let weekend = load(EXAMPLE_FREEZE).unwrap();
        // An ordinary weekend: Friday 18:00 CET (17:00 UTC) to Monday 08:00 CET (07:00 UTC).
        let window = window_at(&weekend, utc("2026-12-12T12:00:00Z")).unwrap();
        assert_eq!(window.start, utc("2026-12-11T17:00:00Z"));
        assert_eq!(window.end, Some(utc("2026-12-14T07:00:00Z")));
        // Clocks go back on Sunday 25 October 2026: it starts at 18:00 CEST (16:00 UTC) and
        // still ends at Monday 08:00 local, now CET (07:00 UTC): 63 hours, not 62.
        let autumn = window_at(&weekend, utc("2026-10-25T12:00:00Z")).unwrap();
        assert_eq!(autumn.start, utc("2026-10-23T16:00:00Z"));
        assert_eq!(autumn.end, Some(utc("2026-10-26T07:00:00Z")));
        // Clocks go forward on Sunday 29 March 2026: 18:00 CET (17:00 UTC) to 08:00 CEST (06:00).
        let spring = window_at(&weekend, utc("2026-03-29T12:00:00Z")).unwrap();
        assert_eq!(spring.start, utc("2026-03-27T17:00:00Z"));
        assert_eq!(spring.end, Some(utc("2026-03-30T06:00:00Z")));
        // Outside: Monday 08:00 local exactly, and Friday 17:59 local.
        assert_eq!(window_at(&weekend, utc("2026-10-26T07:00:00Z")), None);
        assert_eq!(window_at(&weekend, utc("2026-12-11T16:59:00Z")), None);
        assert_eq!(
            next_window(&weekend, utc("2026-12-14T07:00:00Z"))
                .unwrap()
                .start,
            utc("2026-12-18T17:00:00Z")
        );
        assert_eq!(
            describe_schedule(&weekend).as_deref(),
            Some("At 18:00, on Friday")
        );
    }

    #[test]
    fn windows_that_overlap_are_one_freeze() {
        // Every day at 20:00 for 30 hours: one freeze from the first start for as long as the
        // days follow each other (joined up to the search's limit), never a gap.
        let daily = load(
            &EXAMPLE_FREEZE
                .replace("0 18 * * FRI", "0 20 * * *")
                .replace("62h", "30h")
                .replace("Europe/Amsterdam", "UTC"),
        )
        .unwrap();
        let window = window_at(&daily, utc("2026-12-10T21:00:00Z")).unwrap();
        assert!(
            window.end.unwrap() > utc("2030-01-01T00:00:00Z"),
            "{window:?}"
        );
        // Every day at 20:00 for 24 hours exactly: they touch, so they join too.
        let touching = load(
            &EXAMPLE_FREEZE
                .replace("0 18 * * FRI", "0 20 * * MON-TUE")
                .replace("62h", "24h")
                .replace("Europe/Amsterdam", "UTC"),
        )
        .unwrap();
        let window = window_at(&touching, utc("2026-12-08T10:00:00Z")).unwrap();
        assert_eq!(window.start, utc("2026-12-07T20:00:00Z"));
        assert_eq!(window.end, Some(utc("2026-12-09T20:00:00Z")));
    }

    #[test]
    fn a_bad_cron_or_zone_is_named_where_it_is_written() {
        let bad = load(
            &EXAMPLE_FREEZE
                .replace("0 18 * * FRI", "0 25 * * FRI")
                .replace("Europe/Amsterdam", "Europe/Amsterdamm"),
        )
        .unwrap();
        let errors = schedule_errors(&bad);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert_eq!(errors[0].0.line, 10);
        assert!(
            errors[0]
                .1
                .starts_with("spec.schedule.cron \"0 25 * * FRI\""),
            "{errors:?}"
        );
        assert_eq!(errors[1].0.line, 12);
        assert!(errors[1].1.contains("not an IANA time zone"), "{errors:?}");
        assert_eq!(window_at(&bad, utc("2026-12-12T12:00:00Z")), None);
        let seconds = load(&EXAMPLE_FREEZE.replace("0 18 * * FRI", "0 0 18 * * FRI")).unwrap();
        assert_eq!(schedule_errors(&seconds).len(), 1);
    }
}
