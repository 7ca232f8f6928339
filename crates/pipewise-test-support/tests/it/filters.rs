//! Listing deals by id (what a dashboard's drill-down reads), within the reader's visibility.

use pipewise_app as app;
use pipewise_app::OpportunityFilter;
use pipewise_core::OpportunityId;
use pipewise_test_support::TestDb;
use pipewise_test_support::fixtures::{at, test_org};

pub fn deals_are_listed_by_id_within_visibility(db: &TestDb) {
    let org = test_org(db.store(), "Ids");
    let mut tx = app::Tx::new(db.store().write().unwrap());
    let rep = org.by_rep(at("2026-02-01T00:00:00Z"));
    let ids: Vec<OpportunityId> =
        (0..4).map(|n| app::deals::create_opportunity(&mut tx, &rep, &org.new_deal(&format!("Deal {n}"))).unwrap().id).collect();
    tx.commit().unwrap();
    let mut tx = app::Tx::new(db.store().read().unwrap());
    let by_ids = |tx: &mut app::Tx, wanted: Vec<OpportunityId>| {
        let filter = OpportunityFilter { ids: Some(wanted), ..OpportunityFilter::default() };
        tx.opportunities(org.org(), &filter).unwrap().into_iter().map(|deal| deal.id).collect::<Vec<_>>()
    };
    assert_eq!(by_ids(&mut tx, vec![ids[3], ids[1]]), [ids[1], ids[3]], "in id order");
    assert_eq!(by_ids(&mut tx, vec![]), Vec::<OpportunityId>::new(), "none asked, none listed");
    assert_eq!(by_ids(&mut tx, vec![OpportunityId(ids[3].0 + 1000)]), Vec::<OpportunityId>::new());
    // Through a reader's visibility (the ids narrow it, never widen it): the rep's manager sees
    // them; the same ids with a scope of someone else's deals list none.
    let manager = app::access::access_for(&mut tx, org.org(), Some(org.manager.id)).unwrap();
    let filter = OpportunityFilter { ids: Some(ids.clone()), ..OpportunityFilter::default() };
    assert_eq!(app::deals::opportunities_for(&mut tx, org.org(), &manager, &filter).unwrap().len(), 4, "the rep's manager sees them");
    let others = OpportunityFilter {
        scope: Some(pipewise_core::access::DealScope::Owners {
            owners: [org.manager.id].into_iter().collect(),
            shared_with: org.manager.id,
        }),
        ..filter.clone()
    };
    assert_eq!(tx.opportunities(org.org(), &others).unwrap().len(), 0, "ids do not widen a scope");
    let viewer = pipewise_core::access::Access::System;
    assert_eq!(app::deals::opportunities_for(&mut tx, org.org(), &viewer, &filter).unwrap().len(), 4);
}

/// What a page names instead of every record: accounts by id (with their domains), the
/// contacts of one account (with their addresses), and a type-ahead search over account names.
pub fn accounts_and_contacts_are_read_by_what_a_page_names(db: &TestDb) {
    use pipewise_core::AccountId;
    use pipewise_core::records::{NewAccount, NewContact};
    let org = test_org(db.store(), "Pickers");
    let other = test_org(db.store(), "Elsewhere");
    let mut tx = app::Tx::new(db.store().write().unwrap());
    let account = |tx: &mut app::Tx, org: &pipewise_test_support::fixtures::TestOrg, name: &str, domains: &[&str]| {
        let new = NewAccount {
            name: name.into(),
            domains: domains.iter().map(|domain| (*domain).to_owned()).collect(),
            industry: None,
            employee_count: None,
            region: None,
            owner_id: None,
        };
        app::records::create_account(tx, &org.ctx, new).unwrap().id
    };
    let acme = account(&mut tx, &org, "Acme Robotics", &["acme.example", "acme-robotics.example"]);
    let academy = account(&mut tx, &org, "Royal ACADEMY", &[]);
    let hanbit = account(&mut tx, &org, "한빛 물류", &["hanbit.example"]);
    let beacon = account(&mut tx, &org, "Beacon", &[]);
    let elsewhere = account(&mut tx, &other, "Acme Elsewhere", &[]);
    let contact = |tx: &mut app::Tx, name: &str, emails: &[&str], account_id: Option<AccountId>| {
        let new = NewContact {
            name: name.into(),
            emails: emails.iter().map(|email| (*email).to_owned()).collect(),
            phone: None,
            title: None,
            account_id,
        };
        app::records::create_contact(tx, &org.ctx, new).unwrap().id
    };
    let ana = contact(&mut tx, "Ana", &["ana@acme.example", "ana.b@acme.example"], Some(acme));
    let bo = contact(&mut tx, "Bo", &[], Some(acme));
    contact(&mut tx, "Cy", &["cy@hanbit.example"], Some(hanbit));
    contact(&mut tx, "Di", &[], None);
    tx.commit().unwrap();

    let mut tx = app::Tx::new(db.store().read().unwrap());
    let by_ids = app::records::accounts_by_ids(&mut tx, org.org(), &[hanbit, acme, elsewhere, AccountId(acme.0 + 10_000)]).unwrap();
    assert_eq!(by_ids.iter().map(|account| account.id).collect::<Vec<_>>(), [acme, hanbit], "in id order, this organisation's only");
    assert_eq!(by_ids[0].domains, ["acme.example", "acme-robotics.example"], "with the domains in order");
    assert_eq!(by_ids[1].domains, ["hanbit.example"]);
    assert!(app::records::accounts_by_ids(&mut tx, org.org(), &[]).unwrap().is_empty());

    let contacts = app::records::contacts_of_account(&mut tx, org.org(), acme).unwrap();
    assert_eq!(contacts.iter().map(|contact| contact.id).collect::<Vec<_>>(), [ana, bo]);
    assert_eq!(contacts[0].emails, ["ana@acme.example", "ana.b@acme.example"]);
    assert!(contacts[1].emails.is_empty());
    assert!(app::records::contacts_of_account(&mut tx, org.org(), beacon).unwrap().is_empty());

    let found = |tx: &mut app::Tx, query: &str, limit: u32| {
        app::records::search_accounts(tx, org.org(), query, limit).unwrap().into_iter().map(|account| account.id).collect::<Vec<_>>()
    };
    // Case does not matter; names starting with the query come first, then by name.
    assert_eq!(found(&mut tx, "ac", 20), [acme, beacon, academy], "Acme starts with it; Beacon and Royal ACADEMY hold it");
    assert_eq!(found(&mut tx, "ACAD", 20), [academy]);
    assert_eq!(found(&mut tx, "a", 20), [acme, beacon, academy], "Acme starts with it; then Beacon, Royal ACADEMY by name");
    assert_eq!(found(&mut tx, "a", 1), [acme], "at most the limit");
    assert_eq!(found(&mut tx, "물류", 20), [hanbit], "Korean names are found inside");
    assert_eq!(found(&mut tx, "%", 20), Vec::<AccountId>::new(), "a LIKE wildcard is only a character");
    assert_eq!(found(&mut tx, "  beac ", 20), [beacon], "the query is trimmed");
    let with_domains = app::records::search_accounts(&mut tx, org.org(), "acme", 20).unwrap();
    assert_eq!(with_domains[0].domains, ["acme.example", "acme-robotics.example"], "found accounts carry their domains");
}

/// A list's page of accounts or contacts in name order, found through the name key: case is
/// ignored (Unicode's), equal names keep id order both ways, the filters narrow and the count
/// is of every match; a search text is a plain text (`%` and `_` are characters).
pub fn accounts_and_contacts_page_in_name_order(db: &TestDb) {
    use pipewise_app::{AccountFilter, ContactFilter, NameOrder};
    use pipewise_core::records::{AccountPatch, NewAccount, NewContact};
    use pipewise_core::{AccountId, ContactId};
    let org = test_org(db.store(), "Pages");
    let other = test_org(db.store(), "Others");
    let mut tx = app::Tx::new(db.store().write().unwrap());
    let account =
        |tx: &mut app::Tx, org: &pipewise_test_support::fixtures::TestOrg, name: &str, domains: &[&str], industry: Option<&str>| {
            let new = NewAccount {
                name: name.into(),
                domains: domains.iter().map(|domain| (*domain).to_owned()).collect(),
                industry: industry.map(str::to_owned),
                employee_count: None,
                region: None,
                owner_id: None,
            };
            app::records::create_account(tx, &org.ctx, new).unwrap().id
        };
    let zeta = account(&mut tx, &org, "zeta", &[], Some("Retail"));
    let emile = account(&mut tx, &org, "ÉMILE", &["emile.example"], None);
    let acme_second = account(&mut tx, &org, "Acme", &[], Some("Retail"));
    let acme_first = account(&mut tx, &org, "ACME", &["acme.example"], None);
    let percent = account(&mut tx, &org, "100% Pure_Water", &[], None);
    let hanbit = account(&mut tx, &org, "한빛", &[], Some("Logistics"));
    let bravo = account(&mut tx, &org, "Bravo", &["bravo.example"], None);
    account(&mut tx, &other, "Acme elsewhere", &[], None);
    tx.commit().unwrap();
    // Equal names (ignoring case) in id order: "Acme" was created before "ACME".
    let (acme_a, acme_b) = (acme_second.min(acme_first), acme_second.max(acme_first));

    let mut tx = app::Tx::new(db.store().read().unwrap());
    let page = |tx: &mut app::Tx, filter: &AccountFilter, descending: bool, offset: u64, limit: Option<u64>| {
        app::records::account_page(tx, org.org(), filter, NameOrder { descending, offset, limit }).unwrap()
    };
    let every = AccountFilter::default();
    // The organisation's own account, "Pages Customer".
    let customer = org.account.id;
    // Bytewise on the lower-cased names: digits, then Latin, then "é" (two bytes from 0xC3), then Hangul.
    let ascending = [percent, acme_a, acme_b, bravo, customer, zeta, emile, hanbit];
    let found = page(&mut tx, &every, false, 0, None);
    assert_eq!(found.ids, ascending);
    assert_eq!(found.total, 8, "this organisation's accounts only");
    let found = page(&mut tx, &every, true, 0, None);
    assert_eq!(found.ids, [hanbit, emile, zeta, customer, bravo, acme_a, acme_b, percent], "names reversed, equal names still in id order");
    let found = page(&mut tx, &every, false, 2, Some(3));
    assert_eq!((found.ids, found.total), (vec![acme_b, bravo, customer], 8), "a page from an offset, with the count of all");
    assert!(page(&mut tx, &every, false, 40, Some(3)).ids.is_empty(), "past the end");

    let text = |text: &str| AccountFilter { text: Some(text.into()), ..AccountFilter::default() };
    assert_eq!(page(&mut tx, &text("acm"), false, 0, None).ids, [acme_a, acme_b], "the name holds it, ignoring case");
    assert_eq!(page(&mut tx, &text("émi"), false, 0, None).ids, [emile], "Unicode case is folded");
    assert_eq!(page(&mut tx, &text("bravo.ex"), false, 0, None).ids, [bravo], "or a domain holds it");
    assert_eq!(page(&mut tx, &text("%"), false, 0, None).ids, [percent], "% is a character");
    assert_eq!(page(&mut tx, &text("_"), false, 0, None).ids, [percent], "_ is a character");
    assert_eq!(page(&mut tx, &text("0% p"), false, 0, None).total, 1);
    assert!(page(&mut tx, &text("x%y"), false, 0, None).ids.is_empty());
    let retail = AccountFilter { industry: Some("Retail".into()), ..AccountFilter::default() };
    assert_eq!(page(&mut tx, &retail, false, 0, None).ids, [acme_second, zeta]);
    let retail_acme = AccountFilter { text: Some("ACME".into()), ..retail.clone() };
    assert_eq!(page(&mut tx, &retail_acme, false, 0, None).ids, [acme_second], "every filter holds");
    let mut facets = app::records::account_facets(&mut tx, org.org()).unwrap();
    facets.industries.sort();
    assert_eq!(facets.industries, ["Logistics", "Retail", "Software"], "each once; the organisation's account is in software");
    assert_eq!(facets.regions, ["Asia-Pacific"]);
    drop(tx);

    // A renamed account moves to its new place.
    let mut tx = app::Tx::new(db.store().write().unwrap());
    let patch = AccountPatch { name: Some("Alpha".into()), ..AccountPatch::default() };
    app::records::update_account(&mut tx, &org.ctx, zeta, &patch).unwrap();
    let contact = |tx: &mut app::Tx, name: &str, emails: &[&str], title: Option<&str>, account_id: Option<AccountId>| {
        let new = NewContact {
            name: name.into(),
            emails: emails.iter().map(|email| (*email).to_owned()).collect(),
            phone: None,
            title: title.map(str::to_owned),
            account_id,
        };
        app::records::create_contact(tx, &org.ctx, new).unwrap().id
    };
    let yuna = contact(&mut tx, "Yuna", &["yuna@bravo.example"], Some("Head of IT"), Some(bravo));
    let oscar = contact(&mut tx, "Óscar", &[], Some("Buyer"), None);
    let ben = contact(&mut tx, "ben", &["ben@acme.example"], None, Some(bravo));
    tx.commit().unwrap();
    let mut tx = app::Tx::new(db.store().read().unwrap());
    assert_eq!(page(&mut tx, &every, false, 0, Some(4)).ids, [percent, acme_a, acme_b, zeta], "\"Alpha\" now sorts after Acme");
    let contacts = |tx: &mut app::Tx, filter: &ContactFilter, descending: bool| -> Vec<ContactId> {
        app::records::contact_page(tx, org.org(), filter, NameOrder { descending, offset: 0, limit: None }).unwrap().ids
    };
    assert_eq!(contacts(&mut tx, &ContactFilter::default(), false), [ben, yuna, oscar]);
    assert_eq!(contacts(&mut tx, &ContactFilter::default(), true), [oscar, yuna, ben]);
    let text = |text: &str| ContactFilter { text: Some(text.into()), ..ContactFilter::default() };
    assert_eq!(contacts(&mut tx, &text("head"), false), [yuna], "the title holds it, ignoring (ASCII) case");
    assert_eq!(contacts(&mut tx, &text("acme.ex"), false), [ben], "or an address");
    assert_eq!(contacts(&mut tx, &text("ósc"), false), [oscar], "or the name, Unicode's case folded");
    assert_eq!(contacts(&mut tx, &text("   "), false), [ben, yuna, oscar], "a blank search is none");
    let of_bravo = ContactFilter { account_id: Some(bravo), ..ContactFilter::default() };
    assert_eq!(contacts(&mut tx, &of_bravo, false), [ben, yuna]);
    let by_ids = app::records::contacts_by_ids(&mut tx, org.org(), &[oscar, ben, ContactId(ben.0 + 10_000)]).unwrap();
    assert_eq!(by_ids.iter().map(|contact| contact.id).collect::<Vec<_>>(), [oscar, ben], "in id order, known ones only");
    assert_eq!(by_ids[1].emails, ["ben@acme.example"], "with their addresses");
}
