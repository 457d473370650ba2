//! The HTTP JSON API (`nagare serve`): versioned under `/v1`, bearer tokens, RFC 9457
//! problems, size limits and timeouts, `/healthz`, Prometheus `/metrics` and the OpenAPI 3.1
//! document at `/openapi.json`. Every operation goes through the engine's access service,
//! the same one the CLI uses.

pub mod cancel;
pub mod dto;
pub mod outbox;
mod problem;

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::{
    DefaultBodyLimit, FromRequest, FromRequestParts, MatchedPath, Path, Request, State,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use nagare_engine::access::{AccessError, DeliveryRequest, Principal, Service, TaskQuery};
use nagare_engine::runtime::{DeliveryTarget, ItemState, TaskState};
use nagare_engine::store::ItemFilter;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use utoipa::OpenApi;

use dto::*;
pub use problem::ApiError;

/// Largest request body accepted (a delivered file travels base64 in the body).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// Longest a request may take before it is answered 503.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub service: Arc<Service>,
    metrics: PrometheusHandle,
}

impl AppState {
    pub fn new(service: Arc<Service>) -> Self {
        Self {
            service,
            metrics: metrics_handle(),
        }
    }
}

/// Installs the Prometheus recorder once per process and returns its handle.
fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Another recorder may be installed already (tests); ours then stays unused.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// Returns the router of the whole API.
pub fn router(state: AppState) -> Router {
    let v1 = Router::new()
        .route("/me", get(me))
        .route("/tasks", get(list_tasks))
        .route("/tasks/claim-next", post(claim_next_task))
        .route("/tasks/{id}", get(show_task))
        .route("/tasks/{id}/claim", post(claim_task))
        .route("/tasks/{id}/release", post(release_task))
        .route("/tasks/{id}/complete", post(complete_task))
        .route("/tasks/{id}/reassign", post(reassign_task))
        .route("/tasks/{id}/comments", post(comment_task))
        .route("/items", get(list_items).post(start_item))
        .route("/items/{id}", get(show_item))
        .route("/items/{id}/history", get(item_history))
        .route("/items/{id}/retry", post(retry_item))
        .route("/items/{id}/skip", post(skip_item))
        .route("/deliveries", post(deliver))
        .route("/users", get(list_users).post(add_user))
        .route("/users/{name}/revoke", post(revoke_user))
        .route("/users/{name}/tokens", post(issue_token))
        .route("/audit/verify", get(verify_audit))
        .merge(cancel::routes())
        .merge(outbox::routes());
    Router::new()
        .nest("/v1", v1)
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .route("/openapi.json", get(openapi_json))
        .fallback(not_found)
        .layer(middleware::from_fn(observe))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Counts and times each request by route and status, and answers 503 past the timeout.
async fn observe(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = match tokio::time::timeout(REQUEST_TIMEOUT, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::timeout().into_response(),
    };
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("nagare_http_requests_total", &labels).increment(1);
    metrics::histogram!("nagare_http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

async fn not_found() -> ApiError {
    ApiError::not_found_route()
}

// ---- extractors ---------------------------------------------------------------------------

/// The caller, from `Authorization: Bearer TOKEN`.
pub struct Auth(pub Principal);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(&parts.headers).ok_or_else(|| {
            ApiError::from(AccessError::Unauthenticated(
                "send `Authorization: Bearer TOKEN` with a token from `nagare user add`".into(),
            ))
        })?;
        Ok(Self(state.service.authenticate(token).await?))
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// A JSON body; malformed JSON and wrong types are answered 400 naming the field.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                let v = v.to_ascii_lowercase();
                v.starts_with("application/json")
                    || (v.starts_with("application/") && v.contains("+json"))
            });
        if !json {
            return Err(ApiError::unsupported_media_type());
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::body_rejected(e.status(), &e.body_text()))?;
        if contains_nul_escape(&bytes) {
            return Err(ApiError::invalid_field(
                ".",
                "text must not contain NUL characters (\\u0000)",
            ));
        }
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            ApiError::bad_json(path, e.inner())
        })?;
        de.end().map_err(|e| ApiError::bad_json(".".into(), &e))?;
        Ok(Self(value))
    }
}

/// Returns whether a JSON text holds an escaped NUL (`\u0000`), which no text column of
/// PostgreSQL can store and no field of this API needs.
fn contains_nul_escape(bytes: &[u8]) -> bool {
    bytes
        .windows(6)
        .any(|w| w[0] == b'\\' && w[1] == b'u' && &w[2..] == b"0000")
}

/// A query string; unknown parameters and wrong types are answered 400 naming the field.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        if let Some((key, _)) = form_urlencoded::parse(query.as_bytes())
            .find(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            return Err(ApiError::invalid_field(
                &key.replace('\0', ""),
                "text must not contain NUL characters",
            ));
        }
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(Query)
            .map_err(|e| ApiError::bad_query(e.path().to_string(), e.inner()))
    }
}

/// A numeric path id; anything else is answered 400 naming it.
pub struct Id(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::invalid_field("id", &e.body_text()))?;
        raw.parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .map(Id)
            .ok_or_else(|| ApiError::invalid_field("id", "the id must be a positive whole number"))
    }
}

fn no_nul(field: &str, text: String) -> Result<String, ApiError> {
    if text.contains('\0') {
        Err(ApiError::invalid_field(
            field,
            "text must not contain NUL characters",
        ))
    } else {
        Ok(text)
    }
}

fn parse_state<T>(
    field: &str,
    value: Option<&str>,
    parse: fn(&str) -> Option<T>,
    all: &[&str],
) -> Result<Option<T>, ApiError> {
    value
        .map(|s| {
            parse(s).ok_or_else(|| {
                ApiError::invalid_field(field, &format!("`{s}` is not one of {}", all.join(", ")))
            })
        })
        .transpose()
}

// ---- documentation ----------------------------------------------------------------------

#[derive(OpenApi)]
#[openapi(
    info(
        title = "nagare",
        description = "Task queues, work items and deliveries of the nagare workflow engine \
                       (後期高齢者医療). Errors are RFC 9457 problem details.",
        license(name = "MIT OR Apache-2.0")
    ),
    paths(
        healthz, metrics_text, me, list_tasks, claim_next_task, show_task, claim_task, release_task, complete_task,
        reassign_task, comment_task, list_items, start_item, show_item, item_history, retry_item,
        skip_item, deliver, list_users, add_user, revoke_user, issue_token, verify_audit
    ),
    components(schemas(Problem)),
    modifiers(&Security),
    security(("bearer" = []))
)]
pub struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Returns the OpenAPI document as committed in `docs/openapi.json`.
pub fn openapi_document() -> String {
    let mut doc = ApiDoc::openapi();
    doc.merge(cancel::CancelApi::openapi());
    doc.merge(outbox::OutboxApi::openapi());
    let mut text = doc
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

async fn openapi_json() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        openapi_document(),
    )
        .into_response()
}

// ---- handlers ---------------------------------------------------------------------------

type ApiResult<T> = Result<Json<T>, ApiError>;

/// Health of the server and its database.
#[utoipa::path(get, path = "/healthz", security(()), responses(
    (status = 200, body = HealthOut),
    (status = 503, body = Problem, content_type = "application/problem+json")
))]
async fn healthz(State(state): State<AppState>) -> ApiResult<HealthOut> {
    let backend = state.service.runtime().store().backend();
    state
        .service
        .runtime()
        .store()
        .item(0)
        .await
        .map_err(|e| ApiError::from(AccessError::from(e)))?;
    Ok(Json(HealthOut {
        status: "ok".into(),
        database: format!("{backend:?}").to_lowercase(),
    }))
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(get, path = "/metrics", security(()), responses(
    (status = 200, description = "Prometheus text format", body = String, content_type = "text/plain")
))]
async fn metrics_text(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

/// The caller's name and roles.
#[utoipa::path(get, path = "/v1/me", responses(
    (status = 200, body = MeOut),
    (status = 401, body = Problem, content_type = "application/problem+json")
))]
async fn me(Auth(p): Auth) -> Json<MeOut> {
    Json(MeOut {
        name: p.name.clone(),
        roles: p.roles.iter().cloned().collect(),
    })
}

/// Lists the tasks of the caller's roles (all tasks, subjects masked, for auditors).
#[utoipa::path(get, path = "/v1/tasks", params(TaskListQuery), responses(
    (status = 200, body = Vec<TaskOut>),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json")
))]
async fn list_tasks(
    State(state): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<TaskListQuery>,
) -> ApiResult<Vec<TaskOut>> {
    let query = TaskQuery {
        role: q.role,
        flow_id: q.flow,
        step: q.step,
        state: parse_state(
            "state",
            q.state.as_deref(),
            TaskState::parse,
            &["open", "completed", "cancelled"],
        )?,
        overdue: q.overdue.unwrap_or(false),
        mine: q.mine.unwrap_or(false),
        limit: q.limit,
    };
    let tasks = state.service.tasks(&p, &query).await?;
    Ok(Json(tasks.iter().map(TaskOut::from).collect()))
}

/// One task with the item's data, its comments and reassignments.
#[utoipa::path(get, path = "/v1/tasks/{id}", params(("id" = i64, Path, minimum = 1)), responses(
    (status = 200, body = TaskDetailOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json")
))]
async fn show_task(
    State(state): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<TaskDetailOut> {
    Ok(Json(TaskDetailOut::from(
        &state.service.task(&p, id).await?,
    )))
}

/// Claims a task (one person at a time).
#[utoipa::path(post, path = "/v1/tasks/{id}/claim", params(("id" = i64, Path, minimum = 1)), responses(
    (status = 200, body = TaskOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json")
))]
async fn claim_task(
    State(state): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<TaskOut> {
    Ok(Json(TaskOut::from(&state.service.claim(&p, id).await?)))
}

/// Claims the caller's next task: the first unclaimed open task of their queues by due
/// date (a clerk's "next case" button); 404 when the queues hold none.
#[utoipa::path(post, path = "/v1/tasks/claim-next", params(ClaimNextQuery), responses(
    (status = 200, body = TaskOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json")
))]
async fn claim_next_task(
    State(state): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<ClaimNextQuery>,
) -> ApiResult<TaskOut> {
    let query = TaskQuery {
        role: q.role,
        flow_id: q.flow,
        step: q.step,
        ..TaskQuery::default()
    };
    Ok(Json(TaskOut::from(
        &state.service.claim_next(&p, &query).await?,
    )))
}

/// Gives a claimed task back to the queue.
#[utoipa::path(post, path = "/v1/tasks/{id}/release", params(("id" = i64, Path, minimum = 1)), responses(
    (status = 200, body = TaskOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json")
))]
async fn release_task(
    State(state): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<TaskOut> {
    Ok(Json(TaskOut::from(&state.service.release(&p, id).await?)))
}

/// Completes a task with the recorded fields; the item moves on.
#[utoipa::path(post, path = "/v1/tasks/{id}/complete", params(("id" = i64, Path, minimum = 1)), request_body = CompleteIn, responses(
    (status = 200, body = TaskOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 413, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json")
))]
async fn complete_task(
    State(state): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
    Body(body): Body<CompleteIn>,
) -> ApiResult<TaskOut> {
    let view = state
        .service
        .complete(&p, id, body.answer)
        .await
        .map_err(|e| match e {
            AccessError::Invalid {
                field: Some(f),
                message,
            } => AccessError::Invalid {
                field: Some(format!("answer.{f}")),
                message,
            },
            other => other,
        })?;
    Ok(Json(TaskOut::from(&view)))
}

/// Hands a task to another holder of its role (supervisors).
#[utoipa::path(post, path = "/v1/tasks/{id}/reassign", params(("id" = i64, Path, minimum = 1)), request_body = ReassignIn, responses(
    (status = 200, body = TaskOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json")
))]
async fn reassign_task(
    State(state): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
    Body(body): Body<ReassignIn>,
) -> ApiResult<TaskOut> {
    let view = state
        .service
        .reassign(&p, id, &body.to, body.reason.as_deref())
        .await?;
    Ok(Json(TaskOut::from(&view)))
}

/// Adds a comment to a task.
#[utoipa::path(post, path = "/v1/tasks/{id}/comments", params(("id" = i64, Path, minimum = 1)), request_body = CommentIn, responses(
    (status = 201, body = CommentOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json")
))]
async fn comment_task(
    State(state): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
    Body(body): Body<CommentIn>,
) -> Result<(StatusCode, Json<CommentOut>), ApiError> {
    let comment = state.service.comment(&p, id, &body.body).await?;
    Ok((StatusCode::CREATED, Json(CommentOut::from(&comment))))
}

/// Lists the work items the caller may see, by id.
#[utoipa::path(get, path = "/v1/items", params(ItemListQuery), responses(
    (status = 200, body = Vec<ItemOut>),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json")
))]
async fn list_items(
    State(state): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<ItemListQuery>,
) -> ApiResult<Vec<ItemOut>> {
    let filter = ItemFilter {
        flow_id: q.flow,
        state: parse_state(
            "state",
            q.state.as_deref(),
            ItemState::parse,
            &["running", "waiting", "failed", "completed", "cancelled"],
        )?,
        parent_id: q.parent,
        after_id: q.after,
        limit: q.limit,
    };
    let items = state.service.items(&p, &filter).await?;
    Ok(Json(items.iter().map(ItemOut::from).collect()))
}

/// Starts a work item.
#[utoipa::path(post, path = "/v1/items", request_body = StartIn, responses(
    (status = 201, body = ItemOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json")
))]
async fn start_item(
    State(state): State<AppState>,
    Auth(p): Auth,
    Body(body): Body<StartIn>,
) -> Result<(StatusCode, Json<ItemOut>), ApiError> {
    let view = state
        .service
        .start(&p, &body.flow, &body.subject, body.data)
        .await?;
    Ok((StatusCode::CREATED, Json(ItemOut::from(&view))))
}

/// One work item.
#[utoipa::path(get, path = "/v1/items/{id}", params(("id" = i64, Path, minimum = 1)), responses(
    (status = 200, body = ItemOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json")
))]
async fn show_item(State(state): State<AppState>, Auth(p): Auth, Id(id): Id) -> ApiResult<ItemOut> {
    Ok(Json(ItemOut::from(&state.service.item(&p, id).await?)))
}

/// The whole history of a work item, with actors.
#[utoipa::path(get, path = "/v1/items/{id}/history", params(("id" = i64, Path, minimum = 1)), responses(
    (status = 200, body = Vec<TransitionOut>),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json")
))]
async fn item_history(
    State(state): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<Vec<TransitionOut>> {
    let history = state.service.history(&p, id).await?;
    Ok(Json(history.iter().map(TransitionOut::from).collect()))
}

/// Runs a failed item's failed step again.
#[utoipa::path(post, path = "/v1/items/{id}/retry", params(("id" = i64, Path, minimum = 1)), responses(
    (status = 200, body = ItemOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json")
))]
async fn retry_item(
    State(state): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<ItemOut> {
    Ok(Json(ItemOut::from(&state.service.retry(&p, id).await?)))
}

/// Moves a failed item past its failed step, with a reason.
#[utoipa::path(post, path = "/v1/items/{id}/skip", params(("id" = i64, Path, minimum = 1)), request_body = SkipIn, responses(
    (status = 200, body = ItemOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json")
))]
async fn skip_item(
    State(state): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
    Body(body): Body<SkipIn>,
) -> ApiResult<ItemOut> {
    Ok(Json(ItemOut::from(
        &state.service.skip(&p, id, &body.reason).await?,
    )))
}

/// Builds the payload of a delivery: the message fields, and a delivered file under `file`
/// (name, size, SHA-256 and the bytes in base64).
pub fn delivery_payload(
    mut payload: Map<String, Value>,
    file: Option<(&str, &[u8])>,
) -> Map<String, Value> {
    if let Some((name, bytes)) = file {
        let sha = Sha256::digest(bytes);
        let hex: String = sha.iter().map(|b| format!("{b:02x}")).collect();
        payload.insert(
            "file".into(),
            json!({
                "name": name,
                "size": bytes.len(),
                "sha256": hex,
                "content_base64": base64::engine::general_purpose::STANDARD.encode(bytes),
            }),
        );
    }
    payload
}

/// Delivers a message or a file to the work item waiting for it.
#[utoipa::path(post, path = "/v1/deliveries", request_body = DeliverIn, responses(
    (status = 201, body = DeliveryOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, description = "a duplicate or ambiguous delivery", content_type = "application/problem+json"),
    (status = 413, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json"),
    (status = 422, body = Problem, description = "no work item waits for it", content_type = "application/problem+json")
))]
async fn deliver(
    State(state): State<AppState>,
    Auth(p): Auth,
    Body(body): Body<DeliverIn>,
) -> Result<(StatusCode, Json<DeliveryOut>), ApiError> {
    let target = match (
        body.document,
        body.correlation_value,
        body.item_id,
        body.node,
    ) {
        (Some(document), Some(value), None, None) => DeliveryTarget::Correlated { document, value },
        (None, None, Some(item_id), Some(node)) => DeliveryTarget::Item { item_id, node },
        (Some(_), None, _, _) => {
            return Err(ApiError::invalid_field(
                "correlation_value",
                "a delivery by document needs `correlation_value`",
            ));
        }
        (None, None, Some(_), None) => {
            return Err(ApiError::invalid_field(
                "node",
                "a delivery to an item needs `node`",
            ));
        }
        _ => {
            return Err(ApiError::invalid_field(
                "document",
                "give either `document` and `correlation_value`, or `item_id` and `node`",
            ));
        }
    };
    let file = match &body.file {
        Some(f) => Some((
            f.name.as_str(),
            base64::engine::general_purpose::STANDARD
                .decode(&f.content_base64)
                .map_err(|e| {
                    ApiError::invalid_field("file.content_base64", &format!("not base64: {e}"))
                })?,
        )),
        None => None,
    };
    let payload = delivery_payload(body.payload, file.as_ref().map(|(n, b)| (*n, b.as_slice())));
    let receipt = state
        .service
        .deliver(
            &p,
            DeliveryRequest {
                target,
                payload,
                delivery_id: body.delivery_id,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(DeliveryOut::from(&receipt))))
}

/// Lists the users (admins).
#[utoipa::path(get, path = "/v1/users", responses(
    (status = 200, body = Vec<UserOut>),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json")
))]
async fn list_users(State(state): State<AppState>, Auth(p): Auth) -> ApiResult<Vec<UserOut>> {
    Ok(Json(
        state
            .service
            .users(&p)
            .await?
            .iter()
            .map(UserOut::from)
            .collect(),
    ))
}

/// Adds a user (admins); the answer holds their API token, shown this once.
#[utoipa::path(post, path = "/v1/users", request_body = UserIn, responses(
    (status = 201, body = NewUserOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json")
))]
async fn add_user(
    State(state): State<AppState>,
    Auth(p): Auth,
    Body(body): Body<UserIn>,
) -> Result<(StatusCode, Json<NewUserOut>), ApiError> {
    let (user, token) = state
        .service
        .add_user(Some(&p), &body.name, &body.roles)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(NewUserOut {
            user: UserOut::from(&user),
            token,
        }),
    ))
}

/// Revokes a user and all their tokens (admins).
#[utoipa::path(post, path = "/v1/users/{name}/revoke", params(("name" = String, Path)), responses(
    (status = 200, body = UserOut),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, content_type = "application/problem+json")
))]
async fn revoke_user(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(name): Path<String>,
) -> ApiResult<UserOut> {
    let name = no_nul("name", name)?;
    Ok(Json(UserOut::from(
        &state.service.revoke_user(&p, &name).await?,
    )))
}

/// Issues another API token for a user (admins), shown this once.
#[utoipa::path(post, path = "/v1/users/{name}/tokens", params(("name" = String, Path)), responses(
    (status = 201, body = TokenOut),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json")
))]
async fn issue_token(
    State(state): State<AppState>,
    Auth(p): Auth,
    Path(name): Path<String>,
) -> Result<(StatusCode, Json<TokenOut>), ApiError> {
    let name = no_nul("name", name)?;
    let token = state.service.issue_token(&p, &name).await?;
    Ok((StatusCode::CREATED, Json(TokenOut { token })))
}

/// Checks every item's hash chain (auditors and admins).
#[utoipa::path(get, path = "/v1/audit/verify", responses(
    (status = 200, body = AuditOut),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json")
))]
async fn verify_audit(State(state): State<AppState>, Auth(p): Auth) -> ApiResult<AuditOut> {
    Ok(Json(AuditOut::from(&state.service.verify_audit(&p).await?)))
}
