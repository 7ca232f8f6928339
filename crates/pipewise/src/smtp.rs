//! The drop box: an SMTP listener (`pipewise serve --smtp ADDR`) that reps BCC or forward mail
//! to. The conversation is `pipewise_capture::smtp::Session`; this edge reads lines with limits
//! and timeouts, asks the application whether the sender is a user, and captures each message
//! as that user (`pipewise_app::capture::drop_box`).
//!
//! Limits: 32 connections at once, 20 messages a connection, 5 minutes of silence, command lines
//! of 1,000 bytes, data lines of 64 KiB, messages of 25 MiB. Plain SMTP without TLS or AUTH:
//! listen on a private network (behind the mail relay that forwards to it), since the envelope
//! sender is taken at its word.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use pipewise_app::Db;
use pipewise_capture::smtp::{Session, Step};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const CONNECTIONS: usize = 32;
const MESSAGES_PER_CONNECTION: usize = 20;
const IDLE: Duration = Duration::from_secs(300);
const DATA_LINE: u64 = 64 << 10;
const HOST: &str = "pipewise";

/// The drop box's socket on `addr` (bound before anything is served, so a bad address stops
/// the start).
pub async fn bind(addr: &str) -> Result<TcpListener> {
    let listener = TcpListener::bind(addr).await.with_context(|| format!("the drop box cannot listen on {addr}"))?;
    let local = listener.local_addr().context("the drop box has no address")?;
    println!("The mail drop box is listening on smtp://{local}/");
    Ok(listener)
}

/// Answers mail on `listener` until the process ends.
pub async fn listen(listener: TcpListener, db: Db, clock: Arc<dyn Fn() -> pipewise_core::Timestamp + Send + Sync>) {
    let slots = Arc::new(tokio::sync::Semaphore::new(CONNECTIONS));
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                eprintln!("drop box: accept failed: {error}");
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            let mut stream = stream;
            let _ = stream.write_all(b"421 4.3.2 Too many connections; try again later\r\n").await;
            continue;
        };
        let db = db.clone();
        let clock = clock.clone();
        tokio::spawn(async move {
            if let Err(error) = converse(stream, db, clock).await {
                eprintln!("drop box: connection ended: {error}");
            }
            drop(slot);
        });
    }
}

async fn converse(stream: TcpStream, db: Db, clock: Arc<dyn Fn() -> pipewise_core::Timestamp + Send + Sync>) -> std::io::Result<()> {
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    let max_bytes = pipewise_capture::message::MAX_MESSAGE_BYTES;
    let mut session = Session::new(HOST, max_bytes);
    writer.write_all(session.greeting().as_bytes()).await?;
    let mut sender = None;
    let mut delivered = 0;
    let mut line = Vec::with_capacity(1024);
    loop {
        line.clear();
        let limit = if session.in_data() { DATA_LINE } else { pipewise_capture::smtp::MAX_COMMAND_LINE as u64 + 2 };
        let read = tokio::time::timeout(IDLE, (&mut reader).take(limit).read_until(b'\n', &mut line)).await;
        let Ok(read) = read else {
            writer.write_all(b"421 4.4.2 Idle too long; closing\r\n").await?;
            return Ok(());
        };
        if read? == 0 {
            return Ok(());
        }
        if !line.ends_with(b"\n") && line.len() as u64 >= limit {
            writer.write_all(b"500 5.5.2 Line too long; closing\r\n").await?;
            return Ok(());
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        match session.line(text) {
            Step::Reply(reply) => writer.write_all(reply.as_bytes()).await?,
            Step::Read => {}
            Step::Close(reply) => {
                writer.write_all(reply.as_bytes()).await?;
                return Ok(());
            }
            Step::CheckSender(address) => {
                let lookup = db.clone();
                let found = tokio::task::spawn_blocking(move || pipewise_app::capture::drop_box_sender(&lookup, &address))
                    .await
                    .map_err(std::io::Error::other)?;
                sender = match found {
                    Ok(found) => found,
                    Err(error) => {
                        eprintln!("drop box: sender lookup failed: {error}");
                        None
                    }
                };
                writer.write_all(session.sender_checked(sender.is_some()).as_bytes()).await?;
            }
            Step::Deliver(envelope) => {
                let Some(from) = sender else {
                    writer.write_all(session.delivered(Err("no sender".into())).as_bytes()).await?;
                    continue;
                };
                let store = db.clone();
                let at = clock();
                let outcome = tokio::task::spawn_blocking(move || pipewise_app::capture::drop_box(&store, from, at, envelope.data))
                    .await
                    .map_err(std::io::Error::other)?;
                let outcome = match outcome {
                    Ok(report) if report.emails + report.meetings > 0 => Ok(format!(
                        "logged ({} on a deal; {} commands applied, {} not)",
                        report.with_deal,
                        report.commands_applied,
                        report.command_errors.len()
                    )),
                    Ok(report) if report.duplicates > 0 => Ok("already logged".to_owned()),
                    Ok(report) => Err(report
                        .refused
                        .first()
                        .map(|refusal| pipewise_web::i18n::message(pipewise_core::user::Locale::En, &refusal.reason))
                        .unwrap_or_else(|| "nothing to log".to_owned())),
                    Err(error) => {
                        eprintln!("drop box: capture failed: {error}");
                        Err("the message could not be stored; try again later".to_owned())
                    }
                };
                writer.write_all(session.delivered(outcome).as_bytes()).await?;
                delivered += 1;
                if delivered >= MESSAGES_PER_CONNECTION {
                    writer.write_all(b"421 4.7.0 Enough for one connection; closing\r\n").await?;
                    return Ok(());
                }
            }
        }
    }
}
