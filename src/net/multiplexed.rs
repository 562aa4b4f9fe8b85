//! Connections for a client whose requests are built elsewhere: the Kubernetes API server's
//! (`crate::cluster` puts kube's layers, server URL, credentials and impersonation, over it).
//!
//! Why not kube's own stack: it offers only HTTP/1.1, where every request in flight needs a
//! connection of its own, so a wave of concurrent deletes opens (and TLS-handshakes) one
//! connection per object (15 for the ConfigMaps of a 30-object uninstall), and the API server
//! pays for each handshake while it deletes. This connector offers HTTP/2 by ALPN (`h2`, which
//! every kube-apiserver accepts over TLS) and HTTP/1.1, and the server picks; over HTTP/2 one
//! connection carries every request and watch of a run, as client-go's does for Helm and kubectl.
//! The TLS configuration is the caller's, so nothing about trust is decided here.

use std::time::Duration;

use hyper_rustls::{FixedServerNameResolver, HttpsConnector};
use hyper_util::client::legacy::{connect::HttpConnector, Client as HyperClient};
use hyper_util::rt::TokioExecutor;

use super::Error;

/// A pooled client over [`connector`]'s connections, sending bodies of type `B`.
pub type Multiplexed<B> = HyperClient<hyper_timeout::TimeoutConnector<HttpsConnector<HttpConnector>>, B>;

/// Limits on one connection; `None` is no limit.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timeouts {
    /// Establishing the TCP and TLS connection.
    pub connect: Option<Duration>,
    /// The longest silence while reading. Over HTTP/2 this bounds the silence of the whole
    /// connection, which is never longer than that of any one request on it: a caller's
    /// long-running watch must end itself before it.
    pub read: Option<Duration>,
    /// The longest stall while writing.
    pub write: Option<Duration>,
}

/// The client: TLS from `tls` for `https` URLs (plain TCP for `http` ones: the URL's scheme
/// decides), the certificate checked against `server_name` instead of the URL's host when given
/// (kubeconfig's `tls-server-name`).
pub fn client<B>(
    tls: rustls::ClientConfig,
    server_name: Option<&str>,
    timeouts: Timeouts,
) -> Result<Multiplexed<B>, Error>
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
{
    let mut tcp = HttpConnector::new();
    tcp.enforce_http(false);
    // Many streams share one connection: without it, a small frame written while an earlier
    // one awaits its ACK waits for it (Nagle against delayed ACKs, ~40 ms a time; HTTP/2 was
    // slower than HTTP/1.1 for it: install 0.89 vs 0.48 s). Go's client and server set it too.
    tcp.set_nodelay(true);
    let mut https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http();
    if let Some(name) = server_name {
        let name = rustls::pki_types::ServerName::try_from(name.to_owned())
            .map_err(|e| Error::Tls(format!("tls-server-name {name:?}: {e}")))?;
        https = https.with_server_name_resolver(FixedServerNameResolver::new(name));
    }
    let https = https.enable_all_versions().wrap_connector(tcp);
    let mut connector = hyper_timeout::TimeoutConnector::new(https);
    connector.set_connect_timeout(timeouts.connect);
    connector.set_read_timeout(timeouts.read);
    connector.set_write_timeout(timeouts.write);
    Ok(HyperClient::builder(TokioExecutor::new()).build(connector))
}
