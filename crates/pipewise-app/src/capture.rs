//! Capture (SPEC C4): files of mail (`.eml`, mbox) and calendars (`.ics`) logged as activities
//! without anyone typing them. Each message or event is read by `pipewise-capture`, matched to
//! the organisation's colleagues, contacts and accounts (by company domain), linked to that
//! account's open deal, and logged once: the same message from another file or mailbox is a
//! duplicate, known by its capture key. What cannot be logged is refused with its file, its
//! place in the file and the reason; nothing is dropped silently.
//!
//! Any writer may capture (a rep brings their own mail); each activity is the matched
//! colleague's when the writer may act for them, else the writer's own, and is linked only to a
//! deal the writer may change. Everything is written in one transaction (a dry run rolls back).

use std::collections::{HashMap, HashSet};

use pipewise_capture::sentiment::Vocabulary;
use pipewise_capture::{Capture, Directory, Mail, Matched, Meeting, Refused, read_file};
use pipewise_core::access::{Access, SharedKind};
use pipewise_core::error::{Problem, RecordRef};
use pipewise_core::message::Message;
use pipewise_core::opportunity::{Opportunity, OpportunityPatch, Status};
use pipewise_core::records::{ActivityKind, Direction, NewActivity};
use pipewise_core::*;

use serde_json::json;

use crate::*;

/// The most files one capture reads.
pub const MAX_FILES: usize = 1_000;
/// The most bytes one capture reads, all files together.
pub const MAX_TOTAL_BYTES: usize = 256 << 20;
/// The most refusals a report lists (all are counted).
pub const MAX_REPORTED: usize = 1_000;
/// A message dated this far after now is refused (clocks drift; a year-2099 date is a typo).
const FUTURE_SLACK_SECONDS: i64 = 24 * 3600;

/// A file handed to capture: its name (for the report) and bytes.
#[derive(Clone, Debug)]
pub struct CaptureFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

#[derive(Clone, Debug, Default)]
pub struct CaptureOptions {
    /// Check and report without writing anything.
    pub dry_run: bool,
    /// Log messages that match no contact or account too (as the writer's, unlinked).
    pub keep_unmatched: bool,
    /// Where the files come from, as each activity's `source` says: `smtp` for the drop box;
    /// by default `eml`, `mbox` or `ics` from each file's content.
    pub source: Option<&'static str>,
}

/// A message or event that was not logged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaptureRefusal {
    pub file: String,
    /// 1-based among the file's messages or events; 0 for the whole file.
    pub number: usize,
    pub line: usize,
    /// Its Message-ID or UID.
    pub id: Option<String>,
    pub reason: Message,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CaptureReport {
    pub files: usize,
    /// Messages and events found (logged, duplicate or refused).
    pub items: usize,
    pub emails: usize,
    pub meetings: usize,
    /// Of the logged ones: linked to a contact, to an account, to a deal.
    pub with_contacts: usize,
    pub with_account: usize,
    pub with_deal: usize,
    /// Logged before (by an earlier capture or earlier in this one).
    pub duplicates: usize,
    pub refused_count: usize,
    /// The first [`MAX_REPORTED`] refusals, in file order.
    pub refused: Vec<CaptureRefusal>,
    /// Commands in mail applied to deals (see `pipewise_capture::commands`).
    pub commands_applied: usize,
    /// Commands not applied (the first [`MAX_REPORTED`]), each naming its message (the message
    /// itself is logged); `line` is the command's line in the message body.
    pub command_errors: Vec<CaptureRefusal>,
    pub committed: bool,
}

impl CaptureReport {
    /// Notes a command not applied (the first [`MAX_REPORTED`] are listed).
    fn command_error(&mut self, error: CaptureRefusal) {
        if self.command_errors.len() < MAX_REPORTED {
            self.command_errors.push(error);
        }
    }

    fn refuse(&mut self, file: &str, refused: Refused) {
        self.refused_count += 1;
        if self.refused.len() < MAX_REPORTED {
            self.refused.push(CaptureRefusal {
                file: file.to_owned(),
                number: refused.number,
                line: refused.line,
                id: refused.id,
                reason: refused.reason,
            });
        }
    }
}

/// Logs every message and event of `files` for `ctx`'s actor.
///
/// `Err` when the actor may not log activities, the files are too many or too large, or the
/// store fails; refused items are in the report.
pub fn capture(db: &Db, ctx: &WriteCtx, files: &[CaptureFile], options: &CaptureOptions) -> Result<CaptureReport> {
    let mut tx = db.write()?;
    let access = writer_access(&mut tx, ctx)?;
    require(access.can_write(SharedKind::Contact), || "a viewer cannot log activities".into())?;
    let record = RecordRef::new_record("capture");
    let mut errors = ValidationErrors::default();
    if files.len() > MAX_FILES {
        errors.push(&record, "files", Problem::TooLong { len: files.len(), max: MAX_FILES });
    }
    let total: usize = files.iter().map(|file| file.bytes.len()).sum();
    if total > MAX_TOTAL_BYTES {
        errors.push(&record, "files", Problem::Invalid { value: format!("{total} bytes"), expected: "at most 256 MiB of files at once" });
    }
    errors.into_result(())?;
    let organisation = tx.0.organisation(ctx.org)?.ok_or(StoreError::NotFound { kind: OrgId::LABEL, id: ctx.org.0 })?;
    let zone = jiff::tz::TimeZone::get(organisation.time_zone.name()).unwrap_or(jiff::tz::TimeZone::UTC);
    let vocabulary = vocabulary(&mut tx, ctx.org)?;
    let directory = directory(&mut tx, ctx.org)?;
    let mut run = Run { directory, open_deals: HashMap::new(), seen: HashSet::new(), access, pending: Vec::new(), vocabulary };
    let mut report = CaptureReport { files: files.len(), ..CaptureReport::default() };
    for file in files {
        let source = if let Some(source) = options.source {
            source
        } else if pipewise_capture::is_calendar(&file.bytes) {
            "ics"
        } else if pipewise_capture::mailbox::is_mbox(&file.bytes) {
            "mbox"
        } else {
            "eml"
        };
        let items = read_file(&file.bytes, &zone);
        report.items += items.iter().filter(|(number, _, _)| *number > 0).count();
        // A colleague's forward is the message it forwards, with its original correspondents;
        // the forward itself is kept beside it for its commands.
        let items: Vec<(usize, usize, std::result::Result<Capture, Refused>, Forward)> = items
            .into_iter()
            .map(|(number, line, item)| match item {
                Ok(Capture::Mail(mut mail)) if mail.forwarded.is_some() && run.directory.is_colleague(&mail.from) => {
                    let inner = mail.forwarded.take().map(|inner| *inner);
                    (number, line, Ok(Capture::Mail(inner.expect("checked above"))), Some(mail))
                }
                other => (number, line, other, None),
            })
            .collect();
        let keys: Vec<String> = items.iter().map(|(_, _, item, _)| item.as_ref().map_or_else(|_| String::new(), Capture::key)).collect();
        let key_refs: Vec<&str> = keys.iter().map(String::as_str).filter(|key| !key.is_empty()).collect();
        let known: HashSet<&str> = key_refs
            .iter()
            .zip(tx.0.import_keys(ctx.org, ActivityId::LABEL, CAPTURE_SYSTEM, &key_refs)?)
            .filter_map(|(key, id)| id.map(|_| *key))
            .collect();
        for ((number, line, item, forward), key) in items.into_iter().zip(&keys) {
            let refusal = |reason: Message, id: Option<String>| Refused { number, line, id, reason };
            let capture = match item {
                Ok(capture) => capture,
                Err(refused) => {
                    report.refuse(&file.name, refused);
                    continue;
                }
            };
            if known.contains(key.as_str()) || !run.seen.insert(key.clone()) {
                report.duplicates += 1;
                continue;
            }
            match run.prepare(&mut tx, ctx, &capture, source, options)? {
                Ok(new) => {
                    if let Capture::Mail(captured) = &capture
                        && let mail = forward.as_ref().unwrap_or(captured)
                        && run.is_actor(mail)
                    {
                        let place = |line: usize, reason: Message| CaptureRefusal {
                            file: file.name.clone(),
                            number,
                            line,
                            id: mail.message_id.clone(),
                            reason,
                        };
                        match pipewise_capture::commands::parse(&mail.body) {
                            Ok(commands) if commands.is_empty() => {}
                            Ok(commands) => match apply_commands(&mut tx, ctx, new.opportunity_id, &commands)? {
                                Ok(()) => report.commands_applied += commands.len(),
                                Err(reason) => report.command_error(place(0, reason)),
                            },
                            Err(errors) => {
                                for error in errors {
                                    let reason =
                                        Message::new("capture.command_line").text("text", &error.text).message("problem", error.problem);
                                    report.command_error(place(error.line, reason));
                                }
                            }
                        }
                    }
                    match capture {
                        Capture::Mail(_) => report.emails += 1,
                        Capture::Meeting(_) => report.meetings += 1,
                    }
                    report.with_contacts += usize::from(!new.contact_ids.is_empty());
                    report.with_account += usize::from(new.account_id.is_some());
                    report.with_deal += usize::from(new.opportunity_id.is_some());
                    run.pending.push((new, key.clone()));
                    if run.pending.len() >= CHUNK {
                        run.flush(&mut tx, ctx, &file.name)?;
                    }
                }
                Err(reason) => report.refuse(&file.name, refusal(reason, id_of(&capture))),
            }
        }
        run.flush(&mut tx, ctx, &file.name)?;
    }
    if !options.dry_run {
        tx.commit()?;
        report.committed = true;
    }
    Ok(report)
}

/// A colleague's forward, kept beside the message it forwards (for the forward's commands).
type Forward = Option<Mail>;

/// The `system` capture keys are stored under (beside the import keys of CRM files).
const CAPTURE_SYSTEM: &str = "capture";
/// Activities written per batch (one insert of many rows, one audit entry).
const CHUNK: usize = 2_000;

fn id_of(capture: &Capture) -> Option<String> {
    match capture {
        Capture::Mail(mail) => mail.message_id.clone(),
        Capture::Meeting(meeting) => meeting.uid.clone(),
    }
}

/// What the organisation knows of addresses: its users, its contacts' addresses and its
/// accounts' domains.
fn directory(tx: &mut Tx, org: OrgId) -> Result<Directory> {
    let mut directory = Directory::default();
    for user in tx.0.users(org)? {
        directory.add_colleague(&user.email, user.id);
    }
    for account in tx.0.accounts(org)? {
        for domain in &account.domains {
            directory.add_account(domain, account.id);
        }
    }
    for contact in tx.0.contacts(org)? {
        for email in &contact.emails {
            directory.contacts.entry(email.to_lowercase()).or_insert((contact.id, contact.account_id));
        }
    }
    Ok(directory)
}

struct Run {
    directory: Directory,
    /// Each account's open deals the writer may change, read once.
    open_deals: HashMap<AccountId, Vec<Opportunity>>,
    /// Keys logged in this run.
    seen: HashSet<String>,
    access: Access,
    /// Checked activities not yet written, with their capture keys.
    pending: Vec<(NewActivity, String)>,
    /// The organisation's vocabulary, retrained by its reps' ratings.
    vocabulary: Vocabulary,
}

impl Run {
    /// Whether `mail` was sent by the capturing user: only then do its commands run (with that
    /// user's rights), so that nobody moves deals in another's name by uploading their mail.
    fn is_actor(&self, mail: &Mail) -> bool {
        self.access.user_id().is_some_and(|me| self.directory.colleagues.get(&mail.from.address) == Some(&me))
    }

    /// The activity `capture` becomes, checked as `activities::create_activity` checks one (the
    /// writer's right to log was checked once; every user, account, deal and contact it names
    /// comes from the organisation's records, and a deal only if the writer may change it), or
    /// why it is refused.
    fn prepare(
        &mut self,
        tx: &mut Tx,
        ctx: &WriteCtx,
        capture: &Capture,
        source: &str,
        options: &CaptureOptions,
    ) -> Result<std::result::Result<NewActivity, Message>> {
        let (kind, matched, occurred_at, subject, body) = match capture {
            Capture::Mail(mail) => {
                let matched = self.directory.classify(Some(&mail.from), &mail.recipients);
                (ActivityKind::Email, matched, mail.sent_at, mail.subject.clone(), mail_body(mail))
            }
            Capture::Meeting(meeting) => {
                let matched = self.directory.classify(meeting.organizer.as_ref(), &meeting.attendees);
                (ActivityKind::Meeting, matched, meeting.start, meeting.summary.clone(), meeting_body(meeting))
            }
        };
        if occurred_at > ctx.at.plus_seconds(FUTURE_SLACK_SECONDS) {
            return Ok(Err(Message::new("capture.in_future").text("at", occurred_at)));
        }
        if matched.contacts.is_empty() && matched.account.is_none() && !options.keep_unmatched {
            return Ok(Err(unmatched(capture, &matched)));
        }
        let actor = self.access.user_id();
        let user_id = matched.user.filter(|user| self.access.can_assign_deal_to(*user)).or(actor);
        let opportunity_id = match matched.account {
            Some(account) => self.deal_of(tx, ctx, account, user_id)?,
            None => None,
        };
        let new = NewActivity {
            kind,
            direction: matched.direction,
            occurred_at,
            subject: subject.unwrap_or_else(|| "(no subject)".to_owned()),
            body: Some(body).filter(|body| !body.is_empty()),
            source: source.to_owned(),
            user_id,
            account_id: matched.account,
            opportunity_id,
            contact_ids: matched.contacts,
        };
        Ok(new.validated().map_err(|errors| Message::new("capture.invalid").text("problems", errors)))
    }

    /// Writes the pending activities in one insert, their capture keys, and one audit entry
    /// naming the file, how many and which ids.
    fn flush(&mut self, tx: &mut Tx, ctx: &WriteCtx, file: &str) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let (rows, keys): (Vec<(NewActivity, Timestamp)>, Vec<String>) =
            std::mem::take(&mut self.pending).into_iter().map(|(new, key)| ((new, ctx.at), key)).unzip();
        let ids = tx.0.bulk_insert_activities(ctx.org, &rows)?;
        let keys: Vec<(&str, i64)> = keys.iter().zip(&ids).map(|(key, id)| (key.as_str(), id.0)).collect();
        tx.0.put_import_keys(ctx.org, ActivityId::LABEL, CAPTURE_SYSTEM, &keys)?;
        let scores: Vec<(ActivityId, i32, String)> =
            rows.iter().zip(&ids).map(|((new, _), id)| sentiment_row(&self.vocabulary, *id, new)).collect();
        tx.0.put_activity_sentiments(ctx.org, &scores)?;
        let after = json!({
            "file": file,
            "activities": ids.len(),
            "first_id": ids.first().map(|id| id.0),
            "last_id": ids.last().map(|id| id.0),
        });
        audit(tx, ctx, ActivityId::LABEL, ids.first().map_or(0, |id| id.0), "capture", None, Some(after))
    }

    /// The open deal of `account` an activity belongs to: among those the writer may change,
    /// the activity's user's own first, then the one closing soonest (undated last), then the
    /// oldest.
    fn deal_of(&mut self, tx: &mut Tx, ctx: &WriteCtx, account: AccountId, user: Option<UserId>) -> Result<Option<OpportunityId>> {
        if !self.open_deals.contains_key(&account) {
            let filter = OpportunityFilter { account_id: Some(account), status: Some(Status::Open), ..OpportunityFilter::default() };
            let mut deals = Vec::new();
            for deal in tx.0.opportunities(ctx.org, &filter)? {
                let shared = match self.access.user_id() {
                    Some(me) if !self.access.can_write_deal(deal.owner_id, false) => {
                        tx.0.is_opportunity_shared_with(ctx.org, deal.id, me)?
                    }
                    _ => false,
                };
                if self.access.can_write_deal(deal.owner_id, shared) {
                    deals.push(deal);
                }
            }
            self.open_deals.insert(account, deals);
        }
        let deals = &self.open_deals[&account];
        let best = deals.iter().min_by_key(|deal| (Some(deal.owner_id) != user, deal.close_date.is_none(), deal.close_date, deal.id));
        Ok(best.map(|deal| deal.id))
    }
}

/// Applies a message's commands to `deal` as one change by `ctx`'s actor (gates, rights and
/// audit as any change); why not, when it cannot be applied whole.
fn apply_commands(
    tx: &mut Tx,
    ctx: &WriteCtx,
    deal: Option<OpportunityId>,
    commands: &[pipewise_capture::commands::Command],
) -> Result<std::result::Result<(), Message>> {
    use pipewise_capture::commands::Command;
    let Some(deal) = deal else { return Ok(Err(Message::new("capture.command_no_deal"))) };
    let current = match tx.0.opportunity(ctx.org, deal, false)? {
        Some(current) => current,
        None => return Ok(Err(Message::new("capture.command_no_deal"))),
    };
    let mut patch = OpportunityPatch::default();
    for command in commands {
        match command {
            Command::NextStep(step) => patch.next_step = Some(Some(step.clone())),
            Command::CloseDate(date) => patch.close_date = Some(Some(*date)),
            Command::Stage(name) => {
                let pipeline = tx.0.pipeline(ctx.org, current.pipeline_id)?;
                let wanted = name.to_lowercase();
                let stage = pipeline.iter().flat_map(|pipeline| &pipeline.stages).find(|stage| {
                    !stage.is_archived() && (stage.name_en.to_lowercase() == wanted || stage.name_ko.to_lowercase() == wanted)
                });
                match stage {
                    Some(stage) => patch.stage_id = Some(stage.id),
                    None => return Ok(Err(Message::new("capture.command_no_stage").text("stage", name))),
                }
            }
        }
    }
    match crate::deals::update_opportunity(tx, ctx, deal, &patch) {
        Ok(_) => Ok(Ok(())),
        Err(StoreError::GateRefused(check)) => {
            let missing: Vec<String> = check.unmet().map(|unmet| unmet.label_en.clone()).take(3).collect();
            Ok(Err(Message::new("capture.command_gate").text("count", check.unmet().count()).text("criteria", missing.join(", "))))
        }
        Err(StoreError::Invalid(errors)) => Ok(Err(Message::new("capture.invalid").text("problems", errors))),
        Err(StoreError::Forbidden(reason)) => Ok(Err(Message::new("capture.command_forbidden").text("reason", reason))),
        Err(error) => Err(error),
    }
}

/// The organisation's vocabulary: the seed retrained by every rating, in the order given.
pub(crate) fn vocabulary(tx: &mut Tx, org: OrgId) -> Result<Vocabulary> {
    let ratings = tx.0.activity_ratings(org)?;
    Ok(Vocabulary::train(ratings.iter().map(|rated| (rated.text.as_str(), rated.rating))))
}

/// An activity's score as stored: thousandths, and its words with their weights.
fn sentiment_row(vocabulary: &Vocabulary, id: ActivityId, new: &NewActivity) -> (ActivityId, i32, String) {
    let score = vocabulary.score(&format!("{}\n{}", new.subject, new.body.as_deref().unwrap_or("")));
    let words: Vec<String> = score.words.iter().take(12).map(|(word, weight)| format!("{word}:{weight:.1}")).collect();
    (id, score.milli(), words.join(" "))
}

fn unmatched(capture: &Capture, matched: &Matched) -> Message {
    let addresses = |parties: Vec<&str>| parties.iter().take(3).copied().collect::<Vec<_>>().join(", ");
    match (&matched.direction, matched.unknown.is_empty()) {
        (Direction::Internal, _) | (_, true) => {
            let people = match capture {
                Capture::Mail(mail) => {
                    std::iter::once(mail.from.address.as_str()).chain(mail.recipients.iter().map(|p| p.address.as_str())).collect()
                }
                Capture::Meeting(meeting) => meeting.organizer.iter().chain(&meeting.attendees).map(|p| p.address.as_str()).collect(),
            };
            Message::new("capture.only_colleagues").text("addresses", addresses(people))
        }
        _ => Message::new("capture.unmatched").text("addresses", addresses(matched.unknown.iter().map(String::as_str).collect())),
    }
}

fn mail_body(mail: &Mail) -> String {
    let mut body = mail.body.clone();
    if mail.body_cut {
        body.push_str("\n[…]");
    }
    body
}

fn meeting_body(meeting: &Meeting) -> String {
    let mut body = String::new();
    if let Some(location) = &meeting.location {
        body.push_str(location);
        body.push_str("\n\n");
    }
    body.push_str(&meeting.description);
    body.trim().to_owned()
}

/// How negative an inbound message must score (thousandths) to raise an early warning.
pub const WARNING_BELOW: i32 = -300;

/// Rates activity `id` for `ctx`'s actor: +1 (it reads well) or −1 (it reads badly). The
/// rating retrains the organisation's vocabulary for every message scored after it. Anyone who
/// may log activities and read the activity rates it; audited.
pub fn rate_activity(tx: &mut Tx, ctx: &WriteCtx, id: ActivityId, rating: i8) -> Result<()> {
    let access = writer_access(tx, ctx)?;
    require(access.can_write(SharedKind::Contact), || "a viewer cannot rate activities".into())?;
    let user = access.user_id().ok_or_else(|| StoreError::Forbidden("a rating is a person's: sign in to rate".into()))?;
    let record = RecordRef::new_record(ActivityId::LABEL);
    if rating != 1 && rating != -1 {
        let mut errors = ValidationErrors::default();
        errors.push(&record, "rating", Problem::Invalid { value: rating.to_string(), expected: "1 or -1" });
        return Err(errors.into());
    }
    let activity = tx.0.activity(ctx.org, id)?.ok_or(StoreError::NotFound { kind: ActivityId::LABEL, id: id.0 })?;
    // The activity must be one the rater may see: on a deal they may read, or logged by
    // someone in their reach; anything else is as if it did not exist.
    let visible = match activity.opportunity_id {
        Some(deal) => !matches!(crate::deals::writable_deal(tx, ctx, &access, deal, false), Err(StoreError::NotFound { .. })),
        None => activity.user_id.is_some_and(|owner| access.can_read_deal(owner, false)),
    };
    if !visible {
        return Err(StoreError::NotFound { kind: ActivityId::LABEL, id: id.0 });
    }
    tx.0.put_activity_rating(ctx.org, id, user, rating, ctx.at)?;
    audit(tx, ctx, ActivityId::LABEL, id.0, "rate", None, Some(json!({ "rating": rating })))
}

/// The stored scores of `activities`, with `reader`'s own ratings.
pub fn sentiments(tx: &mut Tx, org: OrgId, activities: &[ActivityId], reader: UserId) -> Result<Vec<pipewise_store::ActivitySentiment>> {
    tx.0.activity_sentiments(org, activities, reader)
}

/// Early warnings for `access`: inbound messages since `since` that scored below
/// [`WARNING_BELOW`], on deals the reader may see or logged for someone in their reach, newest
/// first, at most `limit`.
pub fn warnings(tx: &mut Tx, org: OrgId, access: &Access, since: Timestamp, limit: u32) -> Result<Vec<pipewise_store::SentimentAlert>> {
    let alerts = tx.0.negative_inbound(org, since, WARNING_BELOW, limit.saturating_mul(4).max(limit))?;
    // The deals they are on, read at once.
    let mut ids: Vec<OpportunityId> = alerts.iter().filter_map(|alert| alert.opportunity_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let owners: HashMap<OpportunityId, UserId> = if ids.is_empty() {
        HashMap::new()
    } else {
        let filter = OpportunityFilter { ids: Some(ids), ..OpportunityFilter::default() };
        tx.0.opportunities(org, &filter)?.into_iter().map(|deal| (deal.id, deal.owner_id)).collect()
    };
    let mut visible = Vec::new();
    for alert in alerts {
        let on_deal = alert.opportunity_id.and_then(|deal| owners.get(&deal)).is_some_and(|owner| access.can_read_deal(*owner, false));
        let theirs = alert.user_id.is_some_and(|user| access.can_read_deal(user, false));
        if (on_deal || theirs) && visible.len() < limit as usize {
            visible.push(alert);
        }
    }
    Ok(visible)
}

/// Who may send to the drop box: the active user (not a viewer) with `address`, when exactly
/// one organisation has one (an address in several organisations cannot say which it means).
pub fn drop_box_sender(db: &Db, address: &str) -> Result<Option<(OrgId, UserId)>> {
    let mut tx = db.read()?;
    let users: Vec<_> =
        tx.0.users_by_email_everywhere(&address.trim().to_lowercase())?
            .into_iter()
            .filter(|(_, user)| user.active && user.role != pipewise_core::user::Role::Viewer)
            .collect();
    Ok(match users.as_slice() {
        [(org, user)] => Some((*org, user.id)),
        _ => None,
    })
}

/// A message the drop box received from `sender` (as [`drop_box_sender`] found them),
/// captured as that user: a forward is attributed to its original correspondents, and the
/// sender's commands in it apply with their rights.
pub fn drop_box(db: &Db, sender: (OrgId, UserId), at: Timestamp, data: Vec<u8>) -> Result<CaptureReport> {
    let ctx = WriteCtx { org: sender.0, actor_id: Some(sender.1), source: pipewise_core::history::Source::Mail, at };
    let options = CaptureOptions { source: Some("smtp"), ..CaptureOptions::default() };
    capture(db, &ctx, &[CaptureFile { name: "drop box".to_owned(), bytes: data }], &options)
}

/// Each user in `access`'s reach with activities since `since` (or ratings), and what their
/// activities are made of: the ladder's inputs (`pipewise_capture::ladder`), in user order.
pub fn ladder(tx: &mut Tx, org: OrgId, access: &Access, since: Timestamp) -> Result<Vec<(UserId, pipewise_capture::ladder::Mix)>> {
    Ok(tx
        .0
        .activity_mix(org, since)?
        .into_iter()
        .filter(|mix| access.can_read_deal(mix.user_id, false))
        .map(|mix| {
            let ladder = pipewise_capture::ladder::Mix {
                inbound: mix.inbound,
                outbound: mix.outbound,
                internal: mix.internal,
                captured: mix.captured,
                with_body: mix.with_body,
                ratings: mix.ratings,
            };
            (mix.user_id, ladder)
        })
        .collect())
}
