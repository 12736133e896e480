//! Device ids and MAC addresses, related as on real imps of each type.
//!
//! An imp's MAC address starts with Electric Imp's OUI `0c:2a:69`. On every imp but the
//! imp001 the device id is derived from the MAC: four hex digits naming the module family,
//! then the twelve hex digits of the MAC (Electric Imp's FactoryTools library relies on it:
//! `hardware.getdeviceid().slice(4)` is the MAC on all types but the imp001, whose id comes
//! from a separate security chip and is unrelated to its MAC). The family prefixes are as
//! published device ids show them (`2000…` imp002, `3000…` imp003, `4000…` imp004m,
//! `c001…` impC001); `5000…` (imp005) and `6000…` (imp006) follow the pattern (assumed), as
//! does `0000…` for a type this table does not know.

use rand::Rng;

/// Electric Imp's OUI, the first half of every imp's MAC address.
pub const OUI: &str = "0c2a69";

/// The device id prefix of an imp type; `None` for the imp001 (id unrelated to the MAC).
pub fn prefix(imp_type: &str) -> Option<&'static str> {
    Some(match imp_type {
        "imp001" => return None,
        "imp002" => "2000",
        "imp003" => "3000",
        "imp004m" => "4000",
        "imp005" => "5000",
        "imp006" => "6000",
        "impC001" => "c001",
        _ => "0000",
    })
}

fn hex(n: usize) -> String {
    let mut r = rand::thread_rng();
    (0..n)
        .map(|_| char::from_digit(r.gen_range(0..16), 16).unwrap_or('0'))
        .collect()
}

/// A MAC address (12 lower-case hex digits) as written in the API: `0c:2a:69:xx:xx:xx`.
pub fn colons(mac: &str) -> String {
    let h = plain(mac);
    (0..h.len())
        .step_by(2)
        .map(|i| &h[i..(i + 2).min(h.len())])
        .collect::<Vec<_>>()
        .join(":")
}

/// A MAC address as the imp API gives it: 12 lower-case hex digits.
pub fn plain(mac: &str) -> String {
    mac.chars()
        .filter(char::is_ascii_hexdigit)
        .collect::<String>()
        .to_ascii_lowercase()
}

/// A new imp of `imp_type`: its device id and its MAC address (API form, with colons).
pub fn new_identity(imp_type: &str) -> (String, String) {
    let mac = format!("{OUI}{}", hex(6));
    let id = match prefix(imp_type) {
        Some(p) => format!("{p}{mac}"),
        None => hex(16),
    };
    (id, colons(&mac))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_the_mac_on_all_but_the_imp001() {
        for t in ["imp002", "imp003", "imp004m", "imp005", "imp006", "impC001"] {
            let (id, mac) = new_identity(t);
            assert_eq!(id.len(), 16);
            assert!(id.starts_with(prefix(t).unwrap()));
            assert!(mac.starts_with("0c:2a:69:"), "{mac}");
            assert_eq!(&id[4..], plain(&mac));
        }
        let (id, mac) = new_identity("imp001");
        assert_eq!(id.len(), 16);
        assert!(mac.starts_with("0c:2a:69:"));
        assert_ne!(&id[4..], plain(&mac));
        assert_eq!(colons("0C2A69aabbcc"), "0c:2a:69:aa:bb:cc");
    }
}
