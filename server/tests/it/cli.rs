//! The `slipway` binary as an operator uses it: migrate, admin grant, and start-up refusing a
//! bad setting with one line naming it.

use crate::db_test;
use crate::support::TestDb;
use app::server::directory::{self, VerifiedSignIn};
use std::process::{Command, Output};

fn slipway(db: &TestDb, args: &[&str], extra_env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_slipway"));
    command
        .args(args)
        .current_dir(&db.dir)
        .env_remove("SLIPWAY_CONFIG")
        .env("DATABASE_URL", &db.url)
        .env("SLIPWAY_DATA_DIR", &db.dir);
    for (key, value) in extra_env {
        command.env(key, value);
    }
    command.output().expect("the slipway binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim().to_string()
}

db_test! {
    async fn admin_grant_gives_a_global_role_once_and_names_unknown_users(db: TestDb) {
        let claims = VerifiedSignIn {
            provider: "github".into(),
            subject: "42".into(),
            login_hint: "grace".into(),
            email: Some("Grace@Example.com".into()),
            email_verified: true,
            name: "Grace Hopper".into(),
        };
        directory::sign_in(&db.conn, &claims, None, &[]).await.unwrap();

        let granted = slipway(&db, &["admin", "grant", "grace@example.com", "admin"], &[]);
        assert_eq!(text(&granted.stdout), "Granted admin on everything to grace (Grace Hopper).");
        assert!(granted.status.success());
        let again = slipway(&db, &["admin", "grant", "grace", "admin"], &[]);
        assert_eq!(text(&again.stdout), "grace already holds admin on everything; nothing changed.");
        let subject = app::server::access::subject_for_user(&db.conn, 1).await.unwrap();
        assert_eq!(subject.grants.len(), 1);

        let unknown = slipway(&db, &["admin", "grant", "nobody", "member"], &[]);
        assert_eq!(unknown.status.code(), Some(1));
        assert_eq!(text(&unknown.stderr).lines().last().unwrap(), "error: user: no user has the login or email \"nobody\"");
        let bad_role = slipway(&db, &["admin", "grant", "grace", "owner"], &[]);
        assert_eq!(bad_role.status.code(), Some(2));
        assert!(text(&bad_role.stderr).contains("invalid value 'owner'"));

        let events = app::server::audit::verify(&db.conn).await.unwrap().unwrap();
        assert_eq!(events, 4, "user.create, identity.link, session.sign_in, role_binding.create");
    }
}

db_test! {
    async fn migrate_reports_what_it_applied_and_bad_settings_stop_with_one_line(db: TestDb) {
        // The test database is migrated already.
        let migrate = slipway(&db, &["migrate"], &[]);
        assert!(migrate.status.success(), "{}", text(&migrate.stderr));
        assert_eq!(text(&migrate.stdout), "The database is up to date.");

        let https = slipway(&db, &["migrate"], &[("SLIPWAY_PUBLIC_URL", "https://slipway.example.com")]);
        assert_eq!(https.status.code(), Some(2));
        assert_eq!(text(&https.stderr), "error: SLIPWAY_SECRET_KEY: is required when SLIPWAY_PUBLIC_URL is https");
        let bad_url = slipway(&db, &["serve"], &[("DATABASE_URL", "mysql://localhost/x")]);
        assert_eq!(bad_url.status.code(), Some(2));
        assert_eq!(text(&bad_url.stderr), "error: DATABASE_URL: must start with sqlite:, postgres:// or postgresql://");
    }
}

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["admin", "--help"],
        vec!["admin", "grant", "--help"],
        vec!["audit", "--help"],
        vec!["audit", "verify", "--help"],
        vec!["forge", "create-repo", "--help"],
        vec!["commit", "check", "--help"],
        vec!["version", "compute", "--help"],
        vec!["manifests", "validate", "--help"],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_slipway"))
            .args(&args)
            .output()
            .unwrap();
        assert!(output.status.success(), "{args:?}");
        assert!(text(&output.stdout).contains("Usage: slipway"), "{args:?}");
    }
}
