//! How notifications leave the server: e-mail through the SMTP server an admin configured
//! (`SLIPWAY_SMTP_URL`, with lettre), and JSON posts to Slack incoming webhooks and people's own
//! webhooks through the egress policy like every other outbound request.

use super::egress::{Egress, Http, Unanswered};
use crate::config::SmtpSettings;
use app::server::ports::{Email, ExternalError, Messenger};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::sync::Arc;

pub struct Mailer {
    smtp: Option<(AsyncSmtpTransport<Tokio1Executor>, lettre::message::Mailbox)>,
    http: Http,
}

impl Mailer {
    pub fn new(smtp: Option<&SmtpSettings>, egress: &Arc<Egress>) -> anyhow::Result<Mailer> {
        let smtp = match smtp {
            Some(settings) => Some((
                AsyncSmtpTransport::<Tokio1Executor>::from_url(settings.url.expose())?
                    .timeout(Some(std::time::Duration::from_secs(30)))
                    .build(),
                settings.from.parse()?,
            )),
            None => None,
        };
        Ok(Mailer {
            smtp,
            http: Http::new(egress.clone()),
        })
    }
}

#[async_trait::async_trait]
impl Messenger for Mailer {
    fn email_configured(&self) -> bool {
        self.smtp.is_some()
    }

    async fn send_email(&self, email: Email<'_>) -> Result<(), ExternalError> {
        let Some((transport, from)) = &self.smtp else {
            return Err(ExternalError::permanent(
                "e-mail is not configured on this server (SLIPWAY_SMTP_URL)",
            ));
        };
        let to = email.to.parse().map_err(|e| {
            ExternalError::permanent(format!("{:?} is not an e-mail address: {e}", email.to))
        })?;
        // 8bit keeps the text readable as written (names and quotes are UTF-8; every SMTP
        // server of this century takes 8BITMIME); a line too long for it falls back to what
        // lettre picks.
        use lettre::message::{header::ContentTransferEncoding, Body};
        let body =
            Body::new_with_encoding(email.text.to_string(), ContentTransferEncoding::EightBit)
                .unwrap_or_else(|text| Body::new(text));
        let message = Message::builder()
            .from(from.clone())
            .to(to)
            .subject(email.subject)
            .message_id(Some(email.message_id.to_string()))
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| ExternalError::permanent(format!("the e-mail does not build: {e}")))?;
        match transport.send(message).await {
            Ok(_) => Ok(()),
            // A permanent SMTP answer (5xx: no such mailbox) fails for good; the rest (the
            // server down, 4xx: try later) is retried.
            Err(e) if e.is_permanent() => Err(ExternalError::permanent(format!(
                "the mail server refused it: {e}"
            ))),
            Err(e) => Err(ExternalError::transient(format!(
                "the mail server did not take it: {e}"
            ))),
        }
    }

    async fn post_json(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: &str,
    ) -> Result<(), ExternalError> {
        let mut request = self
            .http
            .post(url)
            .header("Content-Type", "application/json")
            .body(body.to_string());
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let host = url::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default();
        let response = self.http.send(request).await.map_err(|e| match e {
            Unanswered::Refused(why) => ExternalError::permanent(why),
            Unanswered::Failed(e) => {
                ExternalError::transient(format!("cannot reach {host}: {}", Unanswered::Failed(e)))
            }
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let said: String = response
            .text()
            .await
            .unwrap_or_default()
            .chars()
            .take(200)
            .collect();
        let message = format!("{host} answered {status}: {}", said.trim());
        match status.as_u16() {
            408 | 429 | 500..=599 => Err(ExternalError::transient(message)),
            _ => Err(ExternalError::permanent(message)),
        }
    }

    async fn check_url(&self, url: &str) -> Result<(), String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
        if !matches!(parsed.scheme(), "https" | "http") {
            return Err(format!("{url:?} must start with https://"));
        }
        let host = parsed
            .host_str()
            .ok_or_else(|| format!("{url:?} names no host"))?;
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err("the URL may not hold a user name or password".into());
        }
        // Addresses written in the URL are checked here; names when connecting (the client's
        // resolver refuses what the policy refuses), so a name need not resolve today.
        let egress = self.http.egress();
        egress.check_url(&parsed)?;
        if parsed.scheme() == "http" && !egress.listed(host) {
            return Err(format!(
                "{url:?} must use https (plain http only to a host an admin listed in SLIPWAY_ALLOWED_HOSTS)"
            ));
        }
        Ok(())
    }
}
