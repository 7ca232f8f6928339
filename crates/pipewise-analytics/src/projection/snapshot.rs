//! The projection as bytes and back: what a server writes as the log advances and reads at its
//! next start instead of replaying the whole log (a million deals load in about a second
//! instead of fifteen).
//!
//! # Format
//! `PWSNAP` and a format version, the payload, then a 64-bit checksum of the payload. The
//! payload holds every part of the projection in a fixed order (numbers little-endian, texts
//! and columns with their length first), up to the log's last sequence number it applied. The
//! exchange rates are not kept: [`Projection::from_snapshot`] takes the store's and converts
//! the foreign amounts again, so a rate that arrived since counts as it would on a rebuild.
//!
//! # Trust
//! A snapshot is a cache: a wrong one must never be believed. Decoding fails (never panics) on
//! a bad checksum, another format version, a short or long payload, and on indexes that point
//! outside their tables; the caller checks that the snapshot's last sequence number still names
//! the same event in the log and rebuilds from the store otherwise. This crate does no I/O: the
//! application layer reads and writes the file.

use std::collections::HashMap;

use pipewise_core::fx::RateTable;
use pipewise_core::pipeline::StageKind;
use pipewise_core::{Currency, OpportunityId, StageId, TeamId, UserId, Zone};

use super::{
    ActivityFacts, AmountSetting, Deals, FORECAST_CATEGORIES, Field, HotOrder, NO_AMOUNT, NO_CHANGE, NO_CURRENCY, NO_INDEX, NO_STAGE,
    PUSHED_CLOSE_DATE, PipelineInfo, Projection, StageInfo,
};
use crate::{Day, NO_DAY};

const MAGIC: &[u8; 8] = b"PWSNAP\x00\x01";

/// Why a snapshot was not used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    #[error("not a projection snapshot of this version")]
    Version,
    #[error("the snapshot's checksum does not match: it is damaged")]
    Checksum,
    #[error("the snapshot ends early or runs on: {0}")]
    Length(&'static str),
    #[error("the snapshot is inconsistent: {0}")]
    Inconsistent(&'static str),
}

/// A 64-bit checksum (it detects damage, not tampering), fed a part at a time: eight bytes at
/// once, whatever the parts' sizes.
struct Checksum {
    hash: u64,
    carry: [u8; 8],
    carried: usize,
    len: u64,
}

const PRIME: u64 = 0x0000_0100_0000_01b3;

impl Checksum {
    fn new() -> Checksum {
        Checksum { hash: 0xcbf2_9ce4_8422_2325, carry: [0; 8], carried: 0, len: 0 }
    }

    fn word(&mut self, word: [u8; 8]) {
        self.hash = (self.hash ^ u64::from_le_bytes(word)).wrapping_mul(PRIME).rotate_left(29);
    }

    fn update(&mut self, mut bytes: &[u8]) {
        self.len += bytes.len() as u64;
        if self.carried > 0 {
            let take = (8 - self.carried).min(bytes.len());
            self.carry[self.carried..self.carried + take].copy_from_slice(&bytes[..take]);
            self.carried += take;
            bytes = &bytes[take..];
            if self.carried < 8 {
                return;
            }
            self.word(self.carry);
            self.carried = 0;
        }
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            self.word(word.try_into().expect("eight bytes"));
        }
        let rest = words.remainder();
        self.carry[..rest.len()].copy_from_slice(rest);
        self.carried = rest.len();
    }

    fn finish(mut self) -> u64 {
        for byte in &self.carry[..self.carried] {
            self.hash = (self.hash ^ u64::from(*byte)).wrapping_mul(PRIME);
        }
        (self.hash ^ self.len).wrapping_mul(PRIME)
    }
}

/// The checksum of `bytes` in one part.
fn checksum(bytes: &[u8]) -> u64 {
    let mut sum = Checksum::new();
    sum.update(bytes);
    sum.finish()
}

/// A value kept as a fixed number of little-endian bytes.
trait Fixed: Copy {
    const SIZE: usize;
    fn put(self, out: &mut Vec<u8>);
    fn take(bytes: &[u8]) -> Self;
}

macro_rules! fixed_number {
    ($($number:ty),*) => {$(
        impl Fixed for $number {
            const SIZE: usize = std::mem::size_of::<$number>();
            fn put(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn take(bytes: &[u8]) -> Self {
                <$number>::from_le_bytes(bytes.try_into().expect("the size asked for"))
            }
        }
    )*};
}
fixed_number!(u8, u16, u32, u64, i16, i32, i64);

impl Fixed for bool {
    const SIZE: usize = 1;
    fn put(self, out: &mut Vec<u8>) {
        out.push(u8::from(self));
    }
    fn take(bytes: &[u8]) -> Self {
        bytes[0] != 0
    }
}

impl Fixed for OpportunityId {
    const SIZE: usize = 8;
    fn put(self, out: &mut Vec<u8>) {
        self.0.put(out);
    }
    fn take(bytes: &[u8]) -> Self {
        OpportunityId(i64::take(bytes))
    }
}

/// Writes the payload into a sink a megabyte at a time, summing it on the way.
struct Writer<'a> {
    buffer: Vec<u8>,
    sink: &'a mut dyn std::io::Write,
    sum: Checksum,
    written: u64,
    failed: Option<std::io::Error>,
}

const FLUSH_AT: usize = 1 << 20;

impl Writer<'_> {
    fn flush(&mut self) {
        if self.failed.is_none() {
            self.sum.update(&self.buffer);
            self.written += self.buffer.len() as u64;
            if let Err(error) = self.sink.write_all(&self.buffer) {
                self.failed = Some(error);
            }
        }
        self.buffer.clear();
    }

    fn bytes(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= FLUSH_AT {
            self.flush();
        }
    }

    fn value<T: Fixed>(&mut self, value: T) {
        value.put(&mut self.buffer);
        if self.buffer.len() >= FLUSH_AT {
            self.flush();
        }
    }

    fn count(&mut self, count: usize) {
        self.value(count as u64);
    }

    fn text(&mut self, text: &str) {
        self.count(text.len());
        for part in text.as_bytes().chunks(FLUSH_AT) {
            self.bytes(part);
        }
    }

    fn column<T: Fixed>(&mut self, column: &[T]) {
        self.count(column.len());
        for value in column {
            self.value(*value);
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl Reader<'_> {
    fn bytes(&mut self, len: usize, what: &'static str) -> Result<&[u8], SnapshotError> {
        if len > self.bytes.len() {
            return Err(SnapshotError::Length(what));
        }
        let (taken, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        Ok(taken)
    }

    fn value<T: Fixed>(&mut self, what: &'static str) -> Result<T, SnapshotError> {
        Ok(T::take(self.bytes(T::SIZE, what)?))
    }

    fn count(&mut self, what: &'static str) -> Result<usize, SnapshotError> {
        let count = self.value::<u64>(what)?;
        // No count can exceed the bytes left (every item takes at least one).
        usize::try_from(count).ok().filter(|count| *count <= self.bytes.len()).ok_or(SnapshotError::Length(what))
    }

    fn text(&mut self, what: &'static str) -> Result<String, SnapshotError> {
        let len = self.count(what)?;
        String::from_utf8(self.bytes(len, what)?.to_vec()).map_err(|_| SnapshotError::Inconsistent(what))
    }

    fn column<T: Fixed>(&mut self, what: &'static str) -> Result<Vec<T>, SnapshotError> {
        let len = self.count(what)?;
        let bytes = self.bytes(len.checked_mul(T::SIZE).ok_or(SnapshotError::Length(what))?, what)?;
        Ok(bytes.chunks_exact(T::SIZE).map(T::take).collect())
    }

    fn currency(&mut self, what: &'static str) -> Result<Currency, SnapshotError> {
        Currency::from_code(&self.text(what)?).map_err(|_| SnapshotError::Inconsistent(what))
    }
}

fn kind_code(kind: StageKind) -> u8 {
    match kind {
        StageKind::Open => 0,
        StageKind::Won => 1,
        StageKind::Lost => 2,
    }
}

impl Projection {
    /// The projection as bytes (see the module's docs).
    pub fn to_snapshot(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        self.write_snapshot(&mut bytes).expect("a Vec takes every byte");
        bytes
    }

    /// Writes the projection's snapshot into `sink` a megabyte at a time (never the whole of it
    /// in memory); answers how many bytes were written.
    pub fn write_snapshot(&self, sink: &mut dyn std::io::Write) -> std::io::Result<u64> {
        sink.write_all(MAGIC)?;
        // Every part named, so that a part added to the projection cannot be forgotten here.
        let Projection {
            zone,
            reporting,
            rates: _,
            stages,
            stage_by_id: _,
            pipelines,
            owner_ids,
            owner_by_id: _,
            owner_team,
            team_days: _,
            stage_days: _,
            usual: _,
            team_ids,
            team_by_id: _,
            currencies,
            deal_by_id: _,
            deals,
            names,
            event_day,
            event_field,
            event_old,
            foreign,
            garbage,
            activity,
            last_seq,
            max_day,
            threads,
            hot,
            revision,
            past_revision,
        } = self;
        let mut out = Writer { buffer: Vec::with_capacity(FLUSH_AT + 64), sink, sum: Checksum::new(), written: 0, failed: None };
        out.text(zone.name());
        out.text(reporting.code());
        out.count(stages.len());
        for stage in stages {
            let StageInfo { id, pipeline, position, kind, win_bp, counts_in_metrics, rotting_days, name_en, name_ko } = stage;
            out.value(id.0);
            out.value(*pipeline);
            out.value(*position);
            out.value(kind_code(*kind));
            out.value(*win_bp);
            out.value(*counts_in_metrics);
            out.value(rotting_days.is_some());
            out.value(rotting_days.unwrap_or(0));
            out.text(name_en);
            out.text(name_ko);
        }
        out.count(pipelines.len());
        for PipelineInfo { id, name, stages } in pipelines {
            out.value(id.0);
            out.text(name);
            out.column(stages);
        }
        out.column(&owner_ids.iter().map(|id| id.0).collect::<Vec<_>>());
        out.column(owner_team);
        out.column(&team_ids.iter().map(|id| id.0).collect::<Vec<_>>());
        out.count(currencies.len());
        for currency in currencies {
            out.text(currency.code());
        }
        let Deals {
            id,
            account,
            name_start,
            name_len,
            owner,
            stage,
            forecast,
            amount,
            amount_native,
            currency,
            close_day,
            created_day,
            closed_day,
            stage_entered_day,
            stage_before,
            max_open_position,
            creation_max_open,
            foreign: foreign_flags,
            push_count,
            last_close_day,
            last_event_day,
            created_at,
            event_start,
            event_len,
            event_cap,
        } = deals;
        out.column(id);
        out.column(account);
        out.column(name_start);
        out.column(name_len);
        out.column(owner);
        out.column(stage);
        out.column(forecast);
        out.column(amount);
        out.column(amount_native);
        out.column(currency);
        out.column(close_day);
        out.column(created_day);
        out.column(closed_day);
        out.column(stage_entered_day);
        out.column(stage_before);
        out.column(max_open_position);
        out.column(creation_max_open);
        out.column(foreign_flags);
        out.column(push_count);
        out.column(last_close_day);
        out.column(last_event_day);
        out.column(created_at);
        out.column(event_start);
        out.column(event_len);
        out.column(event_cap);
        out.text(names);
        out.column(event_day);
        out.column(event_field);
        out.column(event_old);
        out.count(foreign.len());
        for AmountSetting { deal, native, day, change, currency } in foreign {
            out.value(*deal);
            out.value(*native);
            out.value(*day);
            out.value(*change);
            out.value(*currency);
        }
        out.value(*garbage as u64);
        let ActivityFacts { last_activity_day, last_inbound_day, touchpoints_30d, contacts_engaged, overdue_tasks, max_log_lag_days } =
            activity;
        out.column(last_activity_day);
        out.column(last_inbound_day);
        out.column(touchpoints_30d);
        out.column(contacts_engaged);
        out.column(overdue_tasks);
        out.column(max_log_lag_days);
        out.value(*last_seq);
        out.value(*max_day);
        out.value(*threads as u64);
        let HotOrder { key, sorted, changed, changed_bits, generation, full_scan } = hot;
        out.column(key);
        out.value(*sorted as u64);
        out.column(changed);
        out.column(changed_bits);
        out.value(*generation);
        out.value(*full_scan);
        out.value(*revision);
        out.value(*past_revision);
        out.flush();
        let Writer { sink, sum, written, failed, .. } = out;
        if let Some(error) = failed {
            return Err(error);
        }
        sink.write_all(&sum.finish().to_le_bytes())?;
        Ok(MAGIC.len() as u64 + written + 8)
    }

    /// The projection `bytes` hold ([`Projection::to_snapshot`]), with `rates` (the store's
    /// now): the foreign amounts are converted again with them. Any damage or inconsistency is
    /// an error, never a panic or a wrong projection.
    pub fn from_snapshot(bytes: &[u8], rates: RateTable) -> Result<Projection, SnapshotError> {
        let body = bytes.strip_prefix(MAGIC.as_slice()).ok_or(SnapshotError::Version)?;
        if body.len() < 8 {
            return Err(SnapshotError::Length("the checksum"));
        }
        let (payload, sum) = body.split_at(body.len() - 8);
        if checksum(payload) != u64::from_le_bytes(sum.try_into().expect("eight bytes")) {
            return Err(SnapshotError::Checksum);
        }
        let mut input = Reader { bytes: payload };
        let zone = Zone::parse(&input.text("the time zone")?).map_err(|_| SnapshotError::Inconsistent("the time zone"))?;
        let reporting = input.currency("the reporting currency")?;
        let mut projection = Projection::new_in(zone, reporting, rates);
        let stages = input.count("the stages")?;
        for _ in 0..stages {
            let id = StageId(input.value("a stage")?);
            let pipeline = input.value("a stage")?;
            let position = input.value("a stage")?;
            let kind = match input.value::<u8>("a stage")? {
                0 => StageKind::Open,
                1 => StageKind::Won,
                2 => StageKind::Lost,
                _ => return Err(SnapshotError::Inconsistent("a stage's kind")),
            };
            let win_bp = input.value("a stage")?;
            let counts_in_metrics = input.value("a stage")?;
            let rotting = input.value::<bool>("a stage")?;
            let rotting_days = input.value::<i32>("a stage")?;
            let name_en = input.text("a stage's name")?;
            let name_ko = input.text("a stage's name")?;
            projection.stages.push(StageInfo {
                id,
                pipeline,
                position,
                kind,
                win_bp,
                counts_in_metrics,
                rotting_days: rotting.then_some(rotting_days),
                name_en,
                name_ko,
            });
        }
        let pipelines = input.count("the pipelines")?;
        for _ in 0..pipelines {
            let id = pipewise_core::PipelineId(input.value("a pipeline")?);
            let name = input.text("a pipeline's name")?;
            let stages = input.column("a pipeline's stages")?;
            projection.pipelines.push(PipelineInfo { id, name, stages });
        }
        projection.owner_ids = input.column::<i64>("the owners")?.into_iter().map(UserId).collect();
        projection.owner_team = input.column("the owners' teams")?;
        projection.team_ids = input.column::<i64>("the teams")?.into_iter().map(TeamId).collect();
        let currencies = input.count("the currencies")?;
        for _ in 0..currencies {
            let currency = input.currency("a currency")?;
            projection.currencies.push(currency);
        }
        let deals = Deals {
            id: input.column("the deals' ids")?,
            account: input.column("the deals' accounts")?,
            name_start: input.column("the deals' names")?,
            name_len: input.column("the deals' names")?,
            owner: input.column("the deals' owners")?,
            stage: input.column("the deals' stages")?,
            forecast: input.column("the deals' forecast categories")?,
            amount: input.column("the deals' amounts")?,
            amount_native: input.column("the deals' amounts")?,
            currency: input.column("the deals' currencies")?,
            close_day: input.column("the deals' close days")?,
            created_day: input.column("the deals' creation days")?,
            closed_day: input.column("the deals' closed days")?,
            stage_entered_day: input.column("the deals' stage days")?,
            stage_before: input.column("the deals' previous stages")?,
            max_open_position: input.column("the deals' furthest stages")?,
            creation_max_open: input.column("the deals' furthest stages")?,
            foreign: input.column("the deals' foreign flags")?,
            push_count: input.column("the deals' pushes")?,
            last_close_day: input.column("the deals' close days")?,
            last_event_day: input.column("the deals' last changes")?,
            created_at: input.column("the deals' creation times")?,
            event_start: input.column("the deals' events")?,
            event_len: input.column("the deals' events")?,
            event_cap: input.column("the deals' events")?,
        };
        projection.deals = deals;
        projection.names = input.text("the deals' names")?;
        projection.event_day = input.column("the events")?;
        projection.event_field = input.column("the events")?;
        projection.event_old = input.column("the events")?;
        let settings = input.count("the foreign amounts")?;
        for _ in 0..settings {
            projection.foreign.push(AmountSetting {
                deal: input.value("a foreign amount")?,
                native: input.value("a foreign amount")?,
                day: input.value("a foreign amount")?,
                change: input.value("a foreign amount")?,
                currency: input.value("a foreign amount")?,
            });
        }
        projection.garbage = input.value::<u64>("the garbage")? as usize;
        projection.activity = ActivityFacts {
            last_activity_day: input.column("the activity facts")?,
            last_inbound_day: input.column("the activity facts")?,
            touchpoints_30d: input.column("the activity facts")?,
            contacts_engaged: input.column("the activity facts")?,
            overdue_tasks: input.column("the activity facts")?,
            max_log_lag_days: input.column("the activity facts")?,
        };
        projection.last_seq = input.value("the last sequence number")?;
        projection.max_day = input.value::<Day>("the last day")?;
        projection.threads = (input.value::<u64>("the threads")? as usize).clamp(1, 64);
        projection.hot = HotOrder {
            key: input.column("the order")?,
            sorted: input.value::<u64>("the order")? as usize,
            changed: input.column("the order")?,
            changed_bits: input.column("the order")?,
            generation: input.value("the order")?,
            full_scan: input.value("the order")?,
        };
        projection.revision = input.value("the revision")?;
        projection.past_revision = input.value("the revision")?;
        if !input.bytes.is_empty() {
            return Err(SnapshotError::Length("bytes after the last part"));
        }
        projection.check()?;
        projection.stage_by_id = projection.stages.iter().enumerate().map(|(index, stage)| (stage.id.0, index as u16)).collect();
        projection.owner_by_id = projection.owner_ids.iter().enumerate().map(|(index, id)| (id.0, index as u32)).collect();
        projection.team_by_id = projection.team_ids.iter().enumerate().map(|(index, id)| (id.0, index as u32)).collect();
        projection.deal_by_id = projection.deals.id.iter().enumerate().map(|(index, id)| (id.0, index as u32)).collect::<HashMap<_, _>>();
        if projection.deal_by_id.len() != projection.deals.id.len() {
            return Err(SnapshotError::Inconsistent("a deal is listed twice"));
        }
        // Each kept foreign amount: a currency when it has an amount, and a change the deal's
        // event array holds (converting them again reads both).
        for setting in &projection.foreign {
            if setting.native != NO_AMOUNT && usize::from(setting.currency) >= projection.currencies.len() {
                return Err(SnapshotError::Inconsistent("a foreign amount's currency"));
            }
            if setting.change != NO_CHANGE
                && projection.deal_index(setting.deal).is_some_and(|deal| setting.change >= projection.amount_changes(deal as usize))
            {
                return Err(SnapshotError::Inconsistent("a foreign amount's change"));
            }
        }
        projection.reconvert();
        Ok(projection)
    }

    /// Every index points inside its table and every column has a value per deal: what the
    /// figures rely on without checking.
    fn check(&self) -> Result<(), SnapshotError> {
        let deals = &self.deals;
        let n = deals.id.len();
        let bad = SnapshotError::Inconsistent;
        let lengths = [
            deals.account.len(),
            deals.name_start.len(),
            deals.name_len.len(),
            deals.owner.len(),
            deals.stage.len(),
            deals.forecast.len(),
            deals.amount.len(),
            deals.amount_native.len(),
            deals.currency.len(),
            deals.close_day.len(),
            deals.created_day.len(),
            deals.closed_day.len(),
            deals.stage_entered_day.len(),
            deals.stage_before.len(),
            deals.max_open_position.len(),
            deals.creation_max_open.len(),
            deals.foreign.len(),
            deals.push_count.len(),
            deals.last_close_day.len(),
            deals.last_event_day.len(),
            deals.created_at.len(),
            deals.event_start.len(),
            deals.event_len.len(),
            deals.event_cap.len(),
            self.activity.last_activity_day.len(),
            self.activity.last_inbound_day.len(),
            self.activity.touchpoints_30d.len(),
            self.activity.contacts_engaged.len(),
            self.activity.overdue_tasks.len(),
            self.activity.max_log_lag_days.len(),
        ];
        if lengths.iter().any(|len| *len != n) {
            return Err(bad("a column does not have a value per deal"));
        }
        if self.event_field.len() != self.event_day.len() || self.event_old.len() != self.event_day.len() {
            return Err(bad("the event arrays differ in length"));
        }
        if self.owner_team.len() != self.owner_ids.len()
            || self.owner_team.iter().any(|team| *team != NO_INDEX && *team as usize >= self.team_ids.len())
        {
            return Err(bad("an owner's team"));
        }
        if self.pipelines.len() > usize::from(u16::MAX)
            || self.stages.iter().any(|stage| usize::from(stage.pipeline) >= self.pipelines.len())
            || self.pipelines.iter().flat_map(|pipeline| &pipeline.stages).any(|stage| usize::from(*stage) >= self.stages.len())
        {
            return Err(bad("a stage's pipeline"));
        }
        let stage_ok = |stage: u16| stage == NO_STAGE || usize::from(stage) < self.stages.len();
        // A day of the calendar's range (about ±8,000 years), none, or the open deals' order key.
        let day_ok = |day: i64| day == i64::from(NO_DAY) || day == i64::from(Day::MAX) || (-3_000_000..=3_000_000).contains(&day);
        let days = [
            &deals.close_day,
            &deals.created_day,
            &deals.closed_day,
            &deals.stage_entered_day,
            &deals.last_close_day,
            &deals.last_event_day,
            &self.event_day,
            &self.activity.last_activity_day,
            &self.activity.last_inbound_day,
            &self.hot.key,
        ];
        if days.iter().any(|column| column.iter().any(|day| !day_ok(i64::from(*day))))
            || self.foreign.iter().any(|setting| !day_ok(i64::from(setting.day)))
            || !day_ok(i64::from(self.max_day))
        {
            return Err(bad("a day outside the calendar"));
        }
        for index in 0..n {
            let (start, len, cap) = (deals.event_start[index] as usize, deals.event_len[index] as usize, deals.event_cap[index] as usize);
            let name = (deals.name_start[index] as usize, deals.name_len[index] as usize);
            if !stage_ok(deals.stage[index])
                || !stage_ok(deals.stage_before[index])
                || (deals.owner[index] != NO_INDEX && deals.owner[index] as usize >= self.owner_ids.len())
                || (deals.currency[index] != NO_CURRENCY && usize::from(deals.currency[index]) >= self.currencies.len())
                || usize::from(deals.forecast[index]) >= FORECAST_CATEGORIES.len()
                || len > cap
                || start + cap > self.event_day.len()
                || self.names.get(name.0..name.0 + name.1).is_none()
            {
                return Err(bad("a deal's index points outside its table"));
            }
            // Each change's field and old value, as replaying the deal to a past day reads them.
            let mut pushes = 0u16;
            for slot in start..start + len {
                let old = self.event_old[slot];
                let fits = match self.event_field[slot] {
                    code if code == Field::Owner as u8 => old == -1 || (0..self.owner_ids.len() as i64).contains(&old),
                    code if code == Field::Stage as u8 => old == i64::from(NO_STAGE) || (0..self.stages.len() as i64).contains(&old),
                    code if code == Field::Forecast as u8 => (0..FORECAST_CATEGORIES.len() as i64).contains(&old),
                    code if code == Field::Amount as u8 => true,
                    code if code == Field::CloseDate as u8 || code == Field::ClosedDay as u8 => day_ok(old),
                    PUSHED_CLOSE_DATE => {
                        pushes += 1;
                        day_ok(old)
                    }
                    _ => false,
                };
                if !fits {
                    return Err(bad("a deal's change"));
                }
            }
            if pushes > deals.push_count[index] {
                return Err(bad("a deal's pushes"));
            }
        }
        let hot = &self.hot;
        if hot.sorted > n
            || hot.key.len() != hot.sorted
            || hot.changed.iter().any(|deal| *deal as usize >= hot.sorted)
            || hot.changed_bits.len() != hot.sorted.div_ceil(64)
        {
            return Err(bad("the deals' order"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipewise_core::history::{HistoryEvent, Source, diff};
    use pipewise_core::opportunity::{self, NewOpportunity, OpportunityPatch};
    use pipewise_core::{AccountId, Money, PipelineId, Timestamp, templates};

    /// Twenty deals in USD and EUR, some moved on, renamed and compacted, with activity facts.
    fn sample() -> (Projection, RateTable) {
        let pipeline = templates::simple().materialise(PipelineId(1), 1);
        let mut rates = RateTable::new(Currency::USD);
        rates.insert(Currency::EUR, "2026-01-02".parse().unwrap(), "0.9".parse().unwrap());
        let mut log: Vec<HistoryEvent> = Vec::new();
        let push =
            |log: &mut Vec<HistoryEvent>, id: i64, before: Option<&opportunity::Opportunity>, after: &opportunity::Opportunity, at| {
                for change in diff(before, after) {
                    let seq = log.len() as i64 + 1;
                    log.push(HistoryEvent {
                        seq,
                        opportunity_id: OpportunityId(id),
                        field: change.field,
                        old: change.old,
                        new: change.new,
                        at,
                        actor_id: None,
                        source: Source::Api,
                    });
                }
            };
        for id in 1..=20 {
            let at: Timestamp = format!("2026-01-{:02}T12:00:00Z", 2 + id % 10).parse().unwrap();
            let currency = if id % 3 == 0 { "EUR" } else { "USD" };
            let new = NewOpportunity {
                name: format!("Déal {id}"),
                account_id: Some(AccountId(100 + id % 4)),
                owner_id: UserId(1 + id % 3),
                pipeline_id: pipeline.id,
                stage_id: Some(pipeline.stages[(id as usize) % 3].id),
                amount: Some(format!("{currency} {}", id * 1000).parse::<Money>().unwrap()),
                close_date: Some("2026-03-31".parse().unwrap()),
                forecast_category: None,
                next_step: None,
                close_reason: None,
            };
            let deal = opportunity::create(OpportunityId(id), &new, &pipeline, at).unwrap();
            push(&mut log, id, None, &deal, at);
            if id % 5 == 0 {
                // Within the rate's ten days, so a foreign amount changes and converts.
                let later: Timestamp = "2026-01-11T12:00:00Z".parse().unwrap();
                let patch = OpportunityPatch {
                    name: Some(format!("Renamed {id}")),
                    stage_id: Some(pipeline.stages[1].id),
                    amount: Some(Some(format!("{currency} {}", id * 2000).parse::<Money>().unwrap())),
                    ..Default::default()
                };
                let next = opportunity::apply(&deal, &patch, &pipeline, later).unwrap();
                push(&mut log, id, Some(&deal), &next, later);
            }
        }
        let mut projection = Projection::build(Currency::USD, rates.clone(), &[pipeline], &log).unwrap();
        projection.set_team(UserId(1), Some(TeamId(7)));
        projection.activity.touchpoints_30d[3] = 9;
        (projection, rates)
    }

    #[test]
    fn the_checksum_does_not_depend_on_how_the_bytes_are_cut() {
        let bytes: Vec<u8> = (0..61u8).map(|byte| byte.wrapping_mul(37)).collect();
        let whole = checksum(&bytes);
        for first in 0..bytes.len() {
            for second in first..bytes.len() {
                let mut sum = Checksum::new();
                sum.update(&bytes[..first]);
                sum.update(&bytes[first..second]);
                sum.update(&bytes[second..]);
                assert_eq!(sum.finish(), whole, "cut at {first} and {second}");
            }
        }
        assert_ne!(checksum(&bytes[..60]), whole);
        assert_ne!(checksum(&[0; 8]), checksum(&[0; 16]), "the length counts");
    }

    #[test]
    fn a_projection_comes_back_as_it_was() {
        let (projection, rates) = sample();
        let bytes = projection.to_snapshot();
        let restored = Projection::from_snapshot(&bytes, rates).unwrap();
        assert_eq!(restored.to_snapshot(), bytes, "the same parts, byte for byte");
        assert_eq!(restored.deal_index(OpportunityId(7)), projection.deal_index(OpportunityId(7)));
        let names = restored.names_holding("renamed 1");
        assert!(names.holds(restored.deal_index(OpportunityId(10)).unwrap() as usize));
    }

    #[test]
    fn a_rate_that_arrived_since_converts_the_foreign_amounts_again() {
        let (projection, rates) = sample();
        let eur = projection.deal_index(OpportunityId(3)).unwrap() as usize;
        let before = projection.deals().amount[eur];
        let mut later = rates.clone();
        later.insert(Currency::EUR, "2026-01-01".parse().unwrap(), "0.5".parse().unwrap());
        later.insert(Currency::EUR, "2026-01-02".parse().unwrap(), "0.5".parse().unwrap());
        let restored = Projection::from_snapshot(&projection.to_snapshot(), later).unwrap();
        assert_eq!(before, 333_333, "EUR 3,000 at 0.9 per dollar");
        assert_eq!(restored.deals().amount[eur], 600_000, "EUR 3,000 at 0.5 per dollar");
    }

    #[test]
    fn damage_is_found_never_believed() {
        let (projection, rates) = sample();
        let bytes = projection.to_snapshot();
        for position in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[position] ^= 0x5a;
            assert!(Projection::from_snapshot(&damaged, rates.clone()).is_err(), "a byte changed at {position}");
        }
        for len in [0, 7, 8, 100, bytes.len() - 1] {
            assert!(Projection::from_snapshot(&bytes[..len], rates.clone()).is_err(), "cut at {len}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Projection::from_snapshot(&longer, rates.clone()).is_err());
    }

    /// Damage the checksum cannot see (a snapshot written by a faulty version): decoding reports
    /// it or gives a projection whose indexes all hold, never a panic.
    #[test]
    fn an_inconsistent_snapshot_with_a_good_checksum_never_panics() {
        let (projection, rates) = sample();
        let bytes = projection.to_snapshot();
        let payload = &bytes[MAGIC.len()..bytes.len() - 8];
        for position in 0..payload.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut changed = payload.to_vec();
                changed[position] ^= flip;
                let mut file = MAGIC.to_vec();
                file.extend_from_slice(&changed);
                file.extend_from_slice(&checksum(&changed).to_le_bytes());
                if let Ok(restored) = Projection::from_snapshot(&file, rates.clone()) {
                    // Usable: every deal replays to any day, the order lists them, the names
                    // are found.
                    for day in [crate::day("2026-01-01"), crate::day("2026-01-20"), crate::day("2026-03-01")] {
                        for deal in 0..restored.n_deals() as u32 {
                            let _ = restored.state_at(deal, day);
                        }
                        let _ = restored.candidates(day);
                    }
                    let _ = restored.to_snapshot();
                    let _ = restored.names_holding("d");
                }
            }
        }
    }
}
