//! Workspace git work over SSH, against a real `sshd` on 127.0.0.1: the integration's private
//! key logs in, and its known hosts decide which host key is trusted. A host whose key is not
//! listed gets nothing: the job fails at once (no retries) with the reason, and no branch is
//! pushed. The key never appears in a log, an audit event or a job.

use crate::db_test;
use crate::forges::Fake;
use crate::support::*;
use crate::workspaces::{bucket_form, job_log, settled};
use app::domain::integrations::Provider;
use app::server::entities::{audit_events, jobs as job_rows};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

db_test! {
    async fn workspaces_push_over_ssh_only_to_a_known_host(db: TestDb) {
        let Some(sshd) = SshServer::start(&db.dir) else { return };
        let server = TestServer::start(&db, ServerOptions { worker: true, ..ServerOptions::default() }).await;
        let fake = Fake::start(Provider::Github, db.dir.join("fake-forge")).await;
        fake.set_ssh_url(&sshd.url(&fake.bare()));
        let admin = client();
        demo_sign_in(&admin, &server, "ada").await;
        let member = client();
        demo_sign_in(&member, &server, "dev").await;

        // Known hosts that list another key for this host: refused before anything is sent.
        let other = db.dir.join("other_key");
        let status = std::process::Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-f"]).arg(&other).status().unwrap();
        assert!(status.success());
        let other_key = std::fs::read_to_string(other.with_extension("pub")).unwrap();
        let impostor = format!("[127.0.0.1]:{} {}", sshd.port, other_key.split_whitespace().take(2).collect::<Vec<_>>().join(" "));
        let mut form = fake.integration_form();
        form.push(("input[secrets][ssh_private_key]", sshd.client_key.clone()));
        form.push(("input[settings][ssh_known_hosts]", impostor));
        let fields: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, body) = call(&admin, &server, "create_integration", &fields).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = call(&member, &server, "register_workspace", &[("input[integration]", "forge"), ("input[repository]", fake.repository())]).await;
        assert_eq!(status, 200, "{body}");
        let workspace: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(workspace["config"]["ssh_url"], sshd.url(&fake.bare()));
        let (status, body) = call(&member, &server, "create_resource", &bucket_form("logs", "Audit Logs", "acme-audit-logs")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(settled(&server, "logs").await, ("provision".into(), "error".into()));
        let log = job_log(&server).await;
        assert!(log.contains("the repository's SSH host key is not trusted: it is not among the integration's known hosts"), "{log}");
        let job = job_rows::Entity::find().filter(job_rows::Column::Kind.eq("workspace.sync")).one(&server.ctx.db).await.unwrap().unwrap();
        assert_eq!((job.status.as_str(), job.attempts), ("failed", 1), "a wrong host key is not retried");
        assert_eq!(fake.head_of("update_audit_logs"), None, "nothing was pushed");
        assert!(!sshd.log().contains("Accepted publickey"), "the key was never offered to that host");

        // A bad known_hosts value is refused by the form, naming the line.
        let mut bad = fake.integration_form();
        bad.push(("input[settings][ssh_known_hosts]", "# ours\n127.0.0.1 ssh-dss AAAAB3NzaC1kc3MAAACB".into()));
        let fields: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, body) = call(&admin, &server, "update_integration", &fields).await;
        assert_eq!(status, 422, "{body}");
        assert!(body.contains("line 2: \\\"ssh-dss\\\" is not a host key type"), "{body}");

        // The right host key: the edit's sync fetches and pushes over SSH with the key.
        let mut good = fake.integration_form();
        good.push(("input[settings][ssh_known_hosts]", format!("# from ssh-keyscan\n{}", sshd.known_host)));
        let fields: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, body) = call(&admin, &server, "update_integration", &fields).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = call(&member, &server, "update_resource", &bucket_form("logs", "Audit Logs", "acme-audit-logs-eu")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(settled(&server, "logs").await, ("provision".into(), "ready".into()), "{}", job_log(&server).await);
        assert!(sshd.log().contains(&format!("Accepted publickey for {}", sshd.user)), "{}", sshd.log());
        assert!(git(&fake.bare(), &["show", "update_audit_logs:s3-bucket/audit_logs/variables.tf"]).contains("acme-audit-logs-eu"));
        assert_eq!(fake.pulls(), vec![("update_audit_logs".to_string(), "open")]);

        // Approve: merged on the forge; the next sync fetches the merge over SSH too.
        let (status, body) = review(&admin, &server, "logs", true).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(settled(&server, "logs").await, ("provisioned".into(), "done".into()));
        let (status, body) = call(&member, &server, "resource_action", &[("slug", "logs"), ("action", "destroy")]).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(settled(&server, "logs").await, ("destroy".into(), "ready".into()));
        assert_eq!(git(&fake.bare(), &["ls-tree", "-r", "--name-only", "delete_audit_logs"]), "README.md");
        assert!(git(&fake.bare(), &["rev-parse", "delete_audit_logs^"]).trim() == git(&fake.bare(), &["rev-parse", "main"]).trim(), "cut from the merged main");

        // The private key is nowhere a person could read it.
        let secret_line = sshd.client_key.lines().nth(1).unwrap();
        assert!(!job_log(&server).await.contains(secret_line));
        for event in audit_events::Entity::find().all(&server.ctx.db).await.unwrap() {
            assert!(!format!("{event:?}").contains(secret_line), "{}", event.action);
        }
        assert_eq!(fake.violations(), Vec::<String>::new());
    }
}
