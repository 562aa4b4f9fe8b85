//! The HTTP client under [`super::KubeCluster`]: kube's own layers (server URL, credentials,
//! impersonation headers) over [`crate::net::multiplexed`]'s connections, which speak HTTP/2 to
//! the API server when it offers it (see there why), HTTP/1.1 otherwise. The TLS configuration
//! is kube's own (`ConfigExt::rustls_client_config`: CA, client certificates, exec credentials,
//! `insecure-skip-tls-verify`), so nothing about trust differs from kube's client.
//!
//! Every request is logged at debug level (`-v 4`) as an `HTTP` span carrying `http.method` and
//! `http.url`, `requesting` when it goes and `answered` with its status, as kube's stack logged
//! them (the kill-9 sweep dates writes from these lines).

use kube::client::{Body, ConfigExt as _};

use super::Error;
use crate::net::multiplexed;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The client for `config`: HTTP/2 where the server offers it. A kubeconfig naming a proxy gets
/// kube's own client (HTTP/1.1), which says what it supports for proxies.
pub(super) fn build(config: &kube::Config) -> Result<kube::Client, Error> {
    let bad = |e: &dyn std::fmt::Display| Error::Config(format!("building client: {e}"));
    if config.proxy_url.is_some() {
        return kube::Client::try_from(config.clone()).map_err(|e| bad(&e));
    }
    let tls = config.rustls_client_config().map_err(|e| bad(&e))?;
    let timeouts = multiplexed::Timeouts {
        connect: config.connect_timeout,
        // A watch ends itself before it (see `watch_all`).
        read: config.read_timeout,
        write: config.write_timeout,
    };
    let transport =
        multiplexed::client::<Body>(tls, config.tls_server_name.as_deref(), timeouts).map_err(|e| bad(&e))?;
    let service = tower::ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(config.auth_layer().map_err(|e| bad(&e))?)
        .layer(config.extra_headers_layer().map_err(|e| bad(&e))?)
        // The credentials layer fails with a boxed error; both arms of it must agree.
        .map_err(BoxError::from)
        .service(transport);
    Ok(kube::Client::new(service, config.default_namespace.clone()))
}

/// The debug span of one request (see the module doc).
pub(super) fn request_span<B>(req: &http::Request<B>) -> tracing::Span {
    tracing::debug_span!("HTTP", http.method = %req.method(), http.url = %req.uri())
}
