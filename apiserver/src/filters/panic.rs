//! Panic recovery, the outermost step: a handler that panics answers `500` with upstream's
//! text instead of dropping the connection, and the panic is logged with the request.

use std::panic::AssertUnwindSafe;

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use futures::FutureExt;

/// Runs `handler`, turning a panic into upstream's `500`.
pub async fn recover<F>(method: &str, path: &str, handler: F) -> HttpResponse
where
    F: std::future::Future<Output = HttpResponse>,
{
    match AssertUnwindSafe(handler).catch_unwind().await {
        Ok(resp) => resp,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            tracing::error!(%method, %path, panic = %what, "a request handler panicked");
            HttpResponse::build(StatusCode::INTERNAL_SERVER_ERROR)
                .content_type("text/plain; charset=utf-8")
                .insert_header(("X-Content-Type-Options", "nosniff"))
                .body("This request caused apiserver to panic. Look in the logs for details.\n")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn a_panicking_handler_answers_500() {
        let resp = recover("GET", "/x", async { panic!("boom") }).await;
        assert_eq!(resp.status(), 500);
        let ok = recover("GET", "/x", async { HttpResponse::Ok().finish() }).await;
        assert_eq!(ok.status(), 200);
    }
}
