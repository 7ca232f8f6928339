//! Page tests: the web app through its router, in process, on a fresh SQLite database each.

mod admin;
mod board;
mod browser;
mod cadence;
mod capture;
mod dashboard;
mod deal;
mod deal_list;
mod forecast;
mod forms;
mod gates;
mod import;
mod leads;
mod lists;
mod pay;
mod performance;
mod quotas;
mod render_time;
mod roles;
mod routing;
mod settings;
mod shares;
mod sign_in;
mod support;
mod today;
mod webhooks;
