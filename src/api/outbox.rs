//! The outbox over HTTP: `GET /v1/outbox` (metadata), `GET /v1/outbox/{id}`,
//! `GET /v1/outbox/{id}/content` (the bytes, for holders of role `outbox`) and
//! `POST /v1/outbox/{id}/dispatch` (marks the entry sent, given the SHA-256 of the content the
//! caller received; a second dispatch is refused with 409). A program that sends the
//! office's mail fetches, stores, then dispatches, so an entry is marked only once the
//! caller has it. The JSON shapes are shared with `nagare outbox list --format json`.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use nagare_engine::access::OutboxView;
use nagare_engine::runtime::OutboxState;
use nagare_engine::store::OutboxFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::dto::Problem;
use super::{ApiError, ApiResult, AppState, Auth, Body, Id, Query};

/// An outbox entry's metadata (never its content).
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
pub struct OutboxEntryOut {
    pub id: i64,
    pub item_id: i64,
    pub node: String,
    /// The document (`demand_letter`, `debit_request_data` …).
    pub document: String,
    /// A lane (`bank`, `union`) or, for a letter, the 宛名番号; `***` for viewers who may not
    /// read the content.
    pub recipient: Option<String>,
    pub recipient_masked: bool,
    /// `pending` or `sent`.
    pub state: String,
    /// `letter`, `file` or `record`; absent when the payload cannot be read (see `problem`).
    pub kind: Option<String>,
    /// The file name it leaves with: `DOCUMENT-ID.txt`, `DOCUMENT-ID-FILE_NAME`,
    /// `DOCUMENT-ID.json`.
    pub name: Option<String>,
    /// The file name the producing step gave (files).
    pub source_name: Option<String>,
    pub size_bytes: Option<usize>,
    /// SHA-256 of the content, hex.
    pub sha256: Option<String>,
    /// Records and total in yen of a produced file.
    pub records: Option<i64>,
    pub total_yen: Option<i64>,
    /// Why the content cannot be read, when it cannot.
    pub problem: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// `user:NAME`.
    pub sent_by: Option<String>,
    pub sent_as: Option<String>,
    pub sent_sha256: Option<String>,
    /// The export folder, or `http`.
    pub sent_to: Option<String>,
}

impl From<&OutboxView> for OutboxEntryOut {
    fn from(v: &OutboxView) -> Self {
        Self {
            id: v.id,
            item_id: v.item_id,
            node: v.node.clone(),
            document: v.document.clone(),
            recipient: v.recipient.clone(),
            recipient_masked: v.recipient_masked,
            state: v.state.as_str().to_owned(),
            kind: v.kind.map(|k| k.as_str().to_owned()),
            name: v.name.clone(),
            source_name: v.source_name.clone(),
            size_bytes: v.size,
            sha256: v.sha256.clone(),
            records: v.records,
            total_yen: v.total_yen,
            problem: v.problem.clone(),
            created_at: v.created_at,
            sent_at: v.sent_at,
            sent_by: v.sent_by.clone(),
            sent_as: v.sent_as.clone(),
            sent_sha256: v.sent_sha256.clone(),
            sent_to: v.sent_to.clone(),
        }
    }
}

/// Filters of the outbox list, by id.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OutboxListQuery {
    /// `pending` (default), `sent` or `all`.
    pub state: Option<String>,
    pub document: Option<String>,
    /// Only entries to this recipient (holders of `outbox` only).
    pub recipient: Option<String>,
    pub item: Option<i64>,
    /// Only entries with a greater id (paging).
    pub after: Option<i64>,
    /// At most this many (1–1000, default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

/// Confirms that the caller received an entry's content.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DispatchIn {
    /// SHA-256 (hex) of the bytes `GET /v1/outbox/{id}/content` returned.
    pub sha256: String,
}

/// The bytes of a file, as they are.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct FileBytes(pub Vec<u8>);

/// Reads `pending`, `sent` or `all` (every state).
pub fn parse_outbox_state(field: &str, value: Option<&str>) -> Result<Option<OutboxState>, String> {
    match value {
        None | Some("pending") => Ok(Some(OutboxState::Pending)),
        Some("sent") => Ok(Some(OutboxState::Sent)),
        Some("all") => Ok(None),
        Some(other) => Err(format!(
            "{field} `{other}` is not one of pending, sent, all"
        )),
    }
}

/// The routes of this module, merged into `/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/outbox", get(list_outbox))
        .route("/outbox/{id}", get(show_outbox))
        .route("/outbox/{id}/content", get(outbox_content))
        .route("/outbox/{id}/dispatch", post(dispatch_outbox))
}

#[derive(OpenApi)]
#[openapi(
    paths(list_outbox, show_outbox, outbox_content, dispatch_outbox),
    components(schemas(Problem))
)]
pub struct OutboxApi;

/// Lists outbox entries' metadata (holders of `outbox`; auditors and admins see letters'
/// recipients masked).
#[utoipa::path(get, path = "/v1/outbox", params(OutboxListQuery), responses(
    (status = 200, body = Vec<OutboxEntryOut>),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json")
))]
async fn list_outbox(
    State(state): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<OutboxListQuery>,
) -> ApiResult<Vec<OutboxEntryOut>> {
    let filter = OutboxFilter {
        state: parse_outbox_state("state", q.state.as_deref())
            .map_err(|m| ApiError::invalid_field("state", &m))?,
        document: q.document,
        recipient: q.recipient,
        item_id: q.item,
        after_id: q.after,
        limit: q.limit,
    };
    let entries = state.service.outbox(&p, &filter).await?;
    Ok(Json(entries.iter().map(OutboxEntryOut::from).collect()))
}

/// One outbox entry's metadata.
#[utoipa::path(get, path = "/v1/outbox/{id}", params(("id" = i64, Path, minimum = 1)), responses(
    (status = 200, body = OutboxEntryOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json")
))]
async fn show_outbox(
    State(state): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<OutboxEntryOut> {
    Ok(Json(OutboxEntryOut::from(
        &state.service.outbox_entry(&p, id).await?,
    )))
}

/// The bytes of an entry (holders of `outbox`): a letter as UTF-8 text, a file as it is,
/// a record as JSON. `Content-Disposition` names the file; `Repr-Digest` (RFC 9530) and
/// `ETag` carry its SHA-256. Fetching does not mark the entry sent: dispatch it.
#[utoipa::path(get, path = "/v1/outbox/{id}/content", params(("id" = i64, Path, minimum = 1)), responses(
    (status = 200, description = "the content", content(
        (String = "text/plain; charset=utf-8"),
        (FileBytes = "application/octet-stream"),
        (serde_json::Value = "application/json")
    )),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, description = "the payload cannot be read", content_type = "application/problem+json")
))]
async fn outbox_content(
    State(state): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> Result<Response, ApiError> {
    let (_, content) = state.service.outbox_content(&p, id).await?;
    let digest = base64::engine::general_purpose::STANDARD
        .encode(<sha2::Sha256 as sha2::Digest>::digest(&content.bytes));
    let header_value = |text: String| {
        HeaderValue::from_str(&text).map_err(|e| ApiError::invalid_field("id", &e.to_string()))
    };
    let mut response = content.bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content.media_type),
    );
    // The name is ASCII by construction (letters, digits, `.`, `_`, `-`).
    headers.insert(
        header::CONTENT_DISPOSITION,
        header_value(format!("attachment; filename=\"{}\"", content.name))?,
    );
    headers.insert(
        header::ETAG,
        header_value(format!("\"{}\"", content.sha256))?,
    );
    headers.insert("repr-digest", header_value(format!("sha-256=:{digest}:"))?);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Marks an entry sent by the caller (holders of `outbox`), given the SHA-256 of the
/// content they received; 409 when it was sent already, naming by whom and when.
#[utoipa::path(post, path = "/v1/outbox/{id}/dispatch", params(("id" = i64, Path, minimum = 1)), request_body = DispatchIn, responses(
    (status = 200, body = OutboxEntryOut),
    (status = 400, body = Problem, description = "the digest does not match the content", content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, description = "sent already", content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json")
))]
async fn dispatch_outbox(
    State(state): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
    Body(body): Body<DispatchIn>,
) -> ApiResult<OutboxEntryOut> {
    Ok(Json(OutboxEntryOut::from(
        &state.service.dispatch_outbox(&p, id, &body.sha256).await?,
    )))
}
