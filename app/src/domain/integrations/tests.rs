use super::*;

fn fields(pairs: &[(&str, &str)]) -> Fields {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn local_repositories_are_shown_by_name_not_server_path() {
    assert_eq!(
        shown_repository_url("file:///srv/slipway/data/git/platform/terraform-modules.git"),
        "platform/terraform-modules (local forge)"
    );
    assert_eq!(
        shown_repository_url("https://github.com/acme/modules.git"),
        "https://github.com/acme/modules.git"
    );
}

#[test]
fn known_hosts_lines_are_checked_line_by_line_and_match_host_or_bracketed_port() {
    let ed = "AAAAC3NzaC1lZDI1NTE5AAAAIB9Xy3Jq1Bq0d8mD0f4nYy1m1xJ0k7hJvZ6cQ2z5w3pE";
    let text = format!(
            "# github\ngithub.example.com,10.0.0.7 ssh-ed25519 {ed} comment\n[127.0.0.1]:2222 ecdsa-sha2-nistp256 {ed}\n"
        );
    assert_eq!(check_value(Check::KnownHosts, &text), Ok(()));
    let ed25519 = ("ssh-ed25519".to_string(), ed.to_string());
    assert_eq!(
        known_host_keys(&text, "github.example.com"),
        vec![ed25519.clone()]
    );
    assert_eq!(known_host_keys(&text, "10.0.0.7"), vec![ed25519]);
    assert_eq!(
        known_host_keys(&text, "127.0.0.1"),
        vec![("ecdsa-sha2-nistp256".to_string(), ed.to_string())]
    );
    assert!(known_host_keys(&text, "github.example").is_empty());
    assert!(known_host_keys(&text, "evil.example.com").is_empty());
    for (bad, message) in [
            ("# only a comment", "holds no known_hosts line"),
            ("host ssh-ed25519", "line 1: needs three fields: host, key type and key"),
            (&format!("ok ssh-ed25519 {ed}\nhost ssh-dss {ed}") as &str, "line 2: \"ssh-dss\" is not a host key type (ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, ecdsa-sha2-nistp521)"),
            (&format!("|1|abc=|def= ssh-ed25519 {ed}"), "line 1: hashed host names (|1|…) are not supported; run ssh-keyscan without -H"),
            (&format!("*.example.com ssh-ed25519 {ed}"), "line 1: host patterns with *, ? or ! are not supported; name each host"),
            (&format!("@revoked host ssh-ed25519 {ed}"), "line 1: markers such as @revoked are not supported"),
            ("host ssh-ed25519 not;base64;at;all", "line 1: the key is not base64"),
        ] {
            assert_eq!(check_value(Check::KnownHosts, bad), Err(message.to_string()), "{bad}");
        }
}

#[test]
fn every_provider_has_a_kind_and_unique_fields() {
    for provider in Provider::ALL {
        assert_eq!(Provider::parse(provider.as_str()), Some(provider));
        let names: Vec<&str> = provider.fields().iter().map(|f| f.name).collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(names.len(), unique.len(), "{provider:?}");
    }
}

#[test]
fn aws_settings_are_checked_and_defaulted() {
    let ok = check_fields(
        Provider::Aws,
        &fields(&[("access_key_id", "AKIAIOSFODNN7EXAMPLE")]),
        &fields(&[(
            "secret_access_key",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        )]),
        &[],
    )
    .unwrap();
    assert_eq!(ok.settings["region"], "us-east-1");
    assert!(!ok.settings.contains_key("secret_access_key"));

    let bad = check_fields(
        Provider::Aws,
        &fields(&[("access_key_id", "nope"), ("region", "eu-west-1")]),
        &fields(&[("secret_access_key", "x".repeat(40).as_str())]),
        &[],
    )
    .unwrap_err()
    .remove(0);
    assert_eq!(bad.field, "access_key_id");

    let missing = check_fields(
        Provider::Aws,
        &fields(&[("access_key_id", "AKIAIOSFODNN7EXAMPLE")]),
        &Fields::new(),
        &[],
    )
    .unwrap_err()
    .remove(0);
    assert_eq!(missing.field, "secret_access_key");
    assert!(missing.message.contains("required"));

    // On an edit, a stored secret may be left blank and is kept.
    let kept = check_fields(
        Provider::Aws,
        &fields(&[("access_key_id", "AKIAIOSFODNN7EXAMPLE")]),
        &fields(&[("secret_access_key", "  ")]),
        &["secret_access_key".to_string()],
    )
    .unwrap();
    assert!(kept.secrets.is_empty());
}

#[test]
fn every_problem_comes_at_once() {
    let problems = check_fields(
        Provider::Aws,
        &fields(&[("access_key_id", "nope"), ("color", "red")]),
        &Fields::new(),
        &[],
    )
    .unwrap_err();
    let named: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        named,
        ["color", "access_key_id", "secret_access_key"],
        "{problems:?}"
    );
}

#[test]
fn unknown_fields_and_bad_choices_are_refused() {
    let unknown = check_fields(
        Provider::LocalGit,
        &fields(&[("password", "x")]),
        &Fields::new(),
        &[],
    )
    .unwrap_err()
    .remove(0);
    assert_eq!(unknown.field, "password");
    let site = check_fields(
        Provider::Datadog,
        &fields(&[("site", "example.com")]),
        &fields(&[("api_key", &"a".repeat(32)), ("app_key", &"b".repeat(40))]),
        &[],
    )
    .unwrap_err()
    .remove(0);
    assert_eq!(site.field, "site");
}

#[test]
fn urls_may_not_carry_credentials() {
    let err = check_fields(
        Provider::Github,
        &fields(&[
            ("api_url", "https://user:pw@github.example.com/api/v3"),
            ("organization", "acme"),
        ]),
        &fields(&[("token", "ghp_0123456789abcdefghij")]),
        &[],
    )
    .unwrap_err()
    .remove(0);
    assert_eq!(err.field, "api_url");
}

#[test]
fn google_key_must_be_a_service_account() {
    let err = check_fields(
        Provider::GoogleCloud,
        &fields(&[("project_id", "acme-prod")]),
        &fields(&[("credentials_json", "{\"type\": \"authorized_user\"}")]),
        &[],
    )
    .unwrap_err()
    .remove(0);
    assert_eq!(err.field, "credentials_json");
    let err = check_fields(
        Provider::GoogleCloud,
        &fields(&[("project_id", "acme-prod")]),
        &fields(&[("credentials_json", "{")]),
        &[],
    )
    .unwrap_err()
    .remove(0);
    assert!(err.message.contains("line 1"), "{}", err.message);
}

#[test]
fn credentials_become_the_providers_environment() {
    let env = environment(
        Provider::Aws,
        &fields(&[
            ("access_key_id", "AKIAIOSFODNN7EXAMPLE"),
            ("region", "eu-west-1"),
        ]),
        &fields(&[("secret_access_key", "s3cr3t")]),
    );
    assert!(env.contains(&("AWS_SECRET_ACCESS_KEY".into(), "s3cr3t".into())));
    assert!(env.contains(&("AWS_REGION".into(), "eu-west-1".into())));
    let (name, source, args) =
        terraform_provider(Provider::Aws, &fields(&[("region", "eu-west-1")])).unwrap();
    assert_eq!((name, source), ("aws", "hashicorp/aws"));
    assert_eq!(args, vec![("region", "eu-west-1".to_string())]);
}

#[test]
fn state_settings_become_one_backend_and_are_checked_together() {
    let aws = |settings: &[(&str, &str)]| {
        check_fields(
            Provider::Aws,
            &fields(
                &[
                    [("access_key_id", "AKIAIOSFODNN7EXAMPLE")].as_slice(),
                    settings,
                ]
                .concat(),
            ),
            &fields(&[("secret_access_key", &"k".repeat(40))]),
            &[],
        )
    };
    let err = aws(&[("state_bucket", "Acme_State")])
        .unwrap_err()
        .remove(0);
    assert_eq!(err.field, "state_bucket");
    assert!(err.message.contains("lowercase"), "{}", err.message);
    let err = aws(&[("state_lock_table", "locks")]).unwrap_err().remove(0);
    assert_eq!(err.field, "state_bucket");
    let checked = aws(&[
        ("state_bucket", "acme-state"),
        ("state_lock_table", "locks"),
    ])
    .unwrap();
    let (kind, args) = terraform_backend(Provider::Aws, &checked.settings, "vpc/prod").unwrap();
    assert_eq!(kind, "s3");
    assert_eq!(
        args,
        vec![
            ("bucket", serde_json::json!("acme-state")),
            ("key", serde_json::json!("vpc/prod/terraform.tfstate")),
            ("region", serde_json::json!("us-east-1")),
            ("dynamodb_table", serde_json::json!("locks")),
            ("encrypt", serde_json::json!(true)),
        ]
    );
    // No bucket: local state, no backend block.
    assert!(terraform_backend(Provider::Aws, &aws(&[]).unwrap().settings, "vpc/prod").is_none());

    let azure = |settings: &[(&str, &str)]| {
        let uuid = "0f8fad5b-d9cb-469f-a165-70867728950e";
        check_fields(
            Provider::Azure,
            &fields(
                &[
                    [
                        ("tenant_id", uuid),
                        ("subscription_id", uuid),
                        ("client_id", uuid),
                    ]
                    .as_slice(),
                    settings,
                ]
                .concat(),
            ),
            &fields(&[("client_secret", "secret-value")]),
            &[],
        )
    };
    let err = azure(&[("state_storage_account", "acmestate")])
        .unwrap_err()
        .remove(0);
    assert_eq!(err.field, "state_resource_group");
    let err = azure(&[
        ("state_resource_group", "tfstate"),
        ("state_storage_account", "acme-state"),
        ("state_container", "tfstate"),
    ])
    .unwrap_err()
    .remove(0);
    assert_eq!(err.field, "state_storage_account");
    let checked = azure(&[
        ("state_resource_group", "tfstate"),
        ("state_storage_account", "acmestate"),
        ("state_container", "tfstate"),
    ])
    .unwrap();
    let (kind, _) = terraform_backend(Provider::Azure, &checked.settings, "vpc/prod").unwrap();
    assert_eq!(kind, "azurerm");
    let (kind, args) = terraform_backend(
        Provider::GoogleCloud,
        &fields(&[("project_id", "acme-prod"), ("state_bucket", "acme_state")]),
        "vpc/prod",
    )
    .unwrap();
    assert_eq!(kind, "gcs");
    assert_eq!(args[1], ("prefix", serde_json::json!("vpc/prod")));
}

#[test]
fn credentials_go_only_to_their_provider_s_hosts() {
    let fields = |pairs: &[(&str, &str)]| -> Fields {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let github = fields(&[("api_url", "https://api.github.com")]);
    for url in [
        "https://github.com/acme/x.git",
        "git@github.com:acme/x.git",
        "ssh://git@GitHub.com/acme/x.git",
    ] {
        assert_eq!(
            check_credential_host(Provider::Github, &github, url),
            Ok(()),
            "{url}"
        );
    }
    for url in [
        "https://evil.example/acme/x.git",
        "https://github.com.evil.example/x.git",
        "https://github.com@evil.example/x.git",
        "http://169.254.169.254/latest/meta-data",
        "git@evil.example:acme/x.git",
    ] {
        let refused = check_credential_host(Provider::Github, &github, url).unwrap_err();
        assert!(
            refused.contains("credentials go only to github.com"),
            "{url}: {refused}"
        );
    }
    let enterprise = fields(&[("api_url", "https://git.acme.internal/api/v3")]);
    assert!(check_credential_host(
        Provider::Github,
        &enterprise,
        "https://git.acme.internal/a/b.git"
    )
    .is_ok());
    assert!(
        check_credential_host(Provider::Github, &enterprise, "https://github.com/a/b.git").is_err()
    );
    let bitbucket = fields(&[("api_url", "https://api.bitbucket.org/2.0")]);
    assert!(check_credential_host(
        Provider::Bitbucket,
        &bitbucket,
        "https://bitbucket.org/acme/x.git"
    )
    .is_ok());
    assert!(check_credential_host(
        Provider::Bitbucket,
        &bitbucket,
        "https://api.bitbucket.org.evil/x.git"
    )
    .is_err());
    let azure = fields(&[("organization_url", "https://dev.azure.com/acme")]);
    assert!(check_credential_host(
        Provider::AzureDevops,
        &azure,
        "https://dev.azure.com/acme/p/_git/x"
    )
    .is_ok());
    assert!(check_credential_host(
        Provider::AzureDevops,
        &azure,
        "git@ssh.dev.azure.com:v3/acme/p/x"
    )
    .is_ok());
    assert!(check_credential_host(
        Provider::AzureDevops,
        &azure,
        "https://acme.visualstudio.com/p/_git/x"
    )
    .is_err());
    assert!(
        check_credential_host(Provider::Aws, &Fields::new(), "https://github.com/a/b.git").is_err()
    );
    assert_eq!(
        git_url_host("https://[::1]:8443/x.git").as_deref(),
        Some("::1")
    );
    assert_eq!(git_url_host("file:///srv/x.git"), None);
}
