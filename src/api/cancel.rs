//! `POST /v1/items/{id}/cancel`: a supervisor of the item's lanes ends a work item, with a
//! reason (see `Runtime::cancel` and `Service::cancel`). The JSON shapes are shared with
//! `nagare cancel --format json`.

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use nagare_engine::runtime::CancelReport;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use super::dto::{ItemOut, Problem};
use super::{ApiError, ApiResult, AppState, Auth, Body, Id};
use axum::Json;

/// Why a work item is cancelled (recorded in its history).
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelIn {
    pub reason: String,
}

/// One item a cancellation ended, with what it withdrew.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
pub struct CancelledItemOut {
    pub item_id: i64,
    /// The item whose cancellation ended this one (a called flow's parent); absent for the
    /// item asked for.
    pub because_of: Option<i64>,
    /// Open tasks taken out of their queues.
    pub withdrawn_tasks: Vec<i64>,
    /// Timers that will not fire.
    pub withdrawn_timers: Vec<i64>,
    /// What the item waited for (`task at review`, `message at receive_result` …).
    pub waits: Vec<String>,
    /// Its outbox entries not sent yet: they stay in the outbox (see `GET /v1/outbox?item=`).
    pub pending_outbox: Vec<i64>,
}

/// What a cancellation did.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
pub struct CancelOut {
    /// The cancelled item as it is now.
    pub item: ItemOut,
    /// The item first, then every live item it called, cancelled with it.
    pub cancelled: Vec<CancelledItemOut>,
    /// The parent that waited for the item: it counts the item as finished and goes on.
    pub parent_notified: Option<i64>,
}

impl CancelOut {
    pub fn new(item: ItemOut, report: &CancelReport) -> Self {
        Self {
            item,
            cancelled: report
                .items
                .iter()
                .map(|c| CancelledItemOut {
                    item_id: c.item_id,
                    because_of: c.because_of,
                    withdrawn_tasks: c.tasks.clone(),
                    withdrawn_timers: c.timers.clone(),
                    waits: c.waits.clone(),
                    pending_outbox: c.pending_outbox.clone(),
                })
                .collect(),
            parent_notified: report.parent_notified,
        }
    }
}

/// The routes of this module, merged into `/v1`.
pub fn routes() -> Router<AppState> {
    Router::new().route("/items/{id}/cancel", post(cancel_item))
}

#[derive(OpenApi)]
#[openapi(paths(cancel_item), components(schemas(Problem)))]
pub struct CancelApi;

/// Ends a running, waiting or failed work item and the items it called (supervisors of the
/// item's lanes): open tasks, timers and waits are withdrawn, the reason is recorded.
#[utoipa::path(post, path = "/v1/items/{id}/cancel", params(("id" = i64, Path, minimum = 1)), request_body = CancelIn, responses(
    (status = 200, body = CancelOut),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 401, body = Problem, content_type = "application/problem+json"),
    (status = 403, body = Problem, content_type = "application/problem+json"),
    (status = 404, body = Problem, content_type = "application/problem+json"),
    (status = 409, body = Problem, description = "the item is completed or cancelled already", content_type = "application/problem+json"),
    (status = 415, body = Problem, content_type = "application/problem+json")
))]
async fn cancel_item(
    State(state): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
    Body(body): Body<CancelIn>,
) -> ApiResult<CancelOut> {
    let (view, report) = state
        .service
        .cancel(&p, id, &body.reason)
        .await
        .map_err(ApiError::from)?;
    Ok(Json(CancelOut::new(ItemOut::from(&view), &report)))
}
