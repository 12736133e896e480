//! Closest-match suggestions for mistyped commands and options ("did you mean `product`?"),
//! and the short usage error that carries them instead of the whole help page.

/// The candidate closest to `word`, when it is close enough to be a likely typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// `Unknown argument: WORD` (the original's wording), then the closest match when there is
/// one, then where the full usage is.
pub fn unknown(word: &str, suggestion: Option<String>, help_cmd: &str) -> String {
    let mut msg = format!("Unknown argument: {word}");
    if let Some(s) = suggestion {
        msg.push_str(&format!("\nDid you mean `{s}`?"));
    }
    msg.push_str(&format!("\nRun `{help_cmd}` for usage."));
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_their_command_and_strangers_nothing() {
        let groups = [
            "account", "auth", "build", "product", "project", "device", "dg",
        ];
        assert_eq!(closest("prodcut", groups), Some("product"));
        assert_eq!(closest("biuld", groups), Some("build"));
        assert_eq!(closest("projetc", groups), Some("project"));
        assert_eq!(closest("zzzzzz", groups), None);
    }

    #[test]
    fn the_message_names_the_word_the_match_and_the_help() {
        let m = unknown("prodcut", Some("product".into()), "impt --help");
        assert_eq!(
            m,
            "Unknown argument: prodcut\nDid you mean `product`?\nRun `impt --help` for usage."
        );
        assert!(!unknown("x", None, "impt a b --help").contains("Did you mean"));
    }
}
