//! Bounded retries with exponential backoff for transient API failures.
//!
//! kube's own retry layer already retries 429/503/504; this one also covers 500, 502, dropped and
//! reset connections, and keeps retrying 429 (honouring `Retry-After`) after kube gives up. Every
//! request Harmony sends is idempotent (server-side apply, delete, reads), so a retry is safe even
//! when the first attempt reached the server.

use std::future::Future;
use std::time::Duration;

/// How many times one request is tried in all.
const MAX_ATTEMPTS: u32 = 8;
/// The first backoff; it doubles each time up to [`MAX_DELAY`].
const FIRST_DELAY: Duration = Duration::from_millis(50);
/// The longest backoff between two attempts (also caps `Retry-After`).
const MAX_DELAY: Duration = Duration::from_secs(5);

/// Runs `attempt` until it succeeds, fails for a reason a retry cannot fix, or 8 attempts
/// are used.
pub async fn with_retry<T, F, Fut>(mut attempt: F) -> Result<T, kube::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, kube::Error>>,
{
    let mut delay = FIRST_DELAY;
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(error) if tries < MAX_ATTEMPTS => match transient(&error) {
                Some(asked) => {
                    tokio::time::sleep(asked.unwrap_or(delay).min(MAX_DELAY)).await;
                    delay = (delay * 2).min(MAX_DELAY);
                    tries += 1;
                }
                None => return Err(error),
            },
            result => return result,
        }
    }
}

/// `Some(wait)` when a retry may succeed; `wait` is the server's `Retry-After` when it gave one.
fn transient(error: &kube::Error) -> Option<Option<Duration>> {
    match error {
        kube::Error::Api(status) => match status.code {
            429 => Some(
                status
                    .details
                    .as_ref()
                    .map(|d| u64::from(d.retry_after_seconds))
                    .filter(|s| *s > 0)
                    .map(Duration::from_secs),
            ),
            500 if crate::error::schema_mismatch(status) => None,
            500 | 502 | 503 | 504 => Some(None),
            _ => None,
        },
        kube::Error::HyperError(_) | kube::Error::Service(_) => {
            connection_dropped(error).then_some(None)
        }
        _ => None,
    }
}

/// Whether a transport error is a dropped or reset connection (not a failure to connect at all).
pub(crate) fn connection_dropped(error: &kube::Error) -> bool {
    use std::error::Error as _;
    let mut source: Option<&dyn std::error::Error> = error.source();
    while let Some(cause) = source {
        if let Some(hyper) = cause.downcast_ref::<hyper::Error>()
            && (hyper.is_incomplete_message() || hyper.is_closed() || hyper.is_canceled())
        {
            return true;
        }
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            return matches!(
                io.kind(),
                ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof
            );
        }
        source = cause.source();
    }
    false
}

/// Whether a transport error is a failure to connect: refused, unreachable, unknown host, timeout.
pub(crate) fn connect_failed(error: &kube::Error) -> bool {
    use std::error::Error as _;
    if !matches!(error, kube::Error::HyperError(_) | kube::Error::Service(_)) {
        return false;
    }
    let mut source: Option<&dyn std::error::Error> = error.source();
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            if matches!(
                io.kind(),
                ConnectionRefused | HostUnreachable | NetworkUnreachable | TimedOut | NotFound
            ) {
                return true;
            }
        }
        if cause.to_string().contains("(Connect)") || cause.to_string().contains("dns error") {
            return true;
        }
        source = cause.source();
    }
    !connection_dropped(error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::Status;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn api_error(code: u16) -> kube::Error {
        kube::Error::Api(Box::new(
            Status::failure("injected", "Test").with_code(code),
        ))
    }

    #[tokio::test]
    async fn retries_server_errors_until_success() {
        let calls = AtomicU32::new(0);
        let result = with_retry(|| async {
            match calls.fetch_add(1, Ordering::SeqCst) {
                0 => Err(api_error(500)),
                1 => Err(api_error(502)),
                _ => Ok("done"),
            }
        })
        .await;
        assert_eq!(result.unwrap(), "done");
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn does_not_retry_what_a_retry_cannot_fix() {
        for code in [400, 401, 403, 404, 409, 422] {
            let calls = AtomicU32::new(0);
            let result: Result<(), _> = with_retry(|| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(api_error(code))
            })
            .await;
            assert!(result.is_err());
            assert_eq!(calls.load(Ordering::SeqCst), 1, "code {code}");
        }
    }

    #[tokio::test]
    async fn does_not_retry_a_patch_the_schema_cannot_hold() {
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = with_retry(|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(kube::Error::Api(Box::new(
                Status::failure(
                    "failed to create typed patch object (/default; policy.networking.k8s.io/v1alpha1, \
                     Kind=BaselineAdminNetworkPolicy): .spec.egress[0].to[0].namespaces.matchExpressions: \
                     field not declared in schema",
                    "",
                )
                .with_code(500),
            )))
        })
        .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_after_the_last_attempt() {
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = with_retry(|| async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err(api_error(503))
        })
        .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), MAX_ATTEMPTS);
    }
}
