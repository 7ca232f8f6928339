//! A test app: a fresh database with the fixture organisation, an admin, passwords for everyone,
//! a fixed clock, and helpers to sign in and send requests through the router.

use pipewise_app as app;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use pipewise_app::WriteCtx;
use pipewise_core::history::Source;
use pipewise_core::opportunity::Opportunity;
use pipewise_core::user::{Locale, Role, User};
use pipewise_core::{Timestamp, UserId};
use pipewise_store::Store;
pub use pipewise_test_support::SharedDb;
use pipewise_test_support::browser::Browser;
use pipewise_test_support::fixtures::{TestOrg, at, new_user, test_org};
use pipewise_test_support::transact;
use pipewise_web::AppState;
use tower::ServiceExt;

pub const PASSWORD: &str = "correct horse battery";

pub struct App {
    pub store: Arc<dyn Store>,
    pub org: TestOrg,
    pub admin: User,
    pub now: Timestamp,
    pub router: Router,
}

/// The time every test runs at.
pub fn now() -> Timestamp {
    at("2026-06-15T09:00:00Z")
}

pub fn app() -> App {
    let db = Arc::new(pipewise_test_support::sqlite());
    let store: Arc<dyn Store> = Arc::new(SharedDb(db));
    let org = test_org(store.as_ref(), "Pages");
    let admin = transact(&*store, |tx| app::users::create_user(tx, &org.ctx, new_user("admin@pages.test", "Ada Admin", Role::Admin, None)))
        .expect("admin");
    for user in [&org.manager, &org.rep, &admin] {
        set_password(store.as_ref(), &org, user.id);
    }
    App::with(store, org, admin, now())
}

/// The demo organisation (generated with `seed` at `now`) with passwords for its admin, one
/// manager and one rep.
pub struct Demo {
    pub store: Arc<dyn Store>,
    pub fixture: TestOrg,
    pub admin: User,
    pub manager: User,
    pub rep: User,
    pub pipelines: Vec<pipewise_core::pipeline::Pipeline>,
    pub opportunities: usize,
}

pub fn demo(seed: u64, now: Timestamp) -> Demo {
    let db = Arc::new(pipewise_test_support::sqlite());
    let store: Arc<dyn Store> = Arc::new(SharedDb(db));
    let summary =
        pipewise_demo::generate(&pipewise_app::Db::new(store.clone()), &pipewise_demo::DemoConfig::standard(seed, now), &mut |_, _, _| {})
            .expect("the demo");
    let org = summary.organisation;
    let email = |role: Role| summary.users.iter().find(|(candidate, _)| *candidate == role).map(|(_, email)| email.clone()).unwrap();
    let (admin, manager, rep) = {
        let mut tx = app::Tx::new(store.read().unwrap());
        let mut user = |role| tx.user_by_email(org, &email(role)).unwrap().unwrap();
        (user(Role::Admin), user(Role::Manager), user(Role::Rep))
    };
    let pipelines = store.read().unwrap().pipelines(org).unwrap();
    let fixture = TestOrg {
        ctx: WriteCtx { org, actor_id: None, source: Source::System, at: now },
        manager: manager.clone(),
        rep: rep.clone(),
        simple: pipelines[0].clone(),
        b2b: pipelines.last().unwrap().clone(),
        account: store.read().unwrap().accounts(org).unwrap()[0].clone(),
    };
    for user in [&admin, &manager, &rep] {
        set_password(store.as_ref(), &fixture, user.id);
    }
    Demo { store, fixture, admin, manager, rep, pipelines, opportunities: summary.counts.opportunities as usize }
}

pub fn set_password(store: &dyn Store, org: &TestOrg, user: UserId) {
    let hash = pipewise_app::auth::hash_password(PASSWORD).expect("a hash");
    transact(store, |tx| app::auth::set_password_hash(tx, &org.ctx, user, &hash, None)).expect("password set");
}

impl App {
    pub fn with(store: Arc<dyn Store>, org: TestOrg, admin: User, now: Timestamp) -> App {
        let mut state = AppState::new(pipewise_app::Db::new(store.clone()));
        state.clock = Arc::new(move || now);
        App { router: pipewise_web::router(state), store, org, admin, now }
    }

    /// The same app on a server that has the key sealing mailbox passwords.
    pub fn with_secret_key(mut self, key: &str) -> App {
        let mut state = AppState::new(pipewise_app::Db::new(self.store.clone()));
        let now = self.now;
        state.clock = Arc::new(move || now);
        state.secret_key = Some(pipewise_app::mailboxes::SecretKey::from_hex(key).expect("a key"));
        self.router = pipewise_web::router(state);
        self
    }

    /// The same app on a server that keeps each organisation's analytics projection (as
    /// `pipewise serve` does), read on the app's clock.
    pub fn with_insights(mut self) -> App {
        let db = pipewise_app::Db::new(self.store.clone());
        let now = self.now;
        let mut state = AppState::new(db);
        state.clock = Arc::new(move || now);
        state.insights =
            Some(Arc::new(pipewise_app::insights::InsightsRegistry::new(self.store.clone()).with_clock(Arc::new(move || now))));
        self.router = pipewise_web::router(state);
        self
    }

    pub async fn send(&self, request: Request<Body>) -> Response<Body> {
        self.router.clone().oneshot(request).await.expect("the router answers")
    }

    pub async fn get(&self, path: &str, session: Option<&Session>) -> (StatusCode, String) {
        let mut request = Request::get(path);
        if let Some(session) = session {
            request = request.header(header::COOKIE, &session.cookie);
        }
        let response = self.send(request.body(Body::empty()).expect("a request")).await;
        let status = response.status();
        (status, body_text(response).await)
    }

    /// A form post as a browser sends it; `csrf` adds the session's token.
    pub async fn post_form(&self, path: &str, session: Option<&Session>, fields: &[(&str, &str)], csrf: bool) -> Response<Body> {
        let mut fields: Vec<(&str, &str)> = fields.to_vec();
        if let (Some(session), true) = (session, csrf) {
            fields.push(("csrf_token", &session.csrf));
        }
        let body = serde_urlencoded::to_string(&fields).expect("a form");
        let mut request = Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(session) = session {
            request = request.header(header::COOKIE, &session.cookie);
        }
        self.send(request.body(Body::from(body)).expect("a request")).await
    }

    /// Signs in through the form and reads the CSRF token from a page.
    pub async fn sign_in(&self, email: &str) -> Session {
        let response = self.post_form("/login", None, &[("email", email), ("password", PASSWORD), ("next", "/board")], false).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "signing in as {email}");
        let cookie = response
            .headers()
            .get(header::SET_COOKIE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .expect("a session cookie")
            .to_owned();
        let mut session = Session { cookie, csrf: String::new() };
        let (status, body) = self.get("/account", Some(&session)).await;
        assert_eq!(status, StatusCode::OK);
        session.csrf = between(&body, "<meta name=\"csrf-token\" content=\"", "\"").expect("a CSRF meta tag").to_owned();
        session
    }

    pub fn ctx(&self, user: UserId) -> WriteCtx {
        WriteCtx { actor_id: Some(user), source: Source::Web, at: self.now, ..self.org.ctx }
    }

    pub fn create_deal(&self, name: &str, owner: UserId) -> Opportunity {
        let new = pipewise_core::opportunity::NewOpportunity { owner_id: owner, ..self.org.new_deal(name) };
        transact(&*self.store, |tx| app::deals::create_opportunity(tx, &WriteCtx { at: at("2026-02-01T10:00:00Z"), ..self.org.ctx }, &new))
            .expect("a deal")
    }

    pub fn create_user(&self, email: &str, name: &str, role: Role, manager: Option<UserId>, locale: Locale) -> User {
        let new = pipewise_core::user::NewUser { locale, ..new_user(email, name, role, manager) };
        let user = transact(&*self.store, |tx| app::users::create_user(tx, &self.org.ctx, new)).expect("a user");
        set_password(self.store.as_ref(), &self.org, user.id);
        user
    }
}

pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

pub async fn body_text(response: Response<Body>) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
    String::from_utf8(bytes.to_vec()).expect("UTF-8")
}

pub fn location(response: &Response<Body>) -> String {
    response.headers().get(header::LOCATION).and_then(|value| value.to_str().ok()).unwrap_or_default().to_owned()
}

pub fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let to = text[from..].find(end)? + from;
    Some(&text[from..to])
}

/// Undoes the HTML escaping minijinja does.
pub fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
}

/// Serves `router` on a free loopback port until the test ends; its base URL.
pub async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let address = listener.local_addr().expect("an address");
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await.expect("the server runs");
    });
    format!("http://{address}")
}

/// Signs `email` in through the form in `browser`, and waits for the page it lands on.
pub fn browser_sign_in(browser: &Browser, base: &str, email: &str) -> Result<(), String> {
    browser.goto(&format!("{base}/login"))?;
    browser.find("#email")?.send_keys(email)?;
    browser.find("#password")?.send_keys(PASSWORD)?;
    browser.find("button[type=submit]")?.click()?;
    browser.wait_for("#board, .toolbar", Duration::from_secs(10))?;
    Ok(())
}
