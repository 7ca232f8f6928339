//! One organisation with a user of every role, an API token each, and the router over a test
//! database with a clock the test controls.

use pipewise_app as app;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use pipewise_app::WriteCtx;
use pipewise_core::user::Role;
use pipewise_core::*;
use pipewise_store::Store;
use pipewise_test_support::fixtures::{TestOrg, at, new_user, test_org};
use pipewise_test_support::{SharedDb, TestDb, transact};
use pipewise_web::AppState;
use pipewise_web::auth;
use serde_json::Value;
use tower::ServiceExt;

/// What a case gets.
pub type Shared = Arc<App>;

pub struct App {
    /// Kept so the database lives as long as the app.
    _db: Arc<TestDb>,
    pub store: Arc<dyn Store>,
    pub router: Router,
    pub org: TestOrg,
    /// One user per role; the rep and manager are the fixture's (the rep reports to the manager).
    pub users: BTreeMap<&'static str, UserId>,
    /// A rep under another manager, who sees none of the rep's deals.
    pub outsider: UserId,
    /// The bearer token of each user, by role name, and `outsider`.
    pub tokens: BTreeMap<&'static str, String>,
    /// The rep's deal.
    pub deal: OpportunityId,
    /// The app's analytics, to recompute activity facts at once (`Insights::refresh_facts`).
    pub insights: Arc<pipewise_app::insights::InsightsRegistry>,
    clock: Arc<AtomicI64>,
}

pub struct Reply {
    pub status: StatusCode,
    pub content_type: String,
    pub body: Value,
    pub headers: axum::http::HeaderMap,
}

impl App {
    pub fn new(db: TestDb) -> App {
        let db = Arc::new(db);
        let store: Arc<dyn Store> = Arc::new(SharedDb(db.clone()));
        let org = test_org(store.as_ref(), "Acme Sales");
        let mut tx = app::Tx::new(store.write().unwrap());
        let ctx = org.ctx;
        let mut users = BTreeMap::new();
        users.insert("manager", org.manager.id);
        users.insert("rep", org.rep.id);
        for (role, name) in [(Role::Admin, "admin"), (Role::Ops, "ops"), (Role::Viewer, "viewer")] {
            let user =
                app::users::create_user(&mut tx, &ctx, new_user(&format!("{name}@acme.test"), &format!("The {name}"), role, None)).unwrap();
            users.insert(name, user.id);
        }
        let boss = app::users::create_user(&mut tx, &ctx, new_user("boss@acme.test", "Other Boss", Role::Manager, None)).unwrap();
        let outsider = app::users::create_user(&mut tx, &ctx, new_user("out@acme.test", "Oli Out", Role::Rep, Some(boss.id))).unwrap().id;
        let deal = app::deals::create_opportunity(&mut tx, &org.by_rep(ctx.at), &org.new_deal("Rep's deal")).unwrap().id;
        tx.commit().unwrap();
        let clock = Arc::new(AtomicI64::new(at("2026-03-01T09:00:00Z").as_micros()));
        let ticking = clock.clone();
        let reading = clock.clone();
        // Analytics follow the log through a registry on the test clock (refreshed per request).
        let insights = Arc::new(
            pipewise_app::insights::InsightsRegistry::new(store.clone())
                .with_clock(Arc::new(move || Timestamp::from_micros(reading.load(Ordering::SeqCst)))),
        );
        let state = AppState {
            db: pipewise_app::Db::new(store.clone()),
            // Each reading of the clock moves it on a millisecond, so writes are ordered.
            clock: Arc::new(move || Timestamp::from_micros(ticking.fetch_add(1_000, Ordering::SeqCst))),
            secure_cookies: false,
            trusted_proxies: Default::default(),
            insights: Some(insights.clone()),
            secret_key: None,
            cadence: Default::default(),
            metrics: Default::default(),
            metrics_token: None,
        };
        let router = pipewise_web::router(state.clone());
        let mut app = App { _db: db, store, router, org, users, outsider, tokens: BTreeMap::new(), deal, insights, clock };
        let mut everyone: Vec<(&'static str, UserId)> = app.users.iter().map(|(name, id)| (*name, *id)).collect();
        everyone.push(("outsider", outsider));
        for (name, user) in everyone {
            let token = app.token_for(user);
            app.tokens.insert(name, token);
        }
        app
    }

    /// Runs an async case on a fresh runtime. The app outlives the runtime: the PostgreSQL
    /// driver closes its connections with a runtime of its own, which may not start inside ours.
    pub fn run<F: Future<Output = ()>>(self, case: impl FnOnce(Shared) -> F) {
        let app = Arc::new(self);
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(case(app.clone()));
        drop(runtime);
        drop(app);
    }

    /// Runs blocking store work from inside a case.
    pub fn blocking<T>(&self, work: impl FnOnce() -> T) -> T {
        tokio::task::block_in_place(work)
    }

    pub fn now(&self) -> Timestamp {
        Timestamp::from_micros(self.clock.load(Ordering::SeqCst))
    }

    pub fn set_clock(&self, when: Timestamp) {
        self.clock.store(when.as_micros(), Ordering::SeqCst);
    }

    /// A token for `user`, made as the account page makes one once the password is confirmed.
    pub fn token_for(&self, user: UserId) -> String {
        let secret = auth::new_secret("pwt_").unwrap();
        let token = pipewise_app::ApiToken {
            id: 0,
            org: self.org.org(),
            user_id: user,
            name: "tests".into(),
            token_hash: auth::sha256_hex(&secret),
            prefix: secret[..12].to_owned(),
            created_at: self.now(),
            last_used_at: None,
            revoked_at: None,
        };
        let ctx = WriteCtx { actor_id: Some(user), ..self.system() };
        transact(&*self.store, |tx| app::auth::create_api_token(tx, &ctx, &token)).unwrap();
        secret
    }

    pub fn system(&self) -> WriteCtx {
        WriteCtx { at: self.now(), ..self.org.ctx }
    }

    /// Sends a request as `who` (a role name, `outsider`, or `""` for nobody).
    pub async fn call(&self, method: Method, path: &str, who: &str, body: Option<Value>) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if !who.is_empty() {
            let token = self.tokens.get(who).unwrap_or_else(|| panic!("no token for {who}"));
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => request.header(header::CONTENT_TYPE, "application/json").body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        };
        self.send(request.unwrap()).await
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let content_type = headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or("").to_owned();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Reply { status, content_type, body, headers }
    }

    pub async fn get(&self, path: &str, who: &str) -> Reply {
        self.call(Method::GET, path, who, None).await
    }

    pub async fn post(&self, path: &str, who: &str, body: Value) -> Reply {
        self.call(Method::POST, path, who, Some(body)).await
    }

    pub async fn patch(&self, path: &str, who: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, who, Some(body)).await
    }
}

impl Reply {
    /// Panics with the body when the status is not `expected`.
    #[track_caller]
    pub fn expect(self, expected: u16) -> Reply {
        assert_eq!(self.status.as_u16(), expected, "body: {}", self.body);
        self
    }

    pub fn id(&self) -> i64 {
        self.body["id"].as_i64().unwrap_or_else(|| panic!("no id in {}", self.body))
    }
}
