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
