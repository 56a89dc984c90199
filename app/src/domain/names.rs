//! Names users type that Slipway keeps: group names, logins. Validated here so that nothing a
//! user types becomes a path, ref or identifier it should not.

/// `validate_slug` as an HTML `pattern`, valid under the `v` flag browsers compile patterns with
/// (where a `-` inside a class must be escaped, and an invalid pattern silently checks nothing):
/// a letter, then letters and digits, hyphens only between them.
pub const SLUG_PATTERN: &str = "[a-z]([a-z0-9]|-[a-z0-9])*";

/// A group or other short identifier: 1–63 characters of lowercase letters, digits and single
/// hyphens, starting with a letter.
pub fn validate_slug(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err("must not be empty".into());
    }
    if value.len() > 63 {
        return Err("must be at most 63 characters".into());
    }
    if !value.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err("must start with a lowercase letter".into());
    }
    if let Some(bad) = value
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!("may only hold a–z, 0–9 and '-', not {bad:?}"));
    }
    if value.ends_with('-') || value.contains("--") {
        return Err("must not end with '-' or hold '--'".into());
    }
    Ok(())
}

/// A name a module declares (a variable or an output), which Slipway writes into generated
/// Terraform: an identifier as Terraform defines one (a letter or `_`, then letters, digits,
/// `_` and `-`), at most 128 characters, so that nothing in it can end the line it is written on.
pub fn validate_identifier(value: &str) -> Result<(), String> {
    let shown: String = value.chars().take(40).collect::<String>();
    if value.is_empty() {
        return Err("a name must not be empty".into());
    }
    if value.len() > 128 {
        return Err(format!("{shown:?}… is longer than 128 characters"));
    }
    let mut chars = value.chars();
    let first = chars.next().unwrap_or('_');
    if !(first.is_ascii_alphabetic() || first == '_')
        || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(format!(
            "{shown:?} is not a Terraform identifier (a letter or '_', then letters, digits, '_' and '-')"
        ));
    }
    Ok(())
}

/// A count with its noun in the right number: `counted(1, "resource", "resources")` is
/// "1 resource", `counted(3, …)` "3 resources".
pub fn counted(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Free text such as a display name or description: trimmed, bounded, no control characters.
pub fn validate_text(value: &str, max: usize) -> Result<(), String> {
    if value.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if value.chars().any(|c| c.is_control()) {
        return Err("must not hold control characters".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_say_one_thing_or_many() {
        assert_eq!(super::counted(1u64, "resource", "resources"), "1 resource");
        assert_eq!(super::counted(0u64, "resource", "resources"), "0 resources");
        assert_eq!(super::counted(12u64, "output", "outputs"), "12 outputs");
    }

    use super::*;

    #[test]
    fn slugs_accept_plain_names_and_refuse_escapes() {
        for good in ["qa", "sre", "incident-commanders", "team-42"] {
            assert_eq!(validate_slug(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "QA",
            "../etc",
            "a/b",
            "-x",
            "x-",
            "a--b",
            "9lives",
            "a b",
            "refs/heads/x",
        ] {
            assert!(validate_slug(bad).is_err(), "{bad}");
        }
        assert!(validate_slug(&"a".repeat(64)).is_err());
    }

    #[test]
    fn text_refuses_control_characters_and_overlong_values() {
        assert!(validate_text("Platform team", 80).is_ok());
        assert!(validate_text("line\nbreak", 80).is_err());
        assert!(validate_text(&"x".repeat(81), 80).is_err());
    }
}
