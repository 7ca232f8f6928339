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
    ("deal.health", "Health", "건강 상태"),
    (
        "deal.health_note",
        "Flags under the organisation's health thresholds, as of today.",
        "조직의 건강 상태 기준에 따른 오늘 기준 신호입니다.",
    ),
    ("deal.no_tasks", "No open tasks.", "남은 할 일이 없습니다."),
    ("handoff.title", "Handoffs", "인계 기록"),
    ("handoff.none", "Not handed over yet.", "아직 인계된 적이 없습니다."),
    ("handoff.hand_over", "Hand over to…", "다른 담당자에게 인계…"),
    (
        "handoff.hint",
        "Inside sales hands a new case to field sales; the handoff is recorded with who handed it over.",
        "인사이드 세일즈가 새 건을 필드 세일즈에 넘깁니다. 누가 인계했는지 함께 기록됩니다.",
    ),
    ("handoff.to", "New owner", "새 담당자"),
    ("handoff.choose", "Choose a user", "담당자 선택"),
    ("handoff.note", "Note (optional)", "메모 (선택)"),
    ("handoff.submit", "Hand over", "인계하기"),
    ("handoff.done", "Deal handed over.", "거래를 인계했습니다."),
    ("handoff.forbidden", "You cannot hand this deal to that user.", "이 거래를 해당 사용자에게 인계할 수 없습니다."),
    ("handoff.entry", "{from} → {to}", "{from} → {to}"),
    ("handoff.by", "by {who}", "처리: {who}"),
    ("handoff.in_stage", "in {stage}", "{stage} 단계에서"),
    ("share.title", "Shared with", "공유 대상"),
    ("share.none", "Not shared with anyone.", "아무와도 공유하지 않았습니다."),
    ("share.entry", "{when} · shared by {who}", "{when} · 공유한 사람: {who}"),
    ("share.add", "Share with a colleague", "동료와 공유"),
    (
        "share.hint",
        "A colleague it is shared with sees and changes this deal as if it were their own.",
        "공유받은 동료는 이 거래를 자신의 거래처럼 보고 수정할 수 있습니다.",
    ),
    ("share.user", "Colleague", "동료"),
    ("share.choose", "Choose a user", "사용자 선택"),
    ("share.submit", "Share", "공유하기"),
    ("share.remove", "Remove", "공유 해제"),
    ("share.remove_label", "Stop sharing with {name}", "{name} 님과 공유 해제"),
    ("share.added", "Deal shared.", "거래를 공유했습니다."),
    ("share.removed", "No longer shared.", "공유를 해제했습니다."),
    (
        "share.forbidden",
        "Only the deal's owner, their managers, ops and admins may share it.",
        "거래 담당자와 그 관리자, 운영 담당자, 관리자만 공유할 수 있습니다.",
    ),
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
    // Stage gates.
    ("gate.refused", "Not moved: {count} exit criteria are not met", "이동하지 못했습니다: 이행 판정 기준 {count}개를 충족하지 못했습니다"),
    (
        "gate.refused_intro",
        "Meet these first, or ask a manager to override:",
        "먼저 다음 기준을 충족하거나 관리자에게 예외 승인을 요청하세요:",
    ),
    ("gate.override_title", "Override the gate", "기준 예외 승인"),
    (
        "gate.override_hint",
        "You may move the deal anyway. The reason, you and everything unmet are recorded on the deal and in the audit log.",
        "그래도 거래를 옮길 수 있습니다. 사유와 승인자, 충족하지 못한 기준이 거래 기록과 감사 로그에 남습니다.",
    ),
    ("gate.override_reason", "Reason for the override (required)", "예외 승인 사유 (필수)"),
    ("gate.override_button", "Override and move", "예외 승인하고 이동"),
    ("gate.override_needs_reason", "Give the reason for the override.", "예외 승인 사유를 입력하세요."),
    (
        "gate.rep_hint",
        "Only a manager above the deal's owner, sales ops or an admin can override a gate.",
        "거래 담당자의 상위 관리자, 영업 운영 또는 관리자만 예외 승인할 수 있습니다.",
    ),
    ("gate.close", "Close", "닫기"),
    ("gate.title", "Exit criteria of {stage}", "{stage} 이행 판정 기준"),
    ("gate.summary", "{met} of {total} met", "{total}개 중 {met}개 충족"),
    ("gate.none", "This stage has no exit criteria.", "이 단계에는 이행 판정 기준이 없습니다."),
    ("gate.closed_deal", "The deal is closed; its gates no longer apply.", "종료된 거래이므로 단계 기준이 적용되지 않습니다."),
    ("gate.not_checked", "not checked yet", "아직 확인되지 않음"),
    ("gate.met", "Met", "충족"),
    ("gate.unmet", "Not met", "미충족"),
    ("gate.kind.checklist", "Checklist", "체크리스트"),
    ("gate.kind.required_field", "Required field", "필수 항목"),
    ("gate.kind.derived", "From the deal's data", "데이터 기반"),
    ("gate.checked_by", "Checked by {who}, {when}", "{who} 확인, {when}"),
    ("gate.evidence", "Evidence", "근거"),
    ("gate.evidence_placeholder", "What shows it is true (minutes, e-mail, document)", "충족 근거 (회의록, 메일, 문서 등)"),
    ("gate.check", "Check", "확인"),
    ("gate.uncheck", "Uncheck", "확인 취소"),
    ("gate.set_field", "Fill in the field", "항목 입력하기"),
    ("gate.from_loss", "from a loss review", "실주 검토에서 추가"),
    ("gate.checked", "Checked.", "확인했습니다."),
    ("gate.unchecked", "The check was withdrawn.", "확인을 취소했습니다."),
    ("gate.override_recorded", "Gate override", "기준 예외 승인"),
    ("gate.override_move", "{from} → {to}", "{from} → {to}"),
    ("gate.override_unmet", "Unmet at the time:", "당시 미충족 기준:"),
    (
        "loss.add_item",
        "Add a checklist item to the gate of {stage}, so the next deal is checked for it",
        "다음 거래에서 확인하도록 {stage} 단계 기준에 체크리스트 항목 추가",
    ),
    ("loss.add_item_short", "Grow the checklist from this loss", "이번 실주로 체크리스트 보완"),
    ("loss.label_en", "Checklist item (English)", "체크리스트 항목 (영어)"),
    ("loss.label_ko", "Checklist item (Korean, optional)", "체크리스트 항목 (한국어, 선택)"),
    ("loss.label_placeholder", "e.g. The real approver has confirmed the budget", "예: 실질적인 승인자가 예산을 확인했다"),
    (
        "loss.drop_reasons",
        "Common reasons a stage-1 case is not a deal (not counted as a loss):",
        "1단계 안건이 상담이 되지 않는 흔한 사유 (실주로 집계하지 않음):",
    ),
    ("loss.item_added", "The checklist item was added to the gate of {stage}.", "{stage} 단계 기준에 체크리스트 항목을 추가했습니다."),
    // The deal workspace.
    ("workspace.title", "Deal workspace", "거래 워크스페이스"),
    ("workspace.tab.bant", "BANT", "BANT"),
    ("workspace.tab.four_box", "Four-box story", "4박스 스토리"),
    ("workspace.tab.stakeholders", "Stakeholders", "이해관계자"),
    ("workspace.tab.competitors", "Competition", "경쟁 비교"),
    ("workspace.tab.close_plan", "Mutual close plan", "Mutual Close Plan"),
    ("workspace.tab.approval", "Approval", "품의 결재"),
    ("workspace.save", "Save", "저장"),
    ("workspace.saved", "Saved.", "저장했습니다."),
    ("workspace.errors", "Nothing was saved. Fix the fields marked below.", "저장하지 않았습니다. 아래에 표시된 항목을 고쳐 주세요."),
    ("workspace.no_flags", "No warnings.", "경고 없음."),
    ("workspace.remove", "Remove", "삭제"),
    ("workspace.read_only", "You can view the workspace but not change it.", "워크스페이스를 볼 수만 있고 수정할 수 없습니다."),
    ("workspace.status", "Status", "상태"),
    ("workspace.note", "Note", "메모"),
    ("bant.budget", "Budget", "예산"),
    ("bant.authority", "Authority", "결재권"),
    ("bant.need", "Need", "필요성"),
    ("bant.timeframe", "Timeframe", "도입 시기"),
    ("bant_status.unknown", "Unknown", "미확인"),
    ("bant_status.partial", "Partly confirmed", "일부 확인"),
    ("bant_status.confirmed", "Confirmed", "확인됨"),
    ("bant_status.not_a_fit", "Not a fit", "부적합"),
    ("four_box.business_issue", "Business issue", "비즈니스 이슈"),
    (
        "four_box.business_issue_hint",
        "What stands between the customer and its goal (e.g. doubling revenue in 3 years)",
        "고객이 목표(예: 3년 내 매출 2배)를 달성하는 데 장벽이 되는 것",
    ),
    ("four_box.problem", "Problem", "문제점"),
    ("four_box.problem_hint", "What people on the ground struggle with day to day", "현장 담당자가 일상 업무에서 느끼는 문제"),
    ("four_box.solution", "Solution", "솔루션"),
    ("four_box.solution_hint", "What our product does about it", "자사 제품이나 서비스가 제공하는 해결 수단"),
    ("four_box.benefit_quantitative", "Benefit in numbers", "정량적 베네핏"),
    ("four_box.benefit_qualitative", "Benefit in words", "정성적 베네핏"),
    ("stakeholders.contact", "Contact", "연락처"),
    ("stakeholders.role", "Buying role", "구매 역할"),
    ("stakeholders.level", "Level", "직급 구분"),
    ("stakeholders.rank", "Rank (1–5)", "직급 (1–5)"),
    ("stakeholders.influence", "Influence (1–5)", "영향력 (1–5)"),
    ("stakeholders.evidence", "Evidence of influence", "영향력 근거"),
    ("stakeholders.pick", "Choose a contact", "연락처 선택"),
    ("stakeholders.none", "No one is on the map yet.", "아직 이해관계자가 없습니다."),
    (
        "stakeholders.no_contacts",
        "The deal's account has no contacts yet: add them on the account first.",
        "거래 고객사에 연락처가 없습니다. 먼저 고객사에 연락처를 추가하세요.",
    ),
    ("stakeholders.chart", "Rank × influence", "직급 × 영향력"),
    ("competitors.name", "Competitor", "경쟁사"),
    ("competitors.key_person", "As seen by (the customer's key person)", "평가 관점 (고객사 키맨)"),
    ("competitors.criterion", "Criterion that matters to the customer", "고객에게 중요한 선정 기준"),
    ("competitors.importance", "Importance (1–5)", "중요도 (1–5)"),
    ("competitors.ours", "Us (1–5)", "자사 (1–5)"),
    ("competitors.theirs", "Them (1–5)", "경쟁사 (1–5)"),
    ("competitors.new", "Add a competitor", "경쟁사 추가"),
    ("competitors.chart", "{name}: importance × our advantage", "{name}: 중요도 × 자사 우위"),
    (
        "competitors.proposed",
        "Propose these as the selection criteria to agree with the customer:",
        "고객과 합의할 선정 기준으로 제안하세요:",
    ),
    (
        "competitors.proposed_none",
        "No criterion is both important to the customer and stronger on our side.",
        "고객에게 중요하면서 자사가 우위인 기준이 없습니다.",
    ),
    ("close_plan.position", "#", "순서"),
    (
        "close_plan.title",
        "Step (concrete: “board approval”, “purchasing places the order”)",
        "업무 (구체적으로: ‘이사회 승인’, ‘구매 부서 발주’)",
    ),
    ("close_plan.step_title", "Step", "업무"),
    ("close_plan.side", "Side", "주체"),
    ("close_plan.owner", "Owner", "담당"),
    ("close_plan.target", "Target date", "목표일"),
    ("close_plan.done", "Done on", "완료일"),
    ("close_plan.milestone", "Milestone", "마일스톤"),
    ("close_plan.first_shared_on", "First shared with the customer on", "고객과 처음 공유한 날"),
    ("close_plan.agreed_on", "Agreed with the customer on", "고객과 합의한 날"),
    ("close_plan.after_signing", "after signing", "계약 후"),
    ("side.us", "Us", "자사"),
    ("side.customer", "Customer", "고객"),
    ("plan_step.task", "Task", "업무"),
    ("plan_step.signing", "Signing", "계약 체결"),
    ("plan_step.project_start", "Project start", "프로젝트 시작"),
    ("approval.named_approver", "Named approver", "명목상 승인자"),
    ("approval.real_approver", "Real approver (who really decides)", "실질적인 최종 승인자"),
    ("approval.po_signer", "Purchase-order signer", "발주서 서명자"),
    ("approval.departments", "Other departments with power (one per line)", "영향력 있는 다른 부서 (한 줄에 하나)"),
    ("approval.form", "Approval form", "결재 방식"),
    ("approval.meeting_needed", "Board or management resolution needed?", "이사회나 경영 회의 결의 필요?"),
    ("approval.meeting_body", "Meeting", "회의"),
    ("approval.meeting_date", "Meeting date", "개최일"),
    ("approval.submission_deadline", "Papers due", "자료 제출 마감일"),
    ("approval.submitted_on", "Papers submitted on", "자료 제출일"),
    ("approval.meeting_calendar", "Meeting calendar (the body's regular meetings)", "회의 일정 (정기 개최일)"),
    (
        "approval.meeting_calendar_hint",
        "Each meeting's papers are due as many days before it as the planned meeting's. A missed deadline slips the approval to the first of these that can still take the papers.",
        "각 회의의 자료 제출 마감은 계획된 회의와 같은 날수만큼 앞섭니다. 마감을 놓치면 승인은 아직 자료를 받을 수 있는 첫 회의로 넘어갑니다.",
    ),
    ("approval.calendar_date", "Meeting date", "개최일"),
    ("approval.calendar_papers_due", "Papers due", "자료 제출 마감일"),
    ("approval.drafter", "Drafter", "기안자"),
    ("approval.drafter_passed", "Drafter has passed this amount before?", "기안자가 같은 금액을 통과시킨 경험?"),
    ("approval.draft_started_on", "Customer started the approval draft on", "고객이 품의 준비를 시작한 날"),
    ("approval.unknown", "Not known yet", "아직 모름"),
    ("approval_form.electronic", "Electronic", "전자승인"),
    ("approval_form.paper", "Paper", "서류"),
    ("approval_form.verbal", "Verbal", "구두"),
    ("meeting_body.board", "Board meeting", "이사회"),
    ("meeting_body.management", "Management meeting", "경영 회의"),
    ("buying_role.decision_maker", "Decision maker", "의사 결정자"),
    ("buying_role.economic_buyer", "Economic buyer", "예산 집행자"),
    ("buying_role.champion", "Champion", "내부 지지자"),
    ("buying_role.influencer", "Influencer", "영향력 행사자"),
    ("buying_role.evaluator", "Evaluator", "평가자"),
    ("buying_role.user", "User", "사용자"),
    ("buying_role.gatekeeper", "Gatekeeper", "게이트키퍼"),
    ("buying_role.blocker", "Blocker", "반대자"),
    ("buying_role.other", "Other", "기타"),
    ("level.executive", "Executive", "임원"),
    ("level.department_head", "Department head", "부서장"),
    ("level.staff", "Staff", "담당자"),
    ("quadrant.low_low", "low rank, low influence: the riskiest", "낮은 직급·낮은 영향력: 가장 위험"),
    ("quadrant.high_high", "high rank, high influence", "높은 직급·높은 영향력"),
    ("quadrant.selection_criteria", "selection criteria to propose", "제안할 선정 기준"),
    ("quadrant.not_important_weaker", "less important, weaker", "덜 중요·열세"),
    ("quadrant.activity", " ({count} activities)", " (활동 {count}건)"),
    (
        "quadrant.stakeholders_desc",
        "Each person on the map by rank in their company (across) and real influence on this purchase (up); bigger dots have more activity. The lower-left cell is low rank and low influence.",
        "이해관계자를 회사 내 직급(가로)과 이번 구매에 대한 실제 영향력(세로)으로 배치했습니다. 점이 클수록 활동이 많습니다. 왼쪽 아래 칸은 낮은 직급·낮은 영향력입니다.",
    ),
    (
        "quadrant.competitive_desc",
        "Each criterion by its importance to the customer (across) and our strength minus the competitor's (up). The upper-right cell holds the criteria to propose.",
        "각 기준을 고객에게 중요한 정도(가로)와 자사 강점에서 경쟁사 강점을 뺀 값(세로)으로 배치했습니다. 오른쪽 위 칸의 기준을 제안하세요.",
    ),
    // The pipeline designer.
    ("nav.pipelines", "Pipelines", "파이프라인"),
    ("designer.title", "Pipelines", "파이프라인 설계"),
    (
        "designer.intro",
        "Design the stages deals move through and the exit criteria each stage's gate checks.",
        "거래가 거치는 단계와 각 단계에서 확인할 이행 판정 기준을 설계합니다.",
    ),
    ("designer.create", "Create a pipeline", "파이프라인 만들기"),
    ("designer.template", "Start from", "템플릿"),
    ("designer.template.b2b", "B2B (The Model): stages 1–5 with seed 003's exit criteria", "B2B (더 모델): 1–5단계와 이행 판정 기준"),
    ("designer.template.simple", "Simple: Prospecting → Qualification → Connecting → Closing", "단순형: 탐사 → 검증 → 연결 → 클로징"),
    ("designer.name", "Name", "이름"),
    ("designer.stages", "Stages", "단계"),
    ("designer.open", "Open", "열기"),
    ("designer.created", "The pipeline was created.", "파이프라인을 만들었습니다."),
    ("designer.saved", "Saved.", "저장했습니다."),
    ("designer.errors", "Nothing was saved. Fix the fields marked below.", "저장하지 않았습니다. 아래에 표시된 항목을 고쳐 주세요."),
    ("designer.rename", "Name and entry stage", "이름과 시작 단계"),
    ("designer.entry_stage", "Entry stage (where new deals start)", "시작 단계 (새 거래가 시작하는 단계)"),
    ("designer.entry", "entry", "시작"),
    ("designer.stage_name_en", "Name (English)", "이름 (영어)"),
    ("designer.stage_name_ko", "Name (Korean)", "이름 (한국어)"),
    ("designer.probability", "Win probability %", "수주 확률 %"),
    ("designer.category", "Forecast category", "예측 범주"),
    ("designer.counts", "Counts in pipeline metrics", "파이프라인 지표에 포함"),
    ("designer.rotting", "Rotting after (days)", "정체 기준 (일)"),
    ("designer.kind", "Kind", "종류"),
    ("designer.deals", "Deals", "거래 수"),
    ("designer.save_stage", "Save stage", "단계 저장"),
    ("designer.add_stage", "Add a stage", "단계 추가"),
    ("designer.move_up", "Move {stage} up", "{stage} 위로"),
    ("designer.move_down", "Move {stage} down", "{stage} 아래로"),
    ("designer.archive_stage", "Archive", "보관"),
    ("designer.archived", "archived", "보관됨"),
    (
        "designer.archive_hint",
        "An archived stage keeps its deals but takes no new ones; stages are never deleted.",
        "보관한 단계는 기존 거래를 유지하지만 새 거래를 받지 않습니다. 단계는 삭제되지 않습니다.",
    ),
    ("designer.criteria", "Exit criteria", "이행 판정 기준"),
    ("designer.no_criteria", "No exit criteria: deals pass this gate freely.", "이행 판정 기준이 없습니다. 거래가 자유롭게 통과합니다."),
    ("designer.add_criterion", "Add an exit criterion", "이행 판정 기준 추가"),
    ("designer.criterion_label_en", "Label (English)", "항목 (영어)"),
    ("designer.criterion_label_ko", "Label (Korean, optional)", "항목 (한국어, 선택)"),
    ("designer.criterion_kind", "Checked by", "확인 방법"),
    ("designer.criterion_field", "Required field", "필수 항목"),
    ("designer.criterion_predicate", "Condition (derived)", "조건 (데이터 기반)"),
    (
        "designer.predicate_hint",
        "For example all(bant(budget, partial|confirmed), stakeholder(4)), decision_within(team), close_plan_agreed(), four_box(business_issue), set(amount), approval_known(real_approver).",
        "예: all(bant(budget, partial|confirmed), stakeholder(4)), decision_within(team), close_plan_agreed(), four_box(business_issue), set(amount), approval_known(real_approver).",
    ),
    ("designer.archive_criterion", "Archive", "보관"),
    ("designer.stage_kind.open", "Open", "진행"),
    ("designer.stage_kind.won", "Won", "수주"),
    ("designer.stage_kind.lost", "Lost", "실주"),
    ("designer.yes", "yes", "예"),
    ("designer.no", "no", "아니요"),
    ("designer.criteria_count", "{count} exit criteria", "이행 판정 기준 {count}개"),
    // Health thresholds (pages::settings, SPEC C5 "configurable thresholds").
    ("nav.health_settings", "Health thresholds", "건강 상태 기준"),
    ("health_settings.title", "Health thresholds", "파이프라인 건강 상태 기준"),
    (
        "health_settings.intro",
        "These thresholds decide every health flag and healthy signal: on the dashboards, on the board's badges and in the API. A change applies to every figure at once, figures as of past days included.",
        "이 기준으로 모든 건강 상태 플래그와 건강 신호를 판단합니다. 대시보드, 보드의 배지, API에 모두 적용되며, 변경하면 과거 기준일의 지표를 포함한 모든 지표에 즉시 반영됩니다.",
    ),
    ("health_settings.save", "Save thresholds", "기준 저장"),
    ("health_settings.reset", "Reset to defaults", "기본값으로 되돌리기"),
    ("health_settings.reset_hint", "Every threshold goes back to its default.", "모든 기준을 기본값으로 되돌립니다."),
    (
        "health_settings.saved",
        "Saved. Dashboards and badges use the new thresholds now.",
        "저장했습니다. 이제 대시보드와 배지에 새 기준이 적용됩니다.",
    ),
    ("health_settings.reset_done", "Every threshold is back to its default.", "모든 기준을 기본값으로 되돌렸습니다."),
    ("health_settings.errors", "Nothing was saved. Fix the fields marked below.", "저장하지 않았습니다. 아래에 표시된 항목을 고쳐 주세요."),
    ("health_settings.hint", "Default {default} · allowed {min} to {max}", "기본값 {default} · 허용 범위 {min}–{max}"),
    ("health_settings.changed", "changed", "변경됨"),
    ("health_settings.out_of_range", "Enter a whole number from {min} to {max}.", "{min}에서 {max} 사이의 정수를 입력하세요."),
    ("health_settings.defaults_in_use", "The organisation uses the default thresholds.", "조직이 기본 기준을 사용하고 있습니다."),
    ("health_settings.updated", "Last changed by {name}, {time}.", "마지막 변경: {name}, {time}."),
    ("health_settings.section.follow_up", "Follow-up", "후속 조치"),
    ("health_settings.section.deal", "Deals: contacts and movement", "거래: 연락처와 진행"),
    ("health_settings.section.late", "Late stages", "후반 단계"),
    ("health_settings.section.groups", "Pipeline of a rep, a team or the organisation", "담당자·팀·조직의 파이프라인"),
    ("health_settings.section.stalling", "Stalling: process problem or coaching matter", "정체: 프로세스 문제인가, 코칭 문제인가"),
    ("health_settings.section.signals", "Healthy signals", "건강 신호"),
    ("health_settings.untouched_days", "Untouched after (days)", "활동 없음 기준 (일)"),
    (
        "health_settings.untouched_days.help",
        "A deal is flagged untouched when no activity was logged on it for more than this many days.",
        "이 일수보다 오래 활동 기록이 없는 거래를 '활동 없음'으로 표시합니다.",
    ),
    ("health_settings.going_dark_days", "Going dark after (days)", "연락 끊김 기준 (일)"),
    (
        "health_settings.going_dark_days.help",
        "Flagged going dark when nothing came in from the customer for more than this many days: 14 to 42 (2 to 6 weeks).",
        "고객으로부터 이 일수보다 오래 연락이 없으면 '연락 끊김'으로 표시합니다. 14–42일(2–6주).",
    ),
    ("health_settings.late_update_days", "Late update after (days)", "늦은 기록 기준 (일)"),
    (
        "health_settings.late_update_days.help",
        "Flagged late updates when an activity was logged more than this many days after it happened.",
        "활동이 일어난 뒤 이 일수보다 늦게 기록되면 '늦은 기록'으로 표시합니다.",
    ),
    ("health_settings.pushed_min", "Close date pushed (times)", "마감일 연기 기준 (횟수)"),
    (
        "health_settings.pushed_min.help",
        "Flagged when the close date moved later at least this many times.",
        "마감일이 이 횟수 이상 뒤로 밀린 거래를 표시합니다.",
    ),
    ("health_settings.single_threaded_max_contacts", "Single-threaded up to (contacts)", "단일 창구 기준 (연락처 수)"),
    (
        "health_settings.single_threaded_max_contacts.help",
        "Flagged single-threaded with at most this many contacts engaged.",
        "관여한 연락처가 이 수 이하인 거래를 '단일 창구'로 표시합니다.",
    ),
    ("health_settings.multi_threaded_min_contacts", "Multi-threaded from (contacts)", "다중 창구 기준 (연락처 수)"),
    (
        "health_settings.multi_threaded_min_contacts.help",
        "A healthy signal with at least this many contacts engaged; more than the single-threaded limit.",
        "관여한 연락처가 이 수 이상이면 건강 신호 '다중 창구'입니다. 단일 창구 기준보다 커야 합니다.",
    ),
    ("health_settings.moving_days", "Moving within (days)", "진행 중 기준 (일)"),
    (
        "health_settings.moving_days.help",
        "A deal is moving when it changed stage within this many days; also the window of deals moving.",
        "이 일수 안에 단계가 바뀐 거래는 '진행 중'입니다. '거래 이동 활발'의 기간이기도 합니다.",
    ),
    ("health_settings.touchpoints_healthy", "Well touched from (touchpoints in 30 days)", "접점 충분 기준 (30일간 접점 수)"),
    (
        "health_settings.touchpoints_healthy.help",
        "A deal is well touched with at least this many touchpoints in 30 days; also the average behind many touchpoints.",
        "30일간 접점이 이 수 이상이면 '접점 충분'입니다. '접점 풍부'의 평균 기준이기도 합니다.",
    ),
    ("health_settings.late_stage_min_win_bp", "Late stage from (win probability, basis points)", "후반 단계 기준 (수주 확률, bp)"),
    (
        "health_settings.late_stage_min_win_bp.help",
        "An open stage counts as a late stage from this win probability on, in basis points: 5000 is 50 %.",
        "진행 단계의 수주 확률이 이 값 이상이면 후반 단계로 봅니다. 단위는 bp(5000 = 50%)입니다.",
    ),
    (
        "health_settings.rep_late_stage_max",
        "Too many late-stage deals above (deals per rep)",
        "후반 단계 거래 과다 기준 (담당자당 거래 수)",
    ),
    (
        "health_settings.rep_late_stage_max.help",
        "A rep is flagged when they hold more than this many deals in late stages at once.",
        "담당자가 후반 단계에 이 수보다 많은 거래를 동시에 가지면 표시합니다.",
    ),
    ("health_settings.late_stage_share_max_pct", "Parked in late stages above (%)", "후반 단계 적체 기준 (%)"),
    (
        "health_settings.late_stage_share_max_pct.help",
        "Flagged when more than this share of the open deals sit in late stages.",
        "진행 중 거래 중 후반 단계에 있는 비율이 이 값을 넘으면 표시합니다.",
    ),
    ("health_settings.bottleneck_share_pct", "Bottleneck above (% in one stage)", "병목 기준 (한 단계 비율 %)"),
    (
        "health_settings.bottleneck_share_pct.help",
        "Flagged when one stage holds more than this share of the open deals.",
        "한 단계에 진행 중 거래가 이 비율보다 많이 몰리면 표시합니다.",
    ),
    ("health_settings.bottleneck_min_deals", "Judge bottlenecks from (open deals)", "병목 판단 최소 거래 수"),
    (
        "health_settings.bottleneck_min_deals.help",
        "Bottleneck and parked in late stages are only judged with at least this many open deals.",
        "진행 중 거래가 이 수 이상일 때만 병목과 후반 단계 적체를 판단합니다.",
    ),
    ("health_settings.coverage_target_pct", "Coverage target (%)", "커버리지 목표 (%)"),
    (
        "health_settings.coverage_target_pct.help",
        "Thin pipeline below this coverage: 300 means 3×. Also the target of the next lever.",
        "커버리지가 이 값보다 낮으면 '얇은 파이프라인'입니다. 300은 3배입니다. 다음 레버의 목표이기도 합니다.",
    ),
    ("health_settings.no_new_days", "No new opportunities after (days)", "신규 기회 없음 기준 (일)"),
    (
        "health_settings.no_new_days.help",
        "Flagged when no deal was created in this many days.",
        "이 일수 동안 새 거래가 없으면 표시합니다.",
    ),
    ("health_settings.stall_share_pct", "Rep stalls from (% of deals stale)", "담당자 정체 기준 (정체 거래 비율 %)"),
    (
        "health_settings.stall_share_pct.help",
        "A rep stalls at a stage when at least this share of their open deals there are stale.",
        "한 단계에서 담당자의 진행 중 거래 중 정체 비율이 이 값 이상이면 정체로 봅니다.",
    ),
    ("health_settings.stall_min_deals", "Judge a rep at a stage from (open deals)", "담당자 정체 판단 최소 거래 수"),
    (
        "health_settings.stall_min_deals.help",
        "A rep is only judged at a stage where they hold at least this many open deals.",
        "담당자가 그 단계에 진행 중 거래를 이 수 이상 가질 때만 판단합니다.",
    ),
    ("health_settings.team_stall_reps_pct", "Team stalls from (% of reps)", "팀 정체 기준 (담당자 비율 %)"),
    (
        "health_settings.team_stall_reps_pct.help",
        "A team stalls at a stage, a process problem, when at least this share of its reps judged there stall.",
        "그 단계에서 판단 대상 담당자 중 이 비율 이상이 정체하면 팀 정체(프로세스 문제)입니다.",
    ),
    ("health_settings.team_stall_min_reps", "Team stalls from (reps)", "팀 정체 기준 (담당자 수)"),
    (
        "health_settings.team_stall_min_reps.help",
        "A team only stalls at a stage when at least this many of its reps stall there.",
        "정체한 담당자가 이 수 이상일 때만 팀 정체로 봅니다.",
    ),
    ("health_settings.spread_max_share_pct", "Value spread up to (% in one stage)", "금액 분산 기준 (한 단계 비율 %)"),
    (
        "health_settings.spread_max_share_pct.help",
        "A healthy signal when no stage holds more than this share of the open value.",
        "어느 단계도 진행 중 금액의 이 비율을 넘지 않으면 건강 신호입니다.",
    ),
    ("health_settings.moving_share_pct", "Deals moving from (% of deals)", "거래 이동 활발 기준 (거래 비율 %)"),
    (
        "health_settings.moving_share_pct.help",
        "A healthy signal when at least this share of the open deals changed stage within the moving days.",
        "진행 중 거래 중 이 비율 이상이 '진행 중' 기간 안에 단계를 바꾸면 건강 신호입니다.",
    ),
    ("health_settings.front_loaded_share_pct", "Front-loaded from (% of deals)", "앞단 충실 기준 (거래 비율 %)"),
    (
        "health_settings.front_loaded_share_pct.help",
        "A healthy signal when at least this share of the open deals sit in the first half of the stages.",
        "진행 중 거래 중 이 비율 이상이 앞쪽 절반의 단계에 있으면 건강 신호입니다.",
    ),
    (
        "error.health_settings_only",
        "Only sales ops or an administrator can change the health thresholds.",
        "영업 운영 담당자나 관리자만 건강 상태 기준을 바꿀 수 있습니다.",
    ),
    ("rule.multi_above_single", "must be more than single_threaded_max_contacts", "단일 창구 기준 연락처 수보다 커야 합니다"),
    ("dash.health_settings", "Change the health thresholds", "건강 상태 기준 변경"),
    (
        "error.ops_only",
        "Only sales ops or an administrator can design pipelines.",
        "영업 운영 담당자나 관리자만 파이프라인을 설계할 수 있습니다.",
    ),
    ("expected.contact", "a contact of this account", "이 고객사의 연락처"),
    ("expected.yes_no", "yes or no", "예 또는 아니요"),
    ("expected.whole_number", "a whole number", "정수"),
    ("rule.contact_twice", "this contact is on the stakeholder map twice", "같은 연락처가 이해관계자 지도에 두 번 있습니다"),
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
    // Dashboards (pages::dashboard).
    ("nav.dashboard", "Dashboard", "대시보드"),
    ("dash.title", "Dashboard", "대시보드"),
    ("dash.quarter", "Q{quarter} {year}", "{year}년 {quarter}분기"),
    (
        "dash.subtitle",
        "{kind} · as of {date} · {period} ({first} – {last}) · {pipeline} · amounts in {currency}",
        "{kind} · {date} 기준 · {period} ({first} – {last}) · {pipeline} · 금액 단위 {currency}",
    ),
    ("dash.kind.organisation", "Organisation", "조직 전체"),
    ("dash.kind.team", "Team", "팀"),
    ("dash.kind.rep", "Rep", "영업 담당자"),
    ("dash.kind.reports", "Your reporting line", "내 보고 라인"),
    ("dash.my_reports", "My reports", "내 팀원"),
    ("dash.all_pipelines", "All pipelines", "모든 파이프라인"),
    ("dash.view", "Show", "보기 대상"),
    ("dash.organisation", "Organisation", "조직"),
    ("dash.default_view", "Default", "기본"),
    ("dash.my_view", "My team", "내 팀"),
    ("dash.teams", "Teams", "팀"),
    ("dash.reps", "Reps", "영업 담당자"),
    ("dash.period", "Period", "기간"),
    ("dash.as_of", "As of", "기준일"),
    ("dash.quota_input", "Quota for the period", "기간 할당량"),
    ("dash.rep_quota_input", "Quota per rep", "담당자별 할당량"),
    ("dash.quota_placeholder", "e.g. 500000", "예: 500000"),
    (
        "dash.quota_note",
        "Quotas are not stored in Pipewise yet: type the period's quota (or a quota per rep) above to see coverage, attainment and the next lever.",
        "할당량은 아직 Pipewise에 저장되지 않습니다. 위에 기간 할당량(또는 담당자별 할당량)을 입력하면 커버리지, 달성률, 다음 레버를 볼 수 있습니다.",
    ),
    (
        "dash.quota_given",
        "Quota {quota} for the period, as typed above (quotas are an input for now).",
        "위에 입력한 기간 할당량 {quota} 기준입니다 (할당량은 현재 입력값입니다).",
    ),
    (
        "dash.quota_derived",
        "Quota {quota}: the quota per rep typed above times the reps shown (quotas are an input for now).",
        "할당량 {quota}: 위에 입력한 담당자별 할당량 × 표시된 담당자 수입니다 (할당량은 현재 입력값입니다).",
    ),
    ("dash.bad_quota", "“{value}” is not an amount; the quota is ignored.", "“{value}”은(는) 금액이 아니므로 할당량을 무시했습니다."),
    ("dash.bad_date", "“{value}” is not a date; showing today.", "“{value}”은(는) 날짜가 아니므로 오늘 기준으로 표시합니다."),
    ("dash.future_as_of", "The as-of date cannot be in the future; showing {date}.", "기준일은 미래일 수 없어 {date} 기준으로 표시합니다."),
    (
        "dash.bad_period",
        "“{value}” is not a quarter such as 2026-Q2; showing the as-of quarter.",
        "“{value}”은(는) 2026-Q2 같은 분기가 아니어서 기준일의 분기로 표시합니다.",
    ),
    ("dash.bad_figure", "Unknown figure “{value}”.", "알 수 없는 지표 “{value}”입니다."),
    ("dash.headline", "Headline numbers", "핵심 지표"),
    ("dash.open_pipeline", "Open pipeline", "진행 중 파이프라인"),
    ("dash.open_detail", "{count} deals · weighted {weighted}", "거래 {count}건 · 가중 {weighted}"),
    ("dash.open_title", "Amount {amount}; weighted by stage probability {weighted}.", "금액 {amount}, 단계별 확률 가중 금액 {weighted}."),
    ("dash.coverage", "Coverage", "커버리지"),
    ("dash.times", "{value}×", "{value}배"),
    ("dash.coverage_detail", "{open} closing in the period vs {remaining} to go", "기간 내 마감 예정 {open} / 남은 할당량 {remaining}"),
    (
        "dash.coverage_title",
        "Open pipeline closing in the period {open} ÷ remaining quota {remaining} (quota {quota} − won {won}).",
        "기간 내 마감 예정 파이프라인 {open} ÷ 남은 할당량 {remaining} (할당량 {quota} − 수주 {won}).",
    ),
    ("dash.coverage_needs_quota", "Enter a quota to see coverage", "커버리지를 보려면 할당량을 입력하세요"),
    ("dash.won_period", "Won in the period", "기간 내 수주"),
    ("dash.won_period_detail", "{count} deals won", "수주 {count}건"),
    ("dash.win_rate", "Win rate", "승률"),
    ("dash.win_rate_detail", "{won} won, {lost} lost · {value} by value", "수주 {won}건, 실주 {lost}건 · 금액 기준 {value}"),
    ("dash.window_note", "Deals closed in the 12 months up to the as-of date.", "기준일까지 12개월 동안 마감된 거래 기준입니다."),
    ("dash.cycle", "Average cycle", "평균 영업 주기"),
    ("dash.cycle_detail", "Average won deal {size}", "평균 수주 금액 {size}"),
    ("dash.days", "{days} days", "{days}일"),
    ("dash.velocity", "Sales velocity", "영업 속도"),
    ("dash.per_day", "{amount}/day", "하루 {amount}"),
    ("dash.velocity_detail", "Open deals × win rate × deal size ÷ cycle", "진행 중 거래 × 승률 × 거래 규모 ÷ 주기"),
    (
        "dash.velocity_title",
        "{open} open deals × {rate} × {size} ÷ {cycle} days = {amount} per day.",
        "진행 중 거래 {open}건 × {rate} × {size} ÷ {cycle}일 = 하루 {amount}.",
    ),
    ("dash.next_lever", "Next lever", "다음 레버"),
    ("dash.lever.fill", "Fill the top of the funnel", "퍼널 상단을 채우세요"),
    ("dash.lever.convert", "Convert what you have", "가진 파이프라인을 전환하세요"),
    ("dash.lever.none", "No recommendation yet", "아직 추천이 없습니다"),
    (
        "dash.lever.met",
        "The quota for the period is already won: nothing remains to cover, so there is no lever to pull.",
        "이번 기간 할당량을 이미 달성해 채울 부분이 없으므로 당길 레버가 없습니다.",
    ),
    ("dash.quota_met", "Quota met", "할당량 달성"),
    (
        "dash.lever.needs_quota",
        "The next lever compares coverage with the usual win rate: enter a quota above to see it.",
        "다음 레버는 커버리지와 평소 승률을 비교해 정합니다. 위에 할당량을 입력하면 볼 수 있습니다.",
    ),
    ("dash.by_stage", "Pipeline by stage", "단계별 파이프라인"),
    (
        "dash.by_stage_hint",
        "Open deals in counting stages (stage 1 pre-opportunities are left out). Click a stage for its deals.",
        "집계 대상 단계의 진행 중 거래입니다 (1단계 사전 기회는 제외). 단계를 누르면 거래를 볼 수 있습니다.",
    ),
    ("dash.deals", "Deals", "거래 수"),
    ("dash.amount", "Amount", "금액"),
    ("dash.weighted", "Weighted", "가중 금액"),
    ("dash.share", "Share", "비중"),
    ("dash.total", "Total", "합계"),
    ("dash.no_open", "No open deals.", "진행 중인 거래가 없습니다."),
    ("dash.concentrated", "Value concentrated", "금액 편중"),
    ("dash.concentrated_reason", "{share} of the open value sits in {stage}.", "진행 중 금액의 {share}가 '{stage}' 단계에 몰려 있습니다."),
    ("dash.waterfall", "Pipeline waterfall", "파이프라인 워터폴"),
    ("dash.movement", "Movement", "변동"),
    (
        "dash.wf.span",
        "Pipeline closing in {period}: from the end of {from} to the end of {to}.",
        "{period} 마감 예정 파이프라인: {from} 종료 시점부터 {to} 종료 시점까지.",
    ),
    ("dash.wf.start", "Start", "시작"),
    ("dash.wf.new", "New", "신규"),
    ("dash.wf.increased", "Increased", "증액"),
    ("dash.wf.decreased", "Decreased", "감액"),
    ("dash.wf.pulled_in", "Pulled in", "앞당겨짐"),
    ("dash.wf.pushed_out", "Pushed out", "미뤄짐"),
    ("dash.wf.won", "Won", "수주"),
    ("dash.wf.lost", "Lost", "실주"),
    ("dash.wf.removed", "Removed", "제외"),
    ("dash.wf.end", "End", "종료"),
    ("dash.wf.reconciles", "Reconciles: {start} + {moves} = {end}.", "일치: {start} + {moves} = {end}."),
    ("dash.wf.does_not_reconcile", "Does not reconcile: {start} + {moves} ≠ {end}.", "불일치: {start} + {moves} ≠ {end}."),
    ("dash.trends", "Trends", "추이"),
    (
        "dash.trend_caption",
        "Weekly over the last {weeks} weeks, each point as known at the end of that day.",
        "최근 {weeks}주 동안 주 단위, 각 시점에 알려진 값입니다.",
    ),
    ("dash.win_rate_trend", "Win rate (12 months to each week)", "승률 (각 주까지 12개월)"),
    ("dash.week_of", "Week ending", "주 마지막 날"),
    ("dash.data_table", "Data table", "데이터 표"),
    ("dash.health_of", "Health: {subject}", "파이프라인 건강: {subject}"),
    ("dash.no_group_flags", "No pipeline-level problems.", "파이프라인 수준의 문제가 없습니다."),
    ("dash.healthy_signals", "Healthy signals", "건강 신호"),
    ("dash.deal_flags", "Deals by flag", "플래그별 거래"),
    ("dash.stalling", "Stalling: process or coaching?", "정체: 프로세스 문제인가, 코칭 문제인가?"),
    (
        "dash.stalling_hint",
        "When most reps of a team stall at the same stage, the stage or process needs fixing; when one rep stalls, that rep needs coaching.",
        "한 팀의 담당자 대부분이 같은 단계에서 정체되면 단계나 프로세스를 고쳐야 하고, 한 명만 정체되면 그 담당자에게 코칭이 필요합니다.",
    ),
    ("dash.process_problem", "Process problem", "프로세스 문제"),
    ("dash.coaching_matter", "Coaching matter", "코칭 필요"),
    ("dash.no_stalls", "Nobody is stalling.", "정체된 팀이나 담당자가 없습니다."),
    ("dash.who_needs_attention", "Teams and reps with flags", "플래그가 있는 팀과 담당자"),
    ("dash.flagged_deals", "Deals at risk", "위험 거래"),
    (
        "dash.flagged_hint",
        "The largest open deals with at least one flag; hover a badge for the reason.",
        "플래그가 하나 이상 있는 큰 진행 중 거래입니다. 배지에 마우스를 올리면 이유가 보입니다.",
    ),
    ("dash.no_flagged", "No open deal has a flag.", "플래그가 있는 진행 중 거래가 없습니다."),
    ("dash.why", "Why", "이유"),
    ("dash.leaderboard", "Leaderboard", "리더보드"),
    (
        "dash.leaderboard_hint",
        "Won in the period, then open pipeline; win rate and cycle over 12 months. Click a rep for their dashboard.",
        "기간 내 수주, 그다음 진행 중 파이프라인 순입니다. 승률과 주기는 12개월 기준입니다. 담당자를 누르면 대시보드를 볼 수 있습니다.",
    ),
    ("dash.rep", "Rep", "담당자"),
    ("dash.attainment", "Attainment", "달성률"),
    ("dash.no_reps", "No reps with deals.", "거래가 있는 담당자가 없습니다."),
    ("dash.link.won", "Won deals", "수주 거래"),
    ("dash.link.lost", "Lost deals", "실주 거래"),
    ("dash.figure.open", "Open pipeline", "진행 중 파이프라인"),
    ("dash.figure.stage", "Open pipeline in {stage}", "'{stage}' 단계의 진행 중 파이프라인"),
    ("dash.figure.closing", "Open pipeline closing in the period", "기간 내 마감 예정 파이프라인"),
    ("dash.figure.won", "Won (12 months)", "수주 (12개월)"),
    ("dash.figure.lost", "Lost (12 months)", "실주 (12개월)"),
    ("dash.figure.closed", "Won and lost (12 months)", "수주와 실주 (12개월)"),
    ("dash.figure.won_period", "Won in the period", "기간 내 수주"),
    ("dash.figure.wf_start", "Waterfall: start", "워터폴: 시작"),
    ("dash.figure.wf_new", "Waterfall: new", "워터폴: 신규"),
    ("dash.figure.wf_increased", "Waterfall: increased", "워터폴: 증액"),
    ("dash.figure.wf_decreased", "Waterfall: decreased", "워터폴: 감액"),
    ("dash.figure.wf_pulled_in", "Waterfall: pulled in", "워터폴: 앞당겨짐"),
    ("dash.figure.wf_pushed_out", "Waterfall: pushed out", "워터폴: 미뤄짐"),
    ("dash.figure.wf_won", "Waterfall: won", "워터폴: 수주"),
    ("dash.figure.wf_lost", "Waterfall: lost", "워터폴: 실주"),
    ("dash.figure.wf_removed", "Waterfall: removed", "워터폴: 제외"),
    ("dash.figure.wf_end", "Waterfall: end", "워터폴: 종료"),
    (
        "dash.drill_note",
        "The deals behind “{figure}” for {subject}, as of {date}, period {period}. Membership is as of that date; the columns show the deals today.",
        "{subject}의 “{figure}” 지표에 해당하는 거래입니다 ({date} 기준, 기간 {period}). 포함 여부는 기준일 시점이며, 열에는 현재 상태가 표시됩니다.",
    ),
    // Health flags and signals (pipewise_analytics::health), as badges and labels.
    ("health.stale", "Stale", "정체"),
    ("health.untouched", "Untouched", "활동 없음"),
    ("health.going_dark", "Going dark", "연락 끊김"),
    ("health.past_close_date", "Close date past", "마감일 지남"),
    ("health.close_date_pushed", "Close date pushed", "마감일 연기"),
    ("health.overdue_tasks", "Overdue tasks", "기한 지난 작업"),
    ("health.single_threaded", "Single-threaded", "단일 창구"),
    ("health.no_amount", "No amount", "금액 없음"),
    ("health.late_updates", "Late updates", "늦은 기록"),
    ("health.moving", "Moving", "진행 중"),
    ("health.well_touched", "Well touched", "접점 충분"),
    ("health.multi_threaded", "Multi-threaded", "다중 창구"),
    ("health.too_many_late_stage", "Too many late-stage deals", "후반 단계 거래 과다"),
    ("health.thin_pipeline", "Thin pipeline", "얇은 파이프라인"),
    ("health.no_new_opportunities", "No new opportunities", "신규 기회 없음"),
    ("health.rep_stalling", "Rep stalling", "담당자 정체"),
    ("health.team_stalling", "Team stalling", "팀 정체"),
    ("health.bottleneck", "Bottleneck", "병목"),
    ("health.parked_in_late_stages", "Parked in late stages", "후반 단계 적체"),
    ("health.value_spread", "Value spread", "금액 분산"),
    ("health.deals_moving", "Deals moving", "거래 이동 활발"),
    ("health.many_touchpoints", "Many touchpoints", "접점 풍부"),
    ("health.front_loaded", "Front-loaded", "앞단 충실"),
    ("health.badge.pushed", "Pushed {count}×", "{count}회 연기"),
    ("health.badges", "Health", "건강 상태"),
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
