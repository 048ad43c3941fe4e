//! [`ApiError`]: an HTTP status and a message, answered as `{"error": "..."}` by both protocols.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use oximl_core::Error;

/// A failed request: the status TensorFlow Serving gives the same failure (its gRPC code mapped to HTTP:
/// invalid argument 400, not found 404, unavailable 503, deadline exceeded 504, internal 500) and a message naming
/// the problem.
///
/// ```
/// use oximl_serve::ApiError;
/// let e = ApiError::from(oximl_core::Error::shape("64 values", "63"));
/// assert_eq!(e.status.as_u16(), 400);
/// assert!(e.message.contains("63"));
/// ```
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What went wrong.
    pub message: String,
}

impl ApiError {
    /// A 400 Bad Request.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError { status: StatusCode::BAD_REQUEST, message: message.into() }
    }

    /// A 404 Not Found.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError { status: StatusCode::NOT_FOUND, message: message.into() }
    }

    /// A 503 Service Unavailable (overloaded or shutting down: retry later).
    pub fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError { status: StatusCode::SERVICE_UNAVAILABLE, message: message.into() }
    }

    /// A 500 Internal Server Error.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError { status: StatusCode::INTERNAL_SERVER_ERROR, message: message.into() }
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        let status = match e {
            Error::InvalidArgument { .. } | Error::Shape { .. } | Error::NonFinite(_) | Error::NotFitted(_) => {
                StatusCode::BAD_REQUEST
            }
            Error::Cancelled(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError { status, message: e.to_string() }
    }
}

impl From<serde_json::Error> for ApiError {
    fn from(e: serde_json::Error) -> ApiError {
        ApiError::bad_request(format!("malformed JSON body: {e}"))
    }
}

impl From<axum::extract::rejection::BytesRejection> for ApiError {
    fn from(e: axum::extract::rejection::BytesRejection) -> ApiError {
        ApiError { status: e.status(), message: e.body_text() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(serde_json::json!({ "error": self.message }))).into_response()
    }
}
