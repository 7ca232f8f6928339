//! Amounts in several currencies are converted with the rate in force on the day each amount
//! was recorded, once, half to even; never summed raw.

use pipewise_analytics::metrics::pipeline_by_stage;
use pipewise_analytics::{Projection, ProjectionError, Scope, day};
use pipewise_core::fx::RateTable;
use pipewise_core::{Currency, OpportunityId};
use rust_decimal::Decimal;

use crate::support::{LogBuilder, noon, pipelines};

fn rates() -> RateTable {
    let mut rates = RateTable::new(Currency::EUR);
    rates.insert(Currency::USD, "2026-01-05".parse().unwrap(), Decimal::new(110, 2));
    rates.insert(Currency::KRW, "2026-01-05".parse().unwrap(), Decimal::new(1500, 0));
    rates.insert(Currency::USD, "2026-03-02".parse().unwrap(), Decimal::new(120, 2));
    rates
}

#[test]
fn each_amount_is_converted_at_the_rate_of_the_day_it_was_set() {
    let mut book = LogBuilder::new(pipelines());
    book.create(1, 1, 1, 1, Some("EUR 1000".parse().unwrap()), Some("2026-06-30"), noon("2026-01-05"));
    book.create(2, 1, 1, 1, Some("USD 500".parse().unwrap()), Some("2026-06-30"), noon("2026-01-05"));
    book.create(3, 1, 1, 1, Some("KRW 1000000".parse().unwrap()), Some("2026-06-30"), noon("2026-01-05"));
    book.amount(1, "EUR 2000".parse().unwrap(), noon("2026-03-02"));
    let projection = Projection::build(Currency::USD, rates(), &book.pipelines, &book.log).unwrap();
    let total = |as_of: &str| pipeline_by_stage(&projection, &Scope::org(), day(as_of), None).amount;
    // On 01-05: EUR 1,000 × 1.10 = USD 1,100.00; USD 500.00 as is; KRW 1,000,000 × 1.10 / 1,500
    // = 733.333… → USD 733.33. Sum 2,333.33 (raw would be 1,001,500 of nothing).
    assert_eq!(total("2026-02-15"), 2_333_33);
    // The edit on 03-02 is converted at that day's 1.20: EUR 2,000 → USD 2,400.00. The past
    // keeps the old amount at its old rate.
    assert_eq!(total("2026-03-31"), 2_400_00 + 500_00 + 733_33);
    assert_eq!(total("2026-02-15"), 2_333_33);
    // The native amount and currency are kept beside the converted one.
    let deal = projection.deal_index(OpportunityId(1)).unwrap() as usize;
    let columns = projection.deals();
    assert_eq!((columns.amount[deal], columns.amount_native[deal]), (2_400_00, 2_000_00));
    assert_eq!(projection.currencies[columns.currency[deal] as usize], Currency::EUR);
}

#[test]
fn an_amount_without_a_rate_is_reported_and_left_out_not_guessed() {
    let mut book = LogBuilder::new(pipelines());
    book.create(1, 1, 1, 1, Some("GBP 100".parse().unwrap()), Some("2026-06-30"), noon("2026-01-05"));
    book.create(2, 1, 1, 1, Some("USD 100".parse().unwrap()), Some("2026-06-30"), noon("2026-01-05"));
    let mut projection = Projection::new(Currency::USD, rates());
    for pipeline in &book.pipelines {
        projection.add_pipeline(pipeline);
    }
    let errors: Vec<ProjectionError> = book.log.iter().filter_map(|event| projection.apply(event).err()).collect();
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].to_string(),
        "history event 5 of opportunity 1: amount: GBP 100.00 kept out of reporting totals: no GBP exchange rate published within 10 days before 2026-01-05"
    );
    // The deal is there, with no amount in USD; the USD deal counts.
    let pipeline = pipeline_by_stage(&projection, &Scope::org(), day("2026-02-01"), None);
    assert_eq!((pipeline.count, pipeline.amount), (2, 100_00));
}

#[test]
fn a_rate_published_after_the_amount_was_applied_converts_it_again() {
    // EUR 100,000 set on 2026-10-30 in the morning, before that day's ECB fixing (1.1172): a
    // follower converts it with the 29th's 1.113 (USD 111,300.00) until the fixing is loaded,
    // then holds what a projection built after the fixing holds (USD 111,720.00).
    let mut book = LogBuilder::new(pipelines());
    book.create(1, 1, 1, 1, Some("EUR 100000".parse().unwrap()), Some("2026-12-31"), noon("2026-10-30"));
    let mut before = RateTable::new(Currency::EUR);
    before.insert(Currency::USD, "2026-10-29".parse().unwrap(), Decimal::new(1113, 3));
    let mut after = before.clone();
    after.insert(Currency::USD, "2026-10-30".parse().unwrap(), Decimal::new(11172, 4));
    let total = |projection: &Projection| pipeline_by_stage(projection, &Scope::org(), day("2026-11-02"), None).amount;

    let mut followed = Projection::build(Currency::USD, before, &book.pipelines, &book.log).unwrap();
    assert_eq!(total(&followed), 111_300_00);
    assert_eq!(followed.set_rates(after.clone()), Some(0));
    assert_eq!(total(&followed), 111_720_00);
    assert_eq!(followed.set_rates(after.clone()), None, "an unchanged table changes nothing");
    let rebuilt = Projection::build(Currency::USD, after.clone(), &book.pipelines, &book.log).unwrap();
    assert_eq!(total(&rebuilt), 111_720_00);

    // A later change in USD keeps the EUR amount as its old value, converted at the new rate.
    book.amount(1, "USD 90000".parse().unwrap(), noon("2026-11-03"));
    followed.apply(book.log.last().unwrap()).unwrap();
    let mut corrected = after;
    corrected.insert(Currency::USD, "2026-10-30".parse().unwrap(), Decimal::new(112, 2));
    followed.set_rates(corrected);
    assert_eq!(total(&followed), 112_000_00, "as of 11-02 the deal held EUR 100,000 at the corrected 1.12");
    assert_eq!(pipeline_by_stage(&followed, &Scope::org(), day("2026-11-04"), None).amount, 90_000_00);
}

#[test]
fn an_amount_too_large_for_the_reporting_currency_is_reported_not_wrapped() {
    // EUR 10^15 (the largest amount a deal takes) is IDR 1.9 × 10^19, beyond 64 bits of sen.
    let idr = Currency::from_code("IDR").unwrap();
    let mut rates = RateTable::new(Currency::EUR);
    rates.insert(idr, "2026-01-05".parse().unwrap(), Decimal::new(19_000, 0));
    let mut book = LogBuilder::new(pipelines());
    book.create(1, 1, 1, 1, Some("EUR 1000000000000000".parse().unwrap()), Some("2026-06-30"), noon("2026-01-05"));
    book.create(2, 1, 1, 1, Some("EUR 1000".parse().unwrap()), Some("2026-06-30"), noon("2026-01-05"));
    let mut projection = Projection::new(idr, rates);
    for pipeline in &book.pipelines {
        projection.add_pipeline(pipeline);
    }
    let errors: Vec<String> = book.log.iter().filter_map(|event| projection.apply(event).err()).map(|error| error.to_string()).collect();
    assert_eq!(
        errors,
        [
            "history event 5 of opportunity 1: amount: EUR 1000000000000000.00 kept out of reporting totals: EUR 1000000000000000.00 is too large to convert to IDR"
        ]
    );
    let pipeline = pipeline_by_stage(&projection, &Scope::org(), day("2026-02-01"), None);
    assert_eq!((pipeline.count, pipeline.amount), (2, 19_000_000_00));
}
