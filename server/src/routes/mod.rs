//! Routes outside Leptos: sign-in and sign-out, forge webhooks, live page events, health.

pub mod auth;
pub mod events;
pub mod hooks;

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// A plain page in the portal's style for answers that come from axum routes, not Leptos pages
/// (a refused sign-in, say). `message` is text, escaped here.
pub fn plain_page(status: StatusCode, title: &str, message: &str) -> Response {
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width, initial-scale=1\"><title>{title} · Slipway</title>\
         <link rel=\"stylesheet\" href=\"{stylesheet}\"></head><body><div class=\"app\">\
         <header class=\"topbar\"><a class=\"brand\" href=\"/\"><span>Slipway</span></a></header>\
         <main id=\"main\" class=\"content\"><section class=\"error-panel\" role=\"alert\" data-status=\"{code}\">\
         <div class=\"error-code\">{code}</div><div><h2>{title}</h2><p>{message}</p>\
         <a class=\"button primary\" href=\"/auth/signin\">Sign in again</a></div></section></main></div></body></html>",
        title = escape(title),
        message = escape(message),
        code = status.as_u16(),
        stylesheet = crate::site::SiteNames::get().stylesheet,
    );
    (status, Html(body)).into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub async fn healthz() -> &'static str {
    "ok"
}
