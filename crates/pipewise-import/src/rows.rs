//! One line of a file read into typed values, or every problem on it, each naming its line and
//! column. Names (owners, accounts, stages, pipelines) stay names: the application layer
//! resolves them against the organisation.

use std::fmt;

use pipewise_core::Date;
use pipewise_core::error::Problem;
use pipewise_core::money::{Currency, Money};
use pipewise_core::records::{ActivityKind, Direction};
use pipewise_core::text;

use crate::mapping::{Field, Mapping};
use crate::values::{self, DateOrder, Moment};

/// What is wrong with one cell (or, with no column, one line) of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineError {
    /// 1-based, counting the header line; a quoted cell spanning lines counts them all.
    pub line: u64,
    /// The column's header, when one cell is at fault.
    pub column: Option<String>,
    /// The field at fault; `None` when the line itself is (unreadable, the wrong length).
    pub field: Option<Field>,
    pub problem: Problem,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}", self.line)?;
        if let Some(column) = &self.column {
            write!(f, ", column {column:?}")?;
        }
        if let Some(field) = self.field {
            write!(f, " ({field})")?;
        }
        write!(f, ": {}", self.problem)
    }
}

/// How cells are read where the file itself does not say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reading {
    pub date_order: DateOrder,
    /// Amounts without a currency column are in this one (the organisation's).
    pub currency: Currency,
}

/// A deal's status where the export keeps it apart from the stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowStatus {
    Open,
    Won,
    Lost,
}

impl RowStatus {
    /// `open`, `won`, `lost`, and Salesforce's `Closed Won` / `Closed Lost`.
    pub fn parse(raw: &str) -> Result<RowStatus, Problem> {
        match crate::mapping::normalise(raw).as_str() {
            "open" => Ok(RowStatus::Open),
            "won" | "closedwon" => Ok(RowStatus::Won),
            "lost" | "closedlost" => Ok(RowStatus::Lost),
            _ => Err(Problem::Invalid { value: raw.to_owned(), expected: "open, won or lost" }),
        }
    }
}

/// One line of an opportunities file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DealRow {
    pub line: u64,
    pub external_id: Option<String>,
    pub name: String,
    pub owner: Option<String>,
    pub account: Option<String>,
    pub pipeline: Option<String>,
    pub stage: Option<String>,
    pub status: Option<RowStatus>,
    pub amount: Option<Money>,
    pub close_date: Option<Date>,
    pub created: Option<Moment>,
    pub closed: Option<Moment>,
    pub loss_reason: Option<String>,
    pub next_step: Option<String>,
}

/// One line of an accounts file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountRow {
    pub line: u64,
    pub external_id: Option<String>,
    pub name: String,
    pub owner: Option<String>,
    pub industry: Option<String>,
    pub employee_count: Option<i64>,
    pub domains: Vec<String>,
    pub region: Option<String>,
}

/// One line of a contacts file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactRow {
    pub line: u64,
    pub external_id: Option<String>,
    pub name: String,
    /// Lower-cased, each checked.
    pub emails: Vec<String>,
    pub phone: Option<String>,
    pub title: Option<String>,
    /// The account's name.
    pub account: Option<String>,
    /// The account's website, as its domain.
    pub website: Option<String>,
}

/// Where a lead is, as CRMs write it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeadStage {
    New,
    Working,
    Qualified,
    Disqualified,
    Converted,
}

impl LeadStage {
    /// Pipewise's words, Salesforce's default lead statuses ("Open - Not Contacted", "Working -
    /// Contacted", "Closed - Converted", "Closed - Not Converted") and HubSpot's ("New", "Open",
    /// "In progress", "Attempted to contact", "Connected", "Open deal", "Unqualified", "Bad
    /// timing").
    pub fn parse(raw: &str) -> Result<LeadStage, Problem> {
        match crate::mapping::normalise(raw).as_str() {
            "new" | "open" | "opennotcontacted" => Ok(LeadStage::New),
            "working" | "workingcontacted" | "inprogress" | "attemptedtocontact" | "connected" | "contacted" => Ok(LeadStage::Working),
            "qualified" | "opendeal" => Ok(LeadStage::Qualified),
            "disqualified" | "unqualified" | "closednotconverted" | "badtiming" | "notinterested" => Ok(LeadStage::Disqualified),
            "converted" | "closedconverted" => Ok(LeadStage::Converted),
            _ => Err(Problem::Invalid {
                value: raw.to_owned(),
                expected: "a lead status (new, working, qualified, disqualified, converted)",
            }),
        }
    }
}

/// One line of a leads file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeadRow {
    pub line: u64,
    pub external_id: Option<String>,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub title: Option<String>,
    pub company: Option<String>,
    pub owner: Option<String>,
    pub status: Option<LeadStage>,
    pub source: Option<String>,
    pub industry: Option<String>,
    pub employee_count: Option<i64>,
    pub region: Option<String>,
}

/// One line of an activities file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivityRow {
    pub line: u64,
    pub external_id: Option<String>,
    pub kind: ActivityKind,
    pub subject: String,
    pub occurred: Moment,
    pub direction: Direction,
    pub owner: Option<String>,
    /// The deal's external id or name.
    pub deal: Option<String>,
    pub account: Option<String>,
    /// The contacts' addresses.
    pub emails: Vec<String>,
    pub body: Option<String>,
}

/// An activity's kind as CRMs write it: Pipewise's words, Salesforce's task subtypes and event
/// ("Event" is a meeting), HubSpot's upper-case types, Pipedrive's (a "lunch" is a meeting, a
/// "deadline" a task).
pub fn activity_kind(raw: &str) -> Result<ActivityKind, Problem> {
    match crate::mapping::normalise(raw).as_str() {
        "email" | "emails" | "listemail" | "incomingemail" | "outgoingemail" => Ok(ActivityKind::Email),
        "call" | "calls" | "phonecall" => Ok(ActivityKind::Call),
        "meeting" | "meetings" | "event" | "lunch" => Ok(ActivityKind::Meeting),
        "note" | "notes" => Ok(ActivityKind::Note),
        "task" | "tasks" | "todo" | "deadline" => Ok(ActivityKind::Task),
        _ => Err(Problem::Invalid { value: raw.to_owned(), expected: "an activity type (call, email, meeting, note, task)" }),
    }
}

/// Reads the cells of one record, collecting a problem per bad cell.
struct Cells<'a> {
    mapping: &'a Mapping,
    record: &'a csv::StringRecord,
    line: u64,
    errors: Vec<LineError>,
}

impl<'a> Cells<'a> {
    fn new(mapping: &'a Mapping, record: &'a csv::StringRecord) -> Cells<'a> {
        let line = record.position().map_or(0, csv::Position::line);
        let mut cells = Cells { mapping, record, line, errors: Vec::new() };
        if record.len() != mapping.headers.len() {
            let problem = Problem::Invalid { value: format!("{} cells", record.len()), expected: "as many cells as the header line has" };
            cells.errors.push(LineError { line, column: None, field: None, problem });
        }
        cells
    }

    /// The field's cell parsed by `parse`; `None` when blank (or a spreadsheet's "N/A") or bad
    /// (a bad one is recorded).
    fn get<T>(&mut self, field: Field, parse: impl FnOnce(&str) -> Result<T, Problem>) -> Option<T> {
        let (at, raw) = self.mapping.cell(self.record, field)?;
        if BLANKS.iter().any(|blank| raw.trim().eq_ignore_ascii_case(blank)) {
            return None;
        }
        match parse(raw) {
            Ok(value) => Some(value),
            Err(problem) => {
                let column = Some(self.mapping.headers[at].clone());
                self.errors.push(LineError { line: self.line, column, field: Some(field), problem });
                None
            }
        }
    }

    fn text(&mut self, field: Field, max: usize) -> Option<String> {
        self.get(field, |raw| text::optional(raw, max, false)).flatten()
    }

    /// A person's name from its column, else from first and last names; when there is none, the
    /// problem is recorded.
    fn person_name(&mut self) -> Option<String> {
        let first = self.text(Field::FirstName, 100);
        let last = self.text(Field::LastName, 100);
        let name = self.text(Field::Name, 200).or_else(|| {
            let joined = [first, last].into_iter().flatten().collect::<Vec<_>>().join(" ");
            (!joined.is_empty()).then_some(joined)
        });
        if name.is_none() && !self.errors.iter().any(|error| error.field == Some(Field::Name)) {
            self.missing(Field::Name);
        }
        name
    }

    fn missing(&mut self, field: Field) {
        self.errors.push(LineError { line: self.line, column: None, field: Some(field), problem: Problem::Required });
    }

    fn finish<T>(self, row: T) -> Result<T, Vec<LineError>> {
        if self.errors.is_empty() { Ok(row) } else { Err(self.errors) }
    }
}

/// Reads one line of an opportunities file. A deal without a name column is named after its
/// product and account (the Maven set's shape), else its external id.
pub fn deal(mapping: &Mapping, reading: &Reading, record: &csv::StringRecord) -> Result<DealRow, Vec<LineError>> {
    let mut cells = Cells::new(mapping, record);
    let external_id = cells.text(Field::ExternalId, 200);
    let owner = cells.text(Field::Owner, 320);
    let account = cells.text(Field::Account, 200);
    let pipeline = cells.text(Field::Pipeline, 200);
    let stage = cells.text(Field::Stage, 200);
    let status = cells.get(Field::Status, RowStatus::parse);
    let currency = cells.get(Field::Currency, |raw| Currency::from_code(raw.trim())).unwrap_or(reading.currency);
    let amount = cells.get(Field::Amount, |raw| values::amount(raw, currency));
    let close_date = cells.get(Field::CloseDate, |raw| values::date(raw, reading.date_order));
    let created = cells.get(Field::Created, |raw| values::moment(raw, reading.date_order));
    let closed = cells.get(Field::Closed, |raw| values::moment(raw, reading.date_order));
    let loss_reason = cells.text(Field::LossReason, 500);
    let next_step = cells.text(Field::NextStep, 500);
    let product = cells.text(Field::Product, 200);
    let name = cells.text(Field::Name, 200).or_else(|| {
        let derived = match (&product, &account) {
            (Some(product), Some(account)) => Some(format!("{account} · {product}")),
            (Some(only), None) | (None, Some(only)) => Some(only.clone()),
            (None, None) => external_id.clone(),
        };
        derived.map(|name| name.chars().take(200).collect())
    });
    let Some(name) = name else {
        cells.missing(Field::Name);
        return Err(cells.errors);
    };
    let line = cells.line;
    cells.finish(DealRow {
        line,
        external_id,
        name,
        owner,
        account,
        pipeline,
        stage,
        status,
        amount,
        close_date,
        created,
        closed,
        loss_reason,
        next_step,
    })
}

/// What spreadsheets write for "nothing here".
const BLANKS: [&str; 4] = ["n/a", "#n/a", "-", "null"];

/// Reads one line of a contacts file: a name from one column or from first and last names,
/// e-mail addresses (several to a cell) each checked and lower-cased.
pub fn contact(mapping: &Mapping, record: &csv::StringRecord) -> Result<ContactRow, Vec<LineError>> {
    let mut cells = Cells::new(mapping, record);
    let external_id = cells.text(Field::ExternalId, 200);
    let emails = cells
        .get(Field::Email, |raw| {
            raw.split([',', ';', ' ']).filter(|part| !part.trim().is_empty()).map(text::email).collect::<Result<Vec<_>, _>>()
        })
        .unwrap_or_default();
    let phone = cells.text(Field::Phone, 50);
    let title = cells.text(Field::Title, 200);
    let account = cells.text(Field::Account, 200);
    let website = cells.get(Field::Website, values::domain);
    let Some(name) = cells.person_name() else { return Err(cells.errors) };
    let line = cells.line;
    cells.finish(ContactRow { line, external_id, name, emails, phone, title, account, website })
}

/// Reads one line of a leads file: a name from one column or first and last names, one address.
pub fn lead(mapping: &Mapping, record: &csv::StringRecord) -> Result<LeadRow, Vec<LineError>> {
    let mut cells = Cells::new(mapping, record);
    let external_id = cells.text(Field::ExternalId, 200);
    let email = cells.get(Field::Email, text::email);
    let phone = cells.text(Field::Phone, 50);
    let title = cells.text(Field::Title, 200);
    let company = cells.text(Field::Account, 200);
    let owner = cells.text(Field::Owner, 320);
    let status = cells.get(Field::Status, LeadStage::parse);
    let source = cells.text(Field::Source, 100);
    let industry = cells.text(Field::Industry, 100);
    let employee_count = cells.get(Field::Employees, values::count);
    let region = cells.text(Field::Region, 100);
    let Some(name) = cells.person_name() else { return Err(cells.errors) };
    let line = cells.line;
    cells.finish(LeadRow { line, external_id, name, email, phone, title, company, owner, status, source, industry, employee_count, region })
}

/// Reads one line of an activities file. The type defaults to a note and the direction to
/// outbound; an activity without a date or without a subject or type is refused.
pub fn activity(mapping: &Mapping, reading: &Reading, record: &csv::StringRecord) -> Result<ActivityRow, Vec<LineError>> {
    let mut cells = Cells::new(mapping, record);
    let external_id = cells.text(Field::ExternalId, 200);
    let kind = cells.get(Field::ActivityType, activity_kind);
    let subject = cells.text(Field::Name, 500);
    let occurred = cells.get(Field::Created, |raw| values::moment(raw, reading.date_order));
    let direction = cells.get(Field::Direction, Direction::parse).unwrap_or(Direction::Outbound);
    let owner = cells.text(Field::Owner, 320);
    let deal = cells.text(Field::Deal, 200);
    let account = cells.text(Field::Account, 200);
    let emails = cells
        .get(Field::Email, |raw| {
            raw.split([',', ';', ' ']).filter(|part| !part.trim().is_empty()).map(text::email).collect::<Result<Vec<_>, _>>()
        })
        .unwrap_or_default();
    let body = cells.get(Field::Body, |raw| text::optional(raw, 100_000, true)).flatten();
    let subject = subject.or_else(|| kind.map(|kind| kind.as_str().to_owned()));
    if subject.is_none() && !cells.errors.iter().any(|error| matches!(error.field, Some(Field::Name | Field::ActivityType))) {
        cells.missing(Field::Name);
    }
    if occurred.is_none() && !cells.errors.iter().any(|error| error.field == Some(Field::Created)) {
        cells.missing(Field::Created);
    }
    let (Some(subject), Some(occurred)) = (subject, occurred) else { return Err(cells.errors) };
    let line = cells.line;
    let kind = kind.unwrap_or(ActivityKind::Note);
    cells.finish(ActivityRow { line, external_id, kind, subject, occurred, direction, owner, deal, account, emails, body })
}

/// Reads one line of an accounts file.
pub fn account(mapping: &Mapping, record: &csv::StringRecord) -> Result<AccountRow, Vec<LineError>> {
    let mut cells = Cells::new(mapping, record);
    let external_id = cells.text(Field::ExternalId, 200);
    let owner = cells.text(Field::Owner, 320);
    let industry = cells.text(Field::Industry, 100);
    let employee_count = cells.get(Field::Employees, values::count);
    let domains = cells.get(Field::Website, values::domain).into_iter().collect();
    let region = cells.text(Field::Region, 100);
    let Some(name) = cells.text(Field::Name, 200) else {
        if !cells.errors.iter().any(|error| error.field == Some(Field::Name)) {
            cells.missing(Field::Name);
        }
        return Err(cells.errors);
    };
    let line = cells.line;
    cells.finish(AccountRow { line, external_id, name, owner, industry, employee_count, domains, region })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::{Field, Kind, Mapping};

    fn read(kind: Kind, csv_text: &str) -> (Mapping, Vec<csv::StringRecord>) {
        let mut reader = crate::reader(csv_text.as_bytes());
        let headers = reader.headers().unwrap().clone();
        let mapping = Mapping::detect(kind, &headers.iter().collect::<Vec<_>>(), &[]).unwrap();
        (mapping, reader.records().map(Result::unwrap).collect())
    }

    fn reading() -> Reading {
        Reading { date_order: DateOrder::MonthFirst, currency: Currency::from_code("USD").unwrap() }
    }

    #[test]
    fn a_maven_line_becomes_a_named_deal() {
        let (mapping, records) = read(
            Kind::Opportunities,
            "opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value\n\
             1C1I7A6R,Moses Frase,GTX Plus Basic,Cancity,Won,2016-10-20,2017-03-01,1054\n\
             HAXMC4IX,James Ascencio,MG Advanced,,Engaging,2016-10-24,,\n",
        );
        let won = deal(&mapping, &reading(), &records[0]).unwrap();
        assert_eq!(won.line, 2);
        assert_eq!(won.name, "Cancity · GTX Plus Basic");
        assert_eq!(won.stage.as_deref(), Some("Won"));
        assert_eq!(won.amount.unwrap().amount().to_string(), "1054.00");
        assert_eq!(won.created.unwrap().date.to_string(), "2016-10-20");
        let open = deal(&mapping, &reading(), &records[1]).unwrap();
        assert_eq!((open.name.as_str(), open.account, open.amount, open.close_date), ("MG Advanced", None, None, None));
    }

    #[test]
    fn every_bad_cell_is_named_by_line_and_column() {
        let (mapping, records) = read(
            Kind::Opportunities,
            "Opportunity Name,Amount,Close Date,Stage,Description\n\
             Good,\"1,000\",3/1/2027,Prospecting,x\n\
             Two,lots,2027-02-30,,\"two\nlines\"\n\
             ,,,,\n\
             Short,1\n",
        );
        assert!(deal(&mapping, &reading(), &records[0]).is_ok());
        let errors = deal(&mapping, &reading(), &records[1]).unwrap_err();
        let said: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            said,
            [
                "line 3, column \"Amount\" (amount): \"lots\" is not an amount (digits, optionally grouped by commas, with a point for decimals)",
                "line 3, column \"Close Date\" (close_date): \"2027-02-30\" is not a date (YYYY-MM-DD or M/D/YYYY)",
            ]
        );
        let errors = deal(&mapping, &reading(), &records[2]).unwrap_err();
        assert_eq!(errors[0].to_string(), "line 5 (name): is required");
        let errors = deal(&mapping, &reading(), &records[3]).unwrap_err();
        assert_eq!(errors[0].to_string(), "line 6: \"2 cells\" is not as many cells as the header line has");
    }

    #[test]
    fn a_salesforce_lead_export() {
        let (mapping, records) = read(
            Kind::Leads,
            "Lead ID,First Name,Last Name,Company,Email,Lead Status,Lead Source,Lead Owner\n\
             00Q1,Ana,Lima,Acme,ana@acme.com,Working - Contacted,Web,rep@x.test\n\
             00Q2,Bo,,Globex,bo@,Sleeping,,\n",
        );
        assert_eq!(mapping.vendor, Some(crate::Vendor::Salesforce));
        let row = lead(&mapping, &records[0]).unwrap();
        assert_eq!((row.name.as_str(), row.status, row.source.as_deref()), ("Ana Lima", Some(LeadStage::Working), Some("Web")));
        let errors = lead(&mapping, &records[1]).unwrap_err();
        assert_eq!(errors.iter().map(|error| error.field.map(Field::key)).collect::<Vec<_>>(), [Some("email"), Some("status")]);
    }

    #[test]
    fn activities_from_a_pipedrive_export() {
        let (mapping, records) = read(
            Kind::Activities,
            "Activity - ID,Activity - Subject,Activity - Type,Activity - Due date,Activity - Deal,Activity - Note\n\
             7,Discovery call,call,2026-03-02 10:30,Acme renewal,Budget confirmed\n\
             8,,lunch,2026-03-03,Acme renewal,\n\
             9,Kickoff,party,,Acme renewal,\n",
        );
        assert_eq!(mapping.vendor, Some(crate::Vendor::Pipedrive));
        let reading = reading();
        let call = activity(&mapping, &reading, &records[0]).unwrap();
        assert_eq!((call.kind, call.direction, call.occurred.seconds), (ActivityKind::Call, Direction::Outbound, Some(37_800)));
        assert_eq!((call.deal.as_deref(), call.body.as_deref()), (Some("Acme renewal"), Some("Budget confirmed")));
        let lunch = activity(&mapping, &reading, &records[1]).unwrap();
        assert_eq!((lunch.kind, lunch.subject.as_str()), (ActivityKind::Meeting, "meeting"));
        let errors = activity(&mapping, &reading, &records[2]).unwrap_err();
        assert_eq!(errors.iter().map(|error| error.field.map(Field::key)).collect::<Vec<_>>(), [Some("type"), Some("created")]);
    }

    #[test]
    fn lines_are_counted_alike_in_windows_files() {
        let (_, records) = read(Kind::Accounts, "name,employees\r\nAcme,\"1\r\n2\"\r\nGlobex,3\r\n");
        let lines: Vec<u64> = records.iter().map(|record| record.position().unwrap().line()).collect();
        assert_eq!(lines, [2, 4]);
    }

    #[test]
    fn contacts_with_split_names_several_addresses_and_spreadsheet_blanks() {
        let (mapping, records) = read(
            Kind::Contacts,
            "First Name,Last Name,Email,Phone Number,Job Title,Company Name\n\
             Jane,Doe,\"Jane.Doe@Acme.com; jd@acme.com\",N/A,VP Sales,Acme\n\
             ,,sam.patel@@northwind.example,,,\n",
        );
        assert_eq!(mapping.vendor, Some(crate::Vendor::HubSpot));
        let row = contact(&mapping, &records[0]).unwrap();
        assert_eq!(row.name, "Jane Doe");
        assert_eq!(row.emails, ["jane.doe@acme.com", "jd@acme.com"]);
        assert_eq!((row.phone, row.account.as_deref()), (None, Some("Acme")));
        let errors = contact(&mapping, &records[1]).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|error| error.field.map(Field::key)).collect();
        assert_eq!(fields, [Some("email"), Some("name")]);
    }

    #[test]
    fn accounts_from_the_maven_set_and_a_hubspot_export() {
        let (mapping, records) = read(
            Kind::Accounts,
            "account,sector,year_established,revenue,employees,office_location,subsidiary_of\n\
             Acme Corporation,technolgy,1996,1100.04,2822,United States,\n",
        );
        let row = account(&mapping, &records[0]).unwrap();
        assert_eq!((row.name.as_str(), row.industry.as_deref(), row.employee_count), ("Acme Corporation", Some("technolgy"), Some(2822)));
        let (mapping, records) =
            read(Kind::Accounts, "Company name,Company Domain Name,Number of Employees\nAcme,https://acme.co.kr/,\"1,200\"\n,x,\n");
        let row = account(&mapping, &records[0]).unwrap();
        assert_eq!((row.domains, row.employee_count), (vec!["acme.co.kr".to_owned()], Some(1200)));
        let errors = account(&mapping, &records[1]).unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
    }
}
