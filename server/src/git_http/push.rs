//! A push as the portal reads it before git does: its ref updates from the start of the body,
//! checked against the repository's guarded refs, and git's own report when they are refused.

use super::refuse;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use std::collections::BTreeMap;
use std::path::Path;

/// The most bytes the commands at the start of a push may take (each is one ref update).
pub(super) const MAX_COMMANDS: usize = 1 << 20;

/// Reads a push's ref updates from the start of its body and checks them. Refused: the whole
/// push is answered with each ref declined (nothing reaches `git http-backend`). Allowed: the
/// request, its body whole again, to hand on.
pub(super) async fn checked_push(
    db: &sea_orm::DatabaseConnection,
    actor: &app::server::Actor,
    repository: &str,
    guarded: &app::domain::pushes::Guarded,
    request: Request,
) -> Result<Request, Response> {
    let (parts, body) = request.into_parts();
    let encoding = parts
        .headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity");
    if !encoding.eq_ignore_ascii_case("identity") {
        // git sends pushes uncompressed; a compressed one would hide its ref updates.
        return Err(refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the push uncompressed",
        ));
    }
    let mut stream = body.into_data_stream();
    let (head, updates, capabilities) = read_commands(&mut stream).await?;
    let refused =
        match app::server::forge_access::check_push(db, actor, repository, guarded, &updates).await
        {
            Ok(refused) => refused,
            Err(error) => {
                return Err(refuse(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &error.to_string(),
                ))
            }
        };
    if refused.is_empty() {
        let rest = futures_util::stream::once(async move {
            Ok::<_, axum::Error>(axum::body::Bytes::from(head))
        })
        .chain(stream);
        return Ok(Request::from_parts(parts, Body::from_stream(rest)));
    }
    // The client sends its pack whole before it reads the answer: take it (for at most 30 s)
    // and throw it away, so that it hears the refusal rather than a broken connection.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while let Some(Ok(_)) = stream.next().await {}
    })
    .await;
    Err(declined(&updates, &refused, &capabilities))
}

/// The bytes of a push up to the end of its ref updates, with the updates and capabilities read
/// from them.
#[allow(clippy::type_complexity)]
async fn read_commands(
    stream: &mut axum::body::BodyDataStream,
) -> Result<(Vec<u8>, Vec<app::domain::pushes::RefUpdate>, Vec<String>), Response> {
    let mut head: Vec<u8> = Vec::new();
    loop {
        match receive_commands(&head) {
            Ok(Some((updates, capabilities))) => return Ok((head, updates, capabilities)),
            Ok(None) if head.len() > MAX_COMMANDS => {
                return Err(refuse(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too many ref updates in one push",
                ))
            }
            Ok(None) => {}
            Err(reason) => return Err(refuse(StatusCode::BAD_REQUEST, &reason)),
        }
        match stream.next().await {
            Some(Ok(chunk)) => head.extend_from_slice(&chunk),
            Some(Err(_)) | None => {
                return Err(refuse(
                    StatusCode::BAD_REQUEST,
                    "the push ended before its ref updates",
                ))
            }
        }
    }
}

/// A refused push's answer: git's report with each ref declined where the client reads one,
/// else the reasons as a 403.
fn declined(
    updates: &[app::domain::pushes::RefUpdate],
    refused: &[(String, String)],
    capabilities: &[String],
) -> Response {
    // Git 2.29 and later ask for report-status-v2; its refusals read as in the first version.
    let reported = capabilities
        .iter()
        .any(|c| c == "report-status" || c == "report-status-v2");
    if !reported {
        let reasons: Vec<String> = refused
            .iter()
            .map(|(r, why)| format!("{r}: {why}"))
            .collect();
        return refuse(StatusCode::FORBIDDEN, &reasons.join("\n"));
    }
    let sideband = capabilities.iter().any(|c| c == "side-band-64k");
    (
        [
            (
                header::CONTENT_TYPE,
                "application/x-git-receive-pack-result",
            ),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        push_report(updates, refused, sideband),
    )
        .into_response()
}

/// The ref updates and capabilities at the start of a receive-pack request (pkt-lines up to a
/// flush): `None` while more bytes are needed.
#[allow(clippy::type_complexity)]
fn receive_commands(
    buf: &[u8],
) -> Result<Option<(Vec<app::domain::pushes::RefUpdate>, Vec<String>)>, String> {
    let mut updates = Vec::new();
    let mut capabilities = Vec::new();
    let mut at = 0;
    while at + 4 <= buf.len() {
        let length = std::str::from_utf8(&buf[at..at + 4])
            .ok()
            .and_then(|h| usize::from_str_radix(h, 16).ok())
            .ok_or("not a git push (a pkt-line length is not hex)")?;
        if length == 0 {
            return Ok(Some((updates, capabilities)));
        }
        if length < 4 {
            return Err("not a git push (a pkt-line is shorter than its length)".into());
        }
        if at + length > buf.len() {
            return Ok(None);
        }
        let line = &buf[at + 4..at + length];
        at += length;
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        if line.starts_with(b"shallow ") {
            continue;
        }
        if line.starts_with(b"push-cert") {
            return Err("signed pushes (push certificates) are not taken".into());
        }
        let (command, caps) = match line.iter().position(|b| *b == 0) {
            Some(nul) => (&line[..nul], Some(&line[nul + 1..])),
            None => (line, None),
        };
        if let Some(caps) = caps {
            capabilities = String::from_utf8_lossy(caps)
                .split(' ')
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect();
        }
        let command = std::str::from_utf8(command).map_err(|_| "a ref update is not text")?;
        let mut fields = command.splitn(3, ' ');
        let (Some(old), Some(new), Some(name)) = (fields.next(), fields.next(), fields.next())
        else {
            return Err(format!(
                "not a ref update: {:?}",
                command.chars().take(200).collect::<String>()
            ));
        };
        updates.push(app::domain::pushes::RefUpdate {
            old: old.into(),
            new: new.into(),
            name: name.into(),
        });
    }
    Ok(None)
}

fn pkt(data: &[u8]) -> Vec<u8> {
    let mut line = format!("{:04x}", data.len() + 4).into_bytes();
    line.extend_from_slice(data);
    line
}

/// The answer git expects when a pre-receive hook declines a push: the pack unpacked (it was
/// read), every ref "ng" with its reason, optionally wrapped in side-band packets with the
/// reasons also shown as `remote:` lines.
fn push_report(
    updates: &[app::domain::pushes::RefUpdate],
    refused: &[(String, String)],
    sideband: bool,
) -> Vec<u8> {
    let mut report = pkt(b"unpack ok\n");
    for update in updates {
        let reason = refused.iter().find(|(r, _)| *r == update.name).map_or(
            "the push was refused whole (see the other refs)",
            |(_, why)| why.as_str(),
        );
        report.extend(pkt(format!("ng {} {reason}\n", update.name).as_bytes()));
    }
    report.extend_from_slice(b"0000");
    if !sideband {
        return report;
    }
    let mut out = Vec::new();
    for (name, why) in refused {
        let mut progress = vec![2u8];
        progress.extend_from_slice(format!("Slipway refused {name}: {why}\n").as_bytes());
        out.extend(pkt(&progress));
    }
    for chunk in report.chunks(65515) {
        let mut data = vec![1u8];
        data.extend_from_slice(chunk);
        out.extend(pkt(&data));
    }
    out.extend_from_slice(b"0000");
    out
}

/// Every ref and the commit it names.
pub(super) fn refs(repository: &Path) -> BTreeMap<String, String> {
    let Ok(git) = git2::Repository::open_bare(repository) else {
        return BTreeMap::new();
    };
    let Ok(references) = git.references() else {
        return BTreeMap::new();
    };
    references
        .flatten()
        .filter_map(|r| Some((r.name()?.to_string(), r.target()?.to_string())))
        .collect()
}

pub(super) fn moved(
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
) -> BTreeMap<String, (Option<String>, Option<String>)> {
    before
        .keys()
        .chain(after.keys())
        .filter(|name| before.get(*name) != after.get(*name))
        .map(|name| {
            (
                name.clone(),
                (before.get(name).cloned(), after.get(name).cloned()),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(old: char, new: char, name: &str, caps: Option<&str>) -> Vec<u8> {
        let mut line = format!(
            "{} {} {name}",
            old.to_string().repeat(40),
            new.to_string().repeat(40)
        )
        .into_bytes();
        if let Some(caps) = caps {
            line.push(0);
            line.extend_from_slice(caps.as_bytes());
        }
        line.push(b'\n');
        pkt(&line)
    }

    #[test]
    fn a_push_s_commands_are_read_up_to_the_flush_whatever_follows() {
        let mut body = pkt(b"shallow 1111111111111111111111111111111111111111\n");
        body.extend(command(
            'a',
            'b',
            "refs/heads/main",
            Some("report-status side-band-64k agent=git/2.47"),
        ));
        body.extend(command('0', 'c', "refs/tags/v1.0.0", None));
        let flush_at = body.len();
        body.extend_from_slice(b"0000PACK\x00\x00\x00\x02garbage");
        for cut in 0..flush_at + 4 {
            assert_eq!(
                receive_commands(&body[..cut]),
                Ok(None),
                "{cut} bytes are not enough"
            );
        }
        let (updates, caps) = receive_commands(&body).unwrap().unwrap();
        assert_eq!(updates.len(), 2);
        assert_eq!(
            (updates[0].name.as_str(), updates[1].old.as_str()),
            ("refs/heads/main", app::domain::pushes::ZERO)
        );
        assert!(
            caps.contains(&"report-status".to_string())
                && caps.contains(&"side-band-64k".to_string())
        );
        assert!(receive_commands(b"zzzz").is_err());
        assert!(receive_commands(b"0003").is_err());
        let mut signed = pkt(b"push-cert\0report-status\n");
        signed.extend_from_slice(b"0000");
        assert!(receive_commands(&signed)
            .unwrap_err()
            .contains("push certificates"));
    }

    #[test]
    fn a_refused_push_is_reported_as_git_reports_a_declined_hook() {
        let updates = vec![
            app::domain::pushes::RefUpdate {
                old: "a".repeat(40),
                new: "b".repeat(40),
                name: "refs/heads/main".into(),
            },
            app::domain::pushes::RefUpdate {
                old: "a".repeat(40),
                new: "b".repeat(40),
                name: "refs/heads/feat".into(),
            },
        ];
        let refused = vec![(
            "refs/heads/main".to_string(),
            "main is protected".to_string(),
        )];
        let plain = String::from_utf8(push_report(&updates, &refused, false)).unwrap();
        assert_eq!(plain, "000eunpack ok\n0029ng refs/heads/main main is protected\n0047ng refs/heads/feat the push was refused whole (see the other refs)\n0000");
        let banded = push_report(&updates, &refused, true);
        assert!(banded.ends_with(b"0000"));
        let text = String::from_utf8_lossy(&banded);
        assert!(
            text.contains("\u{2}Slipway refused refs/heads/main: main is protected")
                && text.contains("\u{1}000eunpack ok"),
            "{text}"
        );
    }
}
