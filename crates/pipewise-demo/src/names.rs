//! Word lists written for Pipewise (same licence as the project): people's names in English
//! and Korean, made-up Korean companies, job titles, lead sources and competitors.
//!
//! The Korean companies are invented for the demo; any likeness to a real company is chance.

/// Common English given names.
pub const EN_FIRST: &[&str] = &[
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "William", "Elizabeth", "David", "Barbara", "Richard",
    "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen", "Daniel", "Lisa", "Matthew", "Nancy", "Anthony", "Betty", "Mark",
    "Sandra", "Donald", "Margaret", "Steven", "Ashley", "Paul", "Kimberly", "Andrew", "Emily", "Joshua", "Donna", "Kenneth", "Michelle",
    "Kevin", "Carol", "Brian", "Amanda", "George", "Melissa", "Timothy", "Deborah", "Ronald", "Stephanie", "Jason", "Rebecca", "Edward",
    "Laura", "Jeffrey", "Sharon", "Ryan", "Cynthia", "Jacob", "Kathleen", "Gary", "Amy", "Nicholas", "Angela", "Eric", "Shirley",
    "Jonathan", "Anna", "Stephen", "Ruth", "Larry", "Brenda", "Justin", "Pamela", "Scott", "Nicole", "Brandon", "Katherine", "Benjamin",
    "Samantha", "Samuel", "Christine", "Gregory", "Emma", "Alexander", "Catherine", "Patrick", "Debra", "Frank", "Rachel", "Raymond",
    "Carolyn", "Jack", "Janet", "Dennis", "Maria", "Jerry", "Olivia", "Tyler", "Heather", "Aaron", "Helen", "Henry", "Diane", "Adam",
    "Julie", "Nathan", "Victoria", "Peter", "Lauren", "Zachary", "Grace", "Oliver", "Sophie", "Lucas", "Chloe", "Priya", "Ravi", "Mei",
    "Wei", "Carlos", "Sofia", "Lars", "Ingrid", "Pierre", "Camille", "Hans", "Greta", "Marco", "Giulia", "Yuki", "Hiroshi",
];

/// Common English family names.
pub const EN_LAST: &[&str] = &[
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez", "Hernandez", "Lopez",
    "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris",
    "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill",
    "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Gomez", "Phillips",
    "Evans", "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris", "Morales", "Murphy", "Cook",
    "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Cox", "Ward",
    "Richardson", "Watson", "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes", "Price", "Alvarez",
    "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez", "Powell", "Jenkins", "Perry", "Russell", "Sullivan",
    "Bell", "Coleman", "Butler", "Henderson", "Barnes", "Fisher", "Vasquez", "Simmons", "Graham", "Murray", "Ford", "Hamilton",
    "Schmidt", "Müller", "Dubois", "Rossi", "Jensen", "Nakamura", "Tanaka", "Chen", "Wang", "Singh", "O'Brien", "MacLeod",
];

/// Korean family names with their usual romanisation and their share of the population in
/// percent (Statistics Korea, 2015 census, rounded).
pub const KO_FAMILY: &[(&str, &str, f64)] = &[
    ("김", "kim", 21.5),
    ("이", "lee", 14.7),
    ("박", "park", 8.4),
    ("최", "choi", 4.7),
    ("정", "jung", 4.3),
    ("강", "kang", 2.3),
    ("조", "cho", 2.1),
    ("윤", "yoon", 2.0),
    ("장", "jang", 2.0),
    ("임", "lim", 1.7),
    ("한", "han", 1.5),
    ("오", "oh", 1.5),
    ("서", "seo", 1.5),
    ("신", "shin", 1.4),
    ("권", "kwon", 1.4),
    ("황", "hwang", 1.4),
    ("안", "ahn", 1.3),
    ("송", "song", 1.3),
    ("전", "jeon", 1.1),
    ("홍", "hong", 1.1),
    ("유", "yoo", 1.1),
    ("고", "ko", 0.9),
    ("문", "moon", 0.9),
    ("양", "yang", 0.9),
    ("손", "son", 0.9),
    ("배", "bae", 0.8),
    ("백", "baek", 0.8),
    ("허", "heo", 0.7),
    ("남", "nam", 0.5),
    ("노", "noh", 0.4),
];

/// Korean given names with a romanisation used for e-mail addresses.
pub const KO_GIVEN: &[(&str, &str)] = &[
    ("민준", "minjun"),
    ("서준", "seojun"),
    ("도윤", "doyun"),
    ("예준", "yejun"),
    ("시우", "siwoo"),
    ("하준", "hajun"),
    ("지호", "jiho"),
    ("주원", "juwon"),
    ("지훈", "jihoon"),
    ("준서", "junseo"),
    ("건우", "geonwoo"),
    ("현우", "hyunwoo"),
    ("우진", "woojin"),
    ("선우", "sunwoo"),
    ("연우", "yeonwoo"),
    ("정우", "jungwoo"),
    ("승현", "seunghyun"),
    ("동현", "donghyun"),
    ("성민", "sungmin"),
    ("재현", "jaehyun"),
    ("상훈", "sanghoon"),
    ("영호", "youngho"),
    ("태현", "taehyun"),
    ("진호", "jinho"),
    ("병철", "byungchul"),
    ("정훈", "junghoon"),
    ("성호", "sungho"),
    ("민수", "minsu"),
    ("준혁", "junhyuk"),
    ("진우", "jinwoo"),
    ("민재", "minjae"),
    ("영수", "youngsoo"),
    ("경민", "kyungmin"),
    ("한결", "hangyeol"),
    ("수빈", "subin"),
    ("서연", "seoyeon"),
    ("서윤", "seoyun"),
    ("지우", "jiwoo"),
    ("서현", "seohyun"),
    ("민서", "minseo"),
    ("하은", "haeun"),
    ("하윤", "hayun"),
    ("윤서", "yunseo"),
    ("지민", "jimin"),
    ("채원", "chaewon"),
    ("수아", "sua"),
    ("지아", "jia"),
    ("은지", "eunji"),
    ("수진", "sujin"),
    ("혜진", "hyejin"),
    ("지영", "jiyoung"),
    ("미경", "mikyung"),
    ("은영", "eunyoung"),
    ("현정", "hyunjung"),
    ("유진", "yujin"),
    ("소연", "soyeon"),
    ("민지", "minji"),
    ("예린", "yerin"),
    ("다은", "daeun"),
    ("나연", "nayeon"),
    ("세영", "seyoung"),
    ("은서", "eunseo"),
    ("보람", "boram"),
    ("하늘", "haneul"),
];

/// Made-up Korean companies: name, domain, industry (the categories of `companies.tsv`) and
/// head count.
pub const KO_COMPANIES: &[(&str, &str, &str, i64)] = &[
    ("한빛데이터", "hanbitdata.co.kr", "Software", 420),
    ("세종정밀", "sejongprecision.co.kr", "Industrials", 1850),
    ("동해물산", "donghaemulsan.co.kr", "Retail", 2300),
    ("청솔바이오", "chungsolbio.co.kr", "Pharmaceuticals & biotech", 640),
    ("미르모빌리티", "mirmobility.co.kr", "Automotive", 3100),
    ("가람건설", "garamconst.co.kr", "Construction", 2750),
    ("다온금융", "daonfinance.co.kr", "Financial services", 980),
    ("새봄식품", "saebomfood.co.kr", "Food & beverage", 1400),
    ("한결에너지", "hangyeolenergy.co.kr", "Energy", 860),
    ("온누리헬스케어", "onnurihealth.co.kr", "Healthcare", 1200),
    ("별빛엔터테인먼트", "byeolbitent.co.kr", "Media & entertainment", 310),
    ("푸른물류", "pureunlogis.co.kr", "Transportation & logistics", 2050),
    ("아라소재", "aramaterials.co.kr", "Chemicals & materials", 1650),
    ("나래항공우주", "naraeaero.co.kr", "Aerospace & defense", 4200),
    ("해솔반도체", "haesolsemi.co.kr", "Semiconductors", 5600),
    ("도담손해보험", "dodaminsurance.co.kr", "Insurance", 2900),
    ("비추네트웍스", "bichunet.co.kr", "Telecommunications", 730),
    ("여울저축은행", "yeoulbank.co.kr", "Banking", 540),
    ("솔빛전자", "solbitelec.co.kr", "Information technology", 7800),
    ("한마루리테일", "hanmaruretail.co.kr", "Retail", 3600),
    ("그린나래에너지솔루션", "greennarae.co.kr", "Utilities", 450),
    ("별하IT서비스", "byeolhaits.co.kr", "IT services", 690),
    ("초록부동산신탁", "choroktrust.co.kr", "Real estate", 220),
    ("다솜코스메틱", "dasomcosmetics.co.kr", "Consumer goods", 880),
    ("마루시스템즈", "marusystems.co.kr", "Software", 260),
    ("보늬제약", "bonuipharm.co.kr", "Pharmaceuticals & biotech", 1900),
    ("한울중공업", "hanulheavy.co.kr", "Industrials", 11200),
    ("새길모터스", "saegilmotors.co.kr", "Automotive", 6400),
    ("하람컨설팅", "haramconsulting.co.kr", "Business services", 150),
    ("늘봄리조트", "neulbomresort.co.kr", "Travel & hospitality", 1300),
    ("가온클라우드", "gaoncloud.co.kr", "Software", 340),
    ("이음통신", "ieumtel.co.kr", "Telecommunications", 4800),
    ("모아캐피탈", "moacapital.co.kr", "Financial services", 610),
    ("단비케미칼", "danbichem.co.kr", "Chemicals & materials", 2200),
    ("한빛로보틱스", "hanbitrobotics.co.kr", "Industrials", 390),
    ("시온메디칼", "sionmedical.co.kr", "Healthcare", 520),
    ("은하게임즈", "eunhagames.co.kr", "Media & entertainment", 950),
    ("바른정보기술", "bareunit.co.kr", "IT services", 1750),
    ("오름에너지", "oreumenergy.co.kr", "Energy", 1100),
    ("미소푸드", "misofood.co.kr", "Food & beverage", 2600),
    ("참빛디스플레이", "chambitdisplay.co.kr", "Semiconductors", 8300),
    ("서린상사", "seorintrading.co.kr", "Retail", 480),
];

/// Contact job titles by seniority: executives, department heads, staff.
pub const EN_TITLES: [&[&str]; 3] = [
    &[
        "Chief Executive Officer",
        "Chief Financial Officer",
        "Chief Information Officer",
        "Chief Revenue Officer",
        "Chief Operating Officer",
        "VP of Sales",
        "VP of Operations",
        "VP of Engineering",
    ],
    &[
        "Head of IT",
        "Director of Sales Operations",
        "Director of Procurement",
        "Head of Finance",
        "Director of Engineering",
        "Head of Customer Success",
        "IT Director",
        "Director of Marketing",
    ],
    &[
        "Procurement Manager",
        "IT Manager",
        "Sales Operations Manager",
        "Business Analyst",
        "Solutions Architect",
        "Project Manager",
        "Finance Manager",
        "Systems Administrator",
        "Operations Analyst",
    ],
];

/// The same three levels as Korean company titles.
pub const KO_TITLES: [&[&str]; 3] = [
    &["대표이사", "전무", "상무", "CFO", "CIO", "영업본부장"],
    &["IT전략팀 팀장", "구매팀 팀장", "영업기획팀 팀장", "재무팀 부장", "정보시스템실 실장", "경영지원팀 부장"],
    &["구매팀 과장", "IT전략팀 차장", "영업기획팀 대리", "정보시스템실 과장", "재무팀 대리", "경영지원팀 과장", "전산팀 주임"],
];

/// Where leads come from.
pub const LEAD_SOURCES: &[(&str, f64)] = &[
    ("Web form", 30.0),
    ("Webinar", 12.0),
    ("Event", 12.0),
    ("Referral", 10.0),
    ("Outbound", 16.0),
    ("Partner", 8.0),
    ("Content download", 10.0),
    ("Import", 2.0),
];

/// Competitors a deal can be lost to. Made up.
pub const COMPETITORS: &[&str] = &["Forecastly", "DealFlow", "Pipelytics", "QuotaHub", "Closewise"];

/// Free-mail domains for leads that came in with a personal address.
pub const FREE_MAIL: &[&str] = &["gmail.com", "outlook.com", "naver.com", "yahoo.com", "daum.net"];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn lists_are_clean_and_unique() {
        for list in [EN_FIRST, EN_LAST] {
            let unique: BTreeSet<_> = list.iter().collect();
            assert_eq!(unique.len(), list.len());
            assert!(list.iter().all(|name| !name.trim().is_empty() && name.trim() == *name));
        }
        let given: BTreeSet<_> = KO_GIVEN.iter().map(|(hangul, _)| hangul).collect();
        assert_eq!(given.len(), KO_GIVEN.len());
        for (_, roman) in KO_GIVEN.iter().copied().chain(KO_FAMILY.iter().map(|(h, r, _)| (*h, *r))) {
            assert!(roman.chars().all(|c| c.is_ascii_lowercase()), "{roman}");
        }
        let domains: BTreeSet<_> = KO_COMPANIES.iter().map(|company| company.1).collect();
        assert_eq!(domains.len(), KO_COMPANIES.len());
        for (name, domain, _, employees) in KO_COMPANIES {
            assert!(pipewise_core::text::domain(domain).is_ok(), "{domain}");
            assert!(!name.is_empty() && *employees > 0);
        }
    }
}
