//! Which column holds which field: the export headers of Salesforce, HubSpot and Pipedrive (and
//! plain names) recognised, the vendor guessed from them, and a user's own choices on top.

use std::fmt;

use pipewise_core::error::Problem;
use pipewise_core::message::Message;

use crate::aliases::{ALIASES, Alias};

/// What a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Accounts,
    Contacts,
    Leads,
    Opportunities,
    Activities,
}

impl Kind {
    pub const ALL: [Kind; 5] = [Kind::Accounts, Kind::Contacts, Kind::Leads, Kind::Opportunities, Kind::Activities];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Accounts => "accounts",
            Kind::Contacts => "contacts",
            Kind::Leads => "leads",
            Kind::Opportunities => "opportunities",
            Kind::Activities => "activities",
        }
    }

    pub fn parse(raw: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.as_str() == raw.trim())
    }

    /// The fields a file of this kind may fill.
    pub fn fields(self) -> &'static [Field] {
        match self {
            Kind::Accounts => {
                &[Field::ExternalId, Field::Name, Field::Owner, Field::Industry, Field::Employees, Field::Website, Field::Region]
            }
            Kind::Contacts => &[
                Field::ExternalId,
                Field::Name,
                Field::FirstName,
                Field::LastName,
                Field::Email,
                Field::Phone,
                Field::Title,
                Field::Account,
                Field::Website,
            ],
            Kind::Activities => &[
                Field::ExternalId,
                Field::ActivityType,
                Field::Name,
                Field::Created,
                Field::Direction,
                Field::Owner,
                Field::Deal,
                Field::Account,
                Field::Email,
                Field::Body,
            ],
            Kind::Leads => &[
                Field::ExternalId,
                Field::Name,
                Field::FirstName,
                Field::LastName,
                Field::Email,
                Field::Phone,
                Field::Title,
                Field::Account,
                Field::Owner,
                Field::Status,
                Field::Source,
                Field::Industry,
                Field::Employees,
                Field::Region,
            ],
            Kind::Opportunities => &[
                Field::ExternalId,
                Field::Name,
                Field::Owner,
                Field::Account,
                Field::Pipeline,
                Field::Stage,
                Field::Status,
                Field::Amount,
                Field::Currency,
                Field::CloseDate,
                Field::Created,
                Field::Closed,
                Field::LossReason,
                Field::NextStep,
                Field::Product,
            ],
        }
    }
}

/// A field a column can fill. Several columns may fill one field (Pipedrive's "Won time" and
/// "Lost time" both say when a deal closed): a row takes the first that is not blank.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// The record's id in the system it came from; a re-import updates the record it made.
    ExternalId,
    Name,
    /// A user's e-mail address or full name.
    Owner,
    /// An account's name.
    Account,
    Pipeline,
    Stage,
    /// open, won or lost, where the export keeps it apart from the stage.
    Status,
    Amount,
    Currency,
    /// The expected close date of an open deal; the day it closed, for a closed one without a
    /// [`Field::Closed`] column.
    CloseDate,
    /// When the deal was created (or, in the Maven set, engaged).
    Created,
    /// When a won or lost deal closed.
    Closed,
    LossReason,
    NextStep,
    /// A product name: with the account, it names a deal the export left unnamed.
    Product,
    Industry,
    Employees,
    /// An account's website; for a contact, the website of the account it names.
    Website,
    Region,
    /// With [`Field::LastName`], names a contact the export does not name in one column.
    FirstName,
    LastName,
    /// A contact's e-mail addresses (several in one cell, separated by commas, semicolons or
    /// spaces).
    Email,
    Phone,
    Title,
    /// Where a lead came from (a web form, an event, a list).
    Source,
    /// An activity's kind: call, e-mail, meeting, note, task.
    ActivityType,
    /// inbound, outbound or internal.
    Direction,
    /// The deal an activity is about: its external id (from an earlier import of the same
    /// system) or its name.
    Deal,
    /// An activity's notes.
    Body,
}

impl Field {
    pub const ALL: [Field; 29] = [
        Field::ExternalId,
        Field::Name,
        Field::Owner,
        Field::Account,
        Field::Pipeline,
        Field::Stage,
        Field::Status,
        Field::Amount,
        Field::Currency,
        Field::CloseDate,
        Field::Created,
        Field::Closed,
        Field::LossReason,
        Field::NextStep,
        Field::Product,
        Field::Industry,
        Field::Employees,
        Field::Website,
        Field::Region,
        Field::FirstName,
        Field::LastName,
        Field::Email,
        Field::Phone,
        Field::Title,
        Field::Source,
        Field::ActivityType,
        Field::Direction,
        Field::Deal,
        Field::Body,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Field::ExternalId => "external_id",
            Field::Name => "name",
            Field::Owner => "owner",
            Field::Account => "account",
            Field::Pipeline => "pipeline",
            Field::Stage => "stage",
            Field::Status => "status",
            Field::Amount => "amount",
            Field::Currency => "currency",
            Field::CloseDate => "close_date",
            Field::Created => "created",
            Field::Closed => "closed",
            Field::LossReason => "loss_reason",
            Field::NextStep => "next_step",
            Field::Product => "product",
            Field::Industry => "industry",
            Field::Employees => "employees",
            Field::Website => "website",
            Field::Region => "region",
            Field::FirstName => "first_name",
            Field::LastName => "last_name",
            Field::Email => "email",
            Field::Phone => "phone",
            Field::Title => "title",
            Field::Source => "source",
            Field::ActivityType => "type",
            Field::Direction => "direction",
            Field::Deal => "deal",
            Field::Body => "body",
        }
    }

    pub fn parse(raw: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|field| field.key() == raw.trim())
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// The CRM an export came from, told by its headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vendor {
    Salesforce,
    HubSpot,
    Pipedrive,
}

impl Vendor {
    pub fn as_str(self) -> &'static str {
        match self {
            Vendor::Salesforce => "salesforce",
            Vendor::HubSpot => "hubspot",
            Vendor::Pipedrive => "pipedrive",
        }
    }
}

/// A header compared the way [`ALIASES`](crate::aliases::ALIASES) are written: lower-cased letters and digits only, so
/// `Deal - Expected close date`, `deal_expected_close_date` and `DealExpectedCloseDate` agree.
pub fn normalise(header: &str) -> String {
    header.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// A user's choice for one field: the header of the column that fills it, or none (the field
/// stays empty even if a column would be recognised). Written `field=Header` or `field=`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    pub field: Field,
    pub header: Option<String>,
}

impl Choice {
    pub fn parse(raw: &str) -> Result<Choice, Problem> {
        let invalid = || Problem::Invalid { value: raw.to_owned(), expected: "field=Header (or field= to leave a field empty)" };
        let (field, header) = raw.split_once('=').ok_or_else(invalid)?;
        let field = Field::parse(field).ok_or_else(invalid)?;
        let header = header.trim();
        Ok(Choice { field, header: (!header.is_empty()).then(|| header.to_owned()) })
    }
}

/// Which columns fill which fields of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    pub kind: Kind,
    /// The CRM the headers look like, if any one's own headers are there.
    pub vendor: Option<Vendor>,
    pub headers: Vec<String>,
    /// Per column, the field it fills (`None`: ignored).
    pub columns: Vec<Option<Field>>,
}

impl Mapping {
    /// Recognises the headers, then applies `choices`. Fails when a choice names a header the
    /// file does not have, a field the kind does not hold, or a field a file of this kind needs
    /// is filled by no column.
    pub fn detect(kind: Kind, headers: &[&str], choices: &[Choice]) -> Result<Mapping, Vec<Problem>> {
        let mut problems = Vec::new();
        let normalised: Vec<String> = headers.iter().map(|header| normalise(header)).collect();
        let mut votes = [0usize; 3];
        let mut columns: Vec<Option<Field>> = normalised
            .iter()
            .map(|header| {
                let matches: Vec<&Alias> = ALIASES.iter().filter(|alias| alias.kind == kind && alias.header == header).collect();
                for vendor in matches.iter().filter_map(|alias| alias.vendor) {
                    votes[vendor as usize] += 1;
                }
                matches.first().map(|alias| alias.field)
            })
            .collect();
        for choice in choices {
            if !kind.fields().contains(&choice.field) {
                problems.push(Problem::Fact(
                    Message::new("import.field_not_of_kind").text("field", choice.field.key()).text("kind", kind.as_str()),
                ));
                continue;
            }
            for column in columns.iter_mut().filter(|column| **column == Some(choice.field)) {
                *column = None;
            }
            if let Some(header) = &choice.header {
                match headers.iter().position(|candidate| candidate.trim() == header.trim()) {
                    Some(at) => columns[at] = Some(choice.field),
                    None => problems.push(Problem::Fact(
                        Message::new("import.no_such_column").text("column", header).text("field", choice.field.key()),
                    )),
                }
            }
        }
        let best = votes.iter().copied().max().unwrap_or(0);
        let vendor = [Vendor::Salesforce, Vendor::HubSpot, Vendor::Pipedrive]
            .into_iter()
            .find(|vendor| best > 0 && votes[*vendor as usize] == best && votes.iter().filter(|count| **count == best).count() == 1);
        let mapping = Mapping { kind, vendor, headers: headers.iter().map(|header| header.trim().to_owned()).collect(), columns };
        if !mapping.is_named() {
            problems.push(Problem::Fact(Message::new("import.no_name_column").text("kind", kind.as_str())));
        }
        if problems.is_empty() { Ok(mapping) } else { Err(problems) }
    }

    /// A mapping the user set column by column (a mapping editor's result): `columns` gives
    /// each header's field, or none. Checked as [`Mapping::detect`] checks choices.
    pub fn chosen(kind: Kind, headers: &[&str], columns: &[Option<Field>]) -> Result<Mapping, Vec<Problem>> {
        let mut problems = Vec::new();
        if columns.len() != headers.len() {
            problems.push(Problem::Invalid { value: format!("{} fields", columns.len()), expected: "one field or none per column" });
        }
        for field in columns.iter().flatten().filter(|field| !kind.fields().contains(field)) {
            problems.push(Problem::Fact(Message::new("import.field_not_of_kind").text("field", field.key()).text("kind", kind.as_str())));
        }
        let detected = Mapping::detect(kind, headers, &[]);
        let vendor = detected.as_ref().ok().and_then(|mapping| mapping.vendor);
        let mapping =
            Mapping { kind, vendor, headers: headers.iter().map(|header| header.trim().to_owned()).collect(), columns: columns.to_vec() };
        if problems.is_empty() && !mapping.is_named() {
            problems.push(Problem::Fact(Message::new("import.no_name_column").text("kind", kind.as_str())));
        }
        if problems.is_empty() { Ok(mapping) } else { Err(problems) }
    }

    /// Whether some column names each record (a deal may be named by its product, account or id).
    fn is_named(&self) -> bool {
        match self.kind {
            Kind::Accounts => self.fills(Field::Name),
            Kind::Contacts | Kind::Leads => self.fills(Field::Name) || self.fills(Field::FirstName) || self.fills(Field::LastName),
            Kind::Activities => self.fills(Field::Name) || self.fills(Field::ActivityType),
            Kind::Opportunities => {
                [Field::Name, Field::Product, Field::Account, Field::ExternalId].into_iter().any(|field| self.fills(field))
            }
        }
    }

    /// The columns that fill `field`, in file order.
    pub fn columns_of(&self, field: Field) -> impl Iterator<Item = usize> + '_ {
        self.columns.iter().enumerate().filter(move |(_, column)| **column == Some(field)).map(|(at, _)| at)
    }

    pub fn fills(&self, field: Field) -> bool {
        self.columns_of(field).next().is_some()
    }

    /// The first non-blank cell of `record` that fills `field`, with its column.
    pub fn cell<'r>(&self, record: &'r csv::StringRecord, field: Field) -> Option<(usize, &'r str)> {
        self.columns_of(field).find_map(|at| record.get(at).filter(|cell| !cell.trim().is_empty()).map(|cell| (at, cell)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(mapping: &Mapping) -> Vec<Option<&'static str>> {
        mapping.columns.iter().map(|field| field.map(Field::key)).collect()
    }

    #[test]
    fn each_vendors_headers_are_recognised() {
        let salesforce = [
            "Opportunity ID",
            "Opportunity Name",
            "Account Name",
            "Stage",
            "Amount",
            "Close Date",
            "Created Date",
            "Opportunity Owner",
            "Probability (%)",
        ];
        let mapping = Mapping::detect(Kind::Opportunities, &salesforce, &[]).unwrap();
        assert_eq!(mapping.vendor, Some(Vendor::Salesforce));
        assert_eq!(
            fields(&mapping),
            [
                Some("external_id"),
                Some("name"),
                Some("account"),
                Some("stage"),
                Some("amount"),
                Some("close_date"),
                Some("created"),
                Some("owner"),
                None
            ]
        );
        let hubspot =
            ["Record ID", "Deal Name", "Deal Stage", "Amount", "Close Date", "Create Date", "Deal owner", "Pipeline", "Associated Company"];
        let mapping = Mapping::detect(Kind::Opportunities, &hubspot, &[]).unwrap();
        assert_eq!(mapping.vendor, Some(Vendor::HubSpot));
        assert!(mapping.columns.iter().all(Option::is_some));
        let pipedrive = [
            "Deal - ID",
            "Deal - Title",
            "Deal - Value",
            "Deal - Currency",
            "Deal - Stage",
            "Deal - Status",
            "Deal - Won time",
            "Deal - Lost time",
        ];
        let mapping = Mapping::detect(Kind::Opportunities, &pipedrive, &[]).unwrap();
        assert_eq!(mapping.vendor, Some(Vendor::Pipedrive));
        assert_eq!(mapping.columns_of(Field::Closed).collect::<Vec<_>>(), [6, 7]);
        let maven = ["opportunity_id", "sales_agent", "product", "account", "deal_stage", "engage_date", "close_date", "close_value"];
        let mapping = Mapping::detect(Kind::Opportunities, &maven, &[]).unwrap();
        assert_eq!(
            fields(&mapping),
            [
                Some("external_id"),
                Some("owner"),
                Some("product"),
                Some("account"),
                Some("stage"),
                Some("created"),
                Some("close_date"),
                Some("amount")
            ]
        );
        let accounts = ["account", "sector", "year_established", "revenue", "employees", "office_location", "subsidiary_of"];
        let mapping = Mapping::detect(Kind::Accounts, &accounts, &[]).unwrap();
        assert_eq!(fields(&mapping), [Some("name"), Some("industry"), None, None, Some("employees"), Some("region"), None]);
    }

    #[test]
    fn choices_override_recognition_and_are_checked() {
        let headers = ["Title", "Expected", "Sales rep"];
        let choices =
            [Choice::parse("close_date=Expected").unwrap(), Choice::parse("owner=Sales rep").unwrap(), Choice::parse("name=").unwrap()];
        let mapping = Mapping::detect(Kind::Opportunities, &headers, &choices[..2]).unwrap();
        assert_eq!(fields(&mapping), [Some("name"), Some("close_date"), Some("owner")]);
        let problems = Mapping::detect(Kind::Opportunities, &headers, &choices).unwrap_err();
        assert!(matches!(&problems[..], [Problem::Fact(message)] if message.key == "import.no_name_column"), "{problems:?}");
        let problems = Mapping::detect(Kind::Accounts, &headers, &[Choice::parse("stage=Title").unwrap()]).unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        let problems = Mapping::detect(Kind::Opportunities, &headers, &[Choice::parse("stage=Nope").unwrap()]).unwrap_err();
        assert!(matches!(&problems[..], [Problem::Fact(message)] if message.key == "import.no_such_column"));
        assert!(Choice::parse("colour=Title").is_err());
        let chosen = Mapping::chosen(Kind::Opportunities, &headers, &[Some(Field::Name), None, Some(Field::Owner)]).unwrap();
        assert_eq!(fields(&chosen), [Some("name"), None, Some("owner")]);
        assert!(Mapping::chosen(Kind::Opportunities, &headers, &[None, None, Some(Field::Owner)]).is_err());
        assert!(Mapping::chosen(Kind::Accounts, &headers, &[Some(Field::Name), Some(Field::Stage), None]).is_err());
        assert!(Mapping::chosen(Kind::Accounts, &headers, &[Some(Field::Name)]).is_err());
        assert!(Choice::parse("Title").is_err());
    }
}
