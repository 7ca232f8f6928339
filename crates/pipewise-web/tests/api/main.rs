//! The JSON API, driven in-process through the router (`tower::ServiceExt::oneshot`), every
//! case on SQLite and on PostgreSQL alike. Test names start with the engine.

mod access;
mod analytics;
mod deals;
mod errors;
mod gates;
mod handoffs;
mod harness;
mod leads;
mod openapi;
mod pay;
mod platform;
mod quotas;
mod settings;
mod shares;

/// Instantiates each case for both engines; each gets a fresh database and organisation.
macro_rules! on_both_engines {
    ($($module:ident :: $case:ident),* $(,)?) => {
        mod sqlite {
            $(#[test] fn $case() { let app = crate::harness::App::new(pipewise_test_support::sqlite()); app.run(crate::$module::$case); })*
        }
        mod postgres {
            $(#[test] fn $case() {
                let Some(db) = pipewise_test_support::postgres() else { return };
                crate::harness::App::new(db).run(crate::$module::$case);
            })*
        }
    };
}

on_both_engines! {
    openapi::every_route_is_registered_and_documented,
    access::every_role_against_every_resource,
    access::another_reps_deal_is_not_found,
    access::tasks_and_activities_follow_the_deals,
    deals::as_of_and_history,
    deals::cursor_pagination_walks_every_row_once,
    deals::hostile_strings_are_stored_verbatim,
    deals::patches_clear_with_null_and_refuse_unknown_fields,
    deals::filters_and_sorts,
    errors::problem_bodies,
    errors::a_refused_write_names_every_bad_field_at_once,
    platform::tokens_are_shown_once_and_revocation_is_immediate,
    platform::session_cookies_read_and_need_csrf_to_write,
    platform::the_audit_log_is_for_admins,
    platform::sign_in_starts_a_new_session_and_sign_out_ends_it,
    platform::failed_sign_ins_slow_the_attacker_not_the_owner,
    gates::a_refused_move_lists_what_is_missing_and_a_manager_overrides,
    gates::checklist_items_are_ticked_and_unticked,
    gates::the_workspace_round_trips_and_is_kept_as_of,
    gates::only_ops_and_admins_design_pipelines,
    gates::a_loss_review_names_its_deal_only_to_those_who_see_it,
    handoffs::handoffs_are_recorded_and_reported_per_source,
    leads::a_lead_converts_into_an_account_a_contact_and_a_deal,
    shares::a_deal_is_shared_with_a_colleague_and_unshared,
    settings::health_settings_are_read_by_everyone_and_changed_by_ops_and_admins,
    settings::analytics_use_the_stored_health_thresholds,
    quotas::ops_set_spread_import_and_remove_quotas,
    pay::ops_pay_a_rep_who_traces_and_disputes_it,
    analytics::figures_equal_the_analytics_core,
    analytics::stored_quotas_and_the_fiscal_calendar_shape_the_figures,
    analytics::a_rep_sees_only_their_own_figures,
    analytics::editing_the_future_does_not_change_the_past,
    analytics::logging_activities_today_does_not_change_past_health,
    analytics::drill_downs_list_only_deals_the_viewer_may_see,
    analytics::the_forecast_says_when_it_is_below_its_data_floor,
    analytics::forecast_calls_are_kept_and_read_within_visibility,
    analytics::the_models_recorded_forecasts_are_read_within_visibility,
    analytics::the_ledger_scores_closed_quarters_and_symptoms_are_scoped,
}
