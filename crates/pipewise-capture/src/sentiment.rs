//! How a message sounds: a score in −1…+1 from a vocabulary of weighted words, English from
//! VADER's lexicon (MIT, `data/vader_lexicon.txt`) and Korean from a seed list written for
//! Pipewise (the only redistributable Korean lexicon, AFINN-ko, is ODbL, so it stays out of the
//! binary), retrained by the reps' own ratings.
//!
//! Scoring: the new text of a message (quoted lines and the quoted reply under "On … wrote:"
//! left out) is cut into words; an English word scores its weight, flipped and damped after a
//! negation within three words ("not", "never", "n't", …); a Korean word scores the weight of
//! the longest seed stem it starts with, flipped after 안/못 or before 않-. The sum `s` becomes
//! `s / √(s² + 15)`, VADER's normalisation.
//!
//! Retraining ([`Vocabulary::train`]) is deterministic: ratings are applied in the order given,
//! each moving the weight of every word of its message by the same step toward the rating
//! (`±0.6`), so a word rated negative makes the next message with it score lower.

use std::collections::HashMap;
use std::sync::OnceLock;

const VADER: &str = include_str!("../data/vader_lexicon.txt");

/// Korean stems with weights on VADER's −4…+4 scale, written for Pipewise for sales mail.
const KOREAN_SEED: &[(&str, f64)] = &[
    ("감사", 2.0),
    ("고맙", 2.0),
    ("좋", 1.8),
    ("기쁘", 2.2),
    ("기쁩", 2.2),
    ("반갑", 1.6),
    ("축하", 2.4),
    ("만족", 2.0),
    ("훌륭", 2.6),
    ("최고", 2.6),
    ("기대", 1.4),
    ("관심", 1.0),
    ("긍정", 1.6),
    ("환영", 1.8),
    ("성공", 2.0),
    ("승인", 1.6),
    ("합의", 1.4),
    ("계약", 0.8),
    ("다행", 1.4),
    ("적극", 1.2),
    ("추천", 1.4),
    ("편리", 1.4),
    ("유용", 1.6),
    ("지연", -1.4),
    ("연기", -1.2),
    ("보류", -1.4),
    ("취소", -2.0),
    ("중단", -1.8),
    ("거절", -2.2),
    ("불가", -1.8),
    ("문제", -1.4),
    ("불만", -2.2),
    ("실망", -2.4),
    ("걱정", -1.4),
    ("우려", -1.4),
    ("유감", -1.6),
    ("죄송", -0.8),
    ("미안", -0.8),
    ("곤란", -1.6),
    ("어렵", -1.4),
    ("힘들", -1.4),
    ("늦", -1.0),
    ("비싸", -1.4),
    ("부족", -1.2),
    ("위험", -1.6),
    ("오류", -1.6),
    ("장애", -1.6),
    ("항의", -2.2),
    ("환불", -1.6),
    ("해지", -2.0),
    ("경쟁사", -0.8),
    ("삭감", -1.8),
];

/// Words that turn the next three English words around.
const NEGATIONS: &[&str] = &["not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "without", "cannot"];
/// English words too common to learn from.
const STOPWORDS: &[&str] = &[
    "the", "and", "for", "you", "your", "our", "are", "was", "were", "this", "that", "with", "have", "has", "had", "will", "would", "can",
    "could", "from", "they", "them", "their", "there", "here", "what", "which", "when", "who", "all", "any", "but", "about", "been",
    "into", "than", "then", "its", "it's", "i'm", "we're", "let", "also", "just", "please", "thanks", "regards", "hi", "dear",
];
/// How far one rating moves a word's weight, per unit of error, before the √words damping.
const LEARNING_RATE: f64 = 0.3;
/// The score a rating pulls its message toward.
const RATED_TARGET: f64 = 0.6;

/// A message's score and the words that made it.
#[derive(Clone, Debug, PartialEq)]
pub struct Score {
    /// −1 (hostile) … +1 (delighted); 0 with no weighted word.
    pub value: f64,
    /// The words that counted, with what each added, in text order.
    pub words: Vec<(String, f64)>,
}

impl Score {
    /// The score in thousandths, as stored.
    pub fn milli(&self) -> i32 {
        (self.value * 1000.0).round() as i32
    }
}

/// Weighted words: the built-in seed, then what ratings taught.
#[derive(Clone, Debug)]
pub struct Vocabulary {
    english: HashMap<String, f64>,
    /// Korean stems, longest first when matched.
    korean: Vec<(String, f64)>,
    /// Learnt weights by word (English) or two-syllable stem (Korean), added to the seed's.
    learnt: HashMap<String, f64>,
}

impl Vocabulary {
    /// The seed: VADER's English lexicon and the Korean stems.
    pub fn seed() -> &'static Vocabulary {
        static SEED: OnceLock<Vocabulary> = OnceLock::new();
        SEED.get_or_init(|| {
            let english = VADER
                .lines()
                .filter_map(|line| {
                    let mut cells = line.split('\t');
                    let word = cells.next()?;
                    let weight: f64 = cells.next()?.trim().parse().ok()?;
                    (!word.contains(' ')).then(|| (word.to_lowercase(), weight))
                })
                .collect();
            let mut korean: Vec<(String, f64)> = KOREAN_SEED.iter().map(|(stem, weight)| (stem.to_string(), *weight)).collect();
            korean.sort_by(|a, b| b.0.chars().count().cmp(&a.0.chars().count()).then_with(|| a.0.cmp(&b.0)));
            Vocabulary { english, korean, learnt: HashMap::new() }
        })
    }

    /// The seed retrained by `ratings` (each a message's text and +1 or −1), in order.
    pub fn train<'a>(ratings: impl IntoIterator<Item = (&'a str, i8)>) -> Vocabulary {
        let mut vocabulary = Vocabulary::seed().clone();
        for (text, rating) in ratings {
            vocabulary.learn(text, rating);
        }
        vocabulary
    }

    /// Moves the weight of every word of `text` toward `rating` (+1 or −1).
    pub fn learn(&mut self, text: &str, rating: i8) {
        let target = RATED_TARGET * f64::from(rating.signum());
        let error = target - self.score(text).value;
        if error * f64::from(rating.signum()) <= 0.0 {
            return;
        }
        let mut keys: Vec<String> = tokens(new_text(text)).filter_map(|token| learning_key(&token)).collect();
        keys.sort();
        keys.dedup();
        if keys.is_empty() {
            return;
        }
        let step = LEARNING_RATE * error / (keys.len() as f64).sqrt();
        for key in keys {
            *self.learnt.entry(key).or_insert(0.0) += step;
        }
    }

    /// How much a word weighs, seed and learnt together (0 for an unknown word).
    pub fn weight(&self, word: &str) -> f64 {
        self.weight_of(&word.to_lowercase())
    }

    /// [`Vocabulary::weight`] of a word already lower-cased.
    fn weight_of(&self, word: &str) -> f64 {
        let hangul = is_hangul(word);
        let seed = if hangul {
            self.korean.iter().find(|(stem, _)| word.starts_with(stem.as_str())).map_or(0.0, |(_, weight)| *weight)
        } else {
            self.english.get(word).copied().unwrap_or(0.0)
        };
        if self.learnt.is_empty() {
            return seed;
        }
        let learnt = match hangul {
            true => {
                // The stem is the first two syllables, as `learning_key` makes it.
                let end = word.char_indices().nth(2).map_or(word.len(), |(end, _)| end);
                (word[..end].chars().count() == 2).then(|| self.learnt.get(&word[..end])).flatten()
            }
            false => learning_key(word).and_then(|key| self.learnt.get(&key)),
        };
        seed + learnt.copied().unwrap_or(0.0)
    }

    /// Scores a message's text (subject and body); only its first [`SCORED_CHARS`] characters
    /// of new text count (a sales message says how it feels at the start).
    pub fn score(&self, text: &str) -> Score {
        let lower = new_text(text).to_lowercase();
        let tokens: Vec<&str> = words(&lower).collect();
        let mut words_found = Vec::new();
        let mut sum = 0.0;
        for (index, token) in tokens.iter().enumerate() {
            let mut weight = self.weight_of(token);
            if weight == 0.0 {
                continue;
            }
            let before = &tokens[index.saturating_sub(3)..index];
            let negated = if is_hangul(token) {
                before.last().is_some_and(|word| *word == "안" || *word == "못")
                    || tokens.get(index + 1).is_some_and(|next| next.starts_with("않"))
            } else {
                before.iter().any(|word| NEGATIONS.contains(word) || word.ends_with("n't") || word.ends_with("n’t"))
            };
            if negated {
                weight *= -0.74;
            }
            sum += weight;
            words_found.push(((*token).to_owned(), weight));
        }
        Score { value: sum / (sum * sum + 15.0).sqrt(), words: words_found }
    }
}

/// How much of a message's new text is scored.
pub const SCORED_CHARS: usize = 10_000;

/// The text a message adds: lines quoted with `>` and everything from a reply header ("On …
/// wrote:", "-----Original Message-----", Korean clients' "… 작성:") on are left out.
fn new_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(SCORED_CHARS * 3));
    let mut chars = 0;
    for line in text.lines() {
        let trimmed = line.trim();
        let reply_header = (trimmed.starts_with("On ") && trimmed.ends_with("wrote:"))
            || trimmed.starts_with("-----Original Message-----")
            || trimmed.starts_with("-----원본 메시지-----")
            || trimmed.ends_with("작성:");
        if reply_header || chars >= SCORED_CHARS {
            break;
        }
        if trimmed.starts_with('>') {
            continue;
        }
        out.push_str(line);
        out.push('\n');
        chars += line.len();
    }
    out
}

/// The words of lower-cased text: letters, digits and apostrophes (so "don't" stays one word).
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
        .map(|word| word.trim_matches(['\'', '’']))
        .filter(|word| !word.is_empty())
}

/// Lower-cased words, owned.
fn tokens(text: String) -> impl Iterator<Item = String> {
    let lower = text.to_lowercase();
    words(&lower).map(str::to_owned).collect::<Vec<_>>().into_iter()
}

fn is_hangul(word: &str) -> bool {
    word.chars().next().is_some_and(|c| ('가'..='힣').contains(&c))
}

/// What a word is learnt under: an English word of three letters or more that is not a
/// stopword, or the first two syllables of a Korean word (its stem, roughly: 지연되었습니다 →
/// 지연).
fn learning_key(word: &str) -> Option<String> {
    if is_hangul(word) {
        let stem: String = word.chars().take(2).collect();
        return (stem.chars().count() == 2).then_some(stem);
    }
    (word.chars().count() >= 3 && word.chars().any(char::is_alphabetic) && !STOPWORDS.contains(&word)).then(|| word.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_and_korean_messages_score_by_their_words() {
        let seed = Vocabulary::seed();
        assert!(seed.score("Great news, we love the proposal!").value > 0.5);
        assert!(seed.score("This is not good. The delay is a serious problem.").value < -0.3);
        assert!(seed.score("제안 감사합니다. 아주 좋습니다.").value > 0.4);
        assert!(seed.score("계약이 지연되어 유감입니다. 예산 문제로 보류합니다.").value < -0.4);
        assert_eq!(seed.score("Meeting moved to 3 pm.").value, 0.0);
        let quoted = seed.score("Sounds good.\n\nOn Mon, 1 Jun 2026, Buyer wrote:\n> this is terrible and awful");
        assert!(quoted.value > 0.0, "the quoted reply does not count: {quoted:?}");
    }

    #[test]
    fn a_rating_teaches_the_words_of_its_message() {
        let before = Vocabulary::seed().score("We will reschedule the rollout.").value;
        let trained = Vocabulary::train([("We must reschedule the kickoff again.", -1)]);
        let after = trained.score("We will reschedule the rollout.").value;
        assert!(after < before, "{before} → {after}");
        let korean = Vocabulary::train([("도입 일정이 재검토 중입니다", -1)]);
        assert!(korean.score("재검토가 필요합니다").value < Vocabulary::seed().score("재검토가 필요합니다").value);
        // Deterministic: the same ratings in the same order give the same weights.
        let again = Vocabulary::train([("We must reschedule the kickoff again.", -1)]);
        assert_eq!(again.weight("reschedule"), trained.weight("reschedule"));
    }
}
