//! Integration tests: the demo generated into real SQLite files, the scale data set on
//! SQLite and PostgreSQL, and pinned fingerprints of what both generate.

mod fingerprint;
mod forecast;
mod scale;
mod sqlite;

/// Instantiates each scale case for both engines, with as many fresh databases as it takes.
macro_rules! on_both_engines {
    ($($case:ident($($db:ident),+)),* $(,)?) => {
        mod scale_sqlite {
            $(#[test] fn $case() { $(let $db = pipewise_test_support::sqlite();)+ crate::scale::$case($(&$db),+); })*
        }
        mod scale_postgres {
            $(#[test] fn $case() { $(let Some($db) = pipewise_test_support::postgres() else { return };)+ crate::scale::$case($(&$db),+); })*
        }
    };
}

on_both_engines! {
    the_scale_set_has_the_asked_sizes_and_replays_exactly(db),
    the_same_seed_gives_the_same_scale_set_and_another_seed_another(first, second, other),
    too_little_history_gets_the_lifecycle_floor_and_says_so(db),
}
