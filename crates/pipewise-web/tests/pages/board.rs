//! The board: columns, totals, moving cards with and without JavaScript, and Korean.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use pipewise_app as app;
use pipewise_core::user::{Locale, Role};
use pipewise_test_support::transact;

use crate::support::{app, body_text, location, unescape};

#[tokio::test]
async fn the_board_shows_a_column_per_open_stage_with_count_and_total() {
    let app = app();
    app.create_deal("Acme renewal", app.org.rep.id);
    app.create_deal("Globex expansion", app.org.rep.id);
    let session = app.sign_in("rep@pages.test").await;
    let (status, body) = app.get(&format!("/board?pipeline={}", app.org.simple.id), Some(&session)).await;
    assert_eq!(status, StatusCode::OK);
    let body = unescape(&body);
    for stage in ["Prospecting", "Qualification", "Connecting", "Closing", "Won", "Lost"] {
        assert!(body.contains(&format!(">{stage}</h2>")), "{stage}");
    }
    // Two deals of USD 12,000 in Prospecting: 2 deals, USD 24K (exactly USD 24,000.00).
    assert!(
        body.contains(r#"<span class="column-count">2 deals</span><span class="column-total" title="USD 24,000.00">USD 24K</span>"#),
        "{body}"
    );
    assert!(
        body.contains("Acme renewal") && body.contains("Pages Customer") && body.contains("USD 12,000.00") && body.contains("2026-12-15")
    );
    assert!(body.contains("Ravi Rep"));
    assert!(body.contains(r#"<meta name="csrf-token""#));
    // Each card can be moved without a mouse: a focusable card with Move…, which opens the
    // board's one Move menu in the card (or the deal's move page without the script).
    assert!(body.contains(r#"tabindex="0""#) && body.contains(r#"class="move-link button small""#) && body.contains(">Move…</a>"));
    assert_eq!(body.matches(r#"<select name="stage_id""#).count(), 1, "one Move menu for every card");
    assert!(body.contains(r#"<template id="move-menu">"#) && body.contains(">Move</button>"));
}

#[tokio::test]
async fn totals_in_several_currencies_are_never_summed_raw() {
    let app = app();
    let deal = app.create_deal("Euro deal", app.org.rep.id);
    let patch = pipewise_core::opportunity::OpportunityPatch { amount: Some(Some("EUR 5000".parse().unwrap())), ..Default::default() };
    transact(&*app.store, |tx| app::deals::update_opportunity(tx, &app.ctx(app.org.rep.id), deal.id, &patch)).unwrap();
    app.create_deal("Dollar deal", app.org.rep.id);
    let session = app.sign_in("rep@pages.test").await;
    let (_, body) = app.get(&format!("/board?pipeline={}", app.org.simple.id), Some(&session)).await;
    let body = unescape(&body);
    // No rates are stored, so EUR cannot become USD: the total stays per currency.
    assert!(body.contains(r#"title="EUR 5,000.00 + USD 12,000.00">EUR 5K + USD 12K</span>"#), "{body}");
    assert!(body.contains("the total is shown per currency"));
}

#[tokio::test]
async fn a_card_moves_by_script_and_the_columns_are_recounted() {
    let app = app();
    let deal = app.create_deal("Acme renewal", app.org.rep.id);
    let session = app.sign_in("rep@pages.test").await;
    let qualification = app.org.simple.stages[1].id;
    let request = Request::post(format!("/opportunities/{}/stage", deal.id))
        .header(header::COOKIE, &session.cookie)
        .header("X-CSRF-Token", &session.csrf)
        .header(header::ACCEPT, "application/json")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("stage_id={qualification}&owner=")))
        .unwrap();
    let response = app.send(request).await;
    assert_eq!(response.status(), StatusCode::OK);
    let answer: serde_json::Value = serde_json::from_str(&body_text(response).await).unwrap();
    assert_eq!(answer["ok"], true);
    assert_eq!(answer["message"], "Moved Acme renewal to Qualification.");
    let column = answer["columns"].as_array().unwrap().iter().find(|column| column["stage_id"] == qualification.0).unwrap().clone();
    assert_eq!((column["count_text"].as_str(), column["total_exact"].as_str()), (Some("1 deal"), Some("USD 12,000.00")));
    // Into the lost stage without a reason: refused with the reason named; the card snaps back.
    let lost = app.org.simple.stages[5].id;
    let request = Request::post(format!("/opportunities/{}/stage", deal.id))
        .header(header::COOKIE, &session.cookie)
        .header("X-CSRF-Token", &session.csrf)
        .header(header::ACCEPT, "application/json")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("stage_id={lost}")))
        .unwrap();
    let response = app.send(request).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let answer: serde_json::Value = serde_json::from_str(&body_text(response).await).unwrap();
    assert_eq!(answer["ok"], false);
    assert_eq!(answer["needs_reason"], true);
    assert_eq!(answer["message"], "Close reason: a lost deal needs the reason it was lost");
    // Without the header the script's request is refused.
    let request = Request::post(format!("/opportunities/{}/stage", deal.id))
        .header(header::COOKIE, &session.cookie)
        .header(header::ACCEPT, "application/json")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("stage_id={lost}&close_reason=price")))
        .unwrap();
    assert_eq!(app.send(request).await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_move_menu_works_without_javascript() {
    let app = app();
    let deal = app.create_deal("Acme renewal", app.org.rep.id);
    let session = app.sign_in("rep@pages.test").await;
    let lost = app.org.simple.stages[5].id.to_string();
    // A loss without a reason goes to the move form, which asks for it.
    let response = app.post_form(&format!("/opportunities/{}/stage", deal.id), Some(&session), &[("stage_id", &lost)], true).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = unescape(&body_text(response).await);
    assert!(body.contains("Close reason: a lost deal needs the reason it was lost"), "{body}");
    assert!(body.contains(&format!(r#"<option value="{lost}" selected>Lost</option>"#)));
    let fields = [("stage_id", lost.as_str()), ("close_reason", "chose a competitor")];
    let response = app.post_form(&format!("/opportunities/{}/stage", deal.id), Some(&session), &fields, true).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), format!("/board?pipeline={}#deal-{}", app.org.simple.id, deal.id));
    let stored = app.store.read().unwrap().opportunity(app.org.org(), deal.id, false).unwrap().unwrap();
    assert_eq!(stored.close_reason.as_deref(), Some("chose a competitor"));
    // The lost target lists it as closed in the last 30 days.
    let (_, board) = app.get(&format!("/board?pipeline={}", app.org.simple.id), Some(&session)).await;
    assert!(unescape(&board).contains("Closed in the last 30 days"));
}

#[tokio::test]
async fn a_korean_users_board_is_in_korean() {
    let app = app();
    app.create_user("kim@pages.test", "김영업", Role::Rep, Some(app.org.manager.id), Locale::Ko);
    let kim = app.store.read().unwrap().user_by_email(app.org.org(), "kim@pages.test").unwrap().unwrap();
    app.create_deal("한국 거래", kim.id);
    let session = app.sign_in("kim@pages.test").await;
    let (status, body) = app.get(&format!("/board?pipeline={}", app.org.simple.id), Some(&session)).await;
    assert_eq!(status, StatusCode::OK);
    let body = unescape(&body);
    assert!(body.contains(r#"<html lang="ko">"#));
    assert!(body.contains("파이프라인 보드") && body.contains("보드") && body.contains("로그아웃"), "{body}");
    assert!(body.contains(">탐사</h2>") && body.contains(">수주</h2>") && body.contains(">실주</h2>"), "stage names in Korean");
    assert!(body.contains("거래 1건") && body.contains("USD 1.2만"), "counts and compact totals in Korean");
    assert!(body.contains("2026년 12월 15일"), "dates in Korean");
    assert!(!body.contains("Pipeline board") && !body.contains(">Move</button>"));
    // The deal page too, with the history in Korean.
    let deal = app
        .store
        .read()
        .unwrap()
        .opportunities(app.org.org(), &Default::default())
        .unwrap()
        .into_iter()
        .find(|deal| deal.owner_id == kim.id)
        .unwrap();
    let (_, page) = app.get(&format!("/opportunities/{}", deal.id), Some(&session)).await;
    let page = unescape(&page);
    assert!(page.contains("변경 이력") && page.contains("거래를 만들었습니다") && page.contains("마감 예정일"), "{page}");
    // A Korean validation message beside the field.
    let fields = [
        ("name", "한국 거래"),
        ("owner_id", &kim.id.to_string()),
        ("stage_id", &deal.stage_id.to_string()),
        ("forecast_category", "pipeline"),
        ("currency", "KRW"),
        ("amount", "1500000.5"),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(key, value)| (*key, *value)).collect();
    let response = app.post_form(&format!("/opportunities/{}", deal.id), Some(&session), &fields, true).await;
    let body = unescape(&body_text(response).await);
    assert!(body.contains("1500000.5은(는) 소수점 이하 1자리이지만 KRW는 0자리까지입니다"), "{body}");
}

#[tokio::test]
async fn a_manager_filters_the_board_by_owner() {
    let app = app();
    let other = app.create_user("other@pages.test", "Olga Other", Role::Rep, Some(app.org.manager.id), Locale::En);
    app.create_deal("Ravi's deal", app.org.rep.id);
    app.create_deal("Olga's deal", other.id);
    let manager = app.sign_in("manager@pages.test").await;
    let (_, all) = app.get(&format!("/board?pipeline={}", app.org.simple.id), Some(&manager)).await;
    let all = unescape(&all);
    assert!(all.contains("Ravi's deal") && all.contains("Olga's deal"));
    assert!(all.contains(r#"<select name="owner" id="board-owner">"#), "managers get an owner filter");
    let (_, olga) = app.get(&format!("/board?pipeline={}&owner={}", app.org.simple.id, other.id), Some(&manager)).await;
    let olga = unescape(&olga);
    assert!(olga.contains("Olga's deal") && !olga.contains("Ravi's deal"));
    // A rep sees only their own, and no owner filter.
    let rep = app.sign_in("rep@pages.test").await;
    let (_, own) = app.get(&format!("/board?pipeline={}", app.org.simple.id), Some(&rep)).await;
    let own = unescape(&own);
    assert!(own.contains("Ravi's deal") && !own.contains("Olga's deal"));
    assert!(!own.contains(r#"<select name="owner">"#));
}
