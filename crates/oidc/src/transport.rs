//! How the relying party talks to the provider's back channel (discovery, keys, token endpoint).
//!
//! Every request goes through one [`HttpTransport`], so production sends them over the network
//! with [`ReqwestTransport`] while lessons and tests hand them straight to an in-process router
//! with [`ServiceTransport`]: same code path, no ports.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::time::Duration;

use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

/// A back-channel request: method, absolute URL, headers and body.
pub type HttpRequest = http::Request<Vec<u8>>;
/// A back-channel response with its whole body.
pub type HttpResponse = http::Response<Vec<u8>>;

/// The boxed future an [`HttpTransport`] returns.
pub type TransportFuture<'a> =
    Pin<Box<dyn Future<Output = Result<HttpResponse, TransportError>> + Send + 'a>>;

/// The largest response body read from a provider. Discovery documents, key sets and token
/// responses are a few kilobytes; a provider (or something pretending to be one) sending more
/// is cut off rather than allowed to fill the festival's memory.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// Sends one HTTP request and returns the response, without following redirects.
///
/// Implementations must not follow redirects (RFC 9700 §4.11): a token request that is
/// redirected would carry the client secret and the authorization code to wherever the
/// redirect points.
pub trait HttpTransport: Send + Sync + 'static {
    /// Sends `request`.
    ///
    /// # Errors
    ///
    /// [`TransportError`] when no response arrived (connection refused, timeout, body too large).
    /// An error *status* is a response, not a transport error.
    fn send(&self, request: HttpRequest) -> TransportFuture<'_>;
}

/// No response arrived from the provider.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct TransportError {
    message: String,
    #[source]
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl TransportError {
    /// An error described by `message`, caused by `source`.
    pub fn new(
        message: impl Into<String>,
        source: impl Into<Box<dyn StdError + Send + Sync>>,
    ) -> Self {
        Self {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// An error described by `message` alone.
    pub fn message(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            source: None,
        }
    }
}

/// Sends requests over the network with `reqwest`: redirects never followed, timeouts set,
/// response bodies capped at [`MAX_RESPONSE_BYTES`].
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
}

impl ReqwestTransport {
    /// A transport with a 5 s connect timeout and a 10 s overall timeout per request.
    ///
    /// # Errors
    ///
    /// [`TransportError`] if the TLS backend cannot be initialised.
    pub fn new() -> Result<Self, TransportError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .user_agent(concat!("wristband-oidc/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| TransportError::new("could not build the HTTP client", err))?;
        Ok(Self { client })
    }
}

impl HttpTransport for ReqwestTransport {
    fn send(&self, request: HttpRequest) -> TransportFuture<'_> {
        Box::pin(async move {
            let request = reqwest::Request::try_from(request)
                .map_err(|err| TransportError::new("the request is not valid", err))?;
            let url = request.url().clone();
            let mut response = self.client.execute(request).await.map_err(|err| {
                TransportError::new(format!("no response from {}", redact_query(&url)), err)
            })?;
            let mut builder = http::Response::builder().status(response.status());
            for (name, value) in response.headers() {
                builder = builder.header(name, value);
            }
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(|err| {
                TransportError::new(
                    format!("the response from {} broke off", redact_query(&url)),
                    err,
                )
            })? {
                if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                    return Err(TransportError::message(format!(
                        "the response from {} is larger than {MAX_RESPONSE_BYTES} bytes",
                        redact_query(&url)
                    )));
                }
                body.extend_from_slice(&chunk);
            }
            builder
                .body(body)
                .map_err(|err| TransportError::new("the response is not valid", err))
        })
    }
}

/// A URL without its query, for error messages: back-channel URLs carry no secrets in the
/// query today, but a log line should not depend on that.
fn redact_query(url: &url::Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.to_string()
}

/// Hands requests to an in-process `tower` service (an axum `Router`, for instance) instead of
/// the network: lessons and tests run a provider and a client in one process with no ports.
///
/// `B` is the service's request body type (for axum, `axum::body::Body`).
pub struct ServiceTransport<S, B> {
    service: S,
    body: PhantomData<fn() -> B>,
}

impl<S: Clone, B> Clone for ServiceTransport<S, B> {
    fn clone(&self) -> Self {
        Self {
            service: self.service.clone(),
            body: PhantomData,
        }
    }
}

impl<S, B> fmt::Debug for ServiceTransport<S, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceTransport").finish_non_exhaustive()
    }
}

impl<S, B> ServiceTransport<S, B> {
    /// A transport that calls `service` once per request (on a clone, as `tower` expects).
    pub fn new(service: S) -> Self {
        Self {
            service,
            body: PhantomData,
        }
    }
}

impl<S, B, RB> HttpTransport for ServiceTransport<S, B>
where
    S: tower::Service<http::Request<B>, Response = http::Response<RB>>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: From<Vec<u8>> + Send + 'static,
    RB: http_body_util::BodyExt + Send + 'static,
    RB::Data: Send,
    RB::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    fn send(&self, request: HttpRequest) -> TransportFuture<'_> {
        let service = self.service.clone();
        Box::pin(async move {
            let response = service
                .oneshot(request.map(B::from))
                .await
                .map_err(|err| TransportError::new("the in-process service failed", err))?;
            let (parts, body) = response.into_parts();
            let bytes = http_body_util::Limited::new(body, MAX_RESPONSE_BYTES)
                .collect()
                .await
                .map_err(|err| TransportError::new("could not read the response body", err))?
                .to_bytes();
            Ok(http::Response::from_parts(parts, bytes.to_vec()))
        })
    }
}

impl<T: HttpTransport + ?Sized> HttpTransport for std::sync::Arc<T> {
    fn send(&self, request: HttpRequest) -> TransportFuture<'_> {
        (**self).send(request)
    }
}
