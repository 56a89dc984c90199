//! Every server function, enumerated from the registry the router serves: an anonymous caller
//! gets 401 and a viewer 403 wherever they must, with a message saying why. A server function
//! missing from the table below fails the test, so a new one cannot ship unreviewed.

use crate::db_test;
use crate::support::{call, client, demo_sign_in, ServerOptions, TestServer};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Needs {
    /// Anyone, signed in or not.
    Public,
    /// Anyone signed in, for their own things (their access tokens).
    SignedIn,
    /// Read on users, groups and bindings (global admins, or a binding on `access`).
    ReadAccess,
    /// Administer on `access`.
    AdministerAccess,
    /// Read on the audit log.
    ReadAudit,
    /// Read on the catalog (templates, sources, integrations, resources): every signed-in viewer.
    ReadTemplates,
    /// Create, change or delete in the catalog: members.
    WriteTemplates,
    /// Create, change or delete integrations: global admins (members may only use them).
    AdministerIntegrations,
    /// Delete a workspace: admin on it (here: global admins).
    AdministerWorkspaces,
    /// Start a release: admin on releases (release managers, global admins).
    AdministerReleases,
    /// Like `ReadTemplates`, for something the admin pass creates: a viewer, who calls first,
    /// is let through and finds nothing (404).
    ReadCreatedLater,
}

/// (endpoint, what it needs, a valid form body for an allowed caller).
const SERVER_FUNCTIONS: &[(&str, Needs, &[(&str, &str)])] = &[
    ("current_user", Needs::Public, &[]),
    ("get_account", Needs::SignedIn, &[]),
    ("get_notification_settings", Needs::SignedIn, &[]),
    (
        "save_notification_choices",
        Needs::SignedIn,
        &[("on[0]", "sign_off:in_app")],
    ),
    (
        "set_notification_url",
        Needs::SignedIn,
        &[
            ("channel", "slack"),
            ("url", "https://hooks.slack.com/services/T0/B0/x"),
        ],
    ),
    ("get_notifications", Needs::SignedIn, &[]),
    ("mark_notifications_read", Needs::SignedIn, &[]),
    (
        "get_group_notification_targets",
        Needs::ReadAccess,
        &[("group", "qa")],
    ),
    ("get_deliveries", Needs::AdministerAccess, &[]),
    ("retry_delivery", Needs::AdministerAccess, &[("id", "1")]),
    (
        "create_access_token",
        Needs::SignedIn,
        &[("name", "laptop git")],
    ),
    // The viewer's pass revokes its own token 1; the admin's pass finds token 1 is not theirs.
    ("revoke_access_token", Needs::SignedIn, &[("id", "1")]),
    ("sign_in_options", Needs::Public, &[]),
    ("demo_users", Needs::Public, &[]),
    ("list_users", Needs::ReadAccess, &[]),
    ("list_groups", Needs::ReadAccess, &[]),
    ("group_detail", Needs::ReadAccess, &[("name", "qa")]),
    ("list_role_bindings", Needs::ReadAccess, &[]),
    (
        "create_group",
        Needs::AdministerAccess,
        &[("name", "new-team"), ("description", "x")],
    ),
    (
        "add_group_member",
        Needs::AdministerAccess,
        &[("group", "qa"), ("user", "dev")],
    ),
    (
        "remove_group_member",
        Needs::AdministerAccess,
        &[("group", "qa"), ("user", "quinn")],
    ),
    (
        "create_role_binding",
        Needs::AdministerAccess,
        &[
            ("binding[subject_kind]", "user"),
            ("binding[subject]", "pat"),
            ("binding[role]", "member"),
            ("binding[scope_kind]", "entity_type"),
            ("binding[entity_type]", "workspace"),
            ("binding[entity_id]", ""),
        ],
    ),
    (
        "delete_role_binding",
        Needs::AdministerAccess,
        &[("id", "2")],
    ),
    ("get_catalog", Needs::ReadTemplates, &[]),
    (
        "create_template",
        Needs::WriteTemplates,
        &[
            ("template[key]", "nat-gateway"),
            ("template[name]", "NAT Gateway"),
            ("template[description]", ""),
            ("template[parents]", "vpc"),
        ],
    ),
    (
        "update_template",
        Needs::WriteTemplates,
        &[
            ("template[key]", "nat-gateway"),
            ("template[name]", "NAT Gateway v2"),
            ("template[description]", ""),
            ("template[parents]", "vpc"),
        ],
    ),
    (
        "delete_template",
        Needs::WriteTemplates,
        &[("key", "nat-gateway")],
    ),
    ("get_integrations", Needs::ReadTemplates, &[]),
    (
        "get_integration",
        Needs::ReadTemplates,
        &[("slug", "local-git")],
    ),
    (
        "test_integration",
        Needs::ReadTemplates,
        &[("slug", "local-git")],
    ),
    (
        "create_integration",
        Needs::AdministerIntegrations,
        &[
            ("input[slug]", "github-acme"),
            ("input[name]", "GitHub Acme"),
            ("input[provider]", "github"),
            ("input[settings][organization]", "acme"),
            ("input[secrets][token]", "ghp_0123456789abcdefghij"),
        ],
    ),
    (
        "update_integration",
        Needs::AdministerIntegrations,
        &[
            ("input[slug]", "github-acme"),
            ("input[name]", "GitHub (Acme)"),
            ("input[provider]", "github"),
            ("input[settings][organization]", "acme"),
        ],
    ),
    (
        "delete_integration",
        Needs::AdministerIntegrations,
        &[("slug", "github-acme")],
    ),
    ("get_sources", Needs::ReadTemplates, &[]),
    ("refresh_source", Needs::WriteTemplates, &[("id", "1")]),
    (
        "create_source",
        Needs::WriteTemplates,
        &[
            ("source[url]", "file://{data}/git/extra/modules.git"),
            ("source[integration]", "local-git"),
            ("source[description]", ""),
        ],
    ),
    ("delete_source", Needs::WriteTemplates, &[("id", "2")]),
    (
        "get_template_versions",
        Needs::ReadTemplates,
        &[("template", "vpc")],
    ),
    (
        "create_version",
        Needs::WriteTemplates,
        &[
            ("version[template]", "vpc"),
            ("version[source_id]", "1"),
            ("version[git_ref]", "main"),
            ("version[module_path]", "aws-vpc"),
        ],
    ),
    ("delete_version", Needs::WriteTemplates, &[("id", "16")]),
    ("get_resources", Needs::ReadTemplates, &[("page", "0")]),
    (
        "get_resource",
        Needs::ReadTemplates,
        &[("slug", "prod-vpc")],
    ),
    (
        "get_resource_form",
        Needs::WriteTemplates,
        &[("template", "s3-bucket")],
    ),
    (
        "create_resource",
        Needs::WriteTemplates,
        &[
            ("input[slug]", "logs-bucket"),
            ("input[name]", "Logs"),
            ("input[template]", "s3-bucket"),
            ("input[version_id]", "15"),
            ("input[values][bucket_name]", "acme-logs"),
        ],
    ),
    (
        "update_resource",
        Needs::WriteTemplates,
        &[
            ("input[slug]", "logs-bucket"),
            ("input[name]", "Logs"),
            ("input[template]", "s3-bucket"),
            ("input[version_id]", "15"),
            ("input[values][bucket_name]", "acme-logs-eu"),
        ],
    ),
    (
        "get_revision_diff",
        Needs::ReadTemplates,
        &[("slug", "prod-vpc"), ("from", "1"), ("to", "1")],
    ),
    (
        "resource_action",
        Needs::WriteTemplates,
        &[("slug", "logs-bucket"), ("action", "delete")],
    ),
    ("get_executors", Needs::ReadTemplates, &[]),
    (
        "get_executor",
        Needs::ReadTemplates,
        &[("slug", "scratch-network")],
    ),
    (
        "create_executor",
        Needs::WriteTemplates,
        &[
            ("input[slug]", "adhoc"),
            ("input[name]", "Ad hoc"),
            ("input[runtime]", "terraform"),
            ("input[command]", "-var name=x"),
            ("input[source_id]", "1"),
            ("input[git_ref]", "v1.2.0"),
            ("input[module_path]", "aws-vpc"),
        ],
    ),
    (
        "update_executor",
        Needs::WriteTemplates,
        &[
            ("input[slug]", "adhoc"),
            ("input[name]", "Ad hoc task"),
            ("input[runtime]", "terraform"),
            ("input[command]", "-var name=y"),
            ("input[source_id]", "1"),
            ("input[git_ref]", "v1.2.0"),
            ("input[module_path]", "aws-vpc"),
        ],
    ),
    (
        "run_executor",
        Needs::WriteTemplates,
        &[("slug", "adhoc"), ("action", "plan")],
    ),
    (
        "get_run_log",
        Needs::ReadCreatedLater,
        &[("slug", "adhoc"), ("run", "1"), ("after", "0")],
    ),
    (
        "delete_executor",
        Needs::WriteTemplates,
        &[("slug", "scratch-network")],
    ),
    // Lists only the workspaces the caller may read.
    ("get_workspaces", Needs::ReadTemplates, &[]),
    (
        "create_local_repository",
        Needs::WriteTemplates,
        &[("repository", "acme/live")],
    ),
    (
        "register_workspace",
        Needs::WriteTemplates,
        &[
            ("input[integration]", "local-git"),
            ("input[repository]", "acme/live"),
            ("input[description]", "Production infrastructure"),
            ("input[labels]", "prod"),
        ],
    ),
    (
        "get_workspace",
        Needs::ReadCreatedLater,
        &[("slug", "acme-live")],
    ),
    (
        "get_forge_repository",
        Needs::ReadCreatedLater,
        &[("repository", "acme/live")],
    ),
    ("get_repositories", Needs::ReadTemplates, &[]),
    (
        "save_repository",
        Needs::WriteTemplates,
        &[
            ("name", ""),
            ("revision", "0"),
            (
                "source",
                "apiVersion: lowops.manifests.v1\nkind: GithubRepository\nmetadata:\n  name: governed\nspec:\n  strategy: GIT_FLOW\n",
            ),
        ],
    ),
    (
        "get_repository",
        Needs::ReadCreatedLater,
        &[("name", "governed")],
    ),
    (
        "get_provisioning",
        Needs::ReadCreatedLater,
        &[("name", "governed")],
    ),
    (
        "get_planned_diff",
        Needs::ReadCreatedLater,
        &[("name", "governed"), ("repository", "local/governed"), ("path", ".github/CODEOWNERS")],
    ),
    (
        "get_generated_file",
        Needs::ReadCreatedLater,
        &[("name", "governed"), ("repository", "governed"), ("path", ".github/CODEOWNERS")],
    ),
    (
        "provision_repository",
        Needs::WriteTemplates,
        &[("name", "governed")],
    ),
    (
        "rotate_build_secret",
        Needs::WriteTemplates,
        &[("name", "governed")],
    ),
    (
        "simulate_build",
        Needs::WriteTemplates,
        &[("application", "nothing")],
    ),
    (
        "open_pull_request",
        Needs::WriteTemplates,
        &[("name", "governed"), ("head", "feat/x"), ("base", "develop"), ("title", "feat: x")],
    ),
    (
        "get_governed_pull",
        Needs::ReadCreatedLater,
        &[("name", "governed"), ("number", "1"), ("managed", "false")],
    ),
    (
        "approve_pull_request",
        Needs::WriteTemplates,
        &[("name", "governed"), ("number", "1"), ("managed", "false"), ("commit", "")],
    ),
    (
        "merge_pull_request",
        Needs::WriteTemplates,
        &[("name", "governed"), ("number", "1"), ("managed", "false"), ("method", "squash")],
    ),
    ("get_release_manifests", Needs::ReadTemplates, &[]),
    ("get_delivery", Needs::ReadTemplates, &[("days", "28")]),
    (
        "save_release_manifest",
        Needs::WriteTemplates,
        &[
            ("kind", ""),
            ("name", ""),
            ("revision", "0"),
            (
                "source",
                "apiVersion: lowops.manifests.v1\nkind: ReleaseTrack\nmetadata:\n  name: track\nspec:\n  releaseStages:\n  - environments: [production]\n",
            ),
        ],
    ),
    (
        "get_release_manifest",
        Needs::ReadCreatedLater,
        &[("kind", "ReleaseTrack"), ("name", "track")],
    ),
    ("get_releases", Needs::ReadTemplates, &[]),
    (
        "start_release",
        Needs::AdministerReleases,
        &[("app_set", "nothing"), ("bundle", "2026.11")],
    ),
    ("get_release", Needs::ReadCreatedLater, &[("id", "1")]),
    (
        "vote_release",
        Needs::ReadCreatedLater,
        &[("id", "1"), ("stage", "0"), ("group", "qa"), ("approve", "true"), ("comment", "")],
    ),
    (
        "withdraw_vote",
        Needs::ReadCreatedLater,
        &[("id", "1"), ("stage", "0")],
    ),
    (
        "get_versioning",
        Needs::ReadCreatedLater,
        &[("workspace", "acme-live")],
    ),
    (
        "get_pull_request",
        Needs::ReadCreatedLater,
        &[("repository", "acme/live"), ("number", "1")],
    ),
    (
        "update_workspace",
        Needs::WriteTemplates,
        &[
            ("slug", "acme-live"),
            ("description", "Live"),
            ("labels", "prod, network"),
        ],
    ),
    (
        "get_resource_workspace",
        Needs::ReadTemplates,
        &[("slug", "prod-vpc"), ("after", "0")],
    ),
    (
        "recreate_resource",
        Needs::WriteTemplates,
        &[("slug", "prod-vpc")],
    ),
    (
        "retry_resource_job",
        Needs::WriteTemplates,
        &[("slug", "prod-vpc")],
    ),
    (
        "review_resource",
        Needs::WriteTemplates,
        &[("slug", "prod-vpc"), ("approve", "true"), ("commit", "")],
    ),
    (
        "get_resource_runs",
        Needs::ReadTemplates,
        &[("slug", "prod-vpc")],
    ),
    (
        "compare_state_versions",
        Needs::ReadCreatedLater,
        &[("slug", "prod-vpc"), ("from", "1"), ("to", "2")],
    ),
    (
        "approve_plan",
        Needs::WriteTemplates,
        &[("slug", "prod-vpc"), ("plan", "1")],
    ),
    (
        "replan_resource",
        Needs::WriteTemplates,
        &[("slug", "prod-vpc")],
    ),
    (
        "override_policy",
        Needs::ReadCreatedLater,
        &[
            ("slug", "prod-vpc"),
            ("plan", "1"),
            ("policy", "network-size"),
            ("reason", "needed"),
        ],
    ),
    ("get_drifts", Needs::SignedIn, &[]),
    ("get_needs", Needs::SignedIn, &[]),
    ("get_freezes", Needs::ReadTemplates, &[]),
    (
        "request_rollback",
        Needs::ReadCreatedLater,
        &[
            ("environment", "production"),
            ("application", "nothing"),
            ("reason", "broken"),
        ],
    ),
    (
        "vote_rollback",
        Needs::ReadCreatedLater,
        &[
            ("id", "1"),
            ("group", "qa"),
            ("approve", "true"),
            ("comment", ""),
        ],
    ),
    ("lift_promotion_hold", Needs::WriteTemplates, &[("id", "1")]),
    (
        "rotate_verification_secret",
        Needs::WriteTemplates,
        &[("track", "nothing")],
    ),
    (
        "lift_freeze",
        Needs::WriteTemplates,
        &[("name", "nothing"), ("reason", "over")],
    ),
    (
        "emergency_freeze",
        Needs::WriteTemplates,
        &[("reason", "Incident 1")],
    ),
    (
        "request_freeze_exception",
        Needs::ReadCreatedLater,
        &[("subject", "stage:1"), ("reason", "urgent")],
    ),
    (
        "approve_freeze_exception",
        Needs::ReadCreatedLater,
        &[("id", "1"), ("comment", "")],
    ),
    ("get_my_activity", Needs::SignedIn, &[]),
    (
        "get_resource_drift",
        Needs::ReadTemplates,
        &[("slug", "prod-vpc")],
    ),
    ("check_drift", Needs::WriteTemplates, &[("slug", "prod-vpc")]),
    (
        "check_workspace_drift",
        Needs::WriteTemplates,
        &[("slug", "acme-live")],
    ),
    (
        "set_drift_schedule",
        Needs::WriteTemplates,
        &[("slug", "acme-live"), ("minutes", "60")],
    ),
    (
        "acknowledge_drift",
        Needs::WriteTemplates,
        &[("slug", "prod-vpc"), ("reason", "known")],
    ),
    (
        "reconcile_drift",
        Needs::WriteTemplates,
        &[("slug", "prod-vpc")],
    ),
    (
        "propose_accept_drift",
        Needs::WriteTemplates,
        &[("slug", "prod-vpc"), ("plan", "1")],
    ),
    (
        "accept_drift",
        Needs::WriteTemplates,
        &[("slug", "prod-vpc"), ("plan", "1")],
    ),
    (
        "delete_workspace",
        Needs::AdministerWorkspaces,
        &[("slug", "acme-live")],
    ),
    (
        "delete_group",
        Needs::AdministerAccess,
        &[("name", "product")],
    ),
    ("verify_audit_chain", Needs::ReadAudit, &[]),
    (
        "list_audit_events",
        Needs::ReadAudit,
        &[
            ("filter[actor]", ""),
            ("filter[entity]", ""),
            ("filter[action]", ""),
            ("filter[page]", "1"),
        ],
    ),
];

/// (endpoint, status, text): what the admin pass gets where the state it needs is not there.
const ADMIN_REFUSED_FOR_STATE: &[(&str, u16, &str)] = &[
    ("start_release", 404, "ApplicationSet nothing was not found"),
    ("simulate_build", 404, "no Application named nothing"),
    ("get_release", 404, "Release 1 was not found"),
    ("vote_release", 404, "Stage 1 of release 1 was not found"),
    ("withdraw_vote", 404, "Stage 1 of release 1 was not found"),
    ("open_pull_request", 422, "there is no branch feat/x"),
    ("approve_pull_request", 409, "someone else must approve it"),
    (
        "merge_pull_request",
        409,
        "Merge Authorized refuses pull request #1",
    ),
    ("revoke_access_token", 404, "Access token 1 was not found"),
    ("review_resource", 409, "is not in a workspace"),
    ("recreate_resource", 409, "is not in a workspace"),
    ("retry_resource_job", 409, "is not in a workspace"),
    (
        "compare_state_versions",
        404,
        "State version #1 of prod-vpc was not found",
    ),
    ("approve_plan", 409, "is not in a workspace"),
    ("replan_resource", 409, "is not in a workspace"),
    ("check_drift", 409, "is not in a workspace"),
    ("override_policy", 404, "Plan #1 was not found"),
    ("lift_freeze", 404, "FreezeWindow nothing was not found"),
    (
        "request_rollback",
        404,
        "A deployment of nothing to production was not found",
    ),
    ("vote_rollback", 404, "Rollback 1 was not found"),
    ("lift_promotion_hold", 404, "Promotion hold 1 was not found"),
    ("retry_delivery", 404, "Delivery #1 was not found"),
    (
        "rotate_verification_secret",
        404,
        "ReleaseTrack nothing was not found",
    ),
    ("request_freeze_exception", 404, "Stage 1 was not found"),
    ("approve_freeze_exception", 404, "Exception 1 was not found"),
    ("acknowledge_drift", 409, "is not in a workspace"),
    ("reconcile_drift", 409, "is not in a workspace"),
    ("propose_accept_drift", 409, "is not in a workspace"),
    ("accept_drift", 409, "is not in a workspace"),
    (
        "get_pull_request",
        404,
        "Pull request #1 of acme/live was not found",
    ),
];

fn form_of(endpoint: &str) -> &'static [(&'static str, &'static str)] {
    SERVER_FUNCTIONS
        .iter()
        .find(|(name, _, _)| *name == endpoint)
        .expect("listed")
        .2
}

#[test]
fn the_table_covers_every_registered_server_function() {
    let mut registered: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.trim_start_matches("/api/").to_string())
        .collect();
    registered.sort();
    let mut listed: Vec<String> = SERVER_FUNCTIONS
        .iter()
        .map(|(name, _, _)| name.to_string())
        .collect();
    listed.sort();
    assert_eq!(
        registered, listed,
        "every server function needs a row in SERVER_FUNCTIONS"
    );
}

db_test! {
    async fn anonymous_callers_and_viewers_are_refused_where_they_must_be(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions::default()).await;
        let anonymous = client();
        let viewer = client();
        demo_sign_in(&viewer, &server, "pat").await;
        let admin = client();
        demo_sign_in(&admin, &server, "ada").await;
        let auditor = client();
        demo_sign_in(&auditor, &server, "sam").await;

        for (endpoint, needs, form) in SERVER_FUNCTIONS {
            let (status, body) = call(&anonymous, &server, endpoint, form).await;
            let expected = if *needs == Needs::Public { 200 } else { 401 };
            let form = &form.iter().map(|(k, v)| (*k, if v.contains("{data}") { "file:///nowhere" } else { *v })).collect::<Vec<_>>();
            assert_eq!(status, expected, "anonymous {endpoint}: {body}");
            if expected == 401 {
                assert_eq!(body, "\"Unauthorized\"", "{endpoint}");
            }

            let (status, body) = call(&viewer, &server, endpoint, form).await;
            let expected = match needs {
                Needs::Public | Needs::SignedIn | Needs::ReadTemplates => 200,
                Needs::ReadCreatedLater => 404,
                _ => 403,
            };
            assert_eq!(status, expected, "viewer {endpoint}: {body}");
            if expected == 403 {
                assert!(
                    body.starts_with("{\"Forbidden\":\"You need ") && body.contains(" role"),
                    "the refusal says which role is needed: {body}"
                );
            }
        }

        // The security reviewer reads the audit log through a binding on `audit`, but not access.
        assert_eq!(call(&auditor, &server, "list_audit_events", form_of("list_audit_events")).await.0, 200);
        assert_eq!(call(&auditor, &server, "list_users", &[]).await.0, 403);

        // Nobody, not even an admin, may remove the last administrator.
        let (status, body) = call(&admin, &server, "delete_role_binding", &[("id", "1")]).await;
        assert_eq!(status, 409, "{body}");
        assert!(body.contains("without an administrator"), "{body}");

        // A member uses integrations but may not change them, nor their secrets.
        let member = client();
        demo_sign_in(&member, &server, "dev").await;
        for endpoint in ["create_integration", "update_integration", "delete_integration"] {
            let (status, body) = call(&member, &server, endpoint, form_of(endpoint)).await;
            assert_eq!(status, 403, "member {endpoint}: {body}");
        }

        // An admin is let through everywhere (the order of the table keeps each call valid).
        // `create_source` needs a second repository, made here under the local provider's root.
        let extra = server.data_dir.join("git/extra/modules.git");
        crate::support::module_repository(&extra, &[("main.tf", "variable \"x\" {}\n")]);
        let data = server.data_dir.display().to_string();
        for (endpoint, _, form) in SERVER_FUNCTIONS {
            let form: Vec<(&str, String)> = form.iter().map(|(k, v)| (*k, v.replace("{data}", &data))).collect();
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let (status, body) = call(&admin, &server, endpoint, &form).await;
            // Past the permission checks, refused for what the admin pass has not made (a
            // resource in a workspace, a pull request); workspaces.rs tests those flows.
            if let Some((_, expected, text)) = ADMIN_REFUSED_FOR_STATE.iter().find(|(e, _, _)| e == endpoint) {
                assert_eq!(status, *expected, "admin {endpoint}: {body}");
                assert!(body.contains(text), "{body}");
                continue;
            }
            assert_eq!(status, 200, "admin {endpoint}: {body}");
        }

        // Two signed-in users the global bindings do not cover: quinn, whom the admin pass
        // took out of qa (no binding at all), and riley, out of their groups, a member of one other
        // workspace only. Neither reaches anything but their own account; where a function
        // looks the thing up before the check, the answer is 404 and never its data.
        for group in ["sre", "incident-commanders"] {
            let (status, body) = call(&admin, &server, "remove_group_member", &[("group", group), ("user", "riley")]).await;
            assert_eq!(status, 200, "{body}");
        }
        let (status, body) = call(&admin, &server, "create_role_binding", &[
            ("binding[subject_kind]", "user"),
            ("binding[subject]", "riley"),
            ("binding[role]", "member"),
            ("binding[scope_kind]", "entity"),
            ("binding[entity_type]", "workspace"),
            ("binding[entity_id]", "elsewhere"),
        ]).await;
        assert_eq!(status, 200, "{body}");
        for login in ["quinn", "riley"] {
            let outsider = client();
            demo_sign_in(&outsider, &server, login).await;
            let mut refused = 0;
            for (endpoint, needs, form) in SERVER_FUNCTIONS {
                let form: Vec<(&str, String)> = form.iter().map(|(k, v)| (*k, v.replace("{data}", &data))).collect();
                let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let (status, body) = call(&outsider, &server, endpoint, &form).await;
                match needs {
                    Needs::Public | Needs::SignedIn => continue,
                    // Lists answer with what the caller may see: nothing here.
                    _ if LISTS_FILTERED.contains(endpoint) => {
                        assert_eq!(status, 200, "{login} {endpoint}: {body}");
                        assert!(!body.contains("acme"), "{login} {endpoint} lists what is not theirs: {body}");
                    }
                    _ => {
                        assert!(status == 403 || status == 404, "{login} {endpoint}: {status} {body}");
                        refused += 1;
                    }
                }
            }
            assert!(refused > 60, "{login}: {refused} refusals");
        }
    }
}

/// Server functions that answer a list filtered to what the caller may read.
const LISTS_FILTERED: &[&str] = &["get_workspaces"];

db_test! {
    async fn pages_answer_with_the_status_of_their_refusal(db: TestDb) {
        let server = TestServer::start(&db, ServerOptions::default()).await;
        let anonymous = client();
        let page = anonymous.get(server.url("/admin")).send().await.unwrap();
        assert_eq!(page.status(), 401);
        assert!(page.text().await.unwrap().contains("Sign in to continue."));

        let viewer = client();
        demo_sign_in(&viewer, &server, "pat").await;
        let page = viewer.get(server.url("/admin")).send().await.unwrap();
        assert_eq!(page.status(), 403);
        assert!(page
            .text()
            .await
            .unwrap()
            .contains("You need a global admin role, or the viewer role on users, groups and role bindings, to read them."));
        let audit = viewer.get(server.url("/audit")).send().await.unwrap();
        assert_eq!(audit.status(), 403);

        let admin = client();
        demo_sign_in(&admin, &server, "ada").await;
        let page = admin.get(server.url("/admin/groups")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains("release-managers") && html.contains("incident-commanders"));
        let missing = admin.get(server.url("/no/such/page")).send().await.unwrap();
        assert_eq!(missing.status(), 404);
    }
}
