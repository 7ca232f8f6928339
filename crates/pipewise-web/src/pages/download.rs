//! Files streamed to the browser as they are written: the organisation's export and the CSV of
//! a long list start at once and hold one chunk at a time, whatever their size.
//!
//! The writer runs on a blocking thread and hands full chunks to the response body through a
//! small channel; a client that goes away ends it (the next chunk cannot be sent). A writer
//! that fails after the first chunk ends the body with an error, so the browser reports a
//! failed download instead of keeping a file cut short.

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Bytes sent to the response a chunk at a time.
const CHUNK_BYTES: usize = 64 << 10;

/// A CSV download named `file`: `write` runs on a blocking thread and writes the file into the
/// [`Chunks`] it is given (flush to send what is buffered at once, e.g. the header line).
pub fn csv(file: String, what: String, write: impl FnOnce(&mut Chunks) -> std::io::Result<()> + Send + 'static) -> Response {
    let (sender, receiver) = tokio::sync::mpsc::channel(8);
    tokio::task::spawn_blocking(move || {
        let mut out = Chunks { sender, buffer: Vec::with_capacity(CHUNK_BYTES) };
        let result = write(&mut out).and_then(|()| std::io::Write::flush(&mut out));
        if let Err(error) = result {
            if error.kind() != std::io::ErrorKind::BrokenPipe {
                eprintln!("{what} failed: {error}");
            }
            let _ = out.sender.blocking_send(Err(error));
        }
    });
    let disposition = format!("attachment; filename=\"{file}\"");
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, disposition)],
        Body::from_stream(Receiver(receiver)),
    )
        .into_response()
}

/// A writer that hands full chunks to the response body.
pub struct Chunks {
    sender: tokio::sync::mpsc::Sender<std::io::Result<Bytes>>,
    buffer: Vec<u8>,
}

impl std::io::Write for Chunks {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= CHUNK_BYTES {
            self.flush()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK_BYTES)));
        self.sender.blocking_send(Ok(chunk)).map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

/// The receiving end as the body's stream.
struct Receiver(tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>);

impl futures_core::Stream for Receiver {
    type Item = std::io::Result<Bytes>;

    fn poll_next(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}
