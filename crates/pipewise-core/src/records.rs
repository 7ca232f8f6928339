//! The plain records of SPEC C1 besides users and opportunities: teams, accounts, contacts,
//! leads, activities and tasks. Each `New*` type checks and normalises itself in `validated`.

use crate::error::{Problem, RecordRef, ValidationErrors};
use crate::id::*;
use crate::text;
use crate::time::{Date, Timestamp};

macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),* $(,)? } expected $expected:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }

            pub fn parse(raw: &str) -> Result<$name, Problem> {
                match raw.trim() {
                    $($text => Ok($name::$variant),)*
                    _ => Err(Problem::Invalid { value: raw.to_owned(), expected: $expected }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use text_enum;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Team {
    pub id: TeamId,
    pub name: String,
    /// The manager who leads the team.
    pub manager_id: Option<UserId>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTeam {
    pub name: String,
    pub manager_id: Option<UserId>,
}

impl NewTeam {
    pub fn validated(mut self) -> Result<NewTeam, ValidationErrors> {
        let record = RecordRef::new_record(TeamId::LABEL);
        let mut errors = ValidationErrors::default();
        if let Some(name) = errors.check(&record, "name", text::required(&self.name, 200)) {
            self.name = name;
        }
        errors.into_result(self)
    }
}

/// A customer company.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub name: String,
    /// Lower-cased domains mail is matched by, e.g. `acme.co.kr`.
    pub domains: Vec<String>,
    pub industry: Option<String>,
    pub employee_count: Option<i64>,
    pub region: Option<String>,
    pub owner_id: Option<UserId>,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewAccount {
    pub name: String,
    pub domains: Vec<String>,
    pub industry: Option<String>,
    pub employee_count: Option<i64>,
    pub region: Option<String>,
    pub owner_id: Option<UserId>,
}

impl NewAccount {
    pub fn validated(mut self) -> Result<NewAccount, ValidationErrors> {
        let record = RecordRef::new_record(AccountId::LABEL);
        let mut errors = ValidationErrors::default();
        if let Some(name) = errors.check(&record, "name", text::required(&self.name, 200)) {
            self.name = name;
        }
        let mut domains = Vec::new();
        for raw in &self.domains {
            if let Some(domain) = errors.check(&record, "domains", text::domain(raw))
                && !domains.contains(&domain)
            {
                domains.push(domain);
            }
        }
        self.domains = domains;
        self.industry = optional(&mut errors, &record, "industry", self.industry.as_deref(), 100);
        self.region = optional(&mut errors, &record, "region", self.region.as_deref(), 100);
        if let Some(count) = self.employee_count
            && !(0..=10_000_000).contains(&count)
        {
            errors.push(&record, "employee_count", Problem::OutOfRange { value: count.to_string(), range: "0 to 10,000,000" });
        }
        errors.into_result(self)
    }
}

/// A person at a customer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contact {
    pub id: ContactId,
    pub name: String,
    pub emails: Vec<String>,
    pub phone: Option<String>,
    pub title: Option<String>,
    pub account_id: Option<AccountId>,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewContact {
    pub name: String,
    pub emails: Vec<String>,
    pub phone: Option<String>,
    pub title: Option<String>,
    pub account_id: Option<AccountId>,
}

impl NewContact {
    pub fn validated(mut self) -> Result<NewContact, ValidationErrors> {
        let record = RecordRef::new_record(ContactId::LABEL);
        let mut errors = ValidationErrors::default();
        if let Some(name) = errors.check(&record, "name", text::required(&self.name, 200)) {
            self.name = name;
        }
        let mut emails = Vec::new();
        for raw in &self.emails {
            if let Some(email) = errors.check(&record, "emails", text::email(raw))
                && !emails.contains(&email)
            {
                emails.push(email);
            }
        }
        self.emails = emails;
        self.phone = optional(&mut errors, &record, "phone", self.phone.as_deref(), 50);
        self.title = optional(&mut errors, &record, "title", self.title.as_deref(), 200);
        errors.into_result(self)
    }
}

text_enum! {
    /// Where a lead is in qualification.
    LeadStatus { New => "new", Working => "working", Qualified => "qualified", Disqualified => "disqualified", Converted => "converted" }
    expected "one of new, working, qualified, disqualified, converted"
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lead {
    pub id: LeadId,
    pub name: String,
    pub company: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub title: Option<String>,
    /// Where the lead came from: `web form`, `event`, `import`, …
    pub source: Option<String>,
    pub status: LeadStatus,
    pub owner_id: Option<UserId>,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewLead {
    pub name: String,
    pub company: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub title: Option<String>,
    pub source: Option<String>,
    pub status: LeadStatus,
    pub owner_id: Option<UserId>,
}

impl NewLead {
    pub fn validated(mut self) -> Result<NewLead, ValidationErrors> {
        let record = RecordRef::new_record(LeadId::LABEL);
        let mut errors = ValidationErrors::default();
        if let Some(name) = errors.check(&record, "name", text::required(&self.name, 200)) {
            self.name = name;
        }
        self.company = optional(&mut errors, &record, "company", self.company.as_deref(), 200);
        if let Some(raw) = self.email.as_deref().filter(|raw| !raw.trim().is_empty()) {
            self.email = errors.check(&record, "email", text::email(raw));
        } else {
            self.email = None;
        }
        self.phone = optional(&mut errors, &record, "phone", self.phone.as_deref(), 50);
        self.title = optional(&mut errors, &record, "title", self.title.as_deref(), 200);
        self.source = optional(&mut errors, &record, "source", self.source.as_deref(), 100);
        errors.into_result(self)
    }
}

text_enum! {
    ActivityKind { Email => "email", Meeting => "meeting", Call => "call", Note => "note", Task => "task" }
    expected "one of email, meeting, call, note, task"
}

text_enum! {
    /// Inbound activity shows the buyer's interest; outbound shows the rep working the deal.
    Direction { Inbound => "inbound", Outbound => "outbound", Internal => "internal" }
    expected "one of inbound, outbound, internal"
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Activity {
    pub id: ActivityId,
    pub kind: ActivityKind,
    pub direction: Direction,
    pub occurred_at: Timestamp,
    /// When Pipewise learnt of it; far after `occurred_at` is a late CRM update.
    pub logged_at: Timestamp,
    pub subject: String,
    pub body: Option<String>,
    /// `manual`, `imap`, `smtp`, `eml`, `ics`, `demo`, …
    pub source: String,
    pub user_id: Option<UserId>,
    pub account_id: Option<AccountId>,
    pub opportunity_id: Option<OpportunityId>,
    pub contact_ids: Vec<ContactId>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewActivity {
    pub kind: ActivityKind,
    pub direction: Direction,
    pub occurred_at: Timestamp,
    pub subject: String,
    pub body: Option<String>,
    pub source: String,
    pub user_id: Option<UserId>,
    pub account_id: Option<AccountId>,
    pub opportunity_id: Option<OpportunityId>,
    pub contact_ids: Vec<ContactId>,
}

impl NewActivity {
    pub fn validated(mut self) -> Result<NewActivity, ValidationErrors> {
        let record = RecordRef::new_record(ActivityId::LABEL);
        let mut errors = ValidationErrors::default();
        if let Some(subject) = errors.check(&record, "subject", text::required(&self.subject, 500)) {
            self.subject = subject;
        }
        if let Some(raw) = self.body.as_deref() {
            self.body = errors.check(&record, "body", text::optional(raw, 1_000_000, true)).flatten();
        }
        if let Some(source) = errors.check(&record, "source", text::required(&self.source, 50)) {
            self.source = source;
        }
        self.contact_ids.sort();
        self.contact_ids.dedup();
        errors.into_result(self)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Task {
    pub id: TaskId,
    pub title: String,
    pub owner_id: UserId,
    pub due_on: Option<Date>,
    pub completed_at: Option<Timestamp>,
    pub account_id: Option<AccountId>,
    pub opportunity_id: Option<OpportunityId>,
    pub lead_id: Option<LeadId>,
    pub created_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTask {
    pub title: String,
    pub owner_id: UserId,
    pub due_on: Option<Date>,
    pub completed_at: Option<Timestamp>,
    pub account_id: Option<AccountId>,
    pub opportunity_id: Option<OpportunityId>,
    pub lead_id: Option<LeadId>,
}

impl NewTask {
    pub fn validated(mut self) -> Result<NewTask, ValidationErrors> {
        let record = RecordRef::new_record(TaskId::LABEL);
        let mut errors = ValidationErrors::default();
        if let Some(title) = errors.check(&record, "title", text::required(&self.title, 500)) {
            self.title = title;
        }
        errors.into_result(self)
    }
}

fn optional(errors: &mut ValidationErrors, record: &RecordRef, field: &'static str, raw: Option<&str>, max: usize) -> Option<String> {
    errors.check(record, field, text::optional(raw.unwrap_or(""), max, false)).flatten()
}

// Partial updates (the JSON API's PATCH). In every patch `None` leaves a field alone and, for
// nullable fields, `Some(None)` clears it. `apply` builds the next state and checks it with the
// same rules as a new record, reporting every problem against the existing record.

/// Re-labels the problems of a `New*` check as problems of the existing record `kind id`.
fn of_record(mut errors: ValidationErrors, kind: &'static str, id: i64) -> ValidationErrors {
    for error in &mut errors.0 {
        error.record = RecordRef::new(kind, id);
    }
    errors
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TeamPatch {
    pub name: Option<String>,
    pub manager_id: Option<Option<UserId>>,
}

impl TeamPatch {
    pub fn apply(&self, current: &Team) -> Result<Team, ValidationErrors> {
        let new = NewTeam {
            name: self.name.clone().unwrap_or_else(|| current.name.clone()),
            manager_id: self.manager_id.unwrap_or(current.manager_id),
        }
        .validated()
        .map_err(|errors| of_record(errors, TeamId::LABEL, current.id.0))?;
        Ok(Team { id: current.id, name: new.name, manager_id: new.manager_id })
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountPatch {
    pub name: Option<String>,
    /// Replaces the whole list.
    pub domains: Option<Vec<String>>,
    pub industry: Option<Option<String>>,
    pub employee_count: Option<Option<i64>>,
    pub region: Option<Option<String>>,
    pub owner_id: Option<Option<UserId>>,
}

impl AccountPatch {
    pub fn apply(&self, current: &Account) -> Result<Account, ValidationErrors> {
        let new = NewAccount {
            name: self.name.clone().unwrap_or_else(|| current.name.clone()),
            domains: self.domains.clone().unwrap_or_else(|| current.domains.clone()),
            industry: self.industry.clone().unwrap_or_else(|| current.industry.clone()),
            employee_count: self.employee_count.unwrap_or(current.employee_count),
            region: self.region.clone().unwrap_or_else(|| current.region.clone()),
            owner_id: self.owner_id.unwrap_or(current.owner_id),
        }
        .validated()
        .map_err(|errors| of_record(errors, AccountId::LABEL, current.id.0))?;
        Ok(Account {
            id: current.id,
            name: new.name,
            domains: new.domains,
            industry: new.industry,
            employee_count: new.employee_count,
            region: new.region,
            owner_id: new.owner_id,
            created_at: current.created_at,
        })
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContactPatch {
    pub name: Option<String>,
    /// Replaces the whole list.
    pub emails: Option<Vec<String>>,
    pub phone: Option<Option<String>>,
    pub title: Option<Option<String>>,
    pub account_id: Option<Option<AccountId>>,
}

impl ContactPatch {
    pub fn apply(&self, current: &Contact) -> Result<Contact, ValidationErrors> {
        let new = NewContact {
            name: self.name.clone().unwrap_or_else(|| current.name.clone()),
            emails: self.emails.clone().unwrap_or_else(|| current.emails.clone()),
            phone: self.phone.clone().unwrap_or_else(|| current.phone.clone()),
            title: self.title.clone().unwrap_or_else(|| current.title.clone()),
            account_id: self.account_id.unwrap_or(current.account_id),
        }
        .validated()
        .map_err(|errors| of_record(errors, ContactId::LABEL, current.id.0))?;
        Ok(Contact {
            id: current.id,
            name: new.name,
            emails: new.emails,
            phone: new.phone,
            title: new.title,
            account_id: new.account_id,
            created_at: current.created_at,
        })
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LeadPatch {
    pub name: Option<String>,
    pub company: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub title: Option<Option<String>>,
    pub source: Option<Option<String>>,
    pub status: Option<LeadStatus>,
    pub owner_id: Option<Option<UserId>>,
}

impl LeadPatch {
    pub fn apply(&self, current: &Lead) -> Result<Lead, ValidationErrors> {
        let new = NewLead {
            name: self.name.clone().unwrap_or_else(|| current.name.clone()),
            company: self.company.clone().unwrap_or_else(|| current.company.clone()),
            email: self.email.clone().unwrap_or_else(|| current.email.clone()),
            phone: self.phone.clone().unwrap_or_else(|| current.phone.clone()),
            title: self.title.clone().unwrap_or_else(|| current.title.clone()),
            source: self.source.clone().unwrap_or_else(|| current.source.clone()),
            status: self.status.unwrap_or(current.status),
            owner_id: self.owner_id.unwrap_or(current.owner_id),
        }
        .validated()
        .map_err(|errors| of_record(errors, LeadId::LABEL, current.id.0))?;
        Ok(Lead {
            id: current.id,
            name: new.name,
            company: new.company,
            email: new.email,
            phone: new.phone,
            title: new.title,
            source: new.source,
            status: new.status,
            owner_id: new.owner_id,
            created_at: current.created_at,
        })
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskPatch {
    pub title: Option<String>,
    pub owner_id: Option<UserId>,
    pub due_on: Option<Option<Date>>,
    /// `Some(true)` completes the task (stamping the time of the write), `Some(false)` reopens it.
    pub completed: Option<bool>,
}

impl TaskPatch {
    /// The task after the patch; completing an already completed task keeps its first time.
    pub fn apply(&self, current: &Task, at: Timestamp) -> Result<Task, ValidationErrors> {
        let mut next = current.clone();
        if let Some(title) = &self.title {
            let record = RecordRef::new(TaskId::LABEL, current.id.0);
            next.title = text::required(title, 500)
                .map_err(|problem| ValidationErrors::from(crate::error::FieldError { record, field: "title", problem }))?;
        }
        if let Some(owner) = self.owner_id {
            next.owner_id = owner;
        }
        if let Some(due_on) = self.due_on {
            next.due_on = due_on;
        }
        match self.completed {
            Some(true) if current.completed_at.is_none() => next.completed_at = Some(at),
            Some(false) => next.completed_at = None,
            _ => {}
        }
        Ok(next)
    }
}

/// A change to a user. The manager is checked against the whole hierarchy by the store.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserPatch {
    pub email: Option<String>,
    pub name: Option<String>,
    pub role: Option<crate::user::Role>,
    pub manager_id: Option<Option<UserId>>,
    pub team_id: Option<Option<TeamId>>,
    pub time_zone: Option<String>,
    pub locale: Option<crate::user::Locale>,
    pub active: Option<bool>,
}

impl UserPatch {
    /// Whether the patch touches only what users may change about themselves.
    pub fn is_personal(&self) -> bool {
        self.email.is_none() && self.role.is_none() && self.manager_id.is_none() && self.team_id.is_none() && self.active.is_none()
    }

    pub fn apply(&self, current: &crate::user::User) -> Result<crate::user::User, ValidationErrors> {
        let new = crate::user::NewUser {
            email: self.email.clone().unwrap_or_else(|| current.email.clone()),
            name: self.name.clone().unwrap_or_else(|| current.name.clone()),
            role: self.role.unwrap_or(current.role),
            manager_id: self.manager_id.unwrap_or(current.manager_id),
            team_id: self.team_id.unwrap_or(current.team_id),
            time_zone: self.time_zone.clone().unwrap_or_else(|| current.time_zone.clone()),
            locale: self.locale.unwrap_or(current.locale),
        }
        .validated()
        .map_err(|errors| of_record(errors, UserId::LABEL, current.id.0))?;
        Ok(crate::user::User {
            id: current.id,
            email: new.email,
            name: new.name,
            role: new.role,
            manager_id: new.manager_id,
            team_id: new.team_id,
            time_zone: new.time_zone,
            locale: new.locale,
            active: self.active.unwrap_or(current.active),
            created_at: current.created_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_normalise_domains_and_report_every_problem() {
        let account = NewAccount {
            name: "Acme".into(),
            domains: vec!["ACME.co.kr".into(), "acme.co.kr".into()],
            industry: Some("  ".into()),
            employee_count: Some(120),
            region: None,
            owner_id: None,
        }
        .validated()
        .unwrap();
        assert_eq!(account.domains, ["acme.co.kr"]);
        assert_eq!(account.industry, None);
        let bad = NewAccount {
            name: "".into(),
            domains: vec!["http://acme".into()],
            industry: None,
            employee_count: Some(-1),
            region: None,
            owner_id: None,
        };
        let errors = bad.validated().unwrap_err();
        let fields: Vec<_> = errors.0.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["name", "domains", "employee_count"]);
    }

    #[test]
    fn enums_parse_their_text() {
        assert_eq!(Direction::parse("inbound"), Ok(Direction::Inbound));
        assert_eq!(ActivityKind::parse("meeting").unwrap().to_string(), "meeting");
        assert!(LeadStatus::parse("hot").is_err());
    }
}
