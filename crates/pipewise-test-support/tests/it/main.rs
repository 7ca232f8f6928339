//! The storage contract suite: every case runs on SQLite and on PostgreSQL alike.
//! Test names start with the engine (`sqlite::…`, `postgres::…`) so CI can count each.

mod activity;
mod bulk;
mod capture;
mod cluster;
mod contract;
mod digests;
mod filters;
mod forecast;
mod forms;
mod gates;
mod handoffs;
mod history;
mod imports;
mod pay;
mod platform;
mod quotas;
mod routing;
mod settings;
mod shares;
mod snapshots;
mod updates;
mod webhooks;

use pipewise_app::StoreError;
use pipewise_core::message::catalog::{en, en_errors};

/// An error's text with its facts worded in English, as the API words them: validation problems
/// as in its `detail`, a refusal's reason after `not allowed: `.
fn worded(error: &StoreError) -> String {
    match error {
        StoreError::Invalid(errors) => en_errors(errors),
        StoreError::Refused(reason) => format!("not allowed: {}", en(reason)),
        other => other.to_string(),
    }
}

/// Instantiates each case for both engines.
macro_rules! on_both_engines {
    ($($module:ident :: $case:ident),* $(,)?) => {
        mod sqlite {
            $(#[test] fn $case() { let db = pipewise_test_support::sqlite(); crate::$module::$case(&db); })*
        }
        mod postgres {
            $(#[test] fn $case() { let Some(db) = pipewise_test_support::postgres() else { return }; crate::$module::$case(&db); })*
        }
    };
}

on_both_engines! {
    forms::a_web_form_makes_leads_and_keeps_out_spam_floods_and_repeats,
    routing::leads_are_routed_by_territory_then_capacity_and_the_report_weighs_quality,
    routing::the_cadence_pages_read_is_relearnt_after_five_minutes,
    digests::a_digest_goes_out_once_and_a_failed_one_is_tried_again,
    webhooks::webhooks_follow_the_log_from_their_subscription_and_keep_their_place,
    capture::mailing_list_mail_lands_on_its_account_and_deal_once,
    capture::korean_mail_and_meetings_are_read_and_refusals_say_why,
    capture::viewers_cannot_capture,
    capture::a_mailbox_its_sync_state_and_its_quarantine_are_kept,
    capture::commands_in_the_rep_s_own_mail_update_the_deal_and_bad_ones_change_nothing,
    capture::a_rep_s_rating_retrains_the_vocabulary_and_negative_mail_warns,
    imports::the_maven_set_gives_the_figures_it_holds,
    imports::a_bad_line_anywhere_leaves_nothing_behind,
    imports::a_reimport_updates_and_gates_apply_unless_ops_say_why,
    imports::an_export_imports_again_to_the_same_deals,
    imports::contacts_import_with_every_bad_line_named_then_match_by_address,
    imports::leads_import_and_update_by_address,
    imports::activities_land_on_their_deals_and_are_logged_once,
    forecast::calls_are_kept_with_what_the_caller_saw_rolled_up_scoped_and_audited,
    forecast::a_past_forecast_is_the_same_on_a_copy_holding_only_what_was_known_then,
    forecast::model_forecasts_are_kept_once_a_day_per_scope,
    forecast::the_models_forecasts_are_recorded_once_a_day,
    filters::deals_are_listed_by_id_within_visibility,
    filters::accounts_and_contacts_are_read_by_what_a_page_names,
    filters::accounts_and_contacts_page_in_name_order,
    snapshots::a_restart_reads_the_snapshot_and_refuses_a_wrong_one,
    activity::aggregates_count_only_what_was_known_before_the_bound,
    activity::touches_and_companies_are_read_for_the_deals_asked,
    contract::migrations_are_recorded_and_idempotent,
    contract::records_round_trip,
    contract::reporting_hierarchy_refuses_cycles,
    contract::duplicates_are_conflicts_naming_the_field,
    contract::unknown_references_name_the_field,
    contract::organisations_do_not_see_each_other,
    contract::money_is_exact_in_every_currency,
    contract::exchange_rates_round_trip_and_convert,
    contract::a_dropped_transaction_leaves_nothing,
    history::edits_are_recorded_and_replayed_as_of,
    history::history_is_append_only_in_the_database,
    history::readers_follow_the_log_by_sequence,
    history::concurrent_writers_get_gapless_sequences,
    history::replay_matches_current_state_for_random_edits,
    platform::rows_are_visible_by_role_and_hierarchy,
    platform::writes_are_authorised,
    platform::every_write_is_audited,
    platform::sessions_tokens_and_sign_in_attempts,
    platform::failed_sign_ins_slow_an_attacker_without_locking_the_owner_out,
    updates::accounts_and_contacts_update_with_domains_and_emails_replaced,
    updates::users_teams_and_leads_update,
    updates::tasks_and_activities_are_scoped_and_tasks_complete,
    gates::a_jump_across_two_gates_is_refused_with_everything_missing,
    gates::overrides_are_for_managers_and_recorded_everywhere,
    gates::checks_append_and_the_latest_counts,
    gates::meeting_the_gates_lets_the_deal_through,
    gates::a_stage_1_drop_is_not_a_loss,
    gates::a_lost_deal_resumes_where_it_was_lost,
    gates::the_workspace_is_tracked_and_replayed_as_of,
    gates::the_designer_archives_and_reorders_without_losing_deals,
    gates::a_loss_review_names_its_deal_only_to_those_who_may_see_it,
    gates::overdue_close_plan_items_are_health_flags,
    handoffs::a_handoff_is_recorded_with_who_handed_it_over,
    handoffs::a_qualified_deal_moved_back_to_stage_1_is_not_an_inside_sales_case,
    handoffs::the_report_gives_the_share_that_passed_gate_1_per_source,
    shares::a_deal_is_shared_listed_and_unshared_with_audit_entries,
    shares::only_those_responsible_share_and_unshare,
    quotas::quotas_follow_the_fiscal_calendar_are_replaced_audited_and_scoped,
    pay::statements_trace_lock_adjust_and_are_disputed,
    pay::deal_splits_credit_each_person_and_the_team_once,
    pay::a_late_bonus_is_posted_once_and_kept,
    pay::a_foreign_deal_is_credited_at_its_close_dates_rate,
    pay::a_mid_period_start_or_leave_carries_the_quota_of_its_days,
    pay::a_reversal_is_clawed_back_inside_the_window_and_a_transfer_moves_no_credit,
    pay::a_ramp_carries_part_of_a_new_reps_quota_and_pay_converts_on_the_payout_day,
    pay::a_plan_paid_on_invoice_or_cash_counts_a_credit_in_its_dates_period,
    pay::a_rep_who_moves_team_mid_period_books_each_team_by_the_day,
    settings::health_thresholds_are_stored_per_organisation_and_reset,
    settings::only_ops_and_admins_change_health_thresholds_and_every_bad_field_is_named,
    settings::stored_health_settings_are_read_leniently_and_must_be_an_object,
    settings::the_organisations_days_are_taken_in_its_time_zone,
    settings::a_rate_stored_after_an_amount_converts_it_as_a_restart_would,
    settings::a_stage_change_today_leaves_a_past_days_figures_as_they_were,
    bulk::bulk_deals_and_history_replay_and_follow_the_sequence,
    bulk::bulk_activities_keep_their_contacts_and_order,
    bulk::a_dropped_bulk_transaction_leaves_nothing_and_takes_no_sequence_numbers,
}
