//! Imports on both engines: the real Maven CRM set gives the figures it holds, a bad line
//! anywhere leaves nothing behind, a re-import updates instead of duplicating, and gates apply
//! unless ops import history with a reason.

use std::collections::HashMap;
use std::path::PathBuf;

use pipewise_app as app;
use pipewise_app::exports::ExportKind;
use pipewise_app::imports::{ImportOptions, ImportReport, Kind};
use pipewise_app::{AuditFilter, OpportunityFilter, RecordKind, StoreError, WriteCtx};
use pipewise_core::gates::{CriterionKind, CriterionOrigin, NewExitCriterion};
use pipewise_core::history::Source;
use pipewise_core::opportunity::Status;
use pipewise_core::user::Role;
use pipewise_core::*;
use pipewise_test_support::TestDb;
use pipewise_test_support::fixtures::{TestOrg, at, new_user, test_org};

fn maven(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/pipeline/maven_crm_sales_opportunities").join(file)
}

fn read(path: &PathBuf) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// An ops user's import at 2026-03-01.
fn by_ops(org: &TestOrg, db: &TestDb) -> WriteCtx {
    let ops = pipewise_test_support::transact(db.store(), |tx| {
        app::users::create_user(tx, &org.ctx, new_user(&format!("ops.{}@import.test", org.org()), "Olga Ops", Role::Ops, None))
    })
    .unwrap();
    WriteCtx { org: org.org(), actor_id: Some(ops.id), source: Source::Import, at: at("2026-03-01T09:00:00Z") }
}

fn import(db: &TestDb, ctx: &WriteCtx, bytes: &[u8], options: &ImportOptions) -> app::Result<ImportReport> {
    app::imports::import(&db.db(), ctx, bytes, options, &mut |_| {})
}

fn deals(db: &TestDb, org: OrgId) -> Vec<pipewise_core::opportunity::Opportunity> {
    pipewise_test_support::transact(db.store(), |tx| tx.opportunities(org, &OpportunityFilter::default())).unwrap()
}

/// The Maven set's 35 agents under their 6 managers, as reps and managers of the organisation.
fn maven_team(db: &TestDb, org: &TestOrg) {
    let teams = read(&maven("sales_teams.csv"));
    let mut reader = csv::Reader::from_reader(teams.as_slice());
    pipewise_test_support::transact(db.store(), |tx| {
        let mut managers: HashMap<String, UserId> = HashMap::new();
        for record in reader.records() {
            let record = record.unwrap();
            let email = |name: &str| format!("{}@maven.test", name.to_lowercase().replace(' ', "."));
            let manager = match managers.get(&record[1]) {
                Some(id) => *id,
                None => {
                    let user = app::users::create_user(tx, &org.ctx, new_user(&email(&record[1]), &record[1], Role::Manager, None))?;
                    managers.insert(record[1].to_owned(), user.id);
                    user.id
                }
            };
            app::users::create_user(tx, &org.ctx, new_user(&email(&record[0]), &record[0], Role::Rep, Some(manager)))?;
        }
        Ok(())
    })
    .unwrap();
}

fn maven_options() -> ImportOptions {
    let mut options = ImportOptions::new(Kind::Opportunities);
    options.stages = vec![("Engaging".into(), "Qualification".into())];
    options.historical = Some("Maven CRM history, recorded before our gates".into());
    options.default_loss_reason = Some("Not recorded in the Maven export".into());
    options
}

pub fn the_maven_set_gives_the_figures_it_holds(db: &TestDb) {
    let org = test_org(db.store(), "Maven");
    maven_team(db, &org);
    let ctx = by_ops(&org, db);
    let accounts = import(db, &ctx, &read(&maven("accounts.csv")), &ImportOptions::new(Kind::Accounts)).unwrap();
    assert_eq!((accounts.rows, accounts.created, accounts.error_count, accounts.committed), (85, 85, 0, true), "{:?}", accounts.errors);
    let options = maven_options();
    let file = read(&maven("sales_pipeline.csv"));

    // A dry run says what would happen and writes nothing.
    let dry = import(db, &ctx, &file, &ImportOptions { dry_run: true, ..options.clone() }).unwrap();
    assert_eq!((dry.rows, dry.created, dry.error_count, dry.committed), (8_800, 8_800, 0, false), "{:?}", dry.errors);
    assert!(deals(db, org.org()).is_empty());

    let report = import(db, &ctx, &file, &options).unwrap();
    assert_eq!((report.rows, report.created, report.updated, report.error_count, report.committed), (8_800, 8_800, 0, 0, true));
    assert_eq!(report.accounts_created, 0, "every named account is in accounts.csv");
    assert_eq!(report.undated, 500, "Prospecting deals have no engage date");
    let all = deals(db, org.org());
    let count = |status| all.iter().filter(|deal| deal.status == status).count();
    // The counts published for the original set.
    assert_eq!((all.len(), count(Status::Won), count(Status::Lost), count(Status::Open)), (8_800, 4_238, 2_473, 2_089));
    assert_eq!(all.iter().filter(|deal| deal.account_id.is_none()).count(), 1_425);
    // Revenue won: USD 10,005,534; the mean cycle of won deals from engagement, 51.78 days.
    let won: Vec<_> = all.iter().filter(|deal| deal.status == Status::Won).collect();
    let revenue: pipewise_core::money::Decimal = won.iter().map(|deal| deal.amount.unwrap().amount()).sum();
    assert_eq!(revenue.to_string(), "10005534.00");
    let days: i64 = won.iter().map(|deal| (deal.closed_at.unwrap().as_micros() - deal.created_at.as_micros()) / 86_400_000_000).sum();
    assert_eq!(format!("{:.2}", days as f64 / won.len() as f64), "51.78");
    // A won deal's history: created when engaged, won when it closed.
    let first =
        all.iter().find(|deal| deal.name == "Cancity · GTX Plus Basic" && deal.amount.unwrap().amount().to_string() == "1054.00").unwrap();
    let history = pipewise_test_support::transact(db.store(), |tx| tx.history(org.org(), first.id)).unwrap();
    let stamps: Vec<String> = history.iter().map(|event| event.at.to_string()).collect();
    assert_eq!(stamps.first().map(String::as_str), Some("2016-10-20T00:00:00Z"));
    assert_eq!(stamps.last().map(String::as_str), Some("2017-03-01T00:00:00Z"));
    // One audit entry says what the import did, and why the gates were skipped.
    let audit = pipewise_test_support::transact(db.store(), |tx| {
        tx.audit_events(org.org(), &AuditFilter { record_kind: Some("opportunity".into()), limit: 10, ..AuditFilter::default() })
    })
    .unwrap();
    let entry = audit.iter().find(|event| event.action == "import" && event.record_kind == OpportunityId::LABEL).unwrap();
    assert!(entry.after.as_deref().unwrap().contains("\"gates_skipped_because\":\"Maven CRM history"), "{entry:?}");

    // Again: the same file updates nothing and duplicates nothing.
    let again = import(db, &ctx, &file, &options).unwrap();
    assert_eq!((again.created, again.updated, again.unchanged, again.error_count), (0, 0, 8_800, 0), "{:?}", again.errors.first());
    assert_eq!(deals(db, org.org()).len(), 8_800);
}

pub fn a_bad_line_anywhere_leaves_nothing_behind(db: &TestDb) {
    let org = test_org(db.store(), "Bad line");
    maven_team(db, &org);
    let ctx = by_ops(&org, db);
    let mut file = read(&maven("sales_pipeline.csv"));
    file.extend_from_slice(b"ZZZZZZZZ,Moses Frase,GTX Basic,Cancity,Won,2017-02-30,2017-03-01,1054\n");
    file.extend_from_slice(b"YYYYYYYY,Nobody Known,GTX Basic,Cancity,Won,2017-02-01,2017-03-01,1054\n");
    file.extend_from_slice(b"1C1I7A6R,Moses Frase,GTX Basic,Cancity,Won,2017-02-01,2017-03-01,1054\n");
    let report = import(db, &ctx, &file, &maven_options()).unwrap();
    let said: Vec<String> =
        report.errors.iter().map(|error| format!("{} {:?} {:?}", error.line, error.column, error.field.map(|f| f.key()))).collect();
    assert_eq!(
        said,
        [
            "8802 Some(\"engage_date\") Some(\"created\")",
            "8803 Some(\"sales_agent\") Some(\"owner\")",
            "8804 Some(\"opportunity_id\") Some(\"external_id\")",
        ]
    );
    assert!(!report.committed);
    assert_eq!(deals(db, org.org()).len(), 0);
    let accounts = pipewise_test_support::transact(db.store(), |tx| tx.count(org.org(), RecordKind::Account)).unwrap();
    assert_eq!(accounts, 1, "only the fixture's account: the deals' accounts were not kept either");
}

pub fn a_reimport_updates_and_gates_apply_unless_ops_say_why(db: &TestDb) {
    let org = test_org(db.store(), "Again");
    let ctx = by_ops(&org, db);
    let salesforce = "Opportunity ID,Opportunity Name,Account Name,Stage,Amount,Close Date,Created Date,Opportunity Owner\n\
                      006A,Acme renewal,Acme,Prospecting,\"12,000\",4/30/2026,1/15/2026,rep@again.test\n\
                      006B,Globex pilot,Globex,Qualification,5000,5/15/2026,2/1/2026,Ravi Rep\n";
    let options = ImportOptions::new(Kind::Opportunities);
    // The Simple pipeline's gate out of Prospecting asks for what an import cannot show.
    let criterion = NewExitCriterion {
        stage_id: org.simple.stages[0].id,
        label_en: "Budget holder met".into(),
        label_ko: String::new(),
        kind: CriterionKind::Checklist,
        origin: CriterionOrigin::Ops,
    };
    pipewise_test_support::transact(db.store(), |tx| app::gates::add_exit_criterion(tx, &ctx, criterion)).unwrap();
    let refused = import(db, &ctx, salesforce.as_bytes(), &options).unwrap();
    assert_eq!(refused.vendor, Some(app::imports::Vendor::Salesforce));
    assert_eq!(refused.error_count, 1, "{:?}", refused.errors);
    assert_eq!((refused.errors[0].line, refused.errors[0].field.map(|f| f.key())), (3, Some("stage")));
    assert!(!refused.committed);
    // A rep may not import at all.
    let by_rep = WriteCtx { actor_id: Some(org.rep.id), ..ctx };
    assert!(matches!(import(db, &by_rep, salesforce.as_bytes(), &options), Err(StoreError::Forbidden(_))));

    let historical = ImportOptions { historical: Some("Last year's Salesforce".into()), ..options.clone() };
    let first = import(db, &ctx, salesforce.as_bytes(), &historical).unwrap();
    assert_eq!((first.created, first.accounts_created, first.committed), (2, 2, true), "{:?}", first.errors);
    let changed = salesforce.replace("\"12,000\"", "13500");
    let second = import(db, &ctx, changed.as_bytes(), &historical).unwrap();
    assert_eq!((second.created, second.updated, second.unchanged, second.accounts_created), (0, 1, 1, 0), "{:?}", second.errors);
    let all = deals(db, org.org());
    assert_eq!(all.len(), 2);
    let acme = all.iter().find(|deal| deal.name == "Acme renewal").unwrap();
    assert_eq!(acme.amount.unwrap().amount().to_string(), "13500.00");
    assert_eq!(acme.created_at.to_string(), "2026-01-15T00:00:00Z");
    // Another system's ids are other records.
    let other = import(db, &ctx, changed.as_bytes(), &ImportOptions { system: Some("old-crm".into()), ..historical }).unwrap();
    assert_eq!(other.created, 2);
}

/// Issue 14, point 4: the opportunities export imports again to the same deals (status, stage,
/// amount, created and closed to the second), and only an admin exports.
pub fn an_export_imports_again_to_the_same_deals(db: &TestDb) {
    let org = test_org(db.store(), "Round trip");
    maven_team(db, &org);
    let ctx = by_ops(&org, db);
    import(db, &ctx, &read(&maven("accounts.csv")), &ImportOptions::new(Kind::Accounts)).unwrap();
    let first = import(db, &ctx, &read(&maven("sales_pipeline.csv")), &maven_options()).unwrap();
    assert!(first.committed);
    let mut file = Vec::new();
    let refused = app::exports::export(&db.db(), &ctx, ExportKind::Opportunities, &mut file);
    assert!(matches!(refused, Err(StoreError::Forbidden(_))), "ops may not export the whole organisation");
    let admin = pipewise_test_support::transact(db.store(), |tx| {
        app::users::create_user(tx, &org.ctx, new_user(&format!("admin.{}@import.test", org.org()), "Ada Admin", Role::Admin, None))
    })
    .unwrap();
    let by_admin = WriteCtx { actor_id: Some(admin.id), ..ctx };
    let rows = app::exports::export(&db.db(), &by_admin, ExportKind::Opportunities, &mut file).unwrap();
    assert_eq!(rows, 8_800);
    let header = String::from_utf8_lossy(&file[..file.iter().position(|b| *b == b'\n').unwrap()]).into_owned();
    assert_eq!(header, "id,name,owner,account,pipeline,stage,status,amount,currency,close_date,next_step,created,closed,close_reason");

    // Imported again (as another system's ids), every deal has its twin.
    let again =
        import(db, &ctx, &file, &ImportOptions { system: Some("pipewise".into()), ..ImportOptions::new(Kind::Opportunities) }).unwrap();
    assert_eq!((again.created, again.error_count, again.accounts_created, again.undated), (8_800, 0, 0, 0), "{:?}", again.errors.first());
    let all = deals(db, org.org());
    let shape = |deal: &pipewise_core::opportunity::Opportunity| {
        (
            deal.name.clone(),
            deal.status,
            deal.stage_id,
            deal.amount.map(|money| money.to_string()),
            deal.close_date,
            deal.created_at.as_micros() / 1_000_000,
            deal.closed_at.map(|at| at.as_micros() / 1_000_000),
            deal.close_reason.clone(),
            deal.owner_id,
            deal.account_id,
        )
    };
    let mut originals: Vec<_> = all.iter().filter(|deal| deal.id.0 <= all[8_799].id.0).map(shape).collect();
    let mut twins: Vec<_> = all.iter().filter(|deal| deal.id.0 > all[8_799].id.0).map(shape).collect();
    originals.sort();
    twins.sort();
    assert_eq!(originals.len(), 8_800);
    assert!(originals == twins, "the re-imported deals differ from the exported ones");

    // Every other file exports, and each export is audited.
    for kind in ExportKind::ALL {
        let mut out = Vec::new();
        app::exports::export(&db.db(), &by_admin, kind, &mut out).unwrap();
        assert!(!out.is_empty(), "{kind:?}");
    }
    let audit = pipewise_test_support::transact(db.store(), |tx| {
        tx.audit_events(org.org(), &AuditFilter { record_kind: Some("organisation".into()), limit: 20, ..AuditFilter::default() })
    })
    .unwrap();
    assert_eq!(audit.iter().filter(|event| event.action == "export").count(), 7);
}

/// Contacts from the messy sample of a CRM preflight checker: every bad address, nameless row
/// and repeated address is named by line and nothing is kept; cleaned, the contacts land on
/// accounts found by name or created with their website as domain, and a re-import matches them
/// by address instead of duplicating.
pub fn contacts_import_with_every_bad_line_named_then_match_by_address(db: &TestDb) {
    let org = test_org(db.store(), "Contacts");
    let ctx = by_ops(&org, db);
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/crm_export/crm_csv_preflight/sample_leads.csv");
    let sample = read(&path);
    let report = import(db, &ctx, &sample, &ImportOptions::new(Kind::Contacts)).unwrap();
    let said: Vec<String> = report.errors.iter().map(|error| format!("{} {}", error.line, error.field.map_or("-", |f| f.key()))).collect();
    // Line 3 repeats line 2's address (in other case); line 4 has no name; line 6 and line 8 have
    // impossible addresses; line 10 repeats line 9's.
    assert_eq!(said, ["3 email", "4 name", "6 email", "8 email", "10 email"], "{:?}", report.errors);
    assert!(!report.committed);
    let count = |kind| pipewise_test_support::transact(db.store(), |tx| tx.count(org.org(), kind)).unwrap();
    assert_eq!((count(RecordKind::Contact), count(RecordKind::Account)), (0, 1));

    // The lines a person would fix, fixed: one row per person, a real address each.
    let text = String::from_utf8(sample).unwrap();
    let cleaned: Vec<&str> = text.lines().enumerate().filter(|(at, _)| ![2, 3, 5, 7, 9].contains(at)).map(|(_, line)| line).collect();
    let cleaned = cleaned.join("\n");
    let report = import(db, &ctx, cleaned.as_bytes(), &ImportOptions::new(Kind::Contacts)).unwrap();
    assert_eq!((report.rows, report.created, report.error_count, report.committed), (7, 7, 0, true), "{:?}", report.errors);
    let contacts = pipewise_test_support::transact(db.store(), |tx| tx.contacts(org.org())).unwrap();
    let jane = contacts.iter().find(|contact| contact.name == "jane DOE").unwrap();
    assert_eq!(jane.emails, ["jane.doe@acme-robotics.com"]);
    let accounts = pipewise_test_support::transact(db.store(), |tx| tx.accounts(org.org())).unwrap();
    let acme = accounts.iter().find(|account| account.name == "Acme Robotics LLC").unwrap();
    assert_eq!((acme.domains.as_slice(), Some(acme.id)), (&["acme-robotics.com".to_owned()][..], jane.account_id));
    assert!(contacts.iter().find(|contact| contact.name == "Riley Chen").unwrap().account_id.is_none(), "a blank company is no account");

    let again = import(db, &ctx, cleaned.as_bytes(), &ImportOptions::new(Kind::Contacts)).unwrap();
    assert_eq!((again.created, again.unchanged, again.accounts_created), (0, 7, 0), "{:?}", again.errors);
}

/// The same messy sample as leads: the same lines are refused; cleaned, the leads are new, from
/// `import`, their company kept as written, and a re-import with an owner and statuses updates
/// them by address.
pub fn leads_import_and_update_by_address(db: &TestDb) {
    let org = test_org(db.store(), "Leads");
    let ctx = by_ops(&org, db);
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/crm_export/crm_csv_preflight/sample_leads.csv");
    let sample = String::from_utf8(read(&path)).unwrap();
    let report = import(db, &ctx, sample.as_bytes(), &ImportOptions::new(Kind::Leads)).unwrap();
    let lines: Vec<u64> = report.errors.iter().map(|error| error.line).collect();
    assert_eq!(lines, [3, 4, 6, 8, 10], "{:?}", report.errors);
    let cleaned: Vec<&str> = sample.lines().enumerate().filter(|(at, _)| ![2, 3, 5, 7, 9].contains(at)).map(|(_, line)| line).collect();
    let report = import(db, &ctx, cleaned.join("\n").as_bytes(), &ImportOptions::new(Kind::Leads)).unwrap();
    assert_eq!((report.created, report.error_count), (7, 0), "{:?}", report.errors);
    let leads = pipewise_test_support::transact(db.store(), |tx| tx.leads(org.org())).unwrap();
    let jane = leads.iter().find(|lead| lead.email.as_deref() == Some("jane.doe@acme-robotics.com")).unwrap();
    assert_eq!(
        (jane.company.as_deref(), jane.source.as_deref(), jane.status),
        (Some("Acme Robotics LLC"), Some("import"), pipewise_core::records::LeadStatus::New)
    );
    let assigned = "Contact Name,Email,Lead Owner,Lead Status\nJane Doe,Jane.Doe@acme-robotics.com,Ravi Rep,Working - Contacted\n";
    let report = import(db, &ctx, assigned.as_bytes(), &ImportOptions::new(Kind::Leads)).unwrap();
    assert_eq!((report.created, report.updated, report.error_count), (0, 1, 0), "{:?}", report.errors);
    let jane = pipewise_test_support::transact(db.store(), |tx| tx.lead(org.org(), jane.id)).unwrap().unwrap();
    assert_eq!(
        (jane.owner_id, jane.status, jane.name.as_str()),
        (Some(org.rep.id), pipewise_core::records::LeadStatus::Working, "Jane Doe")
    );
}

/// Activities land on the deal an earlier import gave an id (or the one deal of a name), with
/// their contacts by address; unknown deals and addresses and bad types are named by line, and
/// a re-import by id logs nothing twice.
pub fn activities_land_on_their_deals_and_are_logged_once(db: &TestDb) {
    let org = test_org(db.store(), "Activities");
    let ctx = by_ops(&org, db);
    let deals = "Opportunity ID,Opportunity Name,Account Name,Stage,Amount,Close Date,Created Date,Opportunity Owner\n\
                 006A,Acme renewal,Acme,Prospecting,12000,4/30/2026,1/15/2026,rep@activities.test\n\
                 006B,Globex pilot,Globex,Prospecting,5000,5/15/2026,2/1/2026,Ravi Rep\n";
    let report =
        import(db, &ctx, deals.as_bytes(), &ImportOptions { system: Some("csv".into()), ..ImportOptions::new(Kind::Opportunities) })
            .unwrap();
    assert!(report.committed, "{:?}", report.errors);
    let contacts = "Name,Email,Company\nDana Buyer,dana@acme.example,Acme\n";
    assert!(import(db, &ctx, contacts.as_bytes(), &ImportOptions::new(Kind::Contacts)).unwrap().committed);
    let file = "id,type,subject,date,direction,deal,email,body\n\
                A1,call,Discovery call,2026-02-10 10:00,outbound,006A,dana@acme.example,Budget confirmed\n\
                A2,email,Re: pricing,2026-02-11 09:15,inbound,Globex pilot,,\n\
                A3,meeting,Onsite,2026-02-12,,Nobody's deal,ghost@nowhere.example,\n\
                A4,party,,2027-01-01,,006A,,\n";
    let report = import(db, &ctx, file.as_bytes(), &ImportOptions::new(Kind::Activities)).unwrap();
    let said: Vec<String> = report.errors.iter().map(|error| format!("{} {}", error.line, error.field.map_or("-", |f| f.key()))).collect();
    assert_eq!(said, ["4 deal", "4 email", "5 type"], "{:?}", report.errors);
    assert!(!report.committed);
    let count = |kind| pipewise_test_support::transact(db.store(), |tx| tx.count(org.org(), kind)).unwrap();
    assert_eq!(count(RecordKind::Activity), 0);

    let good: Vec<&str> = file.lines().take(3).collect();
    let good = good.join("\n");
    let report = import(db, &ctx, good.as_bytes(), &ImportOptions::new(Kind::Activities)).unwrap();
    assert_eq!((report.created, report.error_count, report.committed), (2, 0, true), "{:?}", report.errors);
    let all = deals_named(db, org.org());
    let acme = all["Acme renewal"];
    let logged = pipewise_test_support::transact(db.store(), |tx| app::activities::activities_of_opportunity(tx, org.org(), acme)).unwrap();
    assert_eq!(logged.len(), 1);
    let call = &logged[0];
    assert_eq!(
        (call.subject.as_str(), call.body.as_deref(), call.occurred_at.to_string()),
        ("Discovery call", Some("Budget confirmed"), "2026-02-10T10:00:00Z".into())
    );
    assert_eq!((call.source.as_str(), call.contact_ids.len()), ("import", 1));
    let again = import(db, &ctx, good.as_bytes(), &ImportOptions::new(Kind::Activities)).unwrap();
    assert_eq!((again.created, again.unchanged), (0, 2));
}

fn deals_named(db: &TestDb, org: OrgId) -> HashMap<String, OpportunityId> {
    deals(db, org).into_iter().map(|deal| (deal.name, deal.id)).collect()
}
