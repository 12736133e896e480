//! The factory flow's texts: the lines the simulator's virtual factory writes to the logs of
//! a BlinkUp fixture and of a device under test (DUT), and their recognition by `impt watch`
//! on a fixture group, which turns them into BlinkUp and blessing events. One place, so that
//! what the sim writes and what the watch looks for cannot drift apart.

/// Start of the line a fixture logs when its factory BlinkUp configured a DUT.
const BLINKUP: &str = "Factory BlinkUp: device under test ";
/// Start of the line a DUT logs when it is blessed.
const BLESSED: &str = "Device blessed:";
/// Start of the line a DUT logs when its blessing is refused.
const BLESSING_FAILED: &str = "Blessing failed:";

/// The error a device that is not a fixture gets for `server.factoryblinkup()`.
pub const NOT_A_FIXTURE: &str = "Factory BlinkUp request failed. This is not a factory imp.";

/// The fixture's line for a BlinkUp that configured DUT `dut_id` (MAC `mac`).
pub fn blinkup_line(dut_id: &str, mac: &str) -> String {
    format!("{BLINKUP}{dut_id} (mac {mac}) configured")
}

/// The fixture's line for a BlinkUp with no DUT left in the simulator's pool of `pool`.
pub fn no_dut_line(pool: usize) -> String {
    format!(
        "Factory BlinkUp: no device under test in front of the fixture (the simulator's pool of {pool} is used up; see impt sim --dut-pool)"
    )
}

/// The DUT's line once blessed into Device Group `group` of type `type_name` (the user's
/// name of the type, `pre-production` say).
pub fn blessed_line(type_name: &str, group: &str) -> String {
    format!("{BLESSED} now in {type_name} Device Group \"{group}\"")
}

/// The DUT's line for a refused blessing, `why` in words.
pub fn blessing_failed_line(why: &str) -> String {
    format!("{BLESSING_FAILED} {why}")
}

/// The DUT a fixture's log line names, if the line reports a factory BlinkUp.
pub fn blinkup_in(msg: &str) -> Option<&str> {
    msg.strip_prefix(BLINKUP)?.split_whitespace().next()
}

/// The blessing result a DUT's log line reports, if any.
pub fn blessing_in(msg: &str) -> Option<bool> {
    if msg.starts_with(BLESSED) {
        Some(true)
    } else if msg.starts_with(BLESSING_FAILED) {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lines_written_are_the_lines_recognised() {
        let l = blinkup_line("1234abcd", "0c2a69000001");
        assert_eq!(
            l,
            "Factory BlinkUp: device under test 1234abcd (mac 0c2a69000001) configured"
        );
        assert_eq!(blinkup_in(&l), Some("1234abcd"));
        assert_eq!(blinkup_in(&no_dut_line(3)), None);
        assert_eq!(blinkup_in("Fixture ready"), None);
        let b = blessed_line("pre-production", "P");
        assert_eq!(
            b,
            "Device blessed: now in pre-production Device Group \"P\""
        );
        assert_eq!(blessing_in(&b), Some(true));
        let f = blessing_failed_line("the device is already blessed");
        assert_eq!(f, "Blessing failed: the device is already blessed");
        assert_eq!(blessing_in(&f), Some(false));
        assert_eq!(blessing_in("blessed"), None);
    }
}
