//! TLS for the connections the server opens itself (mailbox sync; later mail digests): rustls
//! with the Mozilla roots (webpki-roots), plus the certificates of `PIPEWISE_TLS_CA` (a PEM file)
//! for a company's own certificate authority. No certificate is ever accepted unverified.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, OnceLock};

use anyhow::{Context, Result};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

/// The client configuration, built once.
fn config() -> Result<Arc<ClientConfig>> {
    static CONFIG: OnceLock<std::result::Result<Arc<ClientConfig>, String>> = OnceLock::new();
    CONFIG.get_or_init(|| build().map_err(|error| format!("{error:#}"))).clone().map_err(|error| anyhow::anyhow!(error))
}

fn build() -> Result<Arc<ClientConfig>> {
    let mut roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    if let Some(path) = std::env::var_os("PIPEWISE_TLS_CA") {
        let shown = std::path::Path::new(&path).display().to_string();
        let mut added = 0;
        for certificate in CertificateDer::pem_file_iter(&path).with_context(|| format!("PIPEWISE_TLS_CA: cannot read {shown}"))? {
            let certificate = certificate.with_context(|| format!("PIPEWISE_TLS_CA: {shown} holds a certificate that cannot be read"))?;
            roots
                .add(certificate)
                .with_context(|| format!("PIPEWISE_TLS_CA: {shown} holds a certificate that is not a usable authority"))?;
            added += 1;
        }
        anyhow::ensure!(added > 0, "PIPEWISE_TLS_CA: {shown} holds no PEM certificate");
    }
    // ring, as ureq (webhooks) uses: one TLS backend in the binary, and no aws-lc C build.
    // rustls 0.23.48 deprecates it only for its lack of post-quantum key exchange.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS cannot be set up")?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A connection that may be plain or TLS.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Stream {
    /// Wraps `stream` in TLS to `host`, completing the handshake (so a bad certificate is said
    /// here, as a TLS failure).
    pub fn tls(stream: TcpStream, host: &str) -> Result<Stream> {
        let name = ServerName::try_from(host.to_owned()).with_context(|| format!("TLS: {host} is not a host name"))?;
        let connection = ClientConnection::new(config()?, name).context("TLS cannot be set up")?;
        let mut tls = StreamOwned::new(connection, stream);
        while tls.conn.is_handshaking() {
            tls.conn.complete_io(&mut tls.sock).map_err(|error| anyhow::anyhow!("TLS: {}", describe(&error)))?;
        }
        Ok(Stream::Tls(Box::new(tls)))
    }

    /// The plain socket under a connection not yet in TLS (for STARTTLS).
    pub fn into_plain(self) -> Option<TcpStream> {
        match self {
            Stream::Plain(stream) => Some(stream),
            Stream::Tls(_) => None,
        }
    }

    pub fn is_tls(&self) -> bool {
        matches!(self, Stream::Tls(_))
    }
}

/// A TLS failure in words: rustls puts the certificate's problem inside an I/O error.
fn describe(error: &std::io::Error) -> String {
    match error.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        Some(rustls::Error::InvalidCertificate(problem)) => format!("the server's certificate is not trusted ({problem:?})"),
        Some(other) => other.to_string(),
        None => error.to_string(),
    }
}

impl Read for Stream {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(stream) => stream.read(buffer),
            Stream::Tls(stream) => stream.read(buffer),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buffer: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(stream) => stream.write(buffer),
            Stream::Tls(stream) => stream.write(buffer),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Plain(stream) => stream.flush(),
            Stream::Tls(stream) => stream.flush(),
        }
    }
}

/// Whether `host` is this machine (the only place a password may travel unencrypted).
pub fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.trim_start_matches('[').trim_end_matches(']').parse::<std::net::IpAddr>().is_ok_and(|address| address.is_loopback())
}
