//! Render times on the demo organisation (30 reps, 2,000 deals). The target, under 50 ms of
//! server time per page, is measured and printed here (run with `--nocapture`, in release for
//! real figures); the assertion is only a generous sanity bound, since timing in tests is noisy.

use pipewise_app as app;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use pipewise_test_support::fixtures::at;
use pipewise_test_support::transact;

use crate::support::{App, Demo, demo};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_render_quickly_on_the_demo_organisation() {
    let now = at("2026-10-30T08:00:00Z");
    let started = Instant::now();
    let Demo { store, fixture, admin, manager, rep, opportunities, .. } = demo(7, now);
    eprintln!("demo generated in {:.1} s: {opportunities} deals", started.elapsed().as_secs_f64());
    assert!(opportunities >= 2_000);
    let org = fixture.ctx.org;
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
