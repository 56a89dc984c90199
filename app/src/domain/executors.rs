//! Executors: which runtime runs them and how their command line is split into arguments (each
//! one handed to the process as an argv element, never to a shell).

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Runtime {
    Opentofu,
    Terraform,
}

impl Runtime {
    pub fn parse(value: &str) -> Option<Runtime> {
        match value {
            "opentofu" => Some(Runtime::Opentofu),
            "terraform" => Some(Runtime::Terraform),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Runtime::Opentofu => "opentofu",
            Runtime::Terraform => "terraform",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Runtime::Opentofu => "OpenTofu",
            Runtime::Terraform => "Terraform",
        }
    }

    /// The program looked up on PATH.
    pub fn program(self) -> &'static str {
        match self {
            Runtime::Opentofu => "tofu",
            Runtime::Terraform => "terraform",
        }
    }
}

/// What a run does after `init`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunAction {
    Plan,
    Apply,
}

impl RunAction {
    pub fn parse(value: &str) -> Option<RunAction> {
        match value {
            "plan" => Some(RunAction::Plan),
            "apply" => Some(RunAction::Apply),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RunAction::Plan => "plan",
            RunAction::Apply => "apply",
        }
    }
}

/// Splits a command line the way a POSIX shell splits words (spaces, single and double quotes,
/// backslash escapes) and does nothing else: no variables, globs, pipes or `;`. Those characters
/// stay literal parts of the arguments.
pub fn split_arguments(text: &str) -> Result<Vec<String>, String> {
    let mut args = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut chars = text.chars().enumerate().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '\0' | '\n' | '\r' => {
                return Err(format!(
                    "column {}: line breaks and NUL are not allowed",
                    at + 1
                ));
            }
            ' ' | '\t' => {
                if in_word {
                    args.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some((_, '\'')) => break,
                        Some((_, ch)) => current.push(ch),
                        None => return Err(format!("column {}: unclosed single quote", at + 1)),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some((_, '"')) => break,
                        Some((_, '\\')) => match chars.next() {
                            Some((_, ch)) => current.push(ch),
                            None => {
                                return Err(format!("column {}: unclosed double quote", at + 1))
                            }
                        },
                        Some((_, ch)) => current.push(ch),
                        None => return Err(format!("column {}: unclosed double quote", at + 1)),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some((_, ch)) => current.push(ch),
                    None => {
                        return Err(format!("column {}: a lone backslash ends the line", at + 1))
                    }
                }
            }
            other => {
                in_word = true;
                current.push(other);
            }
        }
    }
    if in_word {
        args.push(current);
    }
    if args.len() > 64 {
        return Err("at most 64 arguments".into());
    }
    if let Some(long) = args.iter().find(|a| a.len() > 1024) {
        return Err(format!(
            "{:.20}…: an argument may be at most 1024 characters",
            long
        ));
    }
    Ok(args)
}

/// The options a plan or apply may take from an executor's command; everything else (such as
/// `-state-out=`, `-chdir=`, `-out=`, `-plugin-dir=`, or a `-var-file` outside the module) is
/// refused, each named.
pub const ALLOWED_OPTIONS: &str = "-var, -var-file (a file inside the module), -target, -replace, -refresh, -refresh-only, -parallelism, -lock-timeout, -compact-warnings, -destroy";

/// Checks the arguments of a plan or apply against [`ALLOWED_OPTIONS`]: every refusal at once.
pub fn check_arguments(args: &[String]) -> Result<(), String> {
    let mut refused: Vec<String> = Vec::new();
    let mut at = 0;
    // (option, its value): `-opt=value`, or `-opt value` for those that take one.
    while at < args.len() {
        let arg = &args[at];
        at += 1;
        let (option, inline) = match arg.split_once('=') {
            Some((o, v)) if o.starts_with('-') => (o, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let takes_value = matches!(option, "-var" | "-var-file" | "-target" | "-replace");
        let value = if takes_value && inline.is_none() {
            let next = args.get(at).cloned();
            at += 1;
            next
        } else {
            inline
        };
        let fault = match (option, value.as_deref()) {
            ("-var", Some(v)) if v.contains('=') => None,
            ("-var", _) => Some("takes name=value".to_string()),
            ("-var-file", Some(path)) => {
                let inside = !path.is_empty()
                    && !path.starts_with('/')
                    && !path.starts_with('~')
                    && !path.contains('\\')
                    && path.split('/').all(|part| part != "..");
                (!inside)
                    .then(|| "must name a file inside the module (relative, no ..)".to_string())
            }
            ("-target" | "-replace", Some(address)) if !address.is_empty() => None,
            ("-target" | "-replace", _) => Some("takes a resource address".to_string()),
            ("-refresh", Some("true" | "false")) => None,
            ("-refresh", _) => Some("takes true or false".to_string()),
            ("-parallelism", Some(n)) if n.parse::<u32>().is_ok_and(|n| (1..=64).contains(&n)) => {
                None
            }
            ("-parallelism", _) => Some("takes a number from 1 to 64".to_string()),
            ("-lock-timeout", Some(t))
                if t.len() >= 2
                    && t[..t.len() - 1].chars().all(|c| c.is_ascii_digit())
                    && (t.ends_with('s') || t.ends_with('m')) =>
            {
                None
            }
            ("-lock-timeout", _) => Some("takes a duration such as 30s or 5m".to_string()),
            ("-refresh-only" | "-compact-warnings" | "-destroy", None) => None,
            _ => Some(format!("is not taken; allowed: {ALLOWED_OPTIONS}")),
        };
        if let Some(fault) = fault {
            refused.push(format!("{arg:.60} {fault}"));
        }
    }
    if refused.is_empty() {
        Ok(())
    } else {
        Err(refused.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_split_like_words_and_nothing_more() {
        assert_eq!(
            split_arguments("-var-file=environments/dev/eu-west-1.tfvars -var 'name=a b'").unwrap(),
            vec![
                "-var-file=environments/dev/eu-west-1.tfvars",
                "-var",
                "name=a b"
            ]
        );
        assert_eq!(
            split_arguments("; rm -rf / $(id) `id` | cat").unwrap(),
            vec![";", "rm", "-rf", "/", "$(id)", "`id`", "|", "cat"]
        );
        assert_eq!(
            split_arguments(r#"-var "x=\"q\"""#).unwrap(),
            vec!["-var", "x=\"q\""]
        );
        assert_eq!(split_arguments("  ").unwrap(), Vec::<String>::new());
        assert_eq!(
            split_arguments("-var 'x").unwrap_err(),
            "column 6: unclosed single quote"
        );
        assert!(split_arguments("a\nb").is_err());
    }

    #[test]
    fn only_plan_and_apply_options_are_taken_and_every_refusal_is_named() {
        let args = |text: &str| split_arguments(text).unwrap();
        for fine in [
            "-var name=orders -var 'replicas=3'",
            "-var=name=x -var-file=environments/dev.tfvars -target=module.vpc -refresh=false",
            "-parallelism=4 -lock-timeout=30s -compact-warnings -destroy -replace aws_instance.a",
            "",
        ] {
            assert_eq!(check_arguments(&args(fine)), Ok(()), "{fine}");
        }
        let refused = check_arguments(&args(
            "-state-out=/tmp/x -out=plan -chdir=/ -var-file=/etc/passwd -var-file ../../secret_key -plugin-dir=/x ; rm",
        ))
        .unwrap_err();
        for named in [
            "-state-out=/tmp/x",
            "-out=plan",
            "-chdir=/",
            "-var-file=/etc/passwd",
            "-var-file must name",
            "-plugin-dir=/x",
            "; is not taken",
            "rm is not taken",
        ] {
            assert!(refused.contains(named), "{named} in {refused}");
        }
        assert!(check_arguments(&args("-var")).is_err());
        assert!(check_arguments(&args("-parallelism=1000")).is_err());
    }
}
