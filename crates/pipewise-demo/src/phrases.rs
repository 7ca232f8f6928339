//! The words deals and activities are written in: deal names, next steps, close reasons,
//! activity subjects and bodies, task titles. Each entry is `(English, Korean)`.
//!
//! Lists indexed by "level" follow the open stages of the B2B pipeline (1 Pre-opportunity …
//! 5 Approval); the Simple pipeline's four stages use levels 0 to 3.

pub type Phrase = (&'static str, &'static str);

/// What the demo organisation sells, as deal names put it.
pub const OFFERINGS: &[Phrase] = &[
    ("Platform rollout", "전사 도입"),
    ("Sales analytics", "영업 분석 도입"),
    ("Forecasting add-on", "예측 모듈 추가"),
    ("Annual renewal", "연간 갱신"),
    ("Pilot", "파일럿"),
    ("Enterprise licence", "엔터프라이즈 라이선스"),
    ("Upgrade to Enterprise", "엔터프라이즈 업그레이드"),
    ("Expansion", "확장"),
    ("Regional rollout", "지역 확산"),
    ("Revenue operations suite", "매출 운영 솔루션"),
    ("Commission management", "성과급 관리 도입"),
    ("Pipeline health module", "파이프라인 점검 모듈"),
];

/// Departments a deal can be scoped to.
pub const DEPARTMENTS: &[Phrase] = &[
    ("Sales", "영업본부"),
    ("Marketing", "마케팅팀"),
    ("Finance", "재무팀"),
    ("Customer Success", "고객성공팀"),
    ("Inside Sales", "내부영업팀"),
    ("Partner Sales", "파트너영업팀"),
];

pub const NEXT_STEPS: [&[Phrase]; 5] = [
    &[
        ("Qualify the business problem", "비즈니스 과제 확인"),
        ("Book a discovery call", "첫 미팅 일정 잡기"),
        ("Confirm who owns the budget", "예산 담당자 확인"),
        ("Send the intro deck", "회사 소개서 송부"),
        ("Check decision timeline", "의사결정 시점 확인"),
    ],
    &[
        ("Run the discovery workshop", "요구사항 워크숍 진행"),
        ("Capture BANT", "BANT 확인"),
        ("Map the stakeholders", "이해관계자 파악"),
        ("Schedule a demo with IT", "IT팀 데모 일정 확정"),
        ("Write up the business issue", "비즈니스 과제 정리"),
    ],
    &[
        ("Start the PoC", "PoC 착수"),
        ("Send the competitive comparison", "경쟁사 비교표 송부"),
        ("Agree PoC success criteria", "PoC 성공 기준 합의"),
        ("Reference call with a customer", "레퍼런스 고객 통화 주선"),
        ("Meet the economic buyer", "최종 의사결정권자 미팅"),
    ],
    &[
        ("Send the proposal", "제안서 송부"),
        ("Agree the mutual close plan", "공동 클로징 플랜 합의"),
        ("Negotiate pricing with procurement", "구매팀 가격 협상"),
        ("Legal review of the MSA", "계약서 법무 검토"),
        ("Confirm the approval route", "결재 라인 확인"),
    ],
    &[
        ("Follow the approval draft", "품의 진행 상황 확인"),
        ("Get the PO number", "발주서 번호 받기"),
        ("Confirm the board meeting date", "이사회 일정 확인"),
        ("Signature from the CFO", "CFO 서명 받기"),
        ("Plan the kickoff", "착수 회의 준비"),
    ],
];

/// Why deals were lost, with weights. Kept in English in every locale so reports group them.
pub const LOSS_REASONS: &[(&str, f64)] =
    &[("Lost to competitor", 35.0), ("No budget", 20.0), ("No decision", 25.0), ("Timing", 15.0), ("Price", 5.0)];

/// Why a B2B deal was dropped at stage 1 (seed 003). Not a loss: it never enters win rate.
pub const DROP_REASONS: &[&str] =
    &["we can't serve this", "no budget this quarter", "personal interest only, the company isn't evaluating"];

pub const WIN_REASONS: &[&str] = &["Best product fit", "Strong champion", "Fastest time to value", "Price", "Existing relationship"];

/// Outbound e-mail subjects by level.
pub const EMAIL_OUT: [&[Phrase]; 5] = [
    &[
        ("Introduction and a short overview", "인사드립니다 - 솔루션 소개"),
        ("Following up on your enquiry", "문의 주신 내용 회신드립니다"),
        ("A question about your sales process", "영업 프로세스 관련 문의"),
    ],
    &[
        ("Agenda for our discovery session", "요구사항 미팅 안건 공유"),
        ("Thank you for your time today", "오늘 미팅 감사드립니다"),
        ("Summary of the business issues we discussed", "논의한 비즈니스 과제 정리"),
    ],
    &[
        ("Demo recording and next steps", "데모 녹화본 및 다음 단계"),
        ("PoC success criteria (draft)", "PoC 성공 기준(안) 공유"),
        ("Comparison sheet you asked for", "요청하신 비교표 송부"),
        ("Security questionnaire answers", "보안 점검표 답변 송부"),
    ],
    &[
        ("Proposal for your review", "제안서 송부드립니다"),
        ("Updated pricing", "견적서 재송부 드립니다"),
        ("Mutual close plan - please review", "공동 클로징 플랜 검토 요청"),
        ("Order form and MSA redlines", "계약서 수정본 송부"),
    ],
    &[
        ("Anything needed for the approval?", "품의에 필요한 자료 있으실까요?"),
        ("Final contract for signature", "최종 계약서 송부"),
        ("Kickoff planning", "착수 일정 협의"),
    ],
];

/// Inbound e-mail subjects by level.
pub const EMAIL_IN: [&[Phrase]; 5] = [
    &[("Re: Introduction and a short overview", "Re: 솔루션 소개"), ("Request for information", "자료 요청드립니다")],
    &[
        ("Re: Agenda for our discovery session", "Re: 요구사항 미팅 안건"),
        ("Our current process, as promised", "현재 업무 프로세스 공유드립니다"),
    ],
    &[
        ("Re: PoC success criteria (draft)", "Re: PoC 성공 기준(안)"),
        ("Question about the integration", "연동 관련 문의"),
        ("Feedback from the IT team", "IT팀 검토 의견 전달드립니다"),
    ],
    &[
        ("Re: Updated pricing", "Re: 견적서 관련"),
        ("Internal review update", "내부 검토 결과 공유드립니다"),
        ("Legal comments", "법무 검토 의견"),
    ],
    &[
        ("Approval status", "품의 진행 상황 공유"),
        ("Re: Final contract for signature", "Re: 최종 계약서"),
        ("PO attached", "발주서 송부드립니다"),
    ],
];

pub const CALLS: [&[Phrase]; 5] = [
    &[("Intro call", "첫 통화"), ("Qualification call", "자격 확인 통화")],
    &[("Follow-up call", "후속 통화"), ("Budget check call", "예산 확인 통화")],
    &[("PoC check-in", "PoC 중간 점검 통화"), ("Reference call", "레퍼런스 통화")],
    &[("Call with procurement", "구매팀 통화"), ("Pricing call", "가격 협의 통화")],
    &[("Approval check-in", "결재 진행 확인 통화"), ("Call with the CFO", "CFO 통화")],
];

pub const MEETINGS: [&[Phrase]; 5] = [
    &[("Discovery meeting", "첫 미팅")],
    &[("Requirements workshop", "요구사항 워크숍"), ("Executive sponsor meeting", "임원 미팅")],
    &[("Product demo", "제품 데모"), ("PoC kickoff", "PoC 킥오프"), ("Technical deep dive with IT", "IT팀 기술 검토 회의")],
    &[("Negotiation: pricing and terms", "가격 및 조건 협상 미팅"), ("Close plan review", "클로징 플랜 점검 회의")],
    &[("Approval meeting prep", "품의 준비 회의"), ("Contract signing", "계약 체결 미팅")],
];

pub const NOTES: &[Phrase] = &[
    ("Deal review with manager", "매니저 딜 리뷰"),
    ("Champion changed roles", "담당자 변경됨"),
    ("Discount approval requested", "할인 승인 요청"),
    ("Economic buyer not met yet", "최종 결정권자 미팅 전"),
    ("Notes from the internal strategy call", "내부 전략 회의 메모"),
];

/// Note subject naming a competitor: `{}` is the competitor.
pub const COMPETITOR_NOTE: Phrase = ("Competitor in the deal: {}", "경쟁사 등장: {}");

pub const BODY_POSITIVE: &[Phrase] = &[
    ("Thanks, the team was impressed. Let's move forward.", "감사합니다. 내부 반응이 아주 좋습니다. 진행하시죠."),
    ("Great session today, everyone is excited about the results.", "오늘 미팅 정말 좋았습니다. 다들 결과에 만족하고 있습니다."),
    ("Approved! Please send the final paperwork.", "승인되었습니다! 최종 서류 보내주세요."),
];

pub const BODY_NEGATIVE: &[Phrase] = &[
    ("Unfortunately the budget was cut and we have to pause this.", "아쉽지만 예산이 삭감되어 진행이 어렵게 되었습니다."),
    ("We decided to go with another vendor this time.", "이번에는 다른 업체로 결정하게 되었습니다."),
    ("Sorry for the delay, priorities have changed and this is on hold.", "답변이 늦어 죄송합니다. 우선순위가 바뀌어 보류되었습니다."),
];

pub const BODY_NEUTRAL: &[Phrase] = &[
    ("Attached are the notes from today.", "오늘 회의록 첨부드립니다."),
    ("Could you send the updated figures?", "수정된 수치 보내주실 수 있을까요?"),
    ("Let's find a time next week.", "다음 주 중 시간 한번 잡으시죠."),
    ("Looping in my colleague from IT.", "IT팀 동료를 참조로 추가했습니다."),
];

pub const TASKS: [&[Phrase]; 5] = [
    &[("Call back about the enquiry", "문의 회신 전화"), ("Research the account", "고객사 조사")],
    &[("Send the discovery summary", "요구사항 정리본 송부"), ("Confirm the budget owner", "예산 담당자 확인")],
    &[("Prepare the demo environment", "데모 환경 준비"), ("Send the PoC report", "PoC 결과 보고서 송부")],
    &[("Send the revised proposal", "수정 제안서 송부"), ("Get discount approval", "할인 승인 받기")],
    &[("Chase the approval", "결재 진행 확인"), ("Send the signed contract to finance", "날인 계약서 재무팀 전달")],
];

pub const LEAD_TASKS: &[Phrase] = &[
    ("First touch on new lead", "신규 리드 첫 연락"),
    ("Follow up on lead", "리드 후속 연락"),
    ("Last-chance e-mail", "마지막 안내 메일 발송"),
];

pub fn say(phrase: Phrase, korean: bool) -> &'static str {
    if korean { phrase.1 } else { phrase.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_phrase_is_a_valid_single_line() {
        let lists: Vec<&[Phrase]> = [OFFERINGS, DEPARTMENTS, NOTES, BODY_POSITIVE, BODY_NEGATIVE, BODY_NEUTRAL, LEAD_TASKS]
            .into_iter()
            .chain(NEXT_STEPS)
            .chain(EMAIL_OUT)
            .chain(EMAIL_IN)
            .chain(CALLS)
            .chain(MEETINGS)
            .chain(TASKS)
            .collect();
        for list in lists {
            assert!(!list.is_empty());
            for (english, korean) in list {
                for text in [english, korean] {
                    assert_eq!(pipewise_core::text::required(text, 200).as_deref(), Ok(*text));
                }
            }
        }
    }
}
