//! The HTTP client under [`super::KubeCluster`]: kube's own layers (server URL, credentials,
//! impersonation headers) over a hyper client that speaks HTTP/2 to the API server when it offers
//! it (ALPN `h2`, which every kube-apiserver does over TLS), HTTP/1.1 otherwise.
//!
//! Why not kube's `Client::try_from(Config)`: its stack offers only HTTP/1.1, where every request
//! in flight needs a connection of its own, so a wave of concurrent deletes opens (and
//! TLS-handshakes) one connection per object (15 for the ConfigMaps of a 30-object uninstall),
//! and the API server pays for each handshake while it deletes. Over HTTP/2 one connection
//! carries every request and watch of a run, as client-go's does for Helm and kubectl. The TLS
//! configuration is kube's own (`ConfigExt::rustls_client_config`: CA, client certificates,
//! exec credentials, `insecure-skip-tls-verify`), so nothing about trust changes.
//!
//! Every request is logged at debug level (`-v 4`) as an `HTTP` span carrying `http.method` and
//! `http.url`, `requesting` when it goes and `answered` with its status, as kube's stack logged
//! them (the kill-9 sweep dates writes from these lines).

use hyper_rustls::FixedServerNameResolver;
use hyper_util::client::legacy::{connect::HttpConnector, Client as HyperClient};
use hyper_util::rt::TokioExecutor;
use kube::client::{Body, ConfigExt as _};

use super::Error;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The client for `config`: HTTP/2 where the server offers it. A kubeconfig naming a proxy gets
/// kube's own client (HTTP/1.1), which says what it supports for proxies.
pub(super) fn build(config: &kube::Config) -> Result<kube::Client, Error> {
    let bad = |e: &dyn std::fmt::Display| Error::Config(format!("building client: {e}"));
    if config.proxy_url.is_some() {
        return kube::Client::try_from(config.clone()).map_err(|e| bad(&e));
    }
    let tls = config.rustls_client_config().map_err(|e| bad(&e))?;
    let mut tcp = HttpConnector::new();
    // The URL's scheme decides (https_or_http below), not the TCP connector.
    tcp.enforce_http(false);
    // Many streams share one connection: without it, a small frame written while an earlier
    // one awaits its ACK waits for it (Nagle against delayed ACKs, ~40 ms a time). Go's
    // client and server set it too.
    tcp.set_nodelay(true);
    let mut https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http();
    if let Some(name) = &config.tls_server_name {
        let name = rustls::pki_types::ServerName::try_from(name.clone()).map_err(|e| bad(&e))?;
        https = https.with_server_name_resolver(FixedServerNameResolver::new(name));
    }
    // ALPN offers h2 and http/1.1; the server picks.
    let https = https.enable_all_versions().wrap_connector(tcp);
    let mut connector = hyper_timeout::TimeoutConnector::new(https);
    connector.set_connect_timeout(config.connect_timeout);
    // Over HTTP/2 this bounds the silence of the whole connection, which is never longer than
    // that of any one request on it; a watch ends itself before it (see `watch_all`).
    connector.set_read_timeout(config.read_timeout);
    connector.set_write_timeout(config.write_timeout);
    let hyper: HyperClient<_, Body> = HyperClient::builder(TokioExecutor::new()).build(connector);
    let service = tower::ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(config.auth_layer().map_err(|e| bad(&e))?)
        .layer(config.extra_headers_layer().map_err(|e| bad(&e))?)
        // The credentials layer fails with a boxed error; both arms of it must agree.
        .map_err(BoxError::from)
        .service(hyper);
    Ok(kube::Client::new(service, config.default_namespace.clone()))
}

/// The debug span of one request (see the module doc).
pub(super) fn request_span<B>(req: &http::Request<B>) -> tracing::Span {
    tracing::debug_span!("HTTP", http.method = %req.method(), http.url = %req.uri())
}
