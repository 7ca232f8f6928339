//! Render times on the demo organisation (30 reps, 2,000 deals). The target, under 50 ms of
//! server time per page, is measured and printed here (run with `--nocapture`, in release for
//! real figures); the assertion is only a generous sanity bound, since timing in tests is noisy.

use pipewise_app as app;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use pipewise_core::user::Role;
use pipewise_demo::DemoConfig;
use pipewise_store::Store;
use pipewise_test_support::fixtures::at;
use pipewise_test_support::transact;

use crate::support::{App, SharedDb, set_password};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_render_quickly_on_the_demo_organisation() {
    let now = at("2026-10-30T08:00:00Z");
    let db = Arc::new(pipewise_test_support::sqlite());
    let store: Arc<dyn Store> = Arc::new(SharedDb(db));
    let started = Instant::now();
    let summary =
        pipewise_demo::generate(&pipewise_app::Db::new(store.clone()), &DemoConfig::standard(7, now), &mut |_, _, _| {}).expect("the demo");
    eprintln!("demo generated in {:.1} s: {} deals", started.elapsed().as_secs_f64(), summary.counts.opportunities);
    assert!(summary.counts.opportunities >= 2_000);
    let org = summary.organisation;
    let email = |role: Role| summary.users.iter().find(|(candidate, _)| *candidate == role).map(|(_, email)| email.clone()).unwrap();
    let (admin, manager, rep) = {
        let mut tx = app::Tx::new(store.read().unwrap());
        let mut user = |role| tx.user_by_email(org, &email(role)).unwrap().unwrap();
        (user(Role::Admin), user(Role::Manager), user(Role::Rep))
    };
    let fixture = pipewise_test_support::fixtures::TestOrg {
        ctx: pipewise_store::WriteCtx { org, actor_id: None, source: pipewise_core::history::Source::System, at: now },
        manager: manager.clone(),
        rep: rep.clone(),
        simple: store.read().unwrap().pipelines(org).unwrap()[0].clone(),
        b2b: store.read().unwrap().pipelines(org).unwrap().last().unwrap().clone(),
        account: store.read().unwrap().accounts(org).unwrap()[0].clone(),
    };
    for user in [&admin, &manager, &rep] {
        set_password(store.as_ref(), &fixture, user.id);
    }
    let deal = transact(&*store, |tx| {
        let access = app::access::access_for(tx, org, Some(rep.id))?;
        app::deals::opportunities_for(tx, org, &access, &Default::default()).map(|deals| deals[0].id)
    })
    .unwrap();
    let app = App::with(store, fixture, admin.clone(), now);
    let mut report = Vec::new();
    for user in [&admin, &manager, &rep] {
        let session = app.sign_in(&user.email).await;
        for path in [
            "/board".to_owned(),
            "/opportunities".to_owned(),
            "/opportunities?status=all&sort=amount&dir=desc&page=3".to_owned(),
            "/accounts".to_owned(),
            "/contacts".to_owned(),
            "/tasks?owner=all".to_owned(),
            format!("/opportunities/{deal}"),
        ] {
            let mut times = Vec::new();
            for _ in 0..5 {
                let started = Instant::now();
                let (status, _) = app.get(&path, Some(&session)).await;
                times.push(started.elapsed());
                assert!(status == StatusCode::OK || status == StatusCode::NOT_FOUND, "{path}: {status}");
            }
            times.sort();
            let median = times[times.len() / 2];
            report.push(format!("{:>8} {:<55} median {:>6.1} ms", user.role.as_str(), path, median.as_secs_f64() * 1000.0));
            assert!(median < Duration::from_secs(3), "{path} took {median:?} even allowing for a debug build");
        }
    }
    eprintln!("render times (in process, through the router, session check included):\n{}", report.join("\n"));
}
