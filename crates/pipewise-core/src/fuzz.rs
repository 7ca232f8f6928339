//! Every parser of user text returns a value or an error for any input, and never panics.
//! Random strings from a few shapes (any Unicode, near-misses of the valid forms) stand in
//! for a coverage-guided fuzzer, which needs a nightly toolchain these machines do not have.

use proptest::prelude::*;

use crate::money::{Currency, Money};
use crate::opportunity::{OppField, Opportunity};
use crate::time::{Timestamp, parse_date};
use crate::user::{Role, time_zone};
use crate::{templates, text};

/// Any string, plus strings built from the characters that matter to these parsers.
fn inputs() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[A-Za-z]{0,4}[ ]?[-+]?[0-9.,eE_]{0,40}",
        "[0-9]{0,6}-[0-9]{0,3}-[0-9]{0,3}(T[0-9:.]{0,20}(Z|[+-][0-9:]{0,6})?)?",
        "[a-zA-Z0-9@._ -]{0,40}",
        "[0-9]{0,5}(-[QMWXé][0-9]{0,3})?",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn parsers_never_panic(input in inputs()) {
        let _ = input.parse::<Money>();
        let _ = Money::parse_amount(&input, Currency::KRW);
        let _ = Currency::from_code(&input);
        let _ = parse_date(&input);
        let _ = input.parse::<Timestamp>();
        let _ = text::email(&input);
        let _ = text::domain(&input);
        let _ = text::optional(&input, 10, true);
        let _ = Role::parse(&input);
        let _ = time_zone(&input);
        let _ = crate::fiscal::FiscalCalendar::new(4).map(|calendar| calendar.parse_key(&input));
    }

    #[test]
    fn decoding_any_history_value_never_panics(input in inputs(), field_index in 0usize..12) {
        let pipeline = templates::simple().materialise(crate::PipelineId(1), 1);
        let mut opportunity: Opportunity = crate::opportunity::create(
            crate::OpportunityId(1),
            &crate::opportunity::tests::new_deal(),
            &pipeline,
            Timestamp::from_micros(0),
        ).unwrap();
        let _ = OppField::ALL[field_index].decode_into(&mut opportunity, Some(&input));
    }

    #[test]
    fn a_parsed_amount_prints_back_to_the_same_money(units in any::<i64>(), scale in 0u32..4) {
        let currency = [Currency::KRW, Currency::USD, Currency::from_code("KWD").unwrap(), Currency::from_code("CLF").unwrap()][scale as usize];
        let money = Money::new(rust_decimal::Decimal::new(units, scale), currency).unwrap();
        prop_assert_eq!(money.to_string().parse::<Money>().unwrap(), money);
    }
}
