//! The demo cloud: the world the demo's resources live in, served under `slipway serve --demo`
//! at `/demo-cloud/v1`. It keeps objects (a kind, a name, string properties, an id it gives)
//! in `<data dir>/demo-cloud.json`; the demo cloud's Terraform provider
//! (`tools/demo-cloud/provider.py`, reached by runs through `SLIPWAY_DEMO_CLOUD`) creates,
//! reads, updates and deletes them. Changing an object here behind Slipway's back (`PATCH` its
//! properties, or `DELETE` it) is drift, as a change made in a cloud console is.
//!
//! Only the demo has it: it is not mounted otherwise. It takes no credentials (the demo's
//! sign-in is open too) and answers only JSON.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The most objects the demo cloud holds (a runaway loop stops here, not at the disk).
const MAX_OBJECTS: usize = 10_000;

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct CloudObject {
    pub id: String,
    pub kind: String,
    pub name: String,
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Body {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    properties: BTreeMap<String, String>,
}

pub struct DemoCloud {
    path: std::path::PathBuf,
    lock: tokio::sync::Mutex<()>,
}

type Shared = Arc<DemoCloud>;

impl DemoCloud {
    pub fn new(data_dir: &std::path::Path) -> Shared {
        Arc::new(DemoCloud {
            path: data_dir.join("demo-cloud.json"),
            lock: tokio::sync::Mutex::new(()),
        })
    }

    fn load(&self) -> BTreeMap<String, CloudObject> {
        std::fs::read(&self.path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    fn save(&self, objects: &BTreeMap<String, CloudObject>) -> Result<(), Response> {
        let text = serde_json::to_vec_pretty(objects).map_err(|e| failure(e.to_string()))?;
        let partial = self.path.with_extension("json.partial");
        std::fs::write(&partial, text)
            .and_then(|()| std::fs::rename(&partial, &self.path))
            .map_err(|e| failure(format!("the demo cloud cannot save: {e}")))
    }
}

fn failure(message: String) -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(serde_json::json!({ "error": message })),
    )
        .into_response()
}

fn refused(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(serde_json::json!({ "error": message.into() }))).into_response()
}

fn checked_kind(kind: &str) -> Result<(), Response> {
    let fine = !kind.is_empty()
        && kind.len() <= 40
        && kind
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if fine {
        Ok(())
    } else {
        Err(refused(
            StatusCode::BAD_REQUEST,
            "a kind is 1 to 40 lowercase letters, digits or hyphens",
        ))
    }
}

/// Serves the demo cloud alone on a port of 127.0.0.1 (the demo's seeding applies resources
/// before the server listens) and answers its address; it stops when the task is aborted.
pub async fn listen(
    data_dir: &std::path::Path,
) -> std::io::Result<(String, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/demo-cloud", listener.local_addr()?);
    let app: Router = routes(DemoCloud::new(data_dir));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((url, task))
}

/// The demo cloud's routes, to merge into the server's router.
pub fn routes<S: Clone + Send + Sync + 'static>(cloud: Shared) -> Router<S> {
    Router::new()
        .route("/demo-cloud/v1", get(list))
        .route("/demo-cloud/v1/{kind}", get(list_kind).post(create))
        .route(
            "/demo-cloud/v1/{kind}/{id}",
            get(read).put(replace).patch(patch).delete(remove),
        )
        .with_state(cloud)
}

async fn list(State(cloud): State<Shared>) -> Response {
    let _held = cloud.lock.lock().await;
    Json(cloud.load().into_values().collect::<Vec<_>>()).into_response()
}

async fn list_kind(State(cloud): State<Shared>, Path(kind): Path<String>) -> Response {
    let _held = cloud.lock.lock().await;
    let objects: Vec<CloudObject> = cloud
        .load()
        .into_values()
        .filter(|o| o.kind == kind)
        .collect();
    Json(objects).into_response()
}

async fn create(
    State(cloud): State<Shared>,
    Path(kind): Path<String>,
    Json(body): Json<Body>,
) -> Response {
    if let Err(refusal) = checked_kind(&kind) {
        return refusal;
    }
    let Some(name) = body.name.filter(|n| !n.trim().is_empty()) else {
        return refused(StatusCode::BAD_REQUEST, "name: an object needs a name");
    };
    let _held = cloud.lock.lock().await;
    let mut objects = cloud.load();
    if objects.len() >= MAX_OBJECTS {
        return refused(
            StatusCode::INSUFFICIENT_STORAGE,
            format!("the demo cloud holds {MAX_OBJECTS} objects already"),
        );
    }
    let id = format!("{kind}-{:08x}", rand::random::<u32>());
    let object = CloudObject {
        id: id.clone(),
        kind,
        name,
        properties: body.properties,
    };
    objects.insert(id, object.clone());
    if let Err(e) = cloud.save(&objects) {
        return e;
    }
    (StatusCode::CREATED, Json(object)).into_response()
}

async fn read(State(cloud): State<Shared>, Path((kind, id)): Path<(String, String)>) -> Response {
    let _held = cloud.lock.lock().await;
    match cloud.load().remove(&id).filter(|o| o.kind == kind) {
        Some(object) => Json(object).into_response(),
        None => refused(StatusCode::NOT_FOUND, format!("no {kind} {id}")),
    }
}

/// Replaces the object's name and properties (an apply).
async fn replace(
    State(cloud): State<Shared>,
    Path((kind, id)): Path<(String, String)>,
    Json(body): Json<Body>,
) -> Response {
    change(&cloud, &kind, &id, |object| {
        if let Some(name) = body.name {
            object.name = name;
        }
        object.properties = body.properties;
    })
    .await
}

/// Sets some properties and keeps the others (a change made by hand in the console).
async fn patch(
    State(cloud): State<Shared>,
    Path((kind, id)): Path<(String, String)>,
    Json(properties): Json<BTreeMap<String, String>>,
) -> Response {
    change(&cloud, &kind, &id, |object| {
        object.properties.extend(properties)
    })
    .await
}

async fn change(
    cloud: &DemoCloud,
    kind: &str,
    id: &str,
    edit: impl FnOnce(&mut CloudObject),
) -> Response {
    let _held = cloud.lock.lock().await;
    let mut objects = cloud.load();
    let Some(object) = objects.get_mut(id).filter(|o| o.kind == kind) else {
        return refused(StatusCode::NOT_FOUND, format!("no {kind} {id}"));
    };
    edit(object);
    let object = object.clone();
    if let Err(e) = cloud.save(&objects) {
        return e;
    }
    Json(object).into_response()
}

async fn remove(State(cloud): State<Shared>, Path((kind, id)): Path<(String, String)>) -> Response {
    let _held = cloud.lock.lock().await;
    let mut objects = cloud.load();
    if objects.get(&id).is_none_or(|o| o.kind != kind) {
        return StatusCode::NO_CONTENT.into_response();
    }
    objects.remove(&id);
    if let Err(e) = cloud.save(&objects) {
        return e;
    }
    StatusCode::NO_CONTENT.into_response()
}
