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

/// Declares a stored record and the `New*` form it is created from, writing their shared fields
/// once (with their doc comments), and, when a third name is given, the record's patch.
///
/// The stored record has, in this order: `id`, an optional `stored` section, the `shared`
/// section, another optional `stored` section, then an optional second `shared` section. The
/// `stored` fields are the ones the store sets itself (such as `created_at`); the `New*` form has
/// the `shared` fields alone, and its `into_record` gives it the rest.
///
/// The patch has every shared field, each wrapped in `Option`. Its `apply` checks the patched
/// record with the `New*` form's `validated` (which each record writes itself) and reports the
/// problems against the existing record.
macro_rules! record_types {
    (
        $(#[$doc:meta])*
        $name:ident, $new:ident, $patch:ident; id: $id:ident
        shared {
            $($(#[$field_doc:meta])* $field:ident: $ty:ty,)*
        }
        $(stored {
            $($(#[$stored_doc:meta])* $stored:ident: $stored_ty:ty,)*
        })?
    ) => {
        $crate::records::record_types! {
            $(#[$doc])*
            $name, $new; id: $id
            shared {
                $($(#[$field_doc])* $field: $ty,)*
            }
            $(stored {
                $($(#[$stored_doc])* $stored: $stored_ty,)*
            })?
        }

        #[doc = concat!(
            "A partial update to a stored [`", stringify!($name), "`] (the JSON API's PATCH): `None` leaves a field alone, ",
            "`Some(None)` clears a nullable field, and a list replaces the whole list."
        )]
        #[derive(Clone, Debug, Default, PartialEq, Eq)]
        pub struct $patch {
            $($(#[$field_doc])* pub $field: Option<$ty>,)*
        }

        impl $patch {
            /// The record after the patch, checked with the same rules as a new one; every problem is
            /// reported against `current`.
            pub fn apply(&self, current: &$name) -> Result<$name, $crate::error::ValidationErrors> {
                let new = $new { $($field: self.$field.as_ref().unwrap_or(&current.$field).clone(),)* }
                    .validated()
                    .map_err(|errors| $crate::records::of_record(errors, $id::LABEL, current.id.0))?;
                Ok(new.into_record(current.id $($(, current.$stored)*)?))
            }
        }
    };
    (
        $(#[$doc:meta])*
        $name:ident, $new:ident; id: $id:ident
        $(stored {
            $($(#[$early_stored_doc:meta])* $early_stored:ident: $early_stored_ty:ty,)*
        })?
        shared {
            $($(#[$field_doc:meta])* $field:ident: $ty:ty,)*
        }
        $(stored {
            $($(#[$stored_doc:meta])* $stored:ident: $stored_ty:ty,)*
        })?
        $(shared {
            $($(#[$late_field_doc:meta])* $late_field:ident: $late_ty:ty,)*
        })?
    ) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $name {
            pub id: $id,
            $($($(#[$early_stored_doc])* pub $early_stored: $early_stored_ty,)*)?
            $($(#[$field_doc])* pub $field: $ty,)*
            $($($(#[$stored_doc])* pub $stored: $stored_ty,)*)?
            $($($(#[$late_field_doc])* pub $late_field: $late_ty,)*)?
        }

        #[doc = concat!("A new [`", stringify!($name), "`], before the store gives it an id and the fields it sets itself.")]
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $new {
            $($(#[$field_doc])* pub $field: $ty,)*
            $($($(#[$late_field_doc])* pub $late_field: $late_ty,)*)?
        }

        impl $new {
            /// The stored record, with the id and the fields the store has set.
            pub fn into_record(
                self,
                id: $id,
                $($($early_stored: $early_stored_ty,)*)?
                $($($stored: $stored_ty,)*)?
            ) -> $name {
                $name {
                    id,
                    $($($early_stored,)*)?
                    $($field: self.$field,)*
                    $($($stored,)*)?
                    $($($late_field: self.$late_field,)*)?
                }
            }
        }
    };
}
pub(crate) use record_types;

record_types! {
    /// A sales team.
    Team, NewTeam, TeamPatch; id: TeamId
    shared {
        name: String,
        /// The manager who leads the team.
        manager_id: Option<UserId>,
    }
}

impl NewTeam {
    pub fn validated(mut self) -> Result<NewTeam, ValidationErrors> {
        let record = RecordRef::new_record(TeamId::LABEL);
        let mut errors = ValidationErrors::default();
        errors.required_text(&record, "name", &mut self.name, 200);
        errors.into_result(self)
    }
}

record_types! {
    /// A customer company.
    Account, NewAccount, AccountPatch; id: AccountId
    shared {
        name: String,
        /// Lower-cased domains mail is matched by, e.g. `acme.co.kr`.
        domains: Vec<String>,
        industry: Option<String>,
        employee_count: Option<i64>,
        region: Option<String>,
        owner_id: Option<UserId>,
    }
    stored {
        created_at: Timestamp,
    }
}

impl NewAccount {
    pub fn validated(mut self) -> Result<NewAccount, ValidationErrors> {
        let record = RecordRef::new_record(AccountId::LABEL);
        let mut errors = ValidationErrors::default();
        errors.required_text(&record, "name", &mut self.name, 200);
        errors.distinct_values(&record, "domains", &mut self.domains, text::domain);
        errors.optional_text(&record, "industry", &mut self.industry, 100);
        errors.optional_text(&record, "region", &mut self.region, 100);
        if let Some(count) = self.employee_count
            && !(0..=10_000_000).contains(&count)
        {
            errors.push(&record, "employee_count", Problem::OutOfRange { value: count.to_string(), range: "0 to 10,000,000" });
        }
        errors.into_result(self)
    }
}

record_types! {
    /// A person at a customer.
    Contact, NewContact, ContactPatch; id: ContactId
    shared {
        name: String,
        emails: Vec<String>,
        phone: Option<String>,
        title: Option<String>,
        account_id: Option<AccountId>,
    }
    stored {
        created_at: Timestamp,
    }
}

impl NewContact {
    pub fn validated(mut self) -> Result<NewContact, ValidationErrors> {
        let record = RecordRef::new_record(ContactId::LABEL);
        let mut errors = ValidationErrors::default();
        errors.required_text(&record, "name", &mut self.name, 200);
        errors.distinct_values(&record, "emails", &mut self.emails, text::email);
        errors.optional_text(&record, "phone", &mut self.phone, 50);
        errors.optional_text(&record, "title", &mut self.title, 200);
        errors.into_result(self)
    }
}

text_enum! {
    /// Where a lead is in qualification.
    LeadStatus { New => "new", Working => "working", Qualified => "qualified", Disqualified => "disqualified", Converted => "converted" }
    expected "one of new, working, qualified, disqualified, converted"
}

record_types! {
    /// Someone who may become a customer, not yet qualified.
    Lead, NewLead, LeadPatch; id: LeadId
    shared {
        name: String,
        company: Option<String>,
        email: Option<String>,
        phone: Option<String>,
        title: Option<String>,
        /// Where the lead came from: `web form`, `event`, `import`, …
        source: Option<String>,
        /// The company's industry, size and region, as the lead gave them (the account's names:
        /// lead routing's territories and the ideal-customer fit read them).
        industry: Option<String>,
        employee_count: Option<i64>,
        region: Option<String>,
        status: LeadStatus,
        owner_id: Option<UserId>,
    }
    stored {
        created_at: Timestamp,
    }
}

impl NewLead {
    pub fn validated(mut self) -> Result<NewLead, ValidationErrors> {
        let record = RecordRef::new_record(LeadId::LABEL);
        let mut errors = ValidationErrors::default();
        errors.required_text(&record, "name", &mut self.name, 200);
        errors.optional_text(&record, "company", &mut self.company, 200);
        if let Some(raw) = self.email.as_deref().filter(|raw| !raw.trim().is_empty()) {
            self.email = errors.check(&record, "email", text::email(raw));
        } else {
            self.email = None;
        }
        errors.optional_text(&record, "phone", &mut self.phone, 50);
        errors.optional_text(&record, "title", &mut self.title, 200);
        errors.optional_text(&record, "source", &mut self.source, 100);
        errors.optional_text(&record, "industry", &mut self.industry, 100);
        errors.optional_text(&record, "region", &mut self.region, 100);
        if let Some(count) = self.employee_count
            && !(0..=10_000_000).contains(&count)
        {
            errors.push(&record, "employee_count", Problem::OutOfRange { value: count.to_string(), range: "0 to 10,000,000" });
        }
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

record_types! {
    /// An e-mail, meeting, call, note or task done with or about a customer.
    Activity, NewActivity; id: ActivityId
    shared {
        kind: ActivityKind,
        direction: Direction,
        occurred_at: Timestamp,
    }
    stored {
        /// When Pipewise learnt of it; far after `occurred_at` is a late CRM update.
        logged_at: Timestamp,
    }
    shared {
        subject: String,
        body: Option<String>,
        /// `manual`, `imap`, `smtp`, `eml`, `ics`, `demo`, …
        source: String,
        user_id: Option<UserId>,
        account_id: Option<AccountId>,
        opportunity_id: Option<OpportunityId>,
        contact_ids: Vec<ContactId>,
    }
}

impl NewActivity {
    pub fn validated(mut self) -> Result<NewActivity, ValidationErrors> {
        let record = RecordRef::new_record(ActivityId::LABEL);
        let mut errors = ValidationErrors::default();
        errors.required_text(&record, "subject", &mut self.subject, 500);
        if let Some(raw) = self.body.as_deref() {
            self.body = errors.check(&record, "body", text::optional(raw, 1_000_000, true)).flatten();
        }
        errors.required_text(&record, "source", &mut self.source, 50);
        self.contact_ids.sort();
        self.contact_ids.dedup();
        errors.into_result(self)
    }
}

record_types! {
    /// A to-do for one user, perhaps about an account, a deal or a lead.
    Task, NewTask; id: TaskId
    shared {
        title: String,
        owner_id: UserId,
        due_on: Option<Date>,
        completed_at: Option<Timestamp>,
        account_id: Option<AccountId>,
        opportunity_id: Option<OpportunityId>,
        lead_id: Option<LeadId>,
    }
    stored {
        created_at: Timestamp,
    }
}

impl NewTask {
    pub fn validated(mut self) -> Result<NewTask, ValidationErrors> {
        let record = RecordRef::new_record(TaskId::LABEL);
        let mut errors = ValidationErrors::default();
        errors.required_text(&record, "title", &mut self.title, 500);
        errors.into_result(self)
    }
}

// Partial updates (the JSON API's PATCH). In every patch `None` leaves a field alone and, for
// nullable fields, `Some(None)` clears it. `apply` builds the next state and checks it with the
// same rules as a new record, reporting every problem against the existing record. The patches
// of teams, accounts, contacts and leads are declared with their records by `record_types!`.

/// Re-labels the problems of a `New*` check as problems of the existing record `kind id`.
pub(crate) fn of_record(mut errors: ValidationErrors, kind: &'static str, id: i64) -> ValidationErrors {
    for error in &mut errors.0 {
        error.record = RecordRef::new(kind, id);
    }
    errors
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
        Ok(new.into_record(current.id, self.active.unwrap_or(current.active), current.created_at))
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
    fn patches_change_what_they_name_and_report_against_the_record() {
        let contact = NewContact {
            name: "Kim".into(),
            emails: vec!["kim@acme.com".into()],
            phone: Some("010-1234-5678".into()),
            title: None,
            account_id: Some(AccountId(7)),
        }
        .into_record(ContactId(3), Timestamp::from_micros(0));
        let patch = ContactPatch { title: Some(Some(" Head of sales ".into())), account_id: Some(None), ..ContactPatch::default() };
        assert_eq!(patch.apply(&contact), Ok(Contact { title: Some("Head of sales".into()), account_id: None, ..contact.clone() }));
        let bad = ContactPatch { emails: Some(vec!["nobody".into()]), ..ContactPatch::default() };
        assert_eq!(bad.apply(&contact).unwrap_err().to_string(), "contact 3: emails: \"nobody\" is not an e-mail address");
    }

    #[test]
    fn enums_parse_their_text() {
        assert_eq!(Direction::parse("inbound"), Ok(Direction::Inbound));
        assert_eq!(ActivityKind::parse("meeting").unwrap().to_string(), "meeting");
        assert!(LeadStatus::parse("hot").is_err());
    }
}
