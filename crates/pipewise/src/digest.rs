//! `pipewise digest` and the loop `pipewise serve` runs every minute when `PIPEWISE_SMTP` is set:
//! each organisation's managers get their daily digest of at-risk deals once their day has
//! reached 8:00 (`pipewise_app::digests`), worded by `pipewise_web::pages::compose_digest` and
//! sent through the configured server (`crate::mailer`).

use std::io::Write;

use anyhow::Result;
use pipewise_app::digests::{self, Outcome};
use pipewise_core::Timestamp;
use pipewise_web::AppState;

use crate::mailer::{self, SmtpConfig};

/// What a pass does.
#[derive(Clone, Copy, Debug)]
pub struct Pass {
    /// Before the day's send hour too.
    pub ignore_hour: bool,
    /// Print each digest instead of sending it; nothing is recorded.
    pub dry_run: bool,
}

fn now() -> Timestamp {
    Timestamp::from_jiff(jiff::Timestamp::now())
}

/// Sends every due digest of every organisation, a line each.
pub fn send_due(state: &AppState, config: Option<&SmtpConfig>, base_url: Option<&str>, pass: Pass, out: &mut dyn Write) -> Result<()> {
    let organisations = pipewise_app::users::organisations(&mut state.db.read()?)?;
    for organisation in organisations {
        let org = organisation.id;
        let (day, due, recipients) = {
            let mut tx = state.db.read()?;
            let (day, due) = digests::day_at(&mut tx, org, now())?;
            (day, due, digests::recipients(&mut tx, org)?)
        };
        if !due && !pass.ignore_hour {
            continue;
        }
        for manager in recipients {
            if pass.dry_run {
                let digest = pipewise_web::pages::compose_digest(state, org, &manager, day, base_url)
                    .map_err(|error| anyhow::anyhow!("the digest of {} could not be put together: {error:?}", manager.email))?;
                writeln!(out, "To: {} <{}>\nSubject: {}\n\n{}", digest.name, digest.to, digest.subject, digest.text)?;
                continue;
            }
            let Some(config) = config else { anyhow::bail!("PIPEWISE_SMTP is not set: the SMTP server digests go through") };
            let Some(attempt) = digests::claim(&state.db, org, manager.id, day, now())? else { continue };
            let digest = match pipewise_web::pages::compose_digest(state, org, &manager, day, base_url) {
                Ok(digest) => digest,
                Err(error) => {
                    let error = format!("the digest could not be put together: {error:?}");
                    digests::finish(&state.db, org, manager.id, day, Outcome::Failed { deals: 0, error: &error }, now())?;
                    writeln!(out, "{}: {error}", manager.email)?;
                    continue;
                }
            };
            let deals = i32::try_from(digest.deals).unwrap_or(i32::MAX);
            if digest.deals == 0 {
                digests::finish(&state.db, org, manager.id, day, Outcome::Empty, now())?;
                writeln!(out, "{}: nothing at risk, nothing sent", digest.to)?;
                continue;
            }
            let message = mailer::Outgoing {
                to: &digest.to,
                to_name: &digest.name,
                subject: &digest.subject,
                text: &digest.text,
                message_id: format!("digest-{}-{}-{day}-{attempt}@pipewise", org.0, manager.id.0),
            };
            match mailer::send(config, &message) {
                Ok(()) => {
                    digests::finish(&state.db, org, manager.id, day, Outcome::Sent { deals }, now())?;
                    writeln!(out, "{}: sent ({} deals at risk)", digest.to, digest.deals)?;
                }
                Err(error) => {
                    let error = format!("{error:#}");
                    digests::finish(&state.db, org, manager.id, day, Outcome::Failed { deals, error: &error }, now())?;
                    writeln!(out, "{}: failed (attempt {attempt} of {}): {error}", digest.to, digests::MAX_ATTEMPTS)?;
                }
            }
        }
    }
    Ok(())
}

/// `pipewise digest`.
pub fn run(db: &str, now_too: bool, dry_run: bool) -> Result<()> {
    let store = crate::db::open(db)?;
    let config = if dry_run { None } else { SmtpConfig::from_env()? };
    if config.is_none() && !dry_run {
        anyhow::bail!(
            "PIPEWISE_SMTP is not set: give the SMTP server digests go through (smtp://user:password@host:587), or use --dry-run"
        );
    }
    let state = AppState::new(store);
    let base_url = std::env::var("PIPEWISE_PUBLIC_URL").ok();
    send_due(&state, config.as_ref(), base_url.as_deref(), Pass { ignore_hour: now_too, dry_run }, &mut std::io::stdout())
}
