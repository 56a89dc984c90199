//! The built site (stylesheet, hydration bundle and its lazily loaded parts, static files): the
//! content-hashed names cargo-leptos gave them, read once at start-up, and how they are served.
//!
//! Files whose name carries their content hash never change under that name, so browsers keep
//! them for a year without asking again; everything else is revalidated on each use. Each file is
//! sent in the precompressed form (`.br`, `.gz`, made by `cargo leptos build --precompress`) that
//! the request's `Accept-Encoding` prefers.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::Response;
use leptos::prelude::LeptosOptions;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use tower::ServiceExt;
use tower_http::services::ServeDir;

/// The name cargo-leptos writes beside the binary, listing the hashes of the site's files.
const HASH_FILE: &str = "hash.txt";

/// A year: the longest lifetime caches honour, for names that change whenever their content does.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Everything else may change at the next deployment: use it, but ask first (a 304 is cheap).
const REVALIDATE: &str = "no-cache";

/// What the site's files are called in this build.
#[derive(Clone, Debug)]
pub struct SiteNames {
    /// `hash.txt` was found beside the binary: names under `/pkg/` carry content hashes.
    pub hashed: bool,
    /// The stylesheet's path, e.g. `/pkg/slipway.Ab3….css`.
    pub stylesheet: String,
}

static NAMES: OnceLock<SiteNames> = OnceLock::new();

impl SiteNames {
    /// Reads `hash.txt` from the binary's directory (where cargo-leptos writes it and where
    /// Leptos's `HydrationScripts` looks for it).
    pub fn discover(output_name: &str, pkg_dir: &str) -> SiteNames {
        let hashes = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|dir| dir.join(HASH_FILE)))
            .and_then(|path| std::fs::read_to_string(path).ok());
        Self::from_hash_file(hashes.as_deref(), output_name, pkg_dir)
    }

    fn from_hash_file(hashes: Option<&str>, output_name: &str, pkg_dir: &str) -> SiteNames {
        let css_hash = hashes.and_then(|text| {
            text.lines()
                .filter_map(|line| line.split_once(':'))
                .find(|(kind, _)| kind.trim() == "css")
                .map(|(_, hash)| hash.trim().to_string())
        });
        let stylesheet = match &css_hash {
            Some(hash) => format!("/{pkg_dir}/{output_name}.{hash}.css"),
            None => format!("/{pkg_dir}/{output_name}.css"),
        };
        SiteNames {
            hashed: hashes.is_some(),
            stylesheet,
        }
    }

    /// The names of this process's site, found once.
    pub fn get() -> &'static SiteNames {
        NAMES.get_or_init(|| SiteNames::discover("slipway", "pkg"))
    }

    /// Leptos options for the site, with file hashing on when this build hashed its files.
    pub fn leptos_options(site_root: &Path, addr: std::net::SocketAddr) -> LeptosOptions {
        let names = Self::get();
        LeptosOptions::builder()
            .output_name("slipway")
            .site_root(site_root.display().to_string())
            .site_pkg_dir("pkg")
            .site_addr(addr)
            .hash_files(names.hashed)
            .build()
    }
}

/// Whether a file name carries a content hash: a dot-separated segment of 16 or more
/// base64url characters holding a digit or a capital (so `favicon.svg` or `main.js` never
/// match), as cargo-leptos (`slipway.<md5>.wasm`) and the wasm splitter name their outputs.
pub fn is_content_hashed(file_name: &str) -> bool {
    let mut parts: Vec<&str> = file_name.split('.').collect();
    parts.pop(); // the extension
    parts.iter().skip(1).any(|part| {
        part.len() >= 16
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && part
                .bytes()
                .any(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
    })
}

/// Serves a file of the built site, or `None` when there is none at that path (the caller then
/// renders the portal's 404 page).
pub fn serve(
    site_root: &Path,
    request: &Request,
) -> impl std::future::Future<Output = Option<Response>> + Send + 'static {
    let site_root = site_root.to_path_buf();
    let copy = file_request(request);
    async move {
        let (copy, immutable) = copy?;
        serve_copy(&site_root, copy, immutable).await
    }
}

/// The parts of `request` that choose a file and its encoding, when it asks for one.
fn file_request(request: &Request) -> Option<(Request, bool)> {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return None;
    }
    let path = request.uri().path().to_string();
    let file_name = path.rsplit('/').next().unwrap_or_default();
    if file_name.is_empty() {
        return None;
    }
    let immutable = path.starts_with("/pkg/") && is_content_hashed(file_name);
    let mut copy = Request::builder()
        .method(request.method().clone())
        .uri(request.uri().clone())
        .body(Body::empty())
        .ok()?;
    *copy.headers_mut() = request.headers().clone();
    Some((copy, immutable))
}

async fn serve_copy(site_root: &Path, copy: Request, immutable: bool) -> Option<Response> {
    let files = ServeDir::new(PathBuf::from(site_root))
        .precompressed_br()
        .precompressed_gzip()
        .append_index_html_on_directories(false);
    let response = match files.oneshot(copy).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    match response.status() {
        StatusCode::OK | StatusCode::NOT_MODIFIED | StatusCode::PARTIAL_CONTENT => {}
        _ => return None,
    }
    let mut response = response.map(Body::new);
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if immutable { IMMUTABLE } else { REVALIDATE }),
    );
    // The same URL answers br, gzip or identity by the request's Accept-Encoding.
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    Some(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_are_told_from_plain_ones() {
        for hashed in [
            "slipway.Xz9kQ2v_b1-4TnPq8RsUwA.wasm",
            "slipway.Xz9kQ2v_b1-4TnPq8RsUwA.js",
            "__wasm_split.Xz9kQ2v_b1-4TnPq8RsUwA.js",
            "__wasm_split_manifest.Xz9kQ2v_b1-4TnPq8RsUwA.json",
        ] {
            assert!(is_content_hashed(hashed), "{hashed}");
        }
        for plain in [
            "slipway.wasm",
            "slipway_bg.wasm",
            "favicon.svg",
            "slipway.css",
            "__wasm_split.______________________.js",
            "robots.txt",
        ] {
            assert!(!is_content_hashed(plain), "{plain}");
        }
    }

    #[test]
    fn the_stylesheet_name_comes_from_the_hash_file() {
        let names = SiteNames::from_hash_file(
            Some("js: AAAAAAAAAAAAAAAAAAAAA1\nwasm: BBBBBBBBBBBBBBBBBBBBB2\ncss: CCCCCCCCCCCCCCCCCCCCC3\n"),
            "slipway",
            "pkg",
        );
        assert!(names.hashed);
        assert_eq!(names.stylesheet, "/pkg/slipway.CCCCCCCCCCCCCCCCCCCCC3.css");
        let plain = SiteNames::from_hash_file(None, "slipway", "pkg");
        assert!(!plain.hashed);
        assert_eq!(plain.stylesheet, "/pkg/slipway.css");
    }
}
