//! Notifications on the demo's estate, on both databases, with a real SMTP server (aiosmtpd) and
//! an in-test HTTP receiver for Slack and webhooks: the production sign-off that waits for
//! product and security is told once to each person on the channels they chose — e-mail,
//! Slack, a signed webhook — and once to the security group's own Slack; the release's starter
//! hears each decision; nothing is told twice by a second sweep, a restarted server or two
//! replicas sweeping at once; a delivery refused for good shows as failed to admins, who retry
//! it. Who may not set a group's channels, read the deliveries or retry one is refused, and a
//! URL to a private address is refused when it is set.

use crate::db_test;
use crate::support::*;
use app::server::entities::{notification_deliveries, notifications};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// A running aiosmtpd writing what it receives into a Maildir; stopped when dropped.
pub struct SmtpServer {
    child: std::process::Child,
    pub port: u16,
    pub maildir: std::path::PathBuf,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One e-mail as the SMTP server stored it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub message_id: String,
    pub body: String,
}

impl SmtpServer {
    pub async fn start(dir: &std::path::Path) -> Option<SmtpServer> {
        let python = repo_root().join(".venv/bin/python");
        let installed = std::process::Command::new(&python)
            .args(["-c", "import aiosmtpd"])
            .status()
            .is_ok_and(|s| s.success());
        if !installed {
            unavailable("aiosmtpd (.venv; run scripts/setup --test)");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let maildir = dir.join(format!("maildir-{port}"));
        let child = std::process::Command::new(python)
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(&maildir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("aiosmtpd starts");
        let server = SmtpServer {
            child,
            port,
            maildir,
        };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Some(server);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("aiosmtpd did not listen within 10 s");
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far.
    pub fn mails(&self) -> Vec<Mail> {
        let mut mails = Vec::new();
        for folder in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(self.maildir.join(folder)) else {
                continue;
            };
            for entry in entries.flatten() {
                let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
                let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
                let header = |name: &str| {
                    head.lines()
                        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
                        .unwrap_or_default()
                        .trim()
                        .to_string()
                };
                // The SMTP server's Maildir writer may re-encode what it received.
                let body = match header("Content-Transfer-Encoding").as_str() {
                    "base64" => {
                        use base64::Engine;
                        let joined: String = body.split_whitespace().collect();
                        String::from_utf8(
                            base64::engine::general_purpose::STANDARD
                                .decode(joined)
                                .unwrap(),
                        )
                        .unwrap()
                    }
                    _ => body.to_string(),
                };
                mails.push(Mail {
                    to: header("To"),
                    subject: header("Subject"),
                    message_id: header("Message-ID"),
                    body,
                });
            }
        }
        mails
    }

    /// The messages to `address`.
    pub fn to(&self, address: &str) -> Vec<Mail> {
        self.mails()
            .into_iter()
            .filter(|m| m.to.contains(address))
            .collect()
    }
}

/// What the receiver got: per path, each request's headers and body.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<BTreeMap<String, Vec<(HeaderMap, String)>>>>);

impl Received {
    fn at(&self, path: &str) -> Vec<(HeaderMap, String)> {
        self.0
            .lock()
            .unwrap()
            .get(path)
            .cloned()
            .unwrap_or_default()
    }
}

/// Slack and webhook receivers on 127.0.0.1: every path answers 200, except `/gone`, which
/// answers 404 to its first request (a URL that no longer exists, until someone fixes it).
async fn receiver() -> (String, Received) {
    let received = Received::default();
    async fn take(
        State(received): State<Received>,
        Path(path): Path<String>,
        headers: HeaderMap,
        body: String,
    ) -> axum::http::StatusCode {
        let mut all = received.0.lock().unwrap();
        let seen = all.entry(path.clone()).or_default();
        seen.push((headers, body));
        if path == "gone" && seen.len() == 1 {
            return axum::http::StatusCode::NOT_FOUND;
        }
        axum::http::StatusCode::OK
    }
    let app = axum::Router::new()
        .route("/{path}", axum::routing::post(take))
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, received)
}

async fn ok(
    client: &reqwest::Client,
    server: &impl Endpoint,
    endpoint: &str,
    form: &[(&str, &str)],
) -> String {
    let (status, body) = call(client, server, endpoint, form).await;
    assert_eq!(status, 200, "{endpoint}: {body}");
    body
}

/// Every topic and channel ticked, but those in `off`.
fn all_but(off: &[&str]) -> Vec<(String, String)> {
    use app::domain::notifications::{CHANNELS, TOPICS};
    TOPICS
        .iter()
        .flat_map(|t| {
            CHANNELS
                .iter()
                .map(move |c| format!("{}:{}", t.as_str(), c.as_str()))
        })
        .filter(|pair| !off.contains(&pair.as_str()))
        .enumerate()
        .map(|(i, pair)| (format!("on[{i}]"), pair))
        .collect()
}

async fn the_release(db: &TestDb) -> i64 {
    app::server::entities::releases::Entity::find()
        .one(&db.conn)
        .await
        .unwrap()
        .expect("the seeded release")
        .id
}

db_test! {
    async fn who_must_sign_off_is_told_once_on_each_chosen_channel_and_the_starter_hears_the_outcome(db: TestDb) {
        let Some(smtp) = SmtpServer::start(&db.dir).await else { return };
        let (hooks, received) = receiver().await;
        let server = TestServer::start(&db, ServerOptions { estate: true, settings: vec![("SLIPWAY_SMTP_URL", smtp.url())], ..ServerOptions::default() }).await;
        let worker = server::jobs::Worker::new(server.ctx.clone(), &server.config);
        let [ada, dev, pat, sam, remy] = ["ada", "dev", "pat", "sam", "remy"].map(|_| client());
        for (who, login) in [(&ada, "ada"), (&dev, "dev"), (&pat, "pat"), (&sam, "sam"), (&remy, "remy")] {
            demo_sign_in(who, &server, login).await;
        }

        // Pat: e-mail and a Slack webhook. Sam: a signed webhook, and no e-mail for sign-offs.
        assert_eq!(ok(&pat, &server, "set_notification_url", &[("channel", "slack"), ("url", &format!("{hooks}/pat-slack"))]).await, "null");
        let secret: Option<String> = serde_json::from_str(&ok(&sam, &server, "set_notification_url", &[("channel", "webhook"), ("url", &format!("{hooks}/sam-hook"))]).await).unwrap();
        let secret = secret.expect("a webhook's secret is shown once");
        let choices = all_but(&["sign_off:email"]);
        let form: Vec<(&str, &str)> = choices.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        ok(&sam, &server, "save_notification_choices", &form).await;
        let settings: Value = serde_json::from_str(&ok(&sam, &server, "get_notification_settings", &[]).await).unwrap();
        let sign_off = settings["rows"].as_array().unwrap().iter().find(|r| r["topic"] == "sign_off").unwrap().clone();
        assert_eq!(sign_off["on"], serde_json::json!([true, false, true, true]), "{settings}");
        assert_eq!(settings["channels"][1]["note"], "to sam@demo.slipway.test", "{settings}");
        assert_eq!(settings["channels"][3]["host"], hooks.trim_start_matches("http://"), "{settings}");
        // The security group's Slack (an admin's to set), and its webhook, whose URL is gone.
        ok(&ada, &server, "set_notification_url", &[("group", "security"), ("channel", "slack"), ("url", &format!("{hooks}/security-slack"))]).await;
        ok(&ada, &server, "set_notification_url", &[("group", "security"), ("channel", "webhook"), ("url", &format!("{hooks}/gone"))]).await;

        // Refused, and nothing changes: a member on a group's channels, a URL to a private
        // address nobody listed, a scheme that is not http(s), a bad choice, someone else's read.
        assert_eq!(call(&dev, &server, "set_notification_url", &[("group", "security"), ("channel", "slack"), ("url", &format!("{hooks}/mine"))]).await.0, 403);
        let (status, body) = call(&dev, &server, "set_notification_url", &[("channel", "webhook"), ("url", "http://169.254.169.254/latest/meta-data")]).await;
        assert_eq!((status, body.contains("\"field\":\"url\"") && body.contains("link-local")), (422, true), "{body}");
        let (status, body) = call(&dev, &server, "set_notification_url", &[("channel", "webhook"), ("url", "file:///etc/passwd")]).await;
        assert_eq!((status, body.contains("must start with https://")), (422, true), "{body}");
        let (status, body) = call(&dev, &server, "set_notification_url", &[("channel", "slack"), ("url", "https://evil.example.com/services/x")]).await;
        assert_eq!((status, body.contains("hooks.slack.com")), (422, true), "{body}");
        let (status, body) = call(&dev, &server, "save_notification_choices", &[("on[0]", "sign_off:pager"), ("on[1]", "holiday:email")]).await;
        assert_eq!((status, body.matches("is not a topic and channel").count()), (422, 2), "{body}");
        assert_eq!(call(&dev, &server, "set_notification_url", &[("channel", "email"), ("url", "https://x.example.com")]).await.0, 422);
        assert_eq!(call(&client(), &server, "get_notifications", &[]).await.0, 401);
        assert_eq!(call(&dev, &server, "get_deliveries", &[]).await.0, 403);
        let targets = app::server::entities::notification_targets::Entity::find().count(&db.conn).await.unwrap();
        assert_eq!(targets, 4);

        // One sweep: everyone hears of what waits for them.
        let swept = app::server::notifications::sweep(&server.ctx).await.unwrap();
        assert!(swept.notified >= 4 && swept.queued >= 4, "{swept:?}");
        while worker.run_due().await > 0 {}
        let to_pat = smtp.to("pat@demo.slipway.test");
        assert_eq!(to_pat.len(), 1, "{:?}", smtp.mails());
        assert!(to_pat[0].subject.starts_with("[Slipway] Sign off production of webshop-"), "{:?}", to_pat[0]);
        assert!(to_pat[0].body.contains("You are in product, which must sign off"), "{:?}", to_pat[0]);
        assert!(to_pat[0].body.contains(&format!("{}/releases/", server.base)), "{:?}", to_pat[0]);
        assert!(smtp.to("sam@demo.slipway.test").is_empty(), "Sam turned e-mail off for sign-offs");
        let slack = received.at("pat-slack");
        assert_eq!(slack.len(), 1);
        let payload: Value = serde_json::from_str(&slack[0].1).unwrap();
        assert!(payload["text"].as_str().unwrap().starts_with("*Sign off production of webshop-"), "{payload}");
        let hook = received.at("sam-hook");
        assert_eq!(hook.len(), 1);
        let (headers, body) = &hook[0];
        let header = |name: &str| headers.get(name).unwrap().to_str().unwrap().to_string();
        assert!(app::server::secrets::signed_sha256(secret.as_bytes(), &[header("x-slipway-timestamp").as_bytes(), b".", body.as_bytes()], &header("x-slipway-signature")));
        let event: Value = serde_json::from_str(body).unwrap();
        assert_eq!((event["topic"].as_str(), event["recipient"].as_str()), (Some("sign_off"), Some("sam")), "{event}");
        assert_eq!(header("x-slipway-delivery"), event["delivery"].to_string());
        let group_slack = received.at("security-slack");
        assert_eq!(group_slack.len(), 1, "the group is told once, not once per member");
        assert!(group_slack[0].1.contains("Waiting for security"), "{}", group_slack[0].1);

        // The group's webhook answered 404: failed for good, shown to admins, retried by one.
        let deliveries: Value = serde_json::from_str(&ok(&ada, &server, "get_deliveries", &[]).await).unwrap();
        let failed: Vec<&Value> = deliveries["rows"].as_array().unwrap().iter().filter(|r| r["state"] == "failed").collect();
        assert_eq!(failed.len(), 1, "{deliveries}");
        assert_eq!(failed[0]["recipient"], "group security");
        assert!(failed[0]["last_error"].as_str().unwrap().contains("404"), "{}", failed[0]);
        let id = failed[0]["id"].to_string();
        assert_eq!(call(&dev, &server, "retry_delivery", &[("id", &id)]).await.0, 403);
        ok(&ada, &server, "retry_delivery", &[("id", &id)]).await;
        while worker.run_due().await > 0 {}
        assert_eq!(received.at("gone").len(), 2);
        let (status, body) = call(&ada, &server, "retry_delivery", &[("id", &id)]).await;
        assert_eq!((status, body.contains("did not fail")), (409, true), "{body}");
        let deliveries: Value = serde_json::from_str(&ok(&ada, &server, "get_deliveries", &[]).await).unwrap();
        assert_eq!(deliveries["failed"], 0, "{deliveries}");

        // A second sweep, and a restarted server's, tell nobody anything again.
        let mails = smtp.mails().len();
        let started = std::time::Instant::now();
        assert_eq!(app::server::notifications::sweep(&server.ctx).await.unwrap().notified, 0);
        eprintln!("a sweep with nothing new, {} people: {:.1} ms", app::server::entities::users::Entity::find().count(&db.conn).await.unwrap(), started.elapsed().as_secs_f64() * 1000.0);
        let restarted = TestServer::start(&db, ServerOptions { demo: false, settings: vec![("SLIPWAY_SMTP_URL", smtp.url())], ..ServerOptions::default() }).await;
        assert_eq!(app::server::notifications::sweep(&restarted.ctx).await.unwrap().notified, 0);
        while worker.run_due().await > 0 {}
        assert_eq!((smtp.mails().len(), received.at("pat-slack").len(), received.at("sam-hook").len()), (mails, 1, 1));

        // Pat signs off: the starter (Remy) hears it, once, however many replicas sweep at once.
        let release = the_release(&db).await;
        let (status, body) = crate::releases::vote(&pat, &server, release, 1, "product", true, "Notes read").await;
        assert_eq!(status, 200, "{body}");
        let (a, b) = tokio::join!(app::server::notifications::sweep(&server.ctx), app::server::notifications::sweep(&restarted.ctx));
        assert_eq!(a.unwrap().notified + b.unwrap().notified, 1);
        while worker.run_due().await > 0 {}
        let to_remy = smtp.to("remy@demo.slipway.test");
        let outcome: Vec<&Mail> = to_remy.iter().filter(|m| m.subject.contains("pat signed off")).collect();
        assert_eq!(outcome.len(), 1, "{to_remy:?}");
        assert!(outcome[0].body.contains("For product: “Notes read”"), "{:?}", outcome[0]);
        let inbox: Value = serde_json::from_str(&ok(&remy, &server, "get_notifications", &[]).await).unwrap();
        assert!(inbox["unread"].as_u64().unwrap() >= 1, "{inbox}");
        assert!(inbox["items"].as_array().unwrap().iter().any(|i| i["title"].as_str().unwrap().starts_with("pat signed off stage ")), "{inbox}");
        // Pat decided it: Pat is told nothing of it; and Pat reading their list changes only theirs.
        assert!(!smtp.to("pat@demo.slipway.test").iter().any(|m| m.subject.contains("signed off")));
        // Someone else's notification, named by id, is not theirs to mark read.
        let remys = notifications::Entity::find().filter(notifications::Column::Recipient.eq("remy")).filter(notifications::Column::ReadAt.is_null()).one(&db.conn).await.unwrap().expect("an unread notification of Remy's");
        assert_eq!(ok(&pat, &server, "mark_notifications_read", &[("id", &remys.id.to_string())]).await, "0");
        assert_eq!(notifications::Entity::find_by_id(remys.id).one(&db.conn).await.unwrap().unwrap().read_at, None);
        ok(&remy, &server, "mark_notifications_read", &[]).await;
        let inbox: Value = serde_json::from_str(&ok(&remy, &server, "get_notifications", &[]).await).unwrap();
        assert_eq!(inbox["unread"], 0, "{inbox}");
        let pats_unread = notifications::Entity::find().filter(notifications::Column::Recipient.eq("pat")).filter(notifications::Column::ReadAt.is_null()).count(&db.conn).await.unwrap();
        assert!(pats_unread >= 1);

        // Every delivery row is unique per notification and channel, and each went out once.
        let rows = notification_deliveries::Entity::find().all(&db.conn).await.unwrap();
        assert!(rows.iter().all(|d| d.sent_at.is_some()), "{rows:?}");
        let mut seen = std::collections::BTreeSet::new();
        assert!(rows.iter().all(|d| seen.insert((d.notification_id, d.channel.clone()))));
        let ids: Vec<String> = smtp.mails().into_iter().map(|m| m.message_id).collect();
        let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
        assert_eq!(ids.len(), unique.len(), "no message sent twice: {ids:?}");
        let actions: Vec<String> = app::server::entities::audit_events::Entity::find().all(&db.conn).await.unwrap().into_iter().map(|e| e.action).collect();
        for action in ["account.notifications", "notification.target_set", "notification.retry", "notification.read"] {
            assert!(actions.iter().any(|a| a == action), "{action} missing");
        }
    }
}

db_test! {
    async fn two_replicas_and_a_killed_one_send_each_e_mail_once(db: TestDb) {
        let Some(smtp) = SmtpServer::start(&db.dir).await else { return };
        let settings = [("SLIPWAY_SMTP_URL", smtp.url())];
        let env: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut a = ServerProcess::start(&db, &env).await;
        let b = ServerProcess::start(&db, &env).await;
        // Both replicas sweep: the production sign-off reaches Pat and Sam once each.
        let wait_for = |address: &'static str, subject: &'static str| {
            let smtp = &smtp;
            async move {
                for _ in 0..300 {
                    if smtp.to(address).iter().any(|m| m.subject.contains(subject)) {
                        return;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                panic!("nothing reached {address}: {:?}", smtp.mails());
            }
        };
        wait_for("pat@demo.slipway.test", "Sign off production").await;
        wait_for("sam@demo.slipway.test", "Sign off production").await;
        // One replica killed mid-life and started again; Pat signs off through the other.
        a.kill().await;
        let pat = client();
        demo_sign_in(&pat, &b, "pat").await;
        let release = the_release(&db).await.to_string();
        ok(&pat, &b, "vote_release", &[("id", &release), ("stage", "1"), ("group", "product"), ("approve", "true"), ("comment", "")]).await;
        a.restart().await;
        wait_for("remy@demo.slipway.test", "pat signed off").await;
        // More sweeps on both (one per 10 s at most while things change, every minute else).
        tokio::time::sleep(std::time::Duration::from_secs(12)).await;
        for address in ["pat@demo.slipway.test", "sam@demo.slipway.test"] {
            let mails = smtp.to(address);
            let sign_offs = mails.iter().filter(|m| m.subject.contains("Sign off production")).count();
            assert_eq!(sign_offs, 1, "{address}: {mails:?}\n{}\n{}", a.output(), b.output());
        }
        let to_remy = smtp.to("remy@demo.slipway.test");
        assert_eq!(to_remy.iter().filter(|m| m.subject.contains("pat signed off")).count(), 1, "{to_remy:?}");
        let told = notifications::Entity::find().filter(notifications::Column::Recipient.eq("pat")).filter(notifications::Column::Topic.eq("sign_off")).count(&db.conn).await.unwrap();
        assert_eq!(told, 1);
    }
}
