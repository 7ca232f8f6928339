//! The projection kept on disk between starts (issue 11, point 2): a server with a snapshot
//! directory writes each organisation's projection there as its log advances, and at its next
//! start reads it back and follows the log from where it stopped, instead of replaying the whole
//! log (a million deals: about a second instead of fifteen).
//!
//! # Never trusted blindly
//! The file is a cache. It is used only when all of this holds, else the projection is built
//! from the store as without one (and the reason is logged):
//! - it is whole: [`Projection::from_snapshot`] checks its checksum, version and consistency;
//! - it is of this organisation, in the organisation's time zone now;
//! - the log still holds, at the snapshot's last sequence number, the very event the snapshot
//!   applied last (same deal, field and time): a database restored from an older backup, or
//!   another database, is not mistaken for the one the snapshot was written from.
//!
//! The exchange rates, pipelines and people are read from the store at load, as on a rebuild;
//! the activity facts are the snapshot's when it was written the same day (their feed then
//! resumes from its watermark), else computed again.
//!
//! # Written
//! To a temporary file renamed over the old one (a crash leaves the previous snapshot whole),
//! a megabyte at a time, under the projection's read lock (the store is read before it is
//! taken): applying new events waits for the write (about half a second at a million deals),
//! and so do readers that arrive while an event waits to be applied. The follower writes one
//! after loading from the store and then, at most every [`SNAPSHOT_EVERY`], when the log
//! advanced.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pipewise_analytics::{Day, Projection};
use pipewise_core::OrgId;
use pipewise_core::fx::RateTable;
use pipewise_core::history::HistoryEvent;
use pipewise_store::{Store, StoreError};

use super::{Clock, FactsFeed, Insights, register_people};

/// The first line of a snapshot file.
const MAGIC: &str = "pipewise projection snapshot 1";

/// How often, at most, the follower writes a snapshot while the log advances.
pub const SNAPSHOT_EVERY: Duration = Duration::from_secs(600);

/// Where organisation `org`'s snapshot is kept in `dir`.
pub fn snapshot_path(dir: &Path, org: OrgId) -> PathBuf {
    dir.join(format!("projection-{}.snapshot", org.0))
}

/// How a projection was loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Loaded {
    /// From the snapshot, then this many events of the log after it.
    Snapshot { events_after: u64 },
    /// From the store; why the snapshot was not used, if there was one.
    Store { snapshot_refused: Option<String> },
}

/// The snapshot's last event as the file names it: the deal, the field and the time.
fn fingerprint(event: &HistoryEvent) -> String {
    format!("{}:{:?}:{}", event.opportunity_id.0, event.field, event.at.as_micros())
}

/// What the file says besides the projection.
struct Header {
    org: i64,
    last_seq: i64,
    last_event: String,
    zone: String,
    facts_day: Day,
    facts_watermark: i64,
}

impl Header {
    fn line(&self) -> String {
        serde_json::json!({
            "org": self.org,
            "last_seq": self.last_seq,
            "last_event": self.last_event,
            "zone": self.zone,
            "facts_day": self.facts_day,
            "facts_watermark": self.facts_watermark,
        })
        .to_string()
    }

    fn parse(line: &str) -> Option<Header> {
        let value: serde_json::Value = serde_json::from_str(line).ok()?;
        Some(Header {
            org: value.get("org")?.as_i64()?,
            last_seq: value.get("last_seq")?.as_i64()?,
            last_event: value.get("last_event")?.as_str()?.to_owned(),
            zone: value.get("zone")?.as_str()?.to_owned(),
            facts_day: Day::try_from(value.get("facts_day")?.as_i64()?).ok()?,
            facts_watermark: value.get("facts_watermark")?.as_i64()?,
        })
    }
}

/// The event the log holds at `seq` for `org`, if any.
fn event_at(store: &dyn Store, org: OrgId, seq: i64) -> Result<Option<HistoryEvent>, StoreError> {
    Ok(store.read()?.history_since(org, seq - 1, 1)?.into_iter().next().filter(|event| event.seq == seq))
}

impl Insights {
    /// Loads the organisation's projection from the snapshot at `path` when it is there and
    /// still true of the store (see the module's docs), else from the store; says which.
    pub fn load_or_restore(store: Arc<dyn Store>, org: OrgId, clock: Clock, path: &Path) -> Result<(Insights, Loaded), StoreError> {
        let refused = match std::fs::read(path) {
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
            Err(error) => Some(format!("cannot read {}: {error}", path.display())),
            Ok(bytes) => match Insights::restore(Arc::clone(&store), org, Arc::clone(&clock), &bytes) {
                Ok(Ok(restored)) => return Ok(restored),
                Ok(Err(refused)) => Some(refused),
                Err(error) => return Err(error),
            },
        };
        if let Some(refused) = &refused {
            eprintln!("insights: organisation {}: the snapshot {} is not used ({refused}); loading from the store", org.0, path.display());
        }
        Ok((Insights::load_with_clock(store, org, clock)?, Loaded::Store { snapshot_refused: refused }))
    }

    /// The projection `bytes` hold, followed to the log's end, or why it may not be used.
    fn restore(store: Arc<dyn Store>, org: OrgId, clock: Clock, bytes: &[u8]) -> Result<Result<(Insights, Loaded), String>, StoreError> {
        let mut lines = bytes.splitn(3, |byte| *byte == b'\n');
        if lines.next() != Some(MAGIC.as_bytes()) {
            return Ok(Err("not a snapshot of this version".to_owned()));
        }
        let Some(header) = lines.next().and_then(|line| std::str::from_utf8(line).ok()).and_then(Header::parse) else {
            return Ok(Err("its header is damaged".to_owned()));
        };
        let body = lines.next().unwrap_or_default();
        if header.org != org.0 {
            return Ok(Err(format!("it is organisation {}'s", header.org)));
        }
        let (organisation, rates) = {
            let mut tx = store.read()?;
            let organisation = tx.organisation(org)?.ok_or(StoreError::NotFound { kind: "organisation", id: org.0 })?;
            let rates = tx.rate_table(org)?.unwrap_or_else(|| RateTable::new(organisation.reporting_currency));
            (organisation, rates)
        };
        if organisation.time_zone.name() != header.zone {
            return Ok(Err(format!("it counts days in {}, the organisation now in {}", header.zone, organisation.time_zone.name())));
        }
        if header.last_seq > 0 {
            match event_at(store.as_ref(), org, header.last_seq)? {
                Some(event) if fingerprint(&event) == header.last_event => {}
                Some(_) => return Ok(Err(format!("the log's event {} is not the one it applied", header.last_seq))),
                None => return Ok(Err(format!("the log holds no event {} (an older or another database)", header.last_seq))),
            }
        }
        let mut projection = match Projection::from_snapshot(body, rates) {
            Ok(projection) => projection,
            Err(error) => return Ok(Err(error.to_string())),
        };
        if projection.last_seq() != header.last_seq || projection.zone() != &organisation.time_zone {
            return Ok(Err("its header and its projection disagree".to_owned()));
        }
        {
            let mut tx = store.read()?;
            for pipeline in tx.pipelines(org)? {
                projection.add_pipeline(&pipeline);
            }
            register_people(tx.as_mut(), org, &mut projection)?;
        }
        let insights = Insights::with_projection(store, org, organisation.time_zone.clone(), clock, projection);
        insights.cursor.store(header.last_seq, std::sync::atomic::Ordering::Release);
        // The next one is due when the log has advanced and `SNAPSHOT_EVERY` has passed.
        *insights.snapshot_written.lock().expect("snapshot lock") = Some((Instant::now(), header.last_seq));
        if header.facts_day == insights.today() {
            // The facts are the snapshot's, as of its watermark: the feed goes on from there.
            let mut feed = insights.feed.lock().expect("facts feed lock");
            *feed = FactsFeed {
                day: header.facts_day,
                full_at: Some(Instant::now()),
                watermark: header.facts_watermark,
                reads: Default::default(),
            };
        }
        let events_after = {
            let mut guard = insights.refreshing.lock().expect("refresh lock");
            let applied = insights.follow_log()?;
            insights.update_facts(false)?;
            *guard = Some(Instant::now());
            applied
        };
        Ok(Ok((insights, Loaded::Snapshot { events_after })))
    }

    /// Writes the projection's snapshot to `path` (through a temporary file beside it, renamed
    /// over it once whole); answers its size in bytes.
    pub fn write_snapshot(&self, path: &Path) -> std::io::Result<u64> {
        // The last event's fingerprint is read from the store before the locks are taken;
        // should the projection move on meanwhile, it is read again.
        for _ in 0..3 {
            let seq = self.last_seq();
            let last_event = if seq > 0 {
                event_at(self.store.as_ref(), self.org, seq)
                    .map_err(std::io::Error::other)?
                    .map(|event| fingerprint(&event))
                    .ok_or_else(|| std::io::Error::other(format!("the log holds no event {seq}")))?
            } else {
                String::new()
            };
            if let Some(written) = self.write_snapshot_at(path, seq, &last_event)? {
                return Ok(written);
            }
        }
        Err(std::io::Error::other("the log moved on while the snapshot was being written"))
    }

    /// Writes the snapshot if the projection is still at `seq` (`None` when it moved on).
    fn write_snapshot_at(&self, path: &Path, seq: i64, last_event: &str) -> std::io::Result<Option<u64>> {
        let temporary = path.with_extension("snapshot.partial");
        let file = std::fs::File::create(&temporary)?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        let written = {
            // The facts and the projection as of one moment: the feed's lock first, as the
            // facts' update takes them.
            let feed = self.feed.lock().expect("facts feed lock");
            let projection = self.projection.read().expect("projection lock");
            if projection.last_seq() != seq {
                drop(out);
                let _ = std::fs::remove_file(&temporary);
                return Ok(None);
            }
            let header = Header {
                org: self.org.0,
                last_seq: seq,
                last_event: last_event.to_owned(),
                zone: self.zone.name().to_owned(),
                facts_day: feed.day,
                facts_watermark: if feed.full_at.is_some() { feed.watermark } else { -1 },
            };
            writeln!(out, "{MAGIC}")?;
            writeln!(out, "{}", header.line())?;
            projection.write_snapshot(&mut out)?
        };
        let file = out.into_inner().map_err(|error| error.into_error())?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)?;
        Ok(Some(written))
    }

    /// Writes the snapshot when the log advanced since the last one and [`SNAPSHOT_EVERY`]
    /// passed (or none was written yet); logs a failure (the next start then rebuilds).
    pub(super) fn snapshot_if_due(&self) {
        let Some(path) = &self.snapshot else { return };
        let last_seq = self.last_seq();
        let mut written = self.snapshot_written.lock().expect("snapshot lock");
        let due = match *written {
            None => true,
            Some((at, seq)) => seq != last_seq && at.elapsed() >= SNAPSHOT_EVERY,
        };
        if !due {
            return;
        }
        let started = Instant::now();
        match self.write_snapshot(path) {
            Ok(bytes) => eprintln!(
                "insights: organisation {}: snapshot written ({:.0} MB in {:.1} s)",
                self.org.0,
                bytes as f64 / 1e6,
                started.elapsed().as_secs_f64()
            ),
            Err(error) => eprintln!("insights: organisation {}: the snapshot {} was not written: {error}", self.org.0, path.display()),
        }
        *written = Some((Instant::now(), last_seq));
    }
}
