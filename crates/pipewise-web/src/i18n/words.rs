//! The domain's facts in words: stage names, health flags and levers, and core's validation
//! problems.

use pipewise_analytics::health::{Flag, LeverAdvice};
use pipewise_analytics::projection::StageInfo;
use pipewise_analytics::{FlagCode, Projection};
use pipewise_core::error::Problem;
use pipewise_core::fiscal::{FiscalCalendar, FiscalPeriod, PeriodKind};
use pipewise_core::gates::MoveCheck;
use pipewise_core::money::Decimal;
use pipewise_core::pipeline::Stage;
use pipewise_core::{Arg, Message};

use super::{Locale, t, tf};

/// A stage's name in `locale` (Korean falls back to English when a stage has no Korean name).
pub fn stage_name(locale: Locale, stage: &Stage) -> &str {
    match locale {
        Locale::Ko if !stage.name_ko.trim().is_empty() => &stage.name_ko,
        _ => &stage.name_en,
    }
}

/// A stage of the analytics projection in `locale`, as health reasons and the analytics API
/// name it: its Korean name as it is, even a blank one (unlike [`stage_name`]).
pub fn projection_stage_name(locale: Locale, stage: &StageInfo) -> &str {
    match locale {
        Locale::En => &stage.name_en,
        Locale::Ko => &stage.name_ko,
    }
}

/// Why a health flag or signal was raised ([`Flag`], from `pipewise_analytics::health`), in
/// `locale`: the message `health.reason.<code>` with the flag's numbers and the name of the
/// stage it names in `projection`. The dashboards, the board's badges, the deal page and the
/// analytics API all word flags with it.
pub fn health_reason(locale: Locale, projection: &Projection, flag: &Flag) -> String {
    let stage = flag.stage.map_or("", |stage| projection_stage_name(locale, &projection.stages[usize::from(stage)]));
    flag_reason(locale, flag, stage)
}

/// [`health_reason`] with the stage's name given (ignored when the flag names no stage). The
/// messages' arguments: `value`, `limit` and `total` as the flag has them (what each means is
/// in [`Flag`]'s documentation), except thin pipeline's coverage percentages, written as
/// multiples (`57` → `0.57`); `share`, `value` in percent of `total` (rounded down; 0 without a
/// total); `stage`.
pub fn flag_reason(locale: Locale, flag: &Flag, stage: &str) -> String {
    let times = |percent: i64| format!("{}.{:02}", percent / 100, percent % 100);
    let (value, limit) = match flag.code {
        FlagCode::ThinPipeline => (times(flag.value), times(flag.limit)),
        _ => (flag.value.to_string(), flag.limit.to_string()),
    };
    let share = if flag.total == 0 { 0 } else { flag.value * 100 / flag.total };
    // A count of none or one reads its own way where the catalog says so ("no contact engaged",
    // "pushed once"), never "only 0 contact" or "1 times".
    let key = format!("health.reason.{}", flag.code.as_str());
    let counted = match flag.value {
        0 => format!("{key}.zero"),
        1 => format!("{key}.one"),
        _ => key.clone(),
    };
    let key = if flag.code != FlagCode::ThinPipeline && super::has(&counted) { counted } else { key };
    tf(
        locale,
        &key,
        &[("value", &value), ("limit", &limit), ("total", &flag.total.to_string()), ("share", &share.to_string()), ("stage", stage)],
    )
}

/// The next lever's advice ([`LeverAdvice`]) in `locale`: the message `health.lever.<lever>`
/// with the coverage and its target as multiples (`0.57`, `3.00`) and, when the win rate is
/// known, `health.lever.conversion` (the win rate by value and the share of the remaining quota
/// it closes, in percent) as its `conversion`.
pub fn lever_reason(locale: Locale, advice: &LeverAdvice) -> String {
    let conversion = match (advice.win_rate_by_value, advice.expected()) {
        (Some(win_rate), Some(expected)) => tf(
            locale,
            "health.lever.conversion",
            &[("win_rate", &win_rate.percent(1).to_string()), ("expected", &expected.percent(0).to_string())],
        ),
        _ => String::new(),
    };
    let target = Decimal::new(i64::from(advice.coverage_target_pct), 2);
    tf(
        locale,
        &format!("health.lever.{}", advice.lever.as_str()),
        &[("coverage", &advice.coverage.round(2).to_string()), ("target", &target.to_string()), ("conversion", &conversion)],
    )
}

/// A validation problem in `locale`; a broken rule ([`Problem::Fact`]) is worded from its
/// catalog entry like any [`Message`].
pub fn problem(locale: Locale, problem: &Problem) -> String {
    match problem {
        Problem::Required => t(locale, "problem.required").to_owned(),
        Problem::Invalid { value, expected } => {
            let expected = match *expected {
                "a date" => t(locale, "expected.date"),
                "a decimal amount" => t(locale, "expected.amount"),
                "an id" => t(locale, "expected.id"),
                "a contact of this account" => t(locale, "expected.contact"),
                "yes or no" => t(locale, "expected.yes_no"),
                "a whole number" => t(locale, "expected.whole_number"),
                other => other,
            };
            tf(locale, "problem.invalid", &[("value", &format!("{value:?}")), ("expected", expected)])
        }
        Problem::TooLong { len, max } => tf(locale, "problem.too_long", &[("len", &len.to_string()), ("max", &max.to_string())]),
        Problem::ControlCharacter => t(locale, "problem.control_character").to_owned(),
        Problem::UnknownCurrency { value } => tf(locale, "problem.unknown_currency", &[("value", &format!("{value:?}"))]),
        Problem::TooPrecise { amount, currency, scale, minor_units } => tf(
            locale,
            "problem.too_precise",
            &[("amount", amount), ("scale", &scale.to_string()), ("currency", currency), ("minor_units", &minor_units.to_string())],
        ),
        Problem::Negative { value } => tf(locale, "problem.negative", &[("value", value)]),
        Problem::OutOfRange { value, range } => tf(locale, "problem.out_of_range", &[("value", value), ("range", range)]),
        Problem::UnknownReference { kind, id } => tf(locale, "problem.unknown_reference", &[("kind", kind), ("id", &id.to_string())]),
        Problem::Fact(fact) => message(locale, fact),
        Problem::InItem { item, problem: inner } => {
            tf(locale, "problem.in_item", &[("item", &item.to_string()), ("problem", &self::problem(locale, inner))])
        }
    }
}

/// A [`Message`] from a pure crate in `locale`: its entry with every argument filled in, terms
/// and sentences within worded the same way, lists joined by their separator entry.
pub fn message(locale: Locale, message: &Message) -> String {
    let args: Vec<(&str, String)> = message.args.iter().map(|(name, arg)| (name.as_str(), argument(locale, arg))).collect();
    let args: Vec<(&str, &str)> = args.iter().map(|(name, value)| (*name, value.as_str())).collect();
    tf(locale, &message.key, &args)
}

fn argument(locale: Locale, arg: &Arg) -> String {
    match arg {
        Arg::Text(text) => text.clone(),
        Arg::Term(key) => t(locale, key).to_owned(),
        Arg::Message(inner) => message(locale, inner),
        Arg::List { items, separator } => {
            let items: Vec<String> = items.iter().map(|item| argument(locale, item)).collect();
            items.join(t(locale, separator))
        }
    }
}

/// A refused stage move's unmet criteria in `locale`, one line each, stage by stage:
/// `2 Problem recognition: Requirements confirmed: not checked yet`.
pub fn unmet_lines(locale: Locale, check: &MoveCheck) -> Vec<String> {
    let mut lines = Vec::new();
    for stage in &check.missing {
        for unmet in &stage.unmet {
            let (stage_name, label) = match locale {
                Locale::Ko if !stage.stage_name_ko.trim().is_empty() => (&stage.stage_name_ko, &unmet.label_ko),
                Locale::Ko => (&stage.stage_name_en, &unmet.label_ko),
                Locale::En => (&stage.stage_name_en, &unmet.label_en),
            };
            lines.push(format!("{stage_name}: {label}: {}", message(locale, &unmet.reason)));
        }
    }
    lines
}

/// A fiscal period as people say it: `Q2 2026` (`Q2 FY2027` when the fiscal year does not start
/// in January), `March 2026`, `Week 5, 2026`.
pub fn period_label(locale: Locale, calendar: FiscalCalendar, period: &FiscalPeriod) -> String {
    let fiscal = calendar != FiscalCalendar::CALENDAR_YEAR;
    let year = period.year.to_string();
    let number = period.number.to_string();
    match period.kind {
        PeriodKind::Year => tf(locale, if fiscal { "period.fiscal_year" } else { "period.year" }, &[("year", &year)]),
        PeriodKind::Quarter => {
            tf(locale, if fiscal { "period.fiscal_quarter" } else { "period.quarter" }, &[("year", &year), ("quarter", &number)])
        }
        // A month is the calendar's, whatever the fiscal year.
        PeriodKind::Month => {
            let month = t(locale, &format!("month.{}", period.first.month()));
            tf(locale, "period.month", &[("year", &period.first.year().to_string()), ("month", month)])
        }
        PeriodKind::Week => tf(locale, if fiscal { "period.fiscal_week" } else { "period.week" }, &[("year", &year), ("week", &number)]),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use pipewise_analytics::Lever;

    use super::*;
    use crate::i18n::tests::{quoted_words, web_sources};
    use crate::i18n::{LOCALES, file, messages};

    #[test]
    fn every_problem_has_a_korean_message() {
        let problems = [
            Problem::Required,
            Problem::Invalid { value: "x".into(), expected: "a date" },
            Problem::TooLong { len: 300, max: 200 },
            Problem::ControlCharacter,
            Problem::UnknownCurrency { value: "ZZZ".into() },
            Problem::TooPrecise { amount: "12.345".into(), currency: "USD", scale: 3, minor_units: 2 },
            Problem::Negative { value: "USD -5.00".into() },
            Problem::OutOfRange { value: "1800-01-01".into(), range: "years 1900 to 2200" },
            Problem::UnknownReference { kind: "account", id: 9 },
            Problem::InItem { item: 2, problem: Box::new(Problem::Required) },
        ];
        for problem in &problems {
            // English matches core's own wording exactly.
            assert_eq!(super::problem(Locale::En, problem), problem.to_string());
            assert!(super::problem(Locale::Ko, problem).chars().any(|c| ('가'..='힣').contains(&c)), "{problem}");
        }
        assert_eq!(super::problem(Locale::Ko, &problems[5]), "12.345은(는) 소수점 이하 3자리이지만 USD는 2자리까지입니다");
        // A broken rule is a fact, worded from its entry (its Display is unworded).
        let rule = Problem::Fact(Message::new("rule.lost_needs_reason"));
        assert_eq!(super::problem(Locale::En, &rule), "a lost deal needs the reason it was lost");
        assert_eq!(super::problem(Locale::Ko, &rule), "실주한 거래에는 실주 사유가 필요합니다");
    }

    /// Rules read in English as the code wrote them before they were facts, and in Korean:
    /// an argument used twice, terms, and a rule within an item.
    #[test]
    fn rules_read_in_both_languages() {
        let cases = [
            (
                Problem::Fact(Message::new("rule.manager_loop").text("manager", 2).text("user", 1)),
                "user 2 reports to user 1, so user 1 cannot report to them",
                "사용자 2이(가) 사용자 1에게 보고하므로 사용자 1은(는) 그 사용자에게 보고할 수 없음",
            ),
            (
                Problem::Fact(
                    Message::new("rule.closed_forecast").term("status", "term.status.lost").term("category", "term.forecast.omitted"),
                ),
                "a lost deal's forecast category is omitted",
                "실주 거래의 예측 범주는 제외임",
            ),
            (
                Problem::InItem { item: 2, problem: Box::new(Problem::Fact(Message::new("rule.unknown_field").text("field", "\"mood\""))) },
                "item 2: unknown field \"mood\"",
                "2번째 항목: 알 수 없는 필드 \"mood\"",
            ),
        ];
        for (problem, english, korean) in cases {
            assert_eq!(super::problem(Locale::En, &problem), english);
            assert_eq!(super::problem(Locale::Ko, &problem), korean);
        }
    }

    /// The health messages are exactly the codes' labels and reasons, the levers' advice and
    /// what the code writes out: none missing, none left over under the broad `health.` prefix.
    #[test]
    fn health_messages_match_the_codes() {
        let levers = [Lever::FillTheFunnel, Lever::ConvertWhatYouHave].map(|lever| format!("health.lever.{}", lever.as_str()));
        let built: HashSet<String> = FlagCode::ALL
            .iter()
            .flat_map(|code| [format!("health.{}", code.as_str()), format!("health.reason.{}", code.as_str())])
            .chain(levers)
            .collect();
        for key in &built {
            for locale in LOCALES {
                assert!(messages(locale).contains_key(key), "{key:?} is not in {}", file(locale).0);
            }
        }
        let sources = web_sources();
        let mut written = HashSet::new();
        for source in &sources {
            quoted_words(&source.text, &mut written);
        }
        let mut stray: Vec<&str> = messages(Locale::En)
            .keys()
            .map(String::as_str)
            // A reason's count variants (`.zero`, `.one`) belong to its code.
            .filter(|key| {
                let base = key.strip_suffix(".zero").or_else(|| key.strip_suffix(".one")).unwrap_or(key);
                key.starts_with("health.") && !built.contains(base) && !written.contains(key)
            })
            .collect();
        stray.sort_unstable();
        assert!(stray.is_empty(), "no flag, signal or lever has these health messages: {stray:?}");
    }

    /// Every reason reads as the analytics worded it before the catalogs did (golden tests of
    /// pipewise-analytics: the same numbers and stages).
    #[test]
    fn health_reasons_read_as_before() {
        let flag = |code, value, limit, total| Flag { code, stage: Some(1), value, limit, total };
        let (en, ko) = ("2 Problem recognition", "2 비즈니스 과제의 인식");
        let cases = [
            (
                flag(FlagCode::PastCloseDate, 10, 0, 0),
                "The close date passed 10 days ago and the deal is still open.",
                "예상 마감일이 10일 지났는데 거래가 아직 진행 중입니다.",
            ),
            (
                flag(FlagCode::Stale, 89, 45, 0),
                "No stage movement for 89 days in 2 Problem recognition (rotting age 45 days).",
                "'2 비즈니스 과제의 인식' 단계에서 89일째 움직임이 없습니다 (기준 45일).",
            ),
            (
                flag(FlagCode::TeamStalling, 2, 50, 2),
                "2 of 2 reps stall at 2 Problem recognition: a process problem, not a rep problem.",
                "담당자 2명 중 2명이 '2 비즈니스 과제의 인식' 단계에서 정체되어 있습니다: 개인이 아닌 프로세스의 문제입니다.",
            ),
            (
                Flag { stage: None, ..flag(FlagCode::ThinPipeline, 57, 300, 0) },
                "Thin pipeline: coverage is 0.57× against a 3.00× target.",
                "파이프라인이 얇습니다: 커버리지가 목표 3.00배에 못 미치는 0.57배입니다.",
            ),
            (
                flag(FlagCode::Bottleneck, 3, 40, 6),
                "Bottleneck: 3 of 6 open deals (50%) sit in 2 Problem recognition (limit 40%).",
                "병목: 진행 중인 거래 6건 중 3건(50%)이 '2 비즈니스 과제의 인식' 단계에 몰려 있습니다 (기준 40%).",
            ),
            (flag(FlagCode::NoAmount, 0, 0, 0), "The open deal has no amount.", "진행 중인 거래에 금액이 없습니다."),
            // Counts of none and one read naturally (issue 16, point 7).
            (
                flag(FlagCode::SingleThreaded, 0, 1, 0),
                "Single-threaded: no contact engaged at the customer yet.",
                "고객 측에서 관여하는 연락 상대가 아직 없습니다 (단일 창구).",
            ),
            (
                flag(FlagCode::SingleThreaded, 1, 1, 0),
                "Single-threaded: only one contact engaged at the customer.",
                "고객 측에서 관여하는 연락 상대가 한 명뿐입니다 (단일 창구).",
            ),
            (
                flag(FlagCode::OverdueTasks, 1, 0, 0),
                "One task or close-plan item is overdue.",
                "기한이 지난 작업 또는 마감 계획 항목이 하나 있습니다.",
            ),
            (
                flag(FlagCode::OverdueTasks, 3, 0, 0),
                "3 tasks or close-plan items are overdue.",
                "기한이 지난 작업 또는 마감 계획 항목이 3개 있습니다.",
            ),
        ];
        for (flag, english, korean) in cases {
            assert_eq!(flag_reason(Locale::En, &flag, en), english);
            assert_eq!(flag_reason(Locale::Ko, &flag, ko), korean);
        }
        // The golden book's lever: C = 4/7, W = 18/47 by value, against 3×.
        let ratio = |numerator, denominator| pipewise_analytics::Ratio::new(numerator, denominator).unwrap();
        let fill = LeverAdvice {
            lever: Lever::FillTheFunnel,
            coverage: ratio(4, 7),
            win_rate_by_value: Some(ratio(18, 47)),
            coverage_target_pct: 300,
        };
        assert_eq!(
            lever_reason(Locale::En, &fill),
            "Fill the top of the funnel: coverage is 0.57× against a 3.00× target. At the recent win rate of 38.3% by value, the pipeline would close 22% of the remaining quota."
        );
        assert_eq!(
            lever_reason(Locale::Ko, &fill),
            "퍼널 상단을 채우세요: 커버리지가 목표 3.00배에 못 미치는 0.57배입니다. 최근 금액 기준 승률 38.3%로는 남은 할당량의 22%를 달성하게 됩니다."
        );
        let convert =
            LeverAdvice { lever: Lever::ConvertWhatYouHave, coverage: ratio(7, 2), win_rate_by_value: None, coverage_target_pct: 300 };
        assert_eq!(
            lever_reason(Locale::En, &convert),
            "Convert what you have: coverage is 3.50× (target 3.00×); the lever is closing these deals."
        );
        assert_eq!(
            lever_reason(Locale::Ko, &convert),
            "가진 파이프라인을 전환하세요: 커버리지는 3.50배(목표 3.00배)이며, 지금 필요한 것은 이 거래들의 성사입니다."
        );
    }

    #[test]
    fn rules_have_distinct_english_texts() {
        let mut seen = HashSet::new();
        for (key, text) in messages(Locale::En).iter().filter(|(key, _)| key.starts_with("rule.")) {
            assert!(seen.insert(text.as_str()), "{key}: another rule has the same English text: one entry a sentence");
        }
    }
}
