//! Closest-match suggestions for mistyped commands and options ("did you mean `product`?"),
//! and the short usage error that carries them instead of the whole help page.

/// The candidate closest to `word`, when it is close enough to be a likely typo: similar
/// (Jaro-Winkler 0.8 or more) or a few edits away (swapped letters count as one edit, so that
/// `lgo` finds `log`). The fewest edits win, then the most similar.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .filter_map(|c| {
            let similar = strsim::jaro_winkler(word, c);
            let edits = strsim::osa_distance(word, c);
            let few = (word.chars().count().max(c.chars().count()) / 3).max(1);
            (similar >= 0.8 || edits <= few).then_some((edits, similar, c))
        })
        .min_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)))
        .map(|(_, _, c)| c)
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
        assert_eq!(closest("lgo", ["log", "dg", "output"]), Some("log"));
        assert_eq!(
            closest("sever.log", ["server.log", "agent.log"]),
            Some("server.log")
        );
        assert_eq!(closest("x", ["log", "dg"]), None);
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
