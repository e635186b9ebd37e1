//! Emulated gitbook API (placeholder; the real module is written in parallel from API_NOTES.md).

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::{Api, AppState};

/// This API's part of the state file.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct World {
    #[serde(default)]
    pub tokens: Vec<String>,
}

pub struct Gitbook;

impl Api for Gitbook {
    const NAME: &'static str = "gitbook";
    fn routes() -> Router<AppState> {
        Router::new()
    }
    fn owns_path(path: &str) -> bool {
        path.starts_with("/v1/")
    }
    fn error_response(status: StatusCode, message: &str) -> Response {
        (
            status,
            axum::Json(serde_json::json!({ "message": message })),
        )
            .into_response()
    }
    fn throttled(retry_after_secs: u64, _limit: u32) -> Response {
        let _ = retry_after_secs;
        Self::error_response(StatusCode::TOO_MANY_REQUESTS, "rate limited")
    }
    fn rate_limit_headers(
        _headers: &mut HeaderMap,
        _limit: u32,
        _remaining: u32,
        _reset_secs: u64,
    ) {
    }
}
