//! Which column holds which field: the export headers of Salesforce, HubSpot and Pipedrive (and
//! plain names) recognised, the vendor guessed from them, and a user's own choices on top.

use std::fmt;

use pipewise_core::error::Problem;
use pipewise_core::message::Message;

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

/// One known header (compared lower-cased, letters and digits only), the field it fills for a
/// kind of file, and the vendor whose exports write it (`None`: a plain name anyone might use).
struct Alias {
    header: &'static str,
    kind: Kind,
    field: Field,
    vendor: Option<Vendor>,
}

const fn alias(header: &'static str, kind: Kind, field: Field, vendor: Option<Vendor>) -> Alias {
    Alias { header, kind, field, vendor }
}

use Field as F;
use Kind::{Accounts as A, Activities as V, Contacts as C, Leads as L, Opportunities as O};
const SF: Option<Vendor> = Some(Vendor::Salesforce);
const HS: Option<Vendor> = Some(Vendor::HubSpot);
const PD: Option<Vendor> = Some(Vendor::Pipedrive);

/// Headers as the three CRMs' standard exports write them (Salesforce report and Data Loader
/// exports, HubSpot's "Export" of deals and companies, Pipedrive's "Deal - …" and
/// "Organization - …" columns), then plain names. Compared after [`normalise`].
const ALIASES: &[Alias] = &[
    alias("opportunityid", O, F::ExternalId, SF),
    alias("opportunityname", O, F::Name, SF),
    alias("opportunityowner", O, F::Owner, SF),
    alias("accountname", O, F::Account, SF),
    alias("stage", O, F::Stage, SF),
    alias("amount", O, F::Amount, None),
    alias("amountcurrency", O, F::Currency, SF),
    alias("opportunitycurrency", O, F::Currency, SF),
    alias("currencyisocode", O, F::Currency, SF),
    alias("closedate", O, F::CloseDate, None),
    alias("createddate", O, F::Created, SF),
    alias("closedlostreason", O, F::LossReason, SF),
    alias("lossreason", O, F::LossReason, SF),
    alias("nextstep", O, F::NextStep, SF),
    alias("recordid", O, F::ExternalId, HS),
    alias("dealname", O, F::Name, HS),
    alias("dealowner", O, F::Owner, HS),
    alias("dealstage", O, F::Stage, HS),
    alias("createdate", O, F::Created, HS),
    alias("associatedcompany", O, F::Account, HS),
    alias("associatedcompanyprimary", O, F::Account, HS),
    alias("closedlostreason", O, F::LossReason, HS),
    alias("dealid", O, F::ExternalId, PD),
    alias("dealtitle", O, F::Name, PD),
    alias("dealowner", O, F::Owner, PD),
    alias("dealorganization", O, F::Account, PD),
    alias("dealpipeline", O, F::Pipeline, PD),
    alias("dealstage", O, F::Stage, PD),
    alias("dealstatus", O, F::Status, PD),
    alias("dealvalue", O, F::Amount, PD),
    alias("dealcurrency", O, F::Currency, PD),
    alias("dealexpectedclosedate", O, F::CloseDate, PD),
    alias("dealdealcreated", O, F::Created, PD),
    alias("dealwontime", O, F::Closed, PD),
    alias("deallosttime", O, F::Closed, PD),
    alias("deallostreason", O, F::LossReason, PD),
    alias("externalid", O, F::ExternalId, None),
    alias("id", O, F::ExternalId, None),
    alias("name", O, F::Name, None),
    alias("title", O, F::Name, None),
    alias("owner", O, F::Owner, None),
    alias("owneremail", O, F::Owner, None),
    alias("salesagent", O, F::Owner, None),
    alias("account", O, F::Account, None),
    alias("company", O, F::Account, None),
    alias("organization", O, F::Account, None),
    alias("pipeline", O, F::Pipeline, None),
    alias("status", O, F::Status, None),
    alias("value", O, F::Amount, None),
    alias("closevalue", O, F::Amount, None),
    alias("currency", O, F::Currency, None),
    alias("expectedclosedate", O, F::CloseDate, None),
    alias("created", O, F::Created, None),
    alias("createdat", O, F::Created, None),
    alias("engagedate", O, F::Created, None),
    alias("closed", O, F::Closed, None),
    alias("closedat", O, F::Closed, None),
    alias("closeddate", O, F::Closed, None),
    alias("closereason", O, F::LossReason, None),
    alias("product", O, F::Product, None),
    alias("productname", O, F::Product, None),
    alias("accountid", A, F::ExternalId, SF),
    alias("accountname", A, F::Name, SF),
    alias("accountowner", A, F::Owner, SF),
    alias("numberofemployees", A, F::Employees, SF),
    alias("employees", A, F::Employees, None),
    alias("billingcountry", A, F::Region, SF),
    alias("recordid", A, F::ExternalId, HS),
    alias("companyname", A, F::Name, HS),
    alias("companyowner", A, F::Owner, HS),
    alias("companydomainname", A, F::Website, HS),
    alias("websiteurl", A, F::Website, HS),
    alias("numberofemployees", A, F::Employees, HS),
    alias("countryregion", A, F::Region, HS),
    alias("organizationid", A, F::ExternalId, PD),
    alias("organizationname", A, F::Name, PD),
    alias("organizationowner", A, F::Owner, PD),
    alias("organizationwebsite", A, F::Website, PD),
    alias("organizationindustry", A, F::Industry, PD),
    alias("organizationnumberofemployees", A, F::Employees, PD),
    alias("organizationemployeecount", A, F::Employees, PD),
    alias("organizationaddresscountry", A, F::Region, PD),
    alias("externalid", A, F::ExternalId, None),
    alias("id", A, F::ExternalId, None),
    alias("name", A, F::Name, None),
    alias("account", A, F::Name, None),
    alias("company", A, F::Name, None),
    alias("owner", A, F::Owner, None),
    alias("industry", A, F::Industry, None),
    alias("sector", A, F::Industry, None),
    alias("employeecount", A, F::Employees, None),
    alias("website", A, F::Website, None),
    alias("domain", A, F::Website, None),
    alias("region", A, F::Region, None),
    alias("country", A, F::Region, None),
    alias("officelocation", A, F::Region, None),
    alias("contactid", C, F::ExternalId, SF),
    alias("firstname", C, F::FirstName, None),
    alias("lastname", C, F::LastName, None),
    alias("accountname", C, F::Account, SF),
    alias("mobile", C, F::Phone, SF),
    alias("mobilephone", C, F::Phone, SF),
    alias("recordid", C, F::ExternalId, HS),
    alias("phonenumber", C, F::Phone, HS),
    alias("jobtitle", C, F::Title, HS),
    alias("associatedcompany", C, F::Account, HS),
    alias("associatedcompanyprimary", C, F::Account, HS),
    alias("companyname", C, F::Account, HS),
    alias("personid", C, F::ExternalId, PD),
    alias("personname", C, F::Name, PD),
    alias("personemail", C, F::Email, PD),
    alias("personphone", C, F::Phone, PD),
    alias("personorganization", C, F::Account, PD),
    alias("personjobtitle", C, F::Title, PD),
    alias("externalid", C, F::ExternalId, None),
    alias("id", C, F::ExternalId, None),
    alias("name", C, F::Name, None),
    alias("fullname", C, F::Name, None),
    alias("contactname", C, F::Name, None),
    alias("contact", C, F::Name, None),
    alias("email", C, F::Email, None),
    alias("emails", C, F::Email, None),
    alias("emailaddress", C, F::Email, None),
    alias("phone", C, F::Phone, None),
    alias("title", C, F::Title, None),
    alias("company", C, F::Account, None),
    alias("account", C, F::Account, None),
    alias("organization", C, F::Account, None),
    alias("website", C, F::Website, None),
    alias("domain", C, F::Website, None),
    alias("leadid", L, F::ExternalId, SF),
    alias("leadowner", L, F::Owner, SF),
    alias("leadsource", L, F::Source, SF),
    alias("leadstatus", L, F::Status, SF),
    alias("recordid", L, F::ExternalId, HS),
    alias("contactowner", L, F::Owner, HS),
    alias("originalsource", L, F::Source, HS),
    alias("jobtitle", L, F::Title, HS),
    alias("phonenumber", L, F::Phone, HS),
    alias("companyname", L, F::Account, HS),
    alias("leadtitle", L, F::Name, PD),
    alias("leadowner", L, F::Owner, PD),
    alias("leadsource", L, F::Source, PD),
    alias("leadorganization", L, F::Account, PD),
    alias("leadperson", L, F::Name, PD),
    alias("externalid", L, F::ExternalId, None),
    alias("id", L, F::ExternalId, None),
    alias("name", L, F::Name, None),
    alias("fullname", L, F::Name, None),
    alias("contactname", L, F::Name, None),
    alias("firstname", L, F::FirstName, None),
    alias("lastname", L, F::LastName, None),
    alias("email", L, F::Email, None),
    alias("emailaddress", L, F::Email, None),
    alias("phone", L, F::Phone, None),
    alias("mobile", L, F::Phone, None),
    alias("title", L, F::Title, None),
    alias("company", L, F::Account, None),
    alias("account", L, F::Account, None),
    alias("organization", L, F::Account, None),
    alias("owner", L, F::Owner, None),
    alias("status", L, F::Status, None),
    alias("source", L, F::Source, None),
    alias("activityid", V, F::ExternalId, SF),
    alias("tasksubtype", V, F::ActivityType, SF),
    alias("activitydate", V, F::Created, SF),
    alias("assignedto", V, F::Owner, SF),
    alias("relatedto", V, F::Deal, SF),
    alias("opportunityname", V, F::Deal, SF),
    alias("accountname", V, F::Account, SF),
    alias("comments", V, F::Body, SF),
    alias("recordid", V, F::ExternalId, HS),
    alias("activitytype", V, F::ActivityType, HS),
    alias("associateddeal", V, F::Deal, HS),
    alias("associatedcompany", V, F::Account, HS),
    alias("associatedcontact", V, F::Email, HS),
    alias("bodypreview", V, F::Body, HS),
    alias("activityassignedto", V, F::Owner, HS),
    alias("activityid", V, F::ExternalId, PD),
    alias("activitysubject", V, F::Name, PD),
    alias("activitytype", V, F::ActivityType, PD),
    alias("activityduedate", V, F::Created, PD),
    alias("activitydeal", V, F::Deal, PD),
    alias("activityorganization", V, F::Account, PD),
    alias("activitynote", V, F::Body, PD),
    alias("activityassignedtouser", V, F::Owner, PD),
    alias("externalid", V, F::ExternalId, None),
    alias("id", V, F::ExternalId, None),
    alias("type", V, F::ActivityType, None),
    alias("kind", V, F::ActivityType, None),
    alias("subject", V, F::Name, None),
    alias("title", V, F::Name, None),
    alias("date", V, F::Created, None),
    alias("occurredat", V, F::Created, None),
    alias("when", V, F::Created, None),
    alias("direction", V, F::Direction, None),
    alias("owner", V, F::Owner, None),
    alias("user", V, F::Owner, None),
    alias("deal", V, F::Deal, None),
    alias("opportunity", V, F::Deal, None),
    alias("account", V, F::Account, None),
    alias("company", V, F::Account, None),
    alias("email", V, F::Email, None),
    alias("contact", V, F::Email, None),
    alias("contactemail", V, F::Email, None),
    alias("body", V, F::Body, None),
    alias("notes", V, F::Body, None),
    alias("description", V, F::Body, None),
];

/// A header compared the way [`ALIASES`] are written: lower-cased letters and digits only, so
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
