//! RFC 9457 problem details: every error the API answers is one of these, with
//! `Content-Type: application/problem+json`.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use nagare_engine::access::AccessError;
use nagare_engine::runtime::{Refusal, RuntimeError};

use super::dto::Problem;

/// An error answered as a problem.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub problem: Problem,
}

const BASE: &str = "https://nagare.invalid/problems/";

impl ApiError {
    fn new(
        status: StatusCode,
        kind: &str,
        title: &str,
        detail: String,
        field: Option<String>,
    ) -> Self {
        Self {
            status,
            problem: Problem {
                kind: format!("{BASE}{kind}"),
                title: title.to_owned(),
                status: status.as_u16(),
                detail,
                field,
            },
        }
    }

    /// A request field is wrong.
    pub fn invalid_field(field: &str, detail: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid-request",
            "The request is invalid",
            detail.to_owned(),
            Some(field.to_owned()),
        )
    }

    /// The body is not JSON of the expected shape; `path` is serde's path (`.` at the top).
    pub fn bad_json(path: String, err: &serde_json::Error) -> Self {
        let field = (path != ".").then_some(path);
        let detail = match (&field, err.classify()) {
            (_, serde_json::error::Category::Syntax | serde_json::error::Category::Eof) => {
                format!("the body is not valid JSON: {err}")
            }
            (Some(f), _) => format!("field `{f}`: {err}"),
            (None, _) => format!("the body does not have the expected shape: {err}"),
        };
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid-json",
            "The JSON body is invalid",
            detail,
            field,
        )
    }

    /// A query parameter is wrong.
    pub fn bad_query(path: String, err: &serde_urlencoded::de::Error) -> Self {
        let field = (path != ".").then_some(path);
        let detail = match &field {
            Some(f) => format!("query parameter `{f}`: {err}"),
            None => format!("the query string is invalid: {err}"),
        };
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid-query",
            "The query string is invalid",
            detail,
            field,
        )
    }

    /// The body could not be read (too large, broken).
    pub fn body_rejected(status: StatusCode, detail: &str) -> Self {
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            Self::new(
                status,
                "too-large",
                "The request body is too large",
                format!("the body is larger than {} bytes", super::MAX_BODY_BYTES),
                None,
            )
        } else {
            Self::new(
                StatusCode::BAD_REQUEST,
                "invalid-body",
                "The request body cannot be read",
                detail.to_owned(),
                None,
            )
        }
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "The body must be JSON",
            "send `Content-Type: application/json`".into(),
            None,
        )
    }

    pub fn timeout() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "The request took too long",
            format!(
                "no answer within {} s; nothing was changed unless the operation completed",
                super::REQUEST_TIMEOUT.as_secs()
            ),
            None,
        )
    }

    pub fn not_found_route() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not found",
            "there is no such endpoint; see /openapi.json".into(),
            None,
        )
    }
}

impl From<AccessError> for ApiError {
    fn from(err: AccessError) -> Self {
        let detail = err.to_string();
        match err {
            AccessError::Unauthenticated(_) => Self::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Authentication is needed",
                detail,
                None,
            ),
            AccessError::Forbidden(_) => Self::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Not allowed",
                detail,
                None,
            ),
            AccessError::NotFound { .. } => Self::new(
                StatusCode::NOT_FOUND,
                "not-found",
                "Not found",
                detail,
                None,
            ),
            AccessError::Conflict(_) => Self::new(
                StatusCode::CONFLICT,
                "conflict",
                "The current state does not allow this",
                detail,
                None,
            ),
            AccessError::Invalid { field, .. } => Self::new(
                StatusCode::BAD_REQUEST,
                "invalid-request",
                "The request is invalid",
                detail,
                field,
            ),
            AccessError::Refused(Refusal::Unmatched(_)) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "delivery-unmatched",
                "No work item waits for this delivery",
                detail,
                None,
            ),
            AccessError::Refused(Refusal::Duplicate(_)) => Self::new(
                StatusCode::CONFLICT,
                "delivery-duplicate",
                "This delivery was already received",
                detail,
                None,
            ),
            AccessError::Refused(Refusal::Ambiguous(_)) => Self::new(
                StatusCode::CONFLICT,
                "delivery-ambiguous",
                "Several work items wait for this delivery",
                detail,
                None,
            ),
            AccessError::Runtime(RuntimeError::Store(e)) if e.is_transient() => {
                tracing::warn!(error = %e, "transient database error");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "busy",
                    "The database is busy",
                    "try again; nothing was changed".into(),
                    None,
                )
            }
            AccessError::Runtime(e) => {
                tracing::error!(error = %e, "internal error");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Internal error",
                    "the server could not complete the request; nothing was changed".into(),
                    None,
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.problem)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/problem+json"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}
