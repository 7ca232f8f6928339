//! `pipewise init` and `pipewise password`: what an operator runs on a fresh database, and to
//! let someone in again. Both act as the system (the operator of the machine), audited.

use pipewise_app as app;
use std::io::BufRead;

use anyhow::{Context, Result, bail};
use pipewise_app::{Db, WriteCtx};
use pipewise_core::history::Source;
use pipewise_core::user::{Locale, NewUser, Role, time_zone};
use pipewise_core::{Currency, OrgId, Timestamp};

/// Options of `pipewise init`.
pub struct InitOptions<'a> {
    pub organisation: &'a str,
    pub currency: &'a str,
    pub admin_email: &'a str,
    pub admin_name: &'a str,
    pub time_zone: &'a str,
    pub locale: &'a str,
}

/// Creates an organisation with both pipeline templates and its first admin, whose password is
/// read from `PIPEWISE_ADMIN_PASSWORD` or the first line of stdin.
pub fn init(db_url: &str, options: &InitOptions<'_>) -> Result<()> {
    let store = crate::db::open(db_url)?;
    let currency =
        Currency::from_code(&options.currency.to_ascii_uppercase()).map_err(|problem| anyhow::anyhow!("--currency: {problem}"))?;
    let locale = Locale::parse(options.locale).map_err(|problem| anyhow::anyhow!("--locale: {problem}"))?;
    let zone = time_zone(options.time_zone).map_err(|problem| anyhow::anyhow!("--time-zone: {problem}"))?;
    if app::users::organisations(&mut store.read()?)?.iter().any(|organisation| organisation.name == options.organisation.trim()) {
        bail!(crate::Hinted {
            error: format!("an organisation named {:?} already exists", options.organisation.trim()),
            hint: "choose another name, or use `pipewise password` to let its admin in again".into(),
        });
    }
    let password = read_password()?;
    let hash = pipewise_app::auth::hash_password(&password).map_err(|error| anyhow::anyhow!("{error}"))?;
    let now = Timestamp::from_jiff(jiff::Timestamp::now());
    let (organisation, admin) = store
        .transact(|tx| {
            let organisation = app::users::create_organisation(tx, options.organisation, currency, now)?;
            let ctx = WriteCtx { org: organisation.id, actor_id: None, source: Source::Cli, at: now };
            let new = NewUser {
                email: options.admin_email.into(),
                name: options.admin_name.into(),
                role: Role::Admin,
                manager_id: None,
                team_id: None,
                time_zone: zone.clone(),
                locale,
            };
            let admin = app::users::create_user(tx, &ctx, new)?;
            app::auth::set_password_hash(tx, &ctx, admin.id, &hash, None)?;
            // Both seed templates, with their exit criteria.
            app::designer::create_template_pipelines(tx, &ctx)?;
            Ok((organisation, admin))
        })
        .context("cannot create the organisation")?;
    println!("Created organisation {} ({}), reporting in {}.", organisation.id, organisation.name, organisation.reporting_currency);
    println!("Sign in as {} with the password you gave; pipelines: B2B (The Model) and Simple, with their stage gates.", admin.email);
    println!("Next: pipewise serve --db {db_url}");
    Ok(())
}

/// Sets a user's password (read like `init`'s) and ends their sessions.
pub fn set_password(db_url: &str, org: Option<i64>, email: &str) -> Result<()> {
    let store = crate::db::open(db_url)?;
    let org = pick_organisation(&store, org)?;
    let user =
        app::users::user_by_email(&mut store.read()?, org, email)?.with_context(|| format!("no user {email} in organisation {org}"))?;
    let password = read_password()?;
    let hash = pipewise_app::auth::hash_password(&password).map_err(|error| anyhow::anyhow!("{error}"))?;
    let ctx = WriteCtx { org, actor_id: None, source: Source::Cli, at: Timestamp::from_jiff(jiff::Timestamp::now()) };
    store.transact(|tx| app::auth::set_password_hash(tx, &ctx, user.id, &hash, None))?;
    println!("Set the password of {} and ended their sessions.", user.email);
    Ok(())
}

/// The organisation `org` names, or the only one.
pub fn pick_organisation(store: &Db, org: Option<i64>) -> Result<OrgId> {
    let organisations = app::users::organisations(&mut store.read()?)?;
    match org {
        Some(id) if organisations.iter().any(|organisation| organisation.id.0 == id) => Ok(OrgId(id)),
        Some(id) => bail!("organisation {id} does not exist"),
        None if organisations.len() == 1 => Ok(organisations[0].id),
        None if organisations.is_empty() => {
            bail!(crate::Hinted {
                error: "the database holds no organisation".into(),
                hint: "create one with `pipewise init` (or try `pipewise demo`)".into()
            })
        }
        None => bail!(crate::Hinted { error: "the database holds several organisations".into(), hint: "choose one with --org ID".into() }),
    }
}

/// The user `--as` names by e-mail in `org` (`None`: the system acts).
pub fn actor_of(store: &Db, org: OrgId, email: Option<&str>) -> Result<Option<pipewise_core::UserId>> {
    let Some(email) = email else { return Ok(None) };
    let user = app::users::user_by_email(&mut store.read()?, org, email)?;
    Ok(Some(user.with_context(|| format!("no user {email} in organisation {org}"))?.id))
}

fn read_password() -> Result<String> {
    let password = match std::env::var("PIPEWISE_ADMIN_PASSWORD") {
        Ok(password) => password,
        Err(_) => {
            eprintln!("password (one line on stdin):");
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).context("cannot read the password from stdin")?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    if password.chars().count() < pipewise_app::auth::MIN_PASSWORD_LENGTH {
        bail!("the password needs at least {} characters", pipewise_app::auth::MIN_PASSWORD_LENGTH);
    }
    Ok(password)
}
