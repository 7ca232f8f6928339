//! Every string the web app shows, in English and Korean, from one catalog ([`CATALOG`]), and
//! how money, dates and times are written in each language.
//!
//! - A message is looked up by key (`nav.board`); `{name}` placeholders are filled by [`tf`].
//!   Tests check that every key has both languages with the same placeholders and that every key
//!   a template uses exists.
//! - Money keeps its exact value: `USD 12,000.00`, `KRW 1,500,000` (the currency's own minor
//!   units, comma thousands separators, the ISO code first) in both languages. Column totals may
//!   be written compactly (`USD 5.1M`, `USD 512만`) with the exact value beside them.
//! - Dates are `2026-11-22` in English and `2026년 11월 22일` in Korean; times are shown in the
//!   reader's time zone.

use std::collections::HashMap;
use std::sync::OnceLock;

use pipewise_core::error::Problem;
use pipewise_core::money::{Decimal, MoneyBag};
use pipewise_core::pipeline::Stage;
pub use pipewise_core::user::Locale;
use pipewise_core::{Date, Money, Timestamp};

/// One message: its key, English and Korean text.
pub type Message = (&'static str, &'static str, &'static str);

/// The catalog. Keys are unique; both texts carry the same `{placeholders}`.
pub static CATALOG: &[Message] = &[
    ("app.name", "Pipewise", "Pipewise"),
    ("app.skip", "Skip to content", "본문으로 건너뛰기"),
    // Navigation.
    ("nav.board", "Board", "보드"),
    ("nav.deals", "Deals", "거래"),
    ("nav.accounts", "Accounts", "고객사"),
    ("nav.contacts", "Contacts", "연락처"),
    ("nav.tasks", "Tasks", "할 일"),
    ("nav.users", "Users", "사용자"),
    ("nav.audit", "Audit log", "감사 로그"),
    ("nav.account", "My account", "내 계정"),
    ("nav.sign_out", "Sign out", "로그아웃"),
    // Sign-in.
    ("login.title", "Sign in", "로그인"),
    ("login.tagline", "Your sales pipeline, on your own server.", "내 서버에서 운영하는 영업 파이프라인."),
    ("login.email", "E-mail", "이메일"),
    ("login.password", "Password", "비밀번호"),
    ("login.submit", "Sign in", "로그인"),
    ("login.wrong", "The e-mail address or password is wrong.", "이메일 주소 또는 비밀번호가 올바르지 않습니다."),
    (
        "login.throttled",
        "Too many failed sign-ins. Try again in {minutes} minutes.",
        "로그인 실패가 너무 많습니다. {minutes}분 후에 다시 시도하세요.",
    ),
    ("login.signed_out", "You have signed out.", "로그아웃했습니다."),
    // My account.
    ("account.title", "My account", "내 계정"),
    ("account.profile", "Profile", "프로필"),
    ("account.password", "Change password", "비밀번호 변경"),
    ("account.preferences", "Language and time zone", "언어와 시간대"),
    ("account.save_preferences", "Save", "저장"),
    (
        "account.preferences_saved",
        "Saved: pages now use your language and time zone.",
        "저장했습니다. 이제 선택한 언어와 시간대로 표시됩니다.",
    ),
    ("account.current_password", "Current password", "현재 비밀번호"),
    ("account.new_password", "New password", "새 비밀번호"),
    ("account.confirm_password", "Repeat the new password", "새 비밀번호 확인"),
    (
        "account.password_hint",
        "At least {min} characters. Your other sessions will be signed out.",
        "{min}자 이상. 다른 기기의 세션은 모두 로그아웃됩니다.",
    ),
    ("account.password_changed", "Your password has been changed.", "비밀번호를 변경했습니다."),
    ("account.password_mismatch", "The two new passwords differ.", "새 비밀번호가 서로 다릅니다."),
    ("account.password_wrong", "The current password is wrong.", "현재 비밀번호가 올바르지 않습니다."),
    ("account.password_short", "A password needs at least {min} characters.", "비밀번호는 {min}자 이상이어야 합니다."),
    ("account.tokens", "API tokens", "API 토큰"),
    (
        "account.tokens_hint",
        "A token acts with your rights in the JSON API. Send it as the header Authorization: Bearer <token>.",
        "토큰은 JSON API에서 내 권한으로 동작합니다. Authorization: Bearer <토큰> 헤더로 보내세요.",
    ),
    ("account.token_name", "Token name", "토큰 이름"),
    ("account.create_token", "Create token", "토큰 만들기"),
    ("account.token_created", "Copy this token now: it is shown only once.", "지금 이 토큰을 복사하세요. 다시 표시되지 않습니다."),
    ("account.token_prefix", "Starts with", "앞부분"),
    ("account.token_created_at", "Created", "만든 시각"),
    ("account.token_last_used", "Last used", "마지막 사용"),
    ("account.token_revoke", "Revoke", "폐기"),
    ("account.token_revoked", "Revoked", "폐기됨"),
    ("account.token_revoked_done", "The token has been revoked.", "토큰을 폐기했습니다."),
    ("account.no_tokens", "No tokens yet.", "아직 토큰이 없습니다."),
    ("account.never", "never", "없음"),
    ("account.copy", "Copy", "복사"),
    // The board.
    ("board.title", "Pipeline board", "파이프라인 보드"),
    ("board.pipeline", "Pipeline", "파이프라인"),
    ("board.owner", "Owner", "담당자"),
    ("board.everyone", "Everyone I can see", "볼 수 있는 모든 담당자"),
    ("board.show", "Show", "보기"),
    ("board.deal_count", "{count} deals", "거래 {count}건"),
    ("board.more", "{count} more in the deal list", "거래 목록에서 {count}건 더 보기"),
    ("board.move", "Move to stage", "단계 이동"),
    ("board.move_button", "Move", "이동"),
    ("board.closed_recent", "Closed in the last 30 days", "최근 30일 마감"),
    ("board.drop_hint", "Drop a card here", "카드를 여기에 놓으세요"),
    (
        "board.keyboard_hint",
        "Keyboard: Tab to a card, then Shift+→ or Shift+← moves it one stage; or use its Move menu.",
        "키보드: Tab으로 카드를 선택한 뒤 Shift+→ / Shift+←로 한 단계씩 옮기거나 카드의 이동 메뉴를 쓰세요.",
    ),
    ("board.empty", "No deals", "거래 없음"),
    ("board.no_amount", "no amount", "금액 없음"),
    ("board.no_close_date", "no close date", "마감일 없음"),
    ("board.no_activity", "no activity", "활동 없음"),
    ("board.overdue", "The close date has passed", "마감 예정일이 지났습니다"),
    ("board.lost_reason_title", "Why was this deal lost?", "거래를 놓친 이유는 무엇인가요?"),
    ("board.lost_reason_label", "Reason (required)", "사유 (필수)"),
    ("board.won_reason_label", "Reason (optional)", "사유 (선택)"),
    ("board.cancel", "Cancel", "취소"),
    ("board.confirm", "Move", "이동"),
    ("board.moved", "Moved {name} to {stage}.", "{name} 거래를 {stage} 단계로 옮겼습니다."),
    ("board.move_failed", "Not moved", "이동하지 못했습니다"),
    (
        "board.network_error",
        "The server could not be reached. Nothing was changed.",
        "서버에 연결할 수 없습니다. 아무것도 바뀌지 않았습니다.",
    ),
    (
        "board.per_currency",
        "Some amounts cannot be converted into {currency} today, so the total is shown per currency.",
        "일부 금액을 오늘 환율로 {currency}로 환산할 수 없어 통화별 합계를 표시합니다.",
    ),
    ("board.no_pipelines", "There are no pipelines yet.", "아직 파이프라인이 없습니다."),
    ("board.last_activity", "Last activity", "마지막 활동"),
    // Moving a deal without JavaScript.
    ("move.title", "Move “{name}”", "“{name}” 이동"),
    ("move.to", "New stage", "새 단계"),
    ("move.back", "Back to the board", "보드로 돌아가기"),
    // Record fields.
    ("field.name", "Name", "이름"),
    ("field.deal", "Deal", "거래"),
    ("field.account_id", "Account", "고객사"),
    ("field.owner_id", "Owner", "담당자"),
    ("field.pipeline_id", "Pipeline", "파이프라인"),
    ("field.stage_id", "Stage", "단계"),
    ("field.amount", "Amount", "금액"),
    ("field.currency", "Currency", "통화"),
    ("field.close_date", "Close date", "마감 예정일"),
    ("field.forecast_category", "Forecast category", "예측 범주"),
    ("field.next_step", "Next step", "다음 액션"),
    ("field.status", "Status", "상태"),
    ("field.closed_at", "Closed at", "마감 시각"),
    ("field.close_reason", "Close reason", "마감 사유"),
    ("field.created_at", "Created", "생성"),
    ("field.last_activity", "Last activity", "마지막 활동"),
    ("field.domains", "Domains", "도메인"),
    ("field.industry", "Industry", "업종"),
    ("field.region", "Region", "지역"),
    ("field.employee_count", "Employees", "직원 수"),
    ("field.open_deals", "Open deals", "진행 중 거래"),
    ("field.open_amount", "Open amount", "진행 중 금액"),
    ("field.title", "Title", "직함"),
    ("field.email", "E-mail", "이메일"),
    ("field.phone", "Phone", "전화"),
    ("field.task", "Task", "할 일"),
    ("field.due_on", "Due", "기한"),
    ("field.related", "Related to", "관련 항목"),
    ("field.completed_at", "Completed", "완료"),
    ("field.role", "Role", "역할"),
    ("field.manager_id", "Reports to", "상위 관리자"),
    ("field.team", "Team", "팀"),
    ("field.time_zone", "Time zone", "시간대"),
    ("field.locale", "Language", "언어"),
    ("field.active", "Active", "활성"),
    ("field.at", "When", "일시"),
    ("field.actor", "Who", "사용자"),
    ("field.source", "Source", "경로"),
    ("field.record_kind", "Record kind", "레코드 종류"),
    ("field.record_id", "Record id", "레코드 ID"),
    ("field.action", "Action", "작업"),
    ("field.changes", "Changes", "변경 내용"),
    ("field.subject", "Subject", "제목"),
    ("field.kind", "Kind", "유형"),
    ("common.yes", "Yes", "예"),
    ("common.no", "No", "아니요"),
    ("common.none", "—", "—"),
    ("common.nobody", "nobody", "없음"),
    ("common.system", "Pipewise", "시스템"),
    ("locale.en", "English", "영어"),
    ("locale.ko", "Korean", "한국어"),
    // The deal page.
    ("deal.edit", "Edit", "수정"),
    ("deal.save", "Save changes", "변경 사항 저장"),
    ("deal.saved", "Saved.", "저장했습니다."),
    ("deal.errors", "Nothing was saved. Fix the fields marked below.", "저장하지 않았습니다. 아래에 표시된 항목을 고쳐 주세요."),
    ("deal.details", "Details", "상세 정보"),
    ("deal.history", "History", "변경 이력"),
    ("deal.created", "created the deal", "거래를 만들었습니다"),
    ("deal.changed", "changed", "변경했습니다"),
    ("deal.via", "via {source}", "{source} 경유"),
    ("deal.no_history", "No changes recorded.", "기록된 변경이 없습니다."),
    ("deal.activities", "Latest activities", "최근 활동"),
    ("deal.no_activities", "No activities yet.", "아직 활동이 없습니다."),
    ("deal.tasks", "Open tasks", "남은 할 일"),
    ("deal.no_tasks", "No open tasks.", "남은 할 일이 없습니다."),
    ("deal.as_of", "View as of", "날짜 기준 보기"),
    ("deal.as_of_show", "Show", "보기"),
    (
        "deal.as_of_banner",
        "You are looking at this deal as it was known at the end of {date} ({zone}). Nothing can be changed in this view.",
        "{date} 하루가 끝난 시점({zone})에 알려진 거래 상태입니다. 이 화면에서는 수정할 수 없습니다.",
    ),
    ("deal.as_of_back", "Back to today", "현재 상태로"),
    ("deal.as_of_missing", "This deal did not exist yet at the end of {date}.", "{date}에는 이 거래가 아직 없었습니다."),
    ("deal.read_only", "You can view this deal but not change it.", "이 거래는 볼 수만 있고 수정할 수 없습니다."),
    ("deal.no_account", "No account", "고객사 없음"),
    ("deal.no_amount", "No amount", "금액 없음"),
    ("deal.amount_hint", "For example 12000.50; leave empty for no amount.", "예: 12000.50. 비워 두면 금액이 없습니다."),
    ("deal.lost_hint", "Required when the stage is a lost stage.", "실주 단계로 옮길 때 필요합니다."),
    ("deal.probability", "{percent}% win probability", "수주 확률 {percent}%"),
    // Statuses and categories.
    ("status.open", "Open", "진행 중"),
    ("status.won", "Won", "수주"),
    ("status.lost", "Lost", "실주"),
    ("status.all", "All", "전체"),
    ("forecast.pipeline", "Pipeline", "파이프라인"),
    ("forecast.best_case", "Best case", "최선"),
    ("forecast.commit", "Commit", "확정"),
    ("forecast.closed", "Closed", "마감"),
    ("forecast.omitted", "Omitted", "제외"),
    ("role.admin", "Admin", "관리자"),
    ("role.ops", "Sales ops", "영업 운영"),
    ("role.manager", "Manager", "영업 관리자"),
    ("role.rep", "Rep", "영업 담당자"),
    ("role.viewer", "Viewer", "열람자"),
    ("activity.email", "E-mail", "이메일"),
    ("activity.meeting", "Meeting", "미팅"),
    ("activity.call", "Call", "통화"),
    ("activity.note", "Note", "메모"),
    ("activity.task", "Task", "할 일"),
    ("direction.inbound", "inbound", "수신"),
    ("direction.outbound", "outbound", "발신"),
    ("direction.internal", "internal", "내부"),
    ("source.web", "web", "웹"),
    ("source.api", "API", "API"),
    ("source.cli", "command line", "명령줄"),
    ("source.import", "import", "가져오기"),
    ("source.mail", "mail capture", "메일 수집"),
    ("source.demo", "demo data", "데모 데이터"),
    ("source.system", "Pipewise", "시스템"),
    // Lists.
    ("list.filter", "Filter", "필터 적용"),
    ("list.reset", "Reset", "초기화"),
    ("list.export", "Export CSV", "CSV 내보내기"),
    ("list.search", "Search", "검색"),
    ("list.any", "Any", "전체"),
    ("list.count", "{count} rows", "{count}건"),
    ("list.empty", "Nothing matches these filters.", "조건에 맞는 항목이 없습니다."),
    ("list.previous", "Previous", "이전"),
    ("list.next", "Next", "다음"),
    ("list.page", "Page {page} of {pages}", "{page} / {pages} 페이지"),
    ("list.sort_by", "Sort by {column}", "{column} 기준 정렬"),
    ("deals.title", "Deals", "거래"),
    ("accounts.title", "Accounts", "고객사"),
    ("accounts.contacts", "Contacts", "연락처"),
    ("accounts.deals", "Deals", "거래"),
    ("accounts.no_contacts", "No contacts.", "연락처가 없습니다."),
    ("accounts.no_deals", "No deals you can see.", "볼 수 있는 거래가 없습니다."),
    ("contacts.title", "Contacts", "연락처"),
    ("contacts.account_deals", "Deals with this account", "이 고객사의 거래"),
    ("tasks.title", "Tasks", "할 일"),
    ("tasks.open", "Open", "미완료"),
    ("tasks.done", "Done", "완료"),
    ("tasks.all", "All", "전체"),
    ("tasks.whole_team", "Everyone I can see", "볼 수 있는 모든 사람"),
    ("tasks.overdue", "Overdue", "기한 지남"),
    ("tasks.lead", "Lead {id}", "리드 {id}"),
    ("users.title", "Users", "사용자"),
    ("audit.title", "Audit log", "감사 로그"),
    ("audit.older", "Older entries", "이전 기록"),
    ("audit.newest", "Newest entries", "최신 기록"),
    // Errors.
    ("error.not_found.title", "Not found", "찾을 수 없습니다"),
    ("error.not_found", "This page does not exist, or you do not have access to it.", "페이지가 없거나 접근 권한이 없습니다."),
    ("error.forbidden.title", "Not allowed", "권한이 없습니다"),
    ("error.admin_only", "Only an administrator can open this page.", "관리자만 이 페이지를 열 수 있습니다."),
    ("error.internal.title", "Something went wrong", "오류가 발생했습니다"),
    ("error.internal", "Something went wrong on our side; it has been logged.", "서버에서 문제가 발생했으며 기록되었습니다."),
    ("error.bad_request.title", "Bad request", "잘못된 요청"),
    ("error.conflict.title", "Conflict", "충돌"),
    ("error.invalid.title", "Invalid input", "입력 오류"),
    ("error.csrf", "The form had expired. Reload the page and try again.", "양식이 만료되었습니다. 페이지를 새로 고친 뒤 다시 시도하세요."),
    ("error.go_board", "Go to the board", "보드로 가기"),
    // Relative times.
    ("time.just_now", "just now", "방금"),
    ("time.minutes_ago", "{n} min ago", "{n}분 전"),
    ("time.hours_ago", "{n} h ago", "{n}시간 전"),
    ("time.days_ago", "{n} d ago", "{n}일 전"),
    ("time.months_ago", "{n} mo ago", "{n}개월 전"),
    ("time.years_ago", "{n} y ago", "{n}년 전"),
    ("time.upcoming", "upcoming", "예정"),
    // Validation problems, as core reports them.
    ("problem.required", "is required", "필수 항목입니다"),
    ("problem.invalid", "{value} is not {expected}", "{value}은(는) {expected} 형식이 아닙니다"),
    ("problem.too_long", "is {len} characters long; at most {max} are allowed", "{len}자입니다. 최대 {max}자까지 입력할 수 있습니다"),
    ("problem.control_character", "contains a control character", "제어 문자가 들어 있습니다"),
    ("problem.unknown_currency", "{value} is not an ISO 4217 currency code", "{value}은(는) ISO 4217 통화 코드가 아닙니다"),
    (
        "problem.too_precise",
        "{amount} has {scale} decimal places but {currency} has {minor_units}",
        "{amount}은(는) 소수점 이하 {scale}자리이지만 {currency}는 {minor_units}자리까지입니다",
    ),
    ("problem.negative", "{value} is negative", "{value}은(는) 음수입니다"),
    ("problem.out_of_range", "{value} is out of range ({range})", "{value}은(는) 허용 범위({range})를 벗어났습니다"),
    ("problem.unknown_reference", "{kind} {id} does not exist", "{kind} {id}이(가) 존재하지 않습니다"),
    ("expected.date", "a date", "날짜(YYYY-MM-DD)"),
    ("expected.amount", "a decimal amount", "숫자 금액"),
    ("expected.id", "an id", "ID"),
    ("rule.lost_needs_reason", "a lost deal needs the reason it was lost", "실주한 거래에는 실주 사유가 필요합니다"),
    ("rule.open_no_reason", "only a won or lost deal has a close reason", "수주 또는 실주한 거래에만 마감 사유가 있습니다"),
];

fn index() -> &'static HashMap<&'static str, (&'static str, &'static str)> {
    static INDEX: OnceLock<HashMap<&'static str, (&'static str, &'static str)>> = OnceLock::new();
    INDEX.get_or_init(|| CATALOG.iter().map(|(key, en, ko)| (*key, (*en, *ko))).collect())
}

/// Whether `key` is in the catalog.
pub fn has(key: &str) -> bool {
    index().contains_key(key)
}

/// The message `key` in `locale`. An unknown key is a bug: it panics in debug builds and
/// shows the key itself in release builds.
pub fn t(locale: Locale, key: &str) -> &'static str {
    match index().get(key) {
        Some((en, ko)) => match locale {
            Locale::En => en,
            Locale::Ko => ko,
        },
        None => {
            debug_assert!(false, "the message {key:?} is not in the catalog");
            ""
        }
    }
}

/// The message `key` with each `{name}` replaced by its value.
pub fn tf(locale: Locale, key: &str, args: &[(&str, &str)]) -> String {
    fill(t(locale, key), args)
}

/// Replaces each `{name}` in `template` by its value in `args`.
pub fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match args.iter().find(|(key, _)| *key == name) {
                    Some((_, value)) => out.push_str(value),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The `{placeholders}` of a message, sorted.
pub fn placeholders(text: &str) -> Vec<&str> {
    let mut names: Vec<&str> = text.split('{').skip(1).filter_map(|part| part.split_once('}').map(|(name, _)| name)).collect();
    names.sort_unstable();
    names
}

/// The language a browser prefers among those Pipewise speaks, from `Accept-Language`
/// (`ko-KR,ko;q=0.9,en;q=0.8`); English when neither is asked for.
pub fn locale_from_accept_language(header: Option<&str>) -> Locale {
    let mut best: Option<(f32, Locale)> = None;
    for part in header.unwrap_or("").split(',') {
        let mut pieces = part.trim().split(';');
        let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
        let quality =
            pieces.filter_map(|piece| piece.trim().strip_prefix("q=")).find_map(|value| value.trim().parse::<f32>().ok()).unwrap_or(1.0);
        let primary = tag.split('-').next().unwrap_or("");
        let locale = match primary {
            "ko" => Locale::Ko,
            "en" => Locale::En,
            _ => continue,
        };
        if quality > 0.0 && best.is_none_or(|(best_quality, _)| quality > best_quality) {
            best = Some((quality, locale));
        }
    }
    best.map_or(Locale::En, |(_, locale)| locale)
}

/// A stage's name in `locale` (Korean falls back to English when a stage has no Korean name).
pub fn stage_name(locale: Locale, stage: &Stage) -> &str {
    match locale {
        Locale::Ko if !stage.name_ko.trim().is_empty() => &stage.name_ko,
        _ => &stage.name_en,
    }
}

/// Groups the digits of a plain decimal text (`-1234567.50` → `-1,234,567.50`).
fn group_digits(plain: &str) -> String {
    let (sign, digits) = match plain.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", plain),
    };
    let (integer, fraction) = match digits.split_once('.') {
        Some((integer, fraction)) => (integer, Some(fraction)),
        None => (digits, None),
    };
    let mut grouped = String::with_capacity(plain.len() + integer.len() / 3);
    grouped.push_str(sign);
    for (position, digit) in integer.chars().enumerate() {
        if position > 0 && (integer.len() - position).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    if let Some(fraction) = fraction {
        grouped.push('.');
        grouped.push_str(fraction);
    }
    grouped
}

/// A whole number with thousands separators: `12,500`.
pub fn group(number: i64) -> String {
    group_digits(&number.to_string())
}

/// The exact amount: `USD 12,000.00`, `KRW 1,500,000` (the same in both languages).
pub fn money(_locale: Locale, money: Money) -> String {
    format!("{} {}", money.currency().code(), group_digits(&money.amount().to_string()))
}

/// A short form for column totals: `USD 5.1M` in English, `USD 512만` in Korean. Shown next
/// to (or with a tooltip of) the exact value.
pub fn money_compact(locale: Locale, money: Money) -> String {
    let amount = money.amount();
    let code = money.currency().code();
    let units: &[(i64, &str)] = match locale {
        Locale::En => &[(1_000_000_000_000, "T"), (1_000_000_000, "B"), (1_000_000, "M"), (1_000, "K")],
        Locale::Ko => &[(1_000_000_000_000, "조"), (100_000_000, "억"), (10_000, "만")],
    };
    let magnitude = amount.abs();
    for (size, suffix) in units {
        let size = Decimal::from(*size);
        if magnitude >= size {
            let scaled = amount / size;
            let digits = if scaled.abs() >= Decimal::from(100) { 0 } else { 1 };
            let rounded = scaled.round_dp(digits).normalize();
            return format!("{code} {}{suffix}", group_digits(&rounded.to_string()));
        }
    }
    format!("{code} {}", group_digits(&amount.round_dp(0).normalize().to_string()))
}

/// Totals per currency, never summed across currencies: `EUR 500.00 + USD 1,000.00`.
pub fn money_bag(locale: Locale, bag: &MoneyBag) -> String {
    let parts: Vec<String> = bag.totals().map(|total| money(locale, total)).collect();
    if parts.is_empty() { "0".to_owned() } else { parts.join(" + ") }
}

/// `2026-11-22` or `2026년 11월 22일`.
pub fn date(locale: Locale, date: Date) -> String {
    match locale {
        Locale::En => date.to_string(),
        Locale::Ko => format!("{}년 {}월 {}일", date.year(), date.month(), date.day()),
    }
}

/// A moment in the reader's time zone: `2026-11-23 04:30 KST` or `2026년 11월 23일 04:30 KST`.
pub fn timestamp(locale: Locale, at: Timestamp, time_zone: &str) -> String {
    let shown = at.display_in(time_zone);
    match locale {
        Locale::En => shown,
        Locale::Ko => match shown.split_once(' ').and_then(|(day, rest)| Some((day.parse::<Date>().ok()?, rest))) {
            Some((day, rest)) => format!("{} {rest}", date(locale, day)),
            None => shown,
        },
    }
}

/// How long ago `at` was: `3 d ago`, `3일 전`.
pub fn relative(locale: Locale, at: Timestamp, now: Timestamp) -> String {
    let seconds = (now.as_micros() - at.as_micros()) / 1_000_000;
    if seconds < -60 {
        return t(locale, "time.upcoming").to_owned();
    }
    let (key, n) = match seconds {
        ..60 => return t(locale, "time.just_now").to_owned(),
        60..3_600 => ("time.minutes_ago", seconds / 60),
        3_600..86_400 => ("time.hours_ago", seconds / 3_600),
        86_400..2_592_000 => ("time.days_ago", seconds / 86_400),
        2_592_000..31_536_000 => ("time.months_ago", seconds / 2_592_000),
        _ => ("time.years_ago", seconds / 31_536_000),
    };
    tf(locale, key, &[("n", &n.to_string())])
}

/// A validation problem in `locale`. Rules core states in words are translated when the
/// catalog knows them and shown in English otherwise.
pub fn problem(locale: Locale, problem: &Problem) -> String {
    match problem {
        Problem::Required => t(locale, "problem.required").to_owned(),
        Problem::Invalid { value, expected } => {
            let expected = match *expected {
                "a date" => t(locale, "expected.date"),
                "a decimal amount" => t(locale, "expected.amount"),
                "an id" => t(locale, "expected.id"),
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
        Problem::Rule(text) => CATALOG
            .iter()
            .find(|(key, en, _)| key.starts_with("rule.") && *en == text.as_str())
            .map_or_else(|| text.clone(), |(key, ..)| t(locale, key).to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_has_both_languages_with_the_same_placeholders() {
        let mut seen = std::collections::HashSet::new();
        for (key, en, ko) in CATALOG {
            assert!(seen.insert(*key), "{key} is in the catalog twice");
            assert!(!en.trim().is_empty(), "{key} has no English text");
            assert!(!ko.trim().is_empty(), "{key} has no Korean text");
            assert_eq!(placeholders(en), placeholders(ko), "{key}: the languages use different placeholders");
        }
    }

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
            Problem::Rule("a lost deal needs the reason it was lost".into()),
        ];
        for problem in &problems {
            // English matches core's own wording exactly.
            assert_eq!(super::problem(Locale::En, problem), problem.to_string());
            assert!(super::problem(Locale::Ko, problem).chars().any(|c| ('가'..='힣').contains(&c)), "{problem}");
        }
        assert_eq!(super::problem(Locale::Ko, &problems[5]), "12.345은(는) 소수점 이하 3자리이지만 USD는 2자리까지입니다");
    }

    #[test]
    fn money_keeps_its_exact_value_and_groups_thousands() {
        let money = |text: &str| text.parse::<Money>().unwrap();
        assert_eq!(super::money(Locale::En, money("USD 12000")), "USD 12,000.00");
        assert_eq!(super::money(Locale::Ko, money("KRW 1500000")), "KRW 1,500,000");
        assert_eq!(super::money(Locale::En, money("USD 999.5")), "USD 999.50");
        assert_eq!(super::money(Locale::En, money("KWD 1234567.125")), "KWD 1,234,567.125");
        assert_eq!(super::money(Locale::En, money("USD -1234")), "USD -1,234.00");
        // 5,123,456 = 5.1 million = 512.3456만 → 512만 (three digits before the point: none after).
        assert_eq!(money_compact(Locale::En, money("USD 5123456")), "USD 5.1M");
        assert_eq!(money_compact(Locale::Ko, money("USD 5123456")), "USD 512만");
        // 1,234,567,890 KRW = 12.3억.
        assert_eq!(money_compact(Locale::Ko, money("KRW 1234567890")), "KRW 12.3억");
        assert_eq!(money_compact(Locale::En, money("USD 950.40")), "USD 950");
        assert_eq!(money_compact(Locale::En, money("USD 120000")), "USD 120K");
        let mut bag = MoneyBag::default();
        bag.add(money("USD 1000"));
        bag.add(money("EUR 500"));
        assert_eq!(money_bag(Locale::En, &bag), "EUR 500.00 + USD 1,000.00");
    }

    #[test]
    fn dates_and_times_per_language() {
        let day: Date = "2026-11-22".parse().unwrap();
        assert_eq!(date(Locale::En, day), "2026-11-22");
        assert_eq!(date(Locale::Ko, day), "2026년 11월 22일");
        let at: Timestamp = "2026-11-22T19:30:00Z".parse().unwrap();
        assert_eq!(timestamp(Locale::En, at, "Asia/Seoul"), "2026-11-23 04:30 KST");
        assert_eq!(timestamp(Locale::Ko, at, "Asia/Seoul"), "2026년 11월 23일 04:30 KST");
        let now = at.plus_seconds(3 * 86_400 + 5);
        assert_eq!(relative(Locale::En, at, now), "3 d ago");
        assert_eq!(relative(Locale::Ko, at, now), "3일 전");
        assert_eq!(relative(Locale::En, at, at.plus_seconds(30)), "just now");
        assert_eq!(relative(Locale::En, at, at.plus_seconds(7_200)), "2 h ago");
    }

    #[test]
    fn accept_language_picks_the_preferred_supported_language() {
        assert_eq!(locale_from_accept_language(Some("ko-KR,ko;q=0.9,en-US;q=0.8")), Locale::Ko);
        assert_eq!(locale_from_accept_language(Some("ko")), Locale::Ko);
        assert_eq!(locale_from_accept_language(Some("en-US,en;q=0.9,ko;q=0.8")), Locale::En);
        assert_eq!(locale_from_accept_language(Some("fr-FR,ko;q=0.5")), Locale::Ko);
        assert_eq!(locale_from_accept_language(Some("de")), Locale::En);
        assert_eq!(locale_from_accept_language(None), Locale::En);
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(fill("{n} d ago", &[("n", "3")]), "3 d ago");
        assert_eq!(fill("{a} and {b}, {missing}", &[("a", "x"), ("b", "y")]), "x and y, {missing}");
        assert_eq!(fill("no braces", &[]), "no braces");
        assert_eq!(placeholders("{b} {a}"), ["a", "b"]);
    }
}
