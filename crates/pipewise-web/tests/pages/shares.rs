//! Sharing a deal from its page: the "Shared with" list, the form to share it with a colleague
//! and the remove buttons, shown only to those who may share the deal.

use axum::http::StatusCode;
use pipewise_app as app;
use pipewise_core::user::{Locale, Role};
use pipewise_test_support::transact;

use crate::support::{app, body_text, location, unescape};

#[tokio::test]
async fn a_rep_shares_a_deal_from_its_page_and_the_colleague_can_open_it() {
    let app = app();
    let colleague = app.create_user("cora@pages.test", "Cora Colleague", Role::Rep, None, Locale::Ko);
    let deal = app.create_deal("Joint pursuit", app.org.rep.id);
    let path = format!("/opportunities/{}", deal.id);
    let korean = app.sign_in("cora@pages.test").await;
    assert_eq!(app.get(&path, Some(&korean)).await.0, StatusCode::NOT_FOUND, "not shared yet");
    let session = app.sign_in("rep@pages.test").await;
    let (status, page) = app.get(&path, Some(&session)).await;
    assert_eq!(status, StatusCode::OK);
    let page = unescape(&page);
    assert!(page.contains("Shared with") && page.contains("Not shared with anyone.") && page.contains("Share with a colleague"), "{page}");
    let offered = format!(r#"<option value="{}">Cora Colleague</option>"#, colleague.id);
    assert!(page.contains(&offered), "the colleague is offered: {page}");
    assert!(!page.contains(&format!(r#"<option value="{}">Ravi Rep</option>"#, app.org.rep.id)), "not the owner");
    let share = format!("{path}/shares");
    // Without the CSRF token nothing happens; without a user the form comes back with the problem.
    let refused = app.post_form(&share, Some(&session), &[("user_id", &colleague.id.to_string())], false).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let empty = app.post_form(&share, Some(&session), &[("user_id", "")], true).await;
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body_text(empty).await.contains(r#"id="share-error""#));
    // Shared: the page lists the colleague with a remove button, and offers them no more.
    let done = app.post_form(&share, Some(&session), &[("user_id", &colleague.id.to_string())], true).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&done), format!("{path}?share=added#shares"));
    let (status, page) = app.get(&format!("{path}?share=added"), Some(&session)).await;
    assert_eq!(status, StatusCode::OK);
    let page = unescape(&page);
    let panel = crate::support::between(&page, r#"id="shares-title""#, "</section>").expect("the shares panel");
    assert!(panel.contains("Deal shared.") && panel.contains("Cora Colleague") && panel.contains("shared by Ravi Rep"), "{panel}");
    let remove = format!("{path}/shares/{}/remove", colleague.id);
    assert!(panel.contains(&format!(r#"action="{remove}""#)), "{panel}");
    assert!(!panel.contains(&offered), "{panel}");
    // The colleague opens the deal, reads the list in Korean, and sees no form to share it on.
    let (status, page) = app.get(&path, Some(&korean)).await;
    assert_eq!(status, StatusCode::OK);
    let page = unescape(&page);
    assert!(page.contains("Joint pursuit") && page.contains("공유 대상"), "{page}");
    assert!(!page.contains(&format!(r#"action="{share}""#)) && !page.contains(&format!(r#"action="{remove}""#)), "{page}");
    // The owner removes the share: the colleague no longer sees the deal.
    let removed = app.post_form(&remove, Some(&session), &[], true).await;
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&removed), format!("{path}?share=removed#shares"));
    assert_eq!(app.get(&path, Some(&korean)).await.0, StatusCode::NOT_FOUND);
    let (_, page) = app.get(&format!("{path}?share=removed"), Some(&session)).await;
    assert!(page.contains("No longer shared.") && page.contains("Not shared with anyone."), "{page}");
}

#[tokio::test]
async fn a_rep_without_rights_sees_no_share_form() {
    let app = app();
    let peer = app.create_user("pia@pages.test", "Pia Peer", Role::Rep, Some(app.org.manager.id), Locale::En);
    let viewer = app.create_user("vic@pages.test", "Vic Viewer", Role::Viewer, None, Locale::En);
    let deal = app.create_deal("Pia's deal", peer.id);
    let path = format!("/opportunities/{}", deal.id);
    let share = format!("{path}/shares");
    // A rep who cannot see the deal cannot share it either: the same 404 as a missing deal.
    let session = app.sign_in("rep@pages.test").await;
    assert_eq!(app.get(&path, Some(&session)).await.0, StatusCode::NOT_FOUND);
    let hidden = app.post_form(&share, Some(&session), &[("user_id", &app.org.rep.id.to_string())], true).await;
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);
    // The manager shares it with the rep, who may now work on it but not share it on.
    transact(&*app.store, |tx| app::deals::share_opportunity(tx, &app.ctx(app.org.manager.id), deal.id, app.org.rep.id)).unwrap();
    let (status, page) = app.get(&path, Some(&session)).await;
    assert_eq!(status, StatusCode::OK);
    let page = unescape(&page);
    let panel = crate::support::between(&page, r#"id="shares-title""#, "</section>").expect("the shares panel");
    assert!(panel.contains("Ravi Rep") && panel.contains("shared by Mina Manager"), "{panel}");
    assert!(!panel.contains("<form") && !panel.contains("Share with a colleague"), "no form, no remove button: {panel}");
    let refused = app.post_form(&share, Some(&session), &[("user_id", &viewer.id.to_string())], true).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = unescape(&body_text(refused).await);
    assert!(body.contains("Only the deal's owner, their managers, ops and admins may share it."), "{body}");
    let unshare = app.post_form(&format!("{path}/shares/{}/remove", app.org.rep.id), Some(&session), &[], true).await;
    assert_eq!(unshare.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let shares = transact(&*app.store, |tx| tx.opportunity_shares(app.org.org(), deal.id)).unwrap();
    assert_eq!(shares.iter().map(|share| share.user_id).collect::<Vec<_>>(), [app.org.rep.id], "nothing changed");
    // A viewer sees whom it is shared with, and no form either.
    let session = app.sign_in("vic@pages.test").await;
    let (status, page) = app.get(&path, Some(&session)).await;
    assert_eq!(status, StatusCode::OK);
    let page = unescape(&page);
    let panel = crate::support::between(&page, r#"id="shares-title""#, "</section>").expect("the shares panel");
    assert!(panel.contains("Ravi Rep") && !panel.contains("<form"), "{panel}");
}
