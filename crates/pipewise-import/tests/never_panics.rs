//! Whatever a file holds, reading it never panics: every cell parser and whole lines, on
//! arbitrary text and on arbitrary bytes through the CSV reader.

use pipewise_core::money::Currency;
use pipewise_import::{DateOrder, Kind, Mapping, Reading, account, deal, reader, values};
use proptest::prelude::*;

const MAVEN: &str = "opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value,Deal - Currency,Deal - Won time,Deal - Status";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn cell_parsers_never_panic(raw in "\\PC{0,40}|[0-9/.: -]{0,24}( ?[AP]M)?|[$€₩A-Z]{0,4} ?[0-9,.]{0,20}") {
        let usd = Currency::from_code("USD").unwrap();
        for order in [DateOrder::MonthFirst, DateOrder::DayFirst] {
            let _ = values::date(&raw, order);
            let _ = values::moment(&raw, order);
        }
        let _ = values::amount(&raw, usd);
        let _ = values::amount(&raw, Currency::from_code("KRW").unwrap());
        let _ = values::count(&raw);
        let _ = values::domain(&raw);
    }

    #[test]
    fn lines_never_panic(body in proptest::collection::vec(any::<u8>(), 0..400)) {
        let reading = Reading { date_order: DateOrder::MonthFirst, currency: Currency::from_code("EUR").unwrap() };
        let mut bytes = format!("{MAVEN}\n").into_bytes();
        bytes.extend_from_slice(&body);
        let mut file = reader(bytes.as_slice());
        let headers = file.headers().unwrap().clone();
        let headers: Vec<&str> = headers.iter().collect();
        let deals = Mapping::detect(Kind::Opportunities, &headers, &[]).unwrap();
        let accounts = Mapping::detect(Kind::Accounts, &["account", "employees", "website"], &[]).unwrap();
        for record in file.records().flatten() {
            let _ = deal(&deals, &reading, &record);
            let _ = account(&accounts, &record);
        }
    }
}
