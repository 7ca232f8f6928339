//! Whatever a file holds, reading it never panics: every cell parser and whole lines, on
//! arbitrary text and on arbitrary bytes through the CSV reader.

use pipewise_core::money::Currency;
use pipewise_import::{DateOrder, Kind, Mapping, Reading, account, activity, contact, deal, reader, values};
use proptest::prelude::*;

const MAVEN: &str = "opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value,Deal - Currency,Deal - Won time,Deal - Status";

/// A reader that hands out its bytes in the chunk sizes given, cycling.
struct Chunked<'a> {
    bytes: &'a [u8],
    sizes: Vec<usize>,
    turn: usize,
}

impl std::io::Read for Chunked<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let size = self.sizes[self.turn % self.sizes.len()].min(out.len()).min(self.bytes.len());
        self.turn += 1;
        out[..size].copy_from_slice(&self.bytes[..size]);
        self.bytes = &self.bytes[size..];
        Ok(size)
    }
}

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
    fn windows_line_ends_read_as_plain_ones_however_split(
        bytes in proptest::collection::vec(prop_oneof![Just(b'\r'), Just(b'\n'), Just(b'a'), Just(b','), Just(b'"')], 0..300),
        sizes in proptest::collection::vec(1usize..7, 1..5),
        out_size in 1usize..9,
    ) {
        use std::io::Read;
        let mut reader = pipewise_import::Lf::new(Chunked { bytes: &bytes, sizes, turn: 0 });
        let mut got = Vec::new();
        let mut buffer = vec![0; out_size];
        loop {
            let read = reader.read(&mut buffer).unwrap();
            if read == 0 { break; }
            got.extend_from_slice(&buffer[..read]);
        }
        let text: Vec<u8> = String::from_utf8_lossy(&bytes).replace("\r\n", "\n").into_bytes();
        prop_assert_eq!(got, text);
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
        let contacts = Mapping::detect(Kind::Contacts, &["first name", "last name", "email", "phone", "website"], &[]).unwrap();
        let activities = Mapping::detect(Kind::Activities, &["type", "subject", "date", "direction", "deal", "email", "body"], &[]).unwrap();
        for record in file.records().flatten() {
            let _ = deal(&deals, &reading, &record);
            let _ = account(&accounts, &record);
            let _ = contact(&contacts, &record);
            let _ = activity(&activities, &reading, &record);
        }
    }
}
